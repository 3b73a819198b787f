"""Customer analytics: purchase summaries and customer-lifetime-value models."""

from streamwise.upstream.customers.clv import BetaGeo
from streamwise.upstream.customers.summaries import summarize, summary_expr

__all__ = ["BetaGeo", "summarize", "summary_expr"]
