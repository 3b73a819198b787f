"""Campaigns: lifecycle, variant and holdout assignment, send windows, the send ledger."""
