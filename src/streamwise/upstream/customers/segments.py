"""Behavioural segments: clustering customers on standardised behaviour, with k chosen by a stated
criterion, bootstrap stability, profiles, and an honest "no structure" verdict.

Features (:func:`customer_features`) are aggregated where the data is, through Ibis: order count,
mean order value, days since the last order, share of orders per sales channel and share of spend
per product category. :class:`Segmenter` standardises them and fits k-means for each k:

- **k** maximises the silhouette (Rousseeuw 1987) *above a reference*: the silhouette reached on
  data drawn uniformly in the principal-component box of the same data (the reference of the gap
  statistic, Tibshirani, Walther & Hastie 2001). Clusters found in noise score no better than
  noise.
- **stability**: k-means refitted on bootstrap resamples labels all customers; the mean adjusted
  Rand index against the full-data solution (Hennig 2007) is reported for every k.
- **no structure**: when no k beats the reference by ``min_gain`` or the chosen solution is not
  stable (mean ARI below ``min_stability``), the result says so and assigns no segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ibis
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from streamwise.errors import DataError
from streamwise.upstream.customers.summaries import _as_table

__all__ = ["SegmentationResult", "Segmenter", "customer_features"]


def customer_features(
    orders: Any,
    order_lines: Any | None = None,
    products: Any | None = None,
    *,
    as_of: date | datetime | str | None = None,
) -> pd.DataFrame:
    """One row per customer of behavioural features (aggregated by the engine).

    Columns: ``orders``, ``mean_order_value``, ``recency_days``, ``channel_<name>`` (share of
    orders) and, with ``order_lines`` and ``products``, ``category_<name>`` (share of spend).
    """
    o = _as_table(orders)
    for col in ("customer_id", "order_date", "amount"):
        if col not in o.columns:
            raise DataError(f"the orders have no column {col!r}", column=col)
    end = (
        ibis.literal(pd.Timestamp(as_of).date())
        if as_of is not None
        else o.order_date.max().cast("date").as_scalar()
    )
    base = (
        o.group_by("customer_id")
        .aggregate(
            orders=o.count(),
            mean_order_value=o.amount.mean(),
            last=o.order_date.max().cast("date"),
        )
        .mutate(recency_days=lambda t: end.delta(t.last, unit="day"))
        .drop("last")
        .to_pandas()
        .set_index("customer_id")
    )
    parts = [base]
    if "channel" in o.columns:
        ch = o.group_by(["customer_id", "channel"]).aggregate(n=o.count()).to_pandas()
        wide = ch.pivot_table(index="customer_id", columns="channel", values="n", fill_value=0)
        parts.append(wide.div(wide.sum(axis=1), axis=0).add_prefix("channel_"))
    if order_lines is not None and products is not None:
        lines, prods = _as_table(order_lines), _as_table(products)
        joined = lines.join(prods, "product_id").join(
            o.select("order_id", "customer_id"), "order_id"
        )
        value = joined.amount if "amount" in joined.columns else joined.quantity * joined.unit_price
        cat = (
            joined.mutate(value=value)
            .group_by(["customer_id", "category"])
            .aggregate(spend=lambda t: t.value.sum())
            .to_pandas()
        )
        wide = cat.pivot_table(index="customer_id", columns="category", values="spend",
                               fill_value=0.0)  # fmt: skip
        parts.append(wide.div(wide.sum(axis=1).replace(0, 1), axis=0).add_prefix("category_"))
    out = pd.concat(parts, axis=1).fillna(0.0).sort_index()
    out.columns = [str(c).replace(" ", "_") for c in out.columns]
    return out


@dataclass(frozen=True)
class SegmentationResult:
    """The outcome of :meth:`Segmenter.fit`.

    ``labels`` is empty (and ``k`` 0) when no structure was found; ``reason`` says why either way.
    """

    structure_found: bool
    k: int
    reason: str
    scores: pd.DataFrame = field(repr=False)
    labels: pd.Series = field(repr=False)
    profiles: pd.DataFrame = field(repr=False)
    distinguishing: dict[int, list[str]] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Segment profiles: size, share and feature means."""
        return self.profiles

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (per-customer labels left out)."""
        return {
            "structure_found": self.structure_found,
            "k": self.k,
            "reason": self.reason,
            "scores": self.scores.reset_index().to_dict(orient="records"),
            "profiles": self.profiles.reset_index().to_dict(orient="records"),
            "distinguishing": {str(k): v for k, v in self.distinguishing.items()},
        }


class Segmenter:
    """Choose k, check stability and profile the segments.

    Parameters
    ----------
    k_values
        Candidate numbers of segments.
    n_bootstrap
        Bootstrap resamples per k for the stability index.
    min_gain
        How far the silhouette must exceed the uniform reference's to count as structure.
    min_stability
        Lowest acceptable mean adjusted Rand index of the chosen solution.
    sample_size
        Customers used to score silhouettes and fit bootstrap models (all are labelled).
    random_state
        Seed of every random choice.
    """

    def __init__(
        self,
        k_values: range | list[int] = range(2, 11),
        n_bootstrap: int = 10,
        min_gain: float = 0.05,
        min_stability: float = 0.75,
        sample_size: int = 5_000,
        random_state: int = 0,
    ) -> None:
        self.k_values = k_values
        self.n_bootstrap = n_bootstrap
        self.min_gain = min_gain
        self.min_stability = min_stability
        self.sample_size = sample_size
        self.random_state = random_state

    def _kmeans(self, k: int, seed: int) -> KMeans:
        return KMeans(n_clusters=k, n_init=4, random_state=seed)

    def _reference(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Uniform data in the bounding box of z's principal components (Tibshirani et al.)."""
        centred = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        rotated = centred @ vt.T
        lo, hi = rotated.min(axis=0), rotated.max(axis=0)
        return rng.uniform(lo, hi, size=rotated.shape) @ vt

    def fit(self, features: pd.DataFrame) -> SegmentationResult:
        """Segment the customers (rows) of ``features``; the fitted result is also kept as
        ``result_``. Returns the result."""
        if len(features) < 50:
            raise DataError("segmenting needs at least 50 customers")
        values = features.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise DataError("features hold missing or infinite values")
        keep = values.std(axis=0) > 0
        z = StandardScaler().fit_transform(values[:, keep])
        rng = np.random.default_rng(self.random_state)
        n = len(z)
        sample = rng.choice(n, size=min(n, self.sample_size), replace=False)
        zs = z[sample]
        reference = self._reference(zs, rng)
        rows, fits = [], {}
        for k in self.k_values:
            if k >= len(zs):
                break
            model = self._kmeans(k, self.random_state).fit(zs)
            labels = model.labels_
            ref_labels = self._kmeans(k, self.random_state).fit_predict(reference)
            sil = float(silhouette_score(zs, labels))
            sil_ref = float(silhouette_score(reference, ref_labels))
            aris = []
            for b in range(self.n_bootstrap):
                boot = rng.choice(len(zs), size=len(zs), replace=True)
                other = self._kmeans(k, self.random_state + 1 + b).fit(zs[boot])
                aris.append(adjusted_rand_score(labels, other.predict(zs)))
            rows.append(
                {"k": k, "silhouette": sil, "reference": sil_ref, "gain": sil - sil_ref,
                 "stability": float(np.mean(aris)) if aris else np.nan}
            )  # fmt: skip
            fits[k] = model
        scores = pd.DataFrame(rows).set_index("k")
        best = int(scores["gain"].idxmax())
        gain, stability = scores.loc[best, "gain"], scores.loc[best, "stability"]
        empty = pd.Series(dtype="int64", name="segment")
        if gain < self.min_gain:
            result = SegmentationResult(
                False, 0,
                f"no structure: the best silhouette ({scores.loc[best, 'silhouette']:.2f} at "
                f"k={best}) is no better than on uniform noise "
                f"({scores.loc[best, 'reference']:.2f}); these customers do not form distinct "
                "groups on these features",
                scores, empty, pd.DataFrame(),
            )  # fmt: skip
            self.result_ = result
            return result
        if stability < self.min_stability:
            result = SegmentationResult(
                False, 0,
                f"no stable structure: k={best} beats noise but bootstrap resamples agree only "
                f"ARI {stability:.2f} < {self.min_stability}; more data or other features needed",
                scores, empty, pd.DataFrame(),
            )  # fmt: skip
            self.result_ = result
            return result
        labels = pd.Series(fits[best].predict(z), index=features.index, name="segment")
        profiles, distinguishing = self._profiles(features, labels)
        result = SegmentationResult(
            True, best,
            f"k={best}: highest silhouette gain over uniform noise ({gain:.2f}); bootstrap "
            f"stability ARI {stability:.2f}",
            scores, labels, profiles, distinguishing,
        )  # fmt: skip
        self.result_ = result
        return result

    @staticmethod
    def _profiles(
        features: pd.DataFrame, labels: pd.Series
    ) -> tuple[pd.DataFrame, dict[int, list[str]]]:
        means = features.groupby(labels).mean()
        overall, spread = features.mean(), features.std().replace(0, 1)
        z = (means - overall) / spread
        profiles = means.copy()
        profiles.insert(0, "share", labels.value_counts(normalize=True).sort_index())
        profiles.insert(0, "customers", labels.value_counts().sort_index())
        distinguishing = {
            int(seg): [
                f"{col} {'high' if z.loc[seg, col] > 0 else 'low'} ({z.loc[seg, col]:+.1f} sd)"
                for col in z.loc[seg].abs().sort_values(ascending=False).index[:3]
            ]
            for seg in z.index
        }
        return profiles, distinguishing
