"""Customer analytics: purchase summaries and customer-lifetime-value models."""

from streamwise.upstream.customers.clv import (
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ShiftedBetaGeo,
)
from streamwise.upstream.customers.summaries import summarize, summary_expr

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ShiftedBetaGeo",
    "summarize",
    "summary_expr",
]
