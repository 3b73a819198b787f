"""The sales hand-off: customers and leads ranked by their propensity to buy, with reasons,
exported as CSV or pushed to a CRM by signed webhook (see docs/sales.md)."""

from streamwise.downstream.sales.handoff import RESULT_TABLES, HandOff, hand_off, load_hand_off
from streamwise.downstream.sales.model import HoldoutQuality, PropensityModel, holdout_quality

__all__ = [
    "RESULT_TABLES",
    "HandOff",
    "HoldoutQuality",
    "PropensityModel",
    "hand_off",
    "holdout_quality",
    "load_hand_off",
]
