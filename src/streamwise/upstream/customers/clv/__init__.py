"""Customer-lifetime-value models (buy-till-you-die, spend and churn models) and CLV."""

from streamwise.upstream.customers.clv.bgbb import BetaGeoBetaBinom
from streamwise.upstream.customers.clv.bgnbd import BetaGeo
from streamwise.upstream.customers.clv.gamma_gamma import GammaGamma
from streamwise.upstream.customers.clv.mbgnbd import ModifiedBetaGeo
from streamwise.upstream.customers.clv.pareto_nbd import ParetoNBD
from streamwise.upstream.customers.clv.sbg import ShiftedBetaGeo
from streamwise.upstream.customers.clv.value import customer_lifetime_value, holdout_validation

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ShiftedBetaGeo",
    "customer_lifetime_value",
    "holdout_validation",
]
