"""Customer analytics: purchase summaries and customer-lifetime-value models."""

from streamwise.upstream.customers.clv import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeo,
)
from streamwise.upstream.customers.summaries import summarize, summary_expr

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ShiftedBetaGeo",
    "summarize",
    "summary_expr",
]
