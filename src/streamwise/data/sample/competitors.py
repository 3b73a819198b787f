"""Brand positions of the sample market: brand ratings, ideal points and the competitors table.

The planted model is a 2-D perceptual space. Each brand *b* has a position ``pos_b`` and each
attribute *a* a unit loading vector ``l_a`` (attributes at 0°, 30°, ..., 150°, so the loading
matrix has orthogonal columns of equal length and PCA of the brand × attribute means recovers the
positions up to rotation, reflection and scale). The expected rating on the 1–7 scale is::

    rating(b, a) = RATING_CENTER + RATING_SCALE * l_a · pos_b

Each segment has an ideal point in the same space, asked as ``ideal_<attribute>`` ratings of the
ideal tent brand. One segment's ideal (the *white space*) lies far from every brand.

Survey answers: a respondent rates every brand they know (``brands_known``) on every attribute,
``round(rating(b, a) + bias_i + e)``, clipped to 1–7, with a respondent scale-use bias
``bias_i ~ N(0, 0.4²)`` and ``e ~ N(0, 0.9²)``; ideal ratings likewise with ``e ~ N(0, 0.7²)``.

The ``competitors`` table holds, per brand: ``rating`` rows (expected rating + N(0, 0.03²)),
``price`` rows (list prices that rise with the first dimension), ``feature`` rows (1/0) and one
``share_of_voice`` row (the shares sum to 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.data.sample.names import BRAND, COMPETITOR_BRANDS, SEGMENTS
from streamwise.data.sample.survey import Panel, Question, to_plain

__all__ = [
    "ATTRIBUTES",
    "BRANDS",
    "FEATURES",
    "RATING_CENTER",
    "RATING_SCALE",
    "PositioningTruth",
    "brand_key",
    "generate_competitors",
    "generate_ratings",
]

#: Every brand in the market, ours first.
BRANDS: tuple[str, ...] = (BRAND, *COMPETITOR_BRANDS)
#: Rated attribute key → (label, angle of its loading vector in degrees).
ATTRIBUTES: dict[str, tuple[str, float]] = {
    "durability": ("durable, built to last", 0.0),
    "innovation": ("innovative", 30.0),
    "style": ("stylish", 60.0),
    "sustainability": ("sustainable", 90.0),
    "service": ("great service", 120.0),
    "price_value": ("good value for the price", 150.0),
}
RATING_CENTER = 4.0
RATING_SCALE = 1.3
_POSITIONS: dict[str, tuple[float, float]] = dict(
    zip(
        BRANDS,
        ((0.5, 0.5), (1.4, -0.3), (0.9, -1.0), (0.3, 1.4), (-1.3, -0.6), (-0.2, -1.1)),
        strict=True,
    )
)
_IDEALS: dict[str, tuple[float, float]] = {
    "Trail Enthusiasts": (0.75, 0.3),
    "Weekend Campers": (-1.0, 1.2),
    "Bargain Hunters": (-1.1, -0.7),
    "Gift Shoppers": (0.25, 1.1),
    "Alpine Pros": (1.5, -0.5),
}
WHITE_SPACE_SEGMENT = "Weekend Campers"
#: Awareness of each brand among customers and non-customers (ours: 1.0 / 0.6).
_AWARENESS: dict[str, float] = dict(zip(BRANDS, (1.0, 0.7, 0.55, 0.5, 0.6, 0.4), strict=True))
_AWARE_NON_CUSTOMER = 0.6
_RATING_NOISE, _IDEAL_NOISE, _BIAS_SD, _TABLE_NOISE = 0.9, 0.7, 0.4, 0.03
#: Base list price (USD) per priced product; brand price = base × exp(0.22 × x_b).
_PRICE_BASE = {"price_tent": 249.0, "price_backpack": 139.0, "price_jacket": 179.0,
               "price_boots": 159.0}  # fmt: skip
_PRICE_SLOPE = 0.22
#: Features offered (1) or not (0), per brand in :data:`BRANDS` order.
FEATURES: dict[str, tuple[int, ...]] = {
    "lifetime_warranty": (0, 1, 1, 0, 0, 0),
    "repair_service": (0, 1, 1, 1, 0, 0),
    "recycled_materials": (1, 0, 0, 1, 0, 1),
    "rental": (0, 0, 0, 1, 0, 1),
    "loyalty_program": (1, 1, 0, 0, 1, 0),
    "free_returns": (1, 1, 1, 1, 0, 1),
}
_SHARE_OF_VOICE = dict(zip(BRANDS, (0.18, 0.27, 0.16, 0.14, 0.15, 0.10), strict=True))


def brand_key(brand: str) -> str:
    """Brand name as used in question ids: lower case, spaces as underscores."""
    return brand.lower().replace(" ", "_")


def _loadings() -> np.ndarray:
    ang = np.deg2rad([a for _, a in ATTRIBUTES.values()])
    return np.stack([np.cos(ang), np.sin(ang)], axis=1)


def _expected(point: tuple[float, float]) -> np.ndarray:
    return RATING_CENTER + RATING_SCALE * _loadings() @ np.asarray(point)


@dataclass(frozen=True)
class PositioningTruth:
    """Planted perceptual space, ideal points, prices, features and share of voice.

    Attributes
    ----------
    attributes
        Attribute key → label.
    loadings
        Attribute → (x, y) unit loading vector.
    rating_center, rating_scale
        Expected rating = center + scale × loading · position.
    positions
        Brand → (x, y).
    ideal_points
        Segment → (x, y).
    expected_ratings
        Brand → attribute → expected rating (before rounding and clipping).
    ideal_ratings
        Segment → attribute → expected ideal rating.
    nearest_brand
        Segment → (closest brand, its distance to the segment's ideal point).
    white_space_segment, white_space_point
        The segment whose ideal no brand serves, and its ideal point.
    prices
        Brand → price attribute → list price (USD).
    features
        Brand → feature → 1/0.
    feature_gaps
        Feature → number of competitors offering it, for every feature Northwind lacks and at
        least two competitors offer.
    share_of_voice
        Brand → share (sums to 1).
    awareness
        Brand → probability that a customer respondent knows it (non-customers know Northwind
        with probability 0.6; everyone knows at least one brand).
    """

    attributes: dict[str, str]
    loadings: dict[str, tuple[float, float]]
    rating_center: float
    rating_scale: float
    positions: dict[str, tuple[float, float]]
    ideal_points: dict[str, tuple[float, float]]
    expected_ratings: dict[str, dict[str, float]]
    ideal_ratings: dict[str, dict[str, float]]
    nearest_brand: dict[str, tuple[str, float]]
    white_space_segment: str
    white_space_point: tuple[float, float]
    prices: dict[str, dict[str, float]]
    features: dict[str, dict[str, int]]
    feature_gaps: dict[str, int]
    share_of_voice: dict[str, float]
    awareness: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


def _prices() -> dict[str, dict[str, float]]:
    return {
        b: {
            item: float(np.round(base * np.exp(_PRICE_SLOPE * _POSITIONS[b][0])) - 0.01)
            for item, base in _PRICE_BASE.items()
        }
        for b in BRANDS
    }


def positioning_truth() -> PositioningTruth:
    """The planted positioning (independent of the seed)."""
    attrs = list(ATTRIBUTES)
    nearest = {}
    for s, ideal in _IDEALS.items():
        d = {b: float(np.hypot(*(np.subtract(ideal, p)))) for b, p in _POSITIONS.items()}
        best = min(d, key=d.__getitem__)
        nearest[s] = (best, d[best])
    ours = BRANDS.index(BRAND)
    gaps = {f: int(sum(v) - v[ours]) for f, v in FEATURES.items() if v[ours] == 0 and sum(v) >= 2}
    return PositioningTruth(
        attributes={a: lab for a, (lab, _) in ATTRIBUTES.items()},
        loadings={a: (float(x), float(y)) for a, (x, y) in zip(attrs, _loadings(), strict=True)},
        rating_center=RATING_CENTER,
        rating_scale=RATING_SCALE,
        positions=dict(_POSITIONS),
        ideal_points=dict(_IDEALS),
        expected_ratings={
            b: dict(zip(attrs, map(float, _expected(p)), strict=True))
            for b, p in _POSITIONS.items()
        },
        ideal_ratings={
            s: dict(zip(attrs, map(float, _expected(p)), strict=True)) for s, p in _IDEALS.items()
        },
        nearest_brand=nearest,
        white_space_segment=WHITE_SPACE_SEGMENT,
        white_space_point=_IDEALS[WHITE_SPACE_SEGMENT],
        prices=_prices(),
        features={b: {f: v[i] for f, v in FEATURES.items()} for i, b in enumerate(BRANDS)},
        feature_gaps=gaps,
        share_of_voice=dict(_SHARE_OF_VOICE),
        awareness=dict(_AWARENESS),
    )


def generate_ratings(panel: Panel, rng: np.random.Generator) -> list[Question]:
    """``brands_known``, ``rating_<brand>_<attribute>`` and ``ideal_<attribute>`` questions.

    Parameters
    ----------
    panel
        The respondents (all are asked).
    rng
        Random stream.

    Returns
    -------
    list of Question
    """
    n = panel.n
    attrs = list(ATTRIBUTES)
    aware = rng.random((n, len(BRANDS))) < np.array([_AWARENESS[b] for b in BRANDS])
    non_cust = ~panel.is_customer
    aware[non_cust, 0] = rng.random(int(non_cust.sum())) < _AWARE_NON_CUSTOMER
    aware[~aware.any(axis=1), 1] = True  # everyone knows at least one brand
    bias = _BIAS_SD * rng.standard_normal(n)
    everyone = np.arange(n)
    known = np.array([";".join(b for b, k in zip(BRANDS, row, strict=True) if k) for row in aware])
    questions = [
        Question(
            {
                "id": "brands_known",
                "type": "multi",
                "text": "Which of these outdoor brands do you know?",
                "options": list(BRANDS),
                "separator": ";",
            },
            everyone,
            known.astype(object),
        )
    ]
    for bi, brand in enumerate(BRANDS):
        who = np.flatnonzero(aware[:, bi])
        mean = _expected(_POSITIONS[brand])
        for ai, attr in enumerate(attrs):
            raw = mean[ai] + bias[who] + _RATING_NOISE * rng.standard_normal(len(who))
            ans = np.clip(np.round(raw), 1, 7).astype(np.int64)
            spec = {
                "id": f"rating_{brand_key(brand)}_{attr}",
                "type": "rating",
                "text": f"How well does '{ATTRIBUTES[attr][0]}' describe {brand}?",
                "brand": brand,
                "attribute": attr,
                "scale": [1, 7],
                "asked_to": "respondents who know the brand",
            }
            questions.append(Question(spec, who, np.array([str(a) for a in ans], dtype=object)))
    ideal = np.stack([_expected(_IDEALS[s]) for s in SEGMENTS])[panel.segment]
    for ai, attr in enumerate(attrs):
        raw = ideal[:, ai] + bias + _IDEAL_NOISE * rng.standard_normal(n)
        ans = np.clip(np.round(raw), 1, 7).astype(np.int64)
        spec = {
            "id": f"ideal_{attr}",
            "type": "rating",
            "text": f"How well should '{ATTRIBUTES[attr][0]}' describe your ideal outdoor brand?",
            "attribute": attr,
            "role": "ideal",
            "scale": [1, 7],
        }
        questions.append(Question(spec, everyone, np.array([str(a) for a in ans], dtype=object)))
    return questions


def generate_competitors(
    year: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, PositioningTruth]:
    """The ``competitors`` table (fixed size: 6 brands × 17 rows) and the positioning truth.

    Parameters
    ----------
    year
        Year named in the ``source`` column.
    rng
        Random stream (small noise on the rating rows).

    Returns
    -------
    tuple of (pandas.DataFrame, PositioningTruth)
        Columns ``brand``, ``attribute``, ``kind``, ``value``, ``source``.
    """
    truth = positioning_truth()
    rows: list[tuple[str, str, str, float, str]] = []
    for brand in BRANDS:
        noise = _TABLE_NOISE * rng.standard_normal(len(ATTRIBUTES))
        for (attr, mean), e in zip(truth.expected_ratings[brand].items(), noise, strict=True):
            rows.append((brand, attr, "rating", round(mean + e, 2), f"brand tracker {year}"))
        for item, price in truth.prices[brand].items():
            rows.append((brand, item, "price", price, f"price scan {year}"))
        for feat, has in truth.features[brand].items():
            rows.append((brand, feat, "feature", float(has), f"website review {year}"))
        rows.append(
            (
                brand,
                "share_of_voice",
                "share_of_voice",
                truth.share_of_voice[brand],
                f"media monitoring {year}",
            )
        )
    frame = pd.DataFrame(rows, columns=["brand", "attribute", "kind", "value", "source"])
    return frame, truth
