"""Downstream marketing: audiences, campaigns, rendering, channels and delivery."""
