"""Customer-lifetime-value models (buy-till-you-die and spend models)."""

from streamwise.upstream.customers.clv.bgnbd import BetaGeo

__all__ = ["BetaGeo"]
