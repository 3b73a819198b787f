"""Customer analytics: purchase summaries and customer-lifetime-value models."""

from streamwise.upstream.customers.clv import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeo,
    customer_lifetime_value,
    holdout_validation,
)
from streamwise.upstream.customers.rfm import SEGMENT_RULES, rfm, rfm_segment
from streamwise.upstream.customers.summaries import summarize, summary_expr

__all__ = [
    "SEGMENT_RULES",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ShiftedBetaGeo",
    "customer_lifetime_value",
    "holdout_validation",
    "rfm",
    "rfm_segment",
    "summarize",
    "summary_expr",
]
