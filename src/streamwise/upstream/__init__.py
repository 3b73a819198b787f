"""Upstream (strategic) marketing: customer analytics, research, competitors, trends."""
