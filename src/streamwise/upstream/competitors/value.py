"""The price vs perceived-value map: a least-squares line of perceived value on price across
brands; a brand above the line offers more perceived value than its price predicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.competitors.maps import _SOURCE, attribute_matrix

__all__ = ["PriceValueMap", "price_value_map"]


@dataclass(frozen=True)
class PriceValueMap:
    """Price vs perceived value per brand with a least-squares value-for-money line.

    Attributes
    ----------
    table
        Per brand: ``price``, ``value``, ``fitted``, ``residual`` (value − fitted; above 0 is
        better value for money than the market line).
    intercept, slope
        The line ``value = intercept + slope × price``.
    r_squared
        Share of the variance in perceived value the line explains.
    """

    table: pd.DataFrame
    intercept: float
    slope: float
    r_squared: float

    def to_frame(self) -> pd.DataFrame:
        """The per-brand table."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return {
            "brands": self.table.reset_index().to_dict(orient="records"),
            "intercept": self.intercept,
            "slope": self.slope,
            "r_squared": self.r_squared,
        }


def price_value_map(
    competitors: pd.DataFrame, price_attribute: str, value_attribute: str = "price_value"
) -> PriceValueMap:
    """Price against perceived value, with each brand's distance from the market's line.

    Parameters
    ----------
    competitors
        Long rows ``brand, attribute, kind, value``.
    price_attribute
        The ``price`` row to use (e.g. ``price_tent``).
    value_attribute
        The ``rating`` row that measures perceived value.

    Returns
    -------
    PriceValueMap
    """
    prices, ratings = attribute_matrix(competitors, "price"), attribute_matrix(competitors)
    for name, frame, kind in (
        (price_attribute, prices, "price"),
        (value_attribute, ratings, "rating"),
    ):
        if name not in frame.columns:
            raise DataError(f"no {kind} rows for attribute {name!r}", source=_SOURCE)
    t = pd.concat(
        [prices[price_attribute].rename("price"), ratings[value_attribute].rename("value")],
        axis=1,
        join="inner",
    )
    if len(t) < 2:
        raise DataError("need price and value for at least 2 brands", source=_SOURCE)
    slope, intercept = np.polyfit(t["price"], t["value"], 1)
    t["fitted"] = intercept + slope * t["price"]
    t["residual"] = t["value"] - t["fitted"]
    ss = float(((t["value"] - t["value"].mean()) ** 2).sum())
    r2 = 1.0 - float((t["residual"] ** 2).sum()) / ss if ss > 0 else float("nan")
    return PriceValueMap(table=t, intercept=float(intercept), slope=float(slope), r_squared=r2)
