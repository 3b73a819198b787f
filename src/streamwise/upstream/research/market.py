"""Market scenarios for the conjoint simulator, built from the ``competitors`` data.

The ``competitors`` contract holds, per brand, measured attributes: ratings, prices, features.
A scenario puts each brand's product in front of the fitted choice model: its brand level, its
price from the price scan, and the other attributes fixed by the analyst (what the products have
in common, or a profile per brand). The model's simulator then gives shares of preference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from streamwise.errors import DataError

__all__ = ["competitor_scenario"]


def competitor_scenario(
    competitors: pd.DataFrame,
    *,
    price_from: str,
    fixed: Mapping[str, Any],
    brands: list[str] | None = None,
    brand_attribute: str = "brand",
    price_attribute: str = "price",
    per_brand: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """One product profile per brand, ready for ``MultinomialLogit.simulate``.

    Parameters
    ----------
    competitors
        Rows of the ``competitors`` contract: ``brand``, ``attribute``, ``value``.
    price_from
        The competitors' attribute that holds the product's price (e.g. ``"price_tent"``).
    fixed
        Levels of the remaining conjoint attributes, the same for every brand.
    brands
        Brands to include (default: every brand with a price).
    brand_attribute, price_attribute
        Names of the conjoint's brand and price attributes.
    per_brand
        Brand → levels that override ``fixed`` for that brand.

    Raises
    ------
    DataError
        A needed column is missing, or a requested brand has no ``price_from`` value.
    """
    for col in ("brand", "attribute", "value"):
        if col not in competitors.columns:
            raise DataError(f"the competitors data have no column {col!r}", column=col)
    rows = competitors[competitors["attribute"] == price_from]
    prices = pd.to_numeric(rows.set_index("brand")["value"], errors="coerce").dropna()
    if prices.empty:
        raise DataError(f"no brand has a numeric {price_from!r} in the competitors data")
    chosen = brands if brands is not None else sorted(prices.index)
    missing = [b for b in chosen if b not in prices.index]
    if missing:
        raise DataError(f"no {price_from!r} in the competitors data for {', '.join(missing)}")
    profiles = []
    for brand in chosen:
        profile = {**fixed, **((per_brand or {}).get(brand, {}))}
        profile[brand_attribute] = brand
        profile[price_attribute] = float(prices[brand])
        profiles.append(pd.Series(profile, name=brand))
    return pd.DataFrame(profiles)
