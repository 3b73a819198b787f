"""Media mix modelling: which channels drive the outcome, at what return, and where it saturates.

A Bayesian media mix model after Jin et al. (2017), "Bayesian methods for media mix modeling with
carryover and shape effects" (Google): per channel, adstock (carry-over, eq. 1–2) then Hill
saturation (eq. 3), on a baseline with trend and yearly seasonality, fitted by NUTS in NumPyro on
JAX (CPU, or GPU where JAX finds one). Lift tests calibrate it. See ``docs/mmm.md``.

>>> from streamwise.measure.mmm import MediaData, MediaMix          # doctest: +SKIP
>>> data = MediaData.from_workspace(ws)                               # doctest: +SKIP
>>> mmm = MediaMix(value_per_unit=60.0).fit(data)                     # doctest: +SKIP
>>> mmm.results().to_frame()                                          # doctest: +SKIP
>>> curves = mmm.response_curves()  # channel -> HillCurve, for the budget optimiser

NumPyro and JAX come with the ``[bayes]`` extra (``pip install 'streamwise[bayes]'``); this package
imports without them and fitting says what to install.
"""

from streamwise.measure.mmm.data import MIN_WEEKS, MediaData
from streamwise.measure.mmm.estimator import ConvergenceWarning, MediaMix, require_bayes
from streamwise.measure.mmm.results import ChannelResult, Estimate, MediaMixResults
from streamwise.measure.mmm.transforms import (
    ADSTOCKS,
    SATURATIONS,
    DelayedAdstock,
    GeometricAdstock,
    HillSaturation,
    LogisticSaturation,
    adstock_from_config,
    saturation_from_config,
)

__all__ = [
    "ADSTOCKS",
    "MIN_WEEKS",
    "SATURATIONS",
    "ChannelResult",
    "ConvergenceWarning",
    "DelayedAdstock",
    "Estimate",
    "GeometricAdstock",
    "HillSaturation",
    "LogisticSaturation",
    "MediaData",
    "MediaMix",
    "MediaMixResults",
    "adstock_from_config",
    "require_bayes",
    "saturation_from_config",
]
