"""The product catalogue of the sample business and the choice of products for order lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from streamwise.data.sample.names import BRAND, CATEGORIES

__all__ = ["PARTNER_BRANDS", "Catalog", "build_catalog"]

#: Brands other than our own that the shop resells (fictional, not among the competitors).
PARTNER_BRANDS = ("Cascade Labs", "Fjordline", "Granite Works")

# category -> ((subcategory, noun, low price, high price), ...)
_SUBCATEGORIES: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    "tents": (
        ("backpacking tents", "Tent", 180.0, 650.0),
        ("family tents", "Family Tent", 150.0, 900.0),
        ("shelters", "Tarp", 40.0, 200.0),
    ),
    "backpacks": (
        ("daypacks", "Daypack", 35.0, 140.0),
        ("trekking packs", "Pack", 120.0, 380.0),
        ("travel packs", "Duffel", 45.0, 220.0),
    ),
    "footwear": (
        ("hiking boots", "Boot", 110.0, 320.0),
        ("trail runners", "Trail Runner", 80.0, 190.0),
        ("sandals", "Sandal", 30.0, 110.0),
    ),
    "apparel": (
        ("jackets", "Jacket", 70.0, 450.0),
        ("base layers", "Base Layer", 15.0, 90.0),
        ("trousers", "Pants", 35.0, 160.0),
        ("socks and hats", "Beanie", 8.0, 40.0),
    ),
    "climbing": (
        ("harnesses", "Harness", 50.0, 180.0),
        ("ropes", "Rope", 120.0, 400.0),
        ("hardware", "Carabiner", 8.0, 90.0),
        ("climbing shoes", "Climbing Shoe", 80.0, 220.0),
    ),
    "camp kitchen": (
        ("stoves", "Stove", 35.0, 250.0),
        ("cookware", "Cook Set", 15.0, 140.0),
        ("water filters", "Filter", 20.0, 120.0),
        ("gift sets", "Gift Set", 40.0, 300.0),
    ),
    "sleeping": (
        ("sleeping bags", "Sleeping Bag", 60.0, 550.0),
        ("sleeping pads", "Sleeping Pad", 30.0, 220.0),
        ("pillows", "Pillow", 12.0, 50.0),
    ),
    "winter sports": (
        ("skis", "Ski", 250.0, 900.0),
        ("snowshoes", "Snowshoe", 90.0, 320.0),
        ("goggles", "Goggles", 40.0, 220.0),
        ("avalanche gear", "Beacon", 150.0, 500.0),
    ),
}

_MODELS = [
    "Cedar",
    "Fjord",
    "Talus",
    "Aspen",
    "Kestrel",
    "Borealis",
    "Cascade",
    "Sierra",
    "Tundra",
    "Granite",
    "Alder",
    "Larch",
    "Pika",
    "Cirrus",
    "Drift",
    "Ember",
    "Juniper",
    "Lumen",
    "Moraine",
    "Nimbus",
    "Orca",
    "Puffin",
    "Quartz",
    "Rowan",
    "Scree",
    "Tarn",
    "Vale",
    "Willow",
    "Yew",
    "Zephyr",
    "Arete",
    "Bivy",
    "Col",
    "Dune",
    "Esker",
    "Firn",
    "Gully",
    "Heath",
    "Inlet",
]
_VARIANTS = ("1", "2", "3", "Lite", "Pro", "UL", "XT", "Plus", "35", "55")

_LEGACY_SHARE = 0.75


@dataclass(frozen=True)
class Catalog:
    """Products with, per category, their list prices sorted for nearest-price look-ups.

    ``launch_second`` is the launch time in seconds since the start of the trading period
    (negative for products launched before it).
    """

    product_id: np.ndarray
    name: np.ndarray
    category: np.ndarray
    subcategory: np.ndarray
    brand: np.ndarray
    price: np.ndarray
    launched_on: np.ndarray
    launch_second: np.ndarray

    def frame(self) -> pd.DataFrame:
        """The ``products`` table (contract column names and types)."""
        return pd.DataFrame(
            {
                "product_id": pd.Series(self.product_id, dtype="str"),
                "name": pd.Series(self.name, dtype="str"),
                "category": pd.Series(np.asarray(CATEGORIES)[self.category], dtype="str"),
                "subcategory": pd.Series(self.subcategory, dtype="str"),
                "brand": pd.Series(self.brand, dtype="str"),
                "price": self.price.astype(np.float64),
                "launched_on": self.launched_on.astype("datetime64[us]"),
            }
        )

    def choose(
        self,
        category: np.ndarray,
        target_price: np.ndarray,
        second: np.ndarray,
    ) -> np.ndarray:
        """Pick, for each line, the product of ``category`` whose price is nearest the target.

        Only products launched by ``second`` (seconds since the period start) qualify: when the
        nearest product was launched later, the nearest product launched before the period
        (there are several in every category) is taken instead.

        Returns
        -------
        numpy.ndarray
            Index into the catalogue per line.
        """
        out = np.empty(len(category), dtype=np.int64)
        log_target = np.log(np.maximum(target_price, 0.01))
        for c in range(len(CATEGORIES)):
            rows = np.flatnonzero(category == c)
            if rows.size == 0:
                continue
            members = np.flatnonzero(self.category == c)
            members = members[np.argsort(self.price[members], kind="stable")]
            legacy = members[self.launch_second[members] < 0]
            pick = _nearest(np.log(self.price[members]), log_target[rows])
            chosen = members[pick]
            late = self.launch_second[chosen] > second[rows]
            if late.any():
                alt = _nearest(np.log(self.price[legacy]), log_target[rows[late]])
                chosen[late] = legacy[alt]
            out[rows] = chosen
        return out


def _nearest(sorted_values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(sorted_values, targets)
    lo = np.clip(pos - 1, 0, len(sorted_values) - 1)
    hi = np.clip(pos, 0, len(sorted_values) - 1)
    take_hi = np.abs(sorted_values[hi] - targets) < np.abs(sorted_values[lo] - targets)
    return np.where(take_hi, hi, lo)


def build_catalog(rng: np.random.Generator, start: date, end: date) -> Catalog:
    """Draw the catalogue: 6 to 9 products per subcategory, about 200 in all.

    List prices are log-uniform within each subcategory's range and end in ``.99`` or ``.00``;
    three products in four were launched before ``start``, the others during the period (at
    least 90 days before ``end``); six products in seven carry our brand.
    """
    ids, names, cats, subs, brands, prices, launch_days = [], [], [], [], [], [], []
    period_days = (end - start).days
    used_names: set[str] = set()
    for c, category in enumerate(CATEGORIES):
        for sub, noun, low, high in _SUBCATEGORIES[category]:
            count = int(rng.integers(6, 10))
            raw = np.exp(rng.uniform(np.log(low), np.log(high), count))
            cents = np.where(rng.random(count) < 0.7, 0.99, 0.0)
            price = np.floor(raw) + cents
            legacy = rng.random(count) < _LEGACY_SHARE
            legacy[np.argmin(price)] = True
            legacy[np.argmax(price)] = True
            days = np.where(
                legacy,
                -rng.integers(1, 5 * 365, count),
                rng.integers(0, max(period_days - 90, 1), count),
            )
            for k in range(count):
                while True:
                    model = _MODELS[int(rng.integers(len(_MODELS)))]
                    variant = _VARIANTS[int(rng.integers(len(_VARIANTS)))]
                    name = f"{model} {variant} {noun}"
                    if name not in used_names:
                        used_names.add(name)
                        break
                ids.append(f"P{len(ids) + 1:04d}")
                names.append(name)
                cats.append(c)
                subs.append(sub)
                u = rng.random()
                brands.append(BRAND if u < 6 / 7 else PARTNER_BRANDS[int(u * 21) % 3])
                prices.append(float(price[k]))
                launch_days.append(int(days[k]))
    launch = np.asarray(launch_days, dtype=np.int64)
    launched_on = np.datetime64(start, "D") + launch.astype("timedelta64[D]")
    return Catalog(
        product_id=np.asarray(ids, dtype=object),
        name=np.asarray(names, dtype=object),
        category=np.asarray(cats, dtype=np.int64),
        subcategory=np.asarray(subs, dtype=object),
        brand=np.asarray(brands, dtype=object),
        price=np.asarray(prices, dtype=np.float64),
        launched_on=launched_on,
        launch_second=launch * 86_400,
    )
