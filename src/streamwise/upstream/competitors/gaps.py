"""Feature-gap matrix and rating gaps of one brand against its competitors.

A *feature gap* is a feature (``kind = feature`` rows, 1 = offered) that at least one competitor
offers and the brand does not; it is reported with the number and share of competitors offering
it, the usual competitive feature-comparison grid of product marketing (Kotler & Keller 2016,
ch. 11, "competitive analysis"). A *rating gap* is, per rated attribute, the brand's rating minus
the best competitor's and minus the competitors' mean (the "benchmarking" gaps of a perceptual
profile, Hauser & Clausing 1988, "House of Quality": customers' competitive assessment).

References
----------
Hauser, J. R. and Clausing, D. (1988). The house of quality. Harvard Business Review 66(3),
63–73.
Kotler, P. and Keller, K. L. (2016). Marketing Management, 15th ed. Pearson.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.competitors.maps import attribute_matrix

__all__ = ["FeatureGaps", "feature_gaps"]


@dataclass(frozen=True)
class FeatureGaps:
    """Where one brand stands against its competitors on features and ratings.

    Attributes
    ----------
    brand
        The brand compared.
    matrix
        Features × brands, 1/0 (the brand's column first).
    features
        Per feature: ``ours`` (1/0), ``competitors_with``, ``share_with`` (of competitors) and
        ``gap`` (we lack it and at least one competitor has it); gaps first, most common first.
    ratings
        Per rated attribute: ``ours``, ``best_competitor``, ``best``, ``mean_competitors``,
        ``gap_to_best`` (ours − best) and ``gap_to_mean`` (ours − mean). Empty without ratings.
    """

    brand: str
    matrix: pd.DataFrame
    features: pd.DataFrame
    ratings: pd.DataFrame

    @property
    def missing(self) -> list[str]:
        """Features competitors offer and the brand lacks."""
        return list(self.features.index[self.features["gap"]])

    def to_frame(self) -> pd.DataFrame:
        """The per-feature table."""
        return self.features.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return {
            "brand": self.brand,
            "matrix": {f: {b: int(v) for b, v in r.items()} for f, r in self.matrix.iterrows()},
            "features": self.features.reset_index().to_dict(orient="records"),
            "ratings": self.ratings.reset_index().to_dict(orient="records"),
        }


def _has_kind(competitors: pd.DataFrame, kind: str) -> bool:
    return bool((competitors["kind"] == kind).any())


def feature_gaps(competitors: pd.DataFrame, brand: str) -> FeatureGaps:
    """Features competitors have that ``brand`` lacks, and its rating gaps.

    Parameters
    ----------
    competitors
        Long rows ``brand, attribute, kind, value``.
    brand
        Our brand (must have rows in the table).

    Returns
    -------
    FeatureGaps

    Raises
    ------
    DataError
        Missing columns, no feature rows, no competitor, or ``brand`` absent from the table.
    """
    feats = attribute_matrix(competitors, "feature")
    if brand not in feats.index:
        known = ", ".join(map(repr, feats.index))
        raise DataError(
            f"brand {brand!r} has no feature rows; brands in the table: {known}",
            source="competitors",
            column="brand",
        )
    others = [b for b in feats.index if b != brand]
    if not others:
        raise DataError(f"no competitor besides {brand!r} in the table", source="competitors")
    matrix = feats.loc[[brand, *others]].T.astype(int)
    matrix.index.name = "feature"
    with_ = matrix[others].sum(axis=1)
    table = pd.DataFrame(
        {
            "ours": matrix[brand],
            "competitors_with": with_,
            "share_with": with_ / len(others),
            "gap": (matrix[brand] == 0) & (with_ > 0),
        }
    ).sort_values(["gap", "competitors_with"], ascending=[False, False], kind="stable")
    ratings = pd.DataFrame(
        columns=[
            "ours",
            "best_competitor",
            "best",
            "mean_competitors",
            "gap_to_best",
            "gap_to_mean",
        ]
    )
    if _has_kind(competitors, "rating"):
        r = attribute_matrix(competitors, "rating")
        if brand in r.index and len(r.index) > 1:
            comp = r.drop(index=brand)
            ratings = pd.DataFrame(
                {
                    "ours": r.loc[brand],
                    "best_competitor": comp.idxmax(),
                    "best": comp.max(),
                    "mean_competitors": comp.mean(),
                }
            )
            ratings["gap_to_best"] = ratings["ours"] - ratings["best"]
            ratings["gap_to_mean"] = ratings["ours"] - ratings["mean_competitors"]
            ratings.index.name = "attribute"
    return FeatureGaps(brand=brand, matrix=matrix, features=table, ratings=ratings)
