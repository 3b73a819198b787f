"""Competitor analysis: perceptual maps (PCA, correspondence analysis) with segment ideal points,
white space, the price vs perceived-value map and feature / rating gaps."""

from streamwise.upstream.competitors.gaps import FeatureGaps, feature_gaps
from streamwise.upstream.competitors.ideals import ideal_points
from streamwise.upstream.competitors.maps import (
    PerceptualMap,
    attribute_matrix,
    perceptual_map,
    white_space,
)
from streamwise.upstream.competitors.value import PriceValueMap, price_value_map

__all__ = [
    "FeatureGaps",
    "PerceptualMap",
    "PriceValueMap",
    "attribute_matrix",
    "feature_gaps",
    "ideal_points",
    "perceptual_map",
    "price_value_map",
    "white_space",
]
