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

``fit`` takes the features as a data frame, or as a table of the engine (:func:`feature_expr`):
then only the feature means and spreads and a sample of ``sample_size`` customers come into
Python, every customer is labelled by the engine (:meth:`SegmentationResult.label_expr`) and the
profiles are aggregated there (``segments_engine``): memory is bounded by the sample, whatever
the number of customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from streamwise.errors import DataError
from streamwise.upstream.customers.features import customer_features, feature_expr

__all__ = ["SegmentationResult", "Segmenter", "customer_features", "feature_expr"]


@dataclass(frozen=True)
class SegmentationResult:
    """The outcome of :meth:`Segmenter.fit`.

    ``labels`` holds each customer's segment: every customer when fitted on a data frame, the
    sample the model was fitted on when fitted on an engine's table (whose customers are all
    labelled by :meth:`label_expr`, in the engine). ``labels`` is empty (and ``k`` 0) when no
    structure was found; ``reason`` says why either way. ``scaling`` (mean and scale of each
    feature used) and ``centres`` (per segment, in standard units) label new customers.
    """

    structure_found: bool
    k: int
    reason: str
    scores: pd.DataFrame = field(repr=False)
    labels: pd.Series = field(repr=False)
    profiles: pd.DataFrame = field(repr=False)
    distinguishing: dict[int, list[str]] = field(default_factory=dict)
    scaling: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    centres: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

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

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """The nearest centre of each row of ``features`` (the columns of ``scaling``)."""
        named = features.rename(columns=str)[self.scaling.index]
        z = (named - self.scaling["mean"]) / self.scaling["scale"]
        centres = self.centres.to_numpy()
        distance = ((z.to_numpy()[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        return pd.Series(distance.argmin(axis=1), index=features.index, name="segment")

    def label_expr(self, features: ir.Table, *, with_features: bool = False) -> ir.Table:
        """``customer_id, segment`` (and the features, with ``with_features``) for every
        customer of an engine's feature table: the nearest centre in standard units, computed
        by the engine."""
        if not self.structure_found:
            raise DataError(f"there are no segments to assign: {self.reason}")
        z = {
            col: (features[col].cast("float64") - row["mean"]) / row["scale"]
            for col, row in self.scaling.iterrows()
        }
        distances = {
            f"_d{k}": sum(
                ((z[col] - float(c)) ** 2 for col, c in centre.items()), ibis.literal(0.0)
            )
            for k, centre in self.centres.iterrows()
        }
        near = features.mutate(**distances)
        nearest = ibis.least(*(near[d] for d in distances))
        segment = ibis.cases(*((near[d] == nearest, k) for k, d in enumerate(distances)))
        keep = features.columns if with_features else ("customer_id",)
        return near.select(*keep, segment=segment.cast("int64"))


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
        Customers used to choose k, score silhouettes and fit the models (all are labelled).
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

    @staticmethod
    def _kmeans(k: int, seed: int, n_init: int = 4) -> KMeans:
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed)

    def _reference(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Uniform data in the bounding box of z's principal components (Tibshirani et al.)."""
        centred = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        rotated = centred @ vt.T
        lo, hi = rotated.min(axis=0), rotated.max(axis=0)
        return rng.uniform(lo, hi, size=rotated.shape) @ vt

    def fit(self, features: pd.DataFrame | ir.Table) -> SegmentationResult:
        """Segment the customers (rows) of ``features``, a data frame indexed by customer or an
        engine's table with a ``customer_id`` column (:func:`feature_expr`); the result is also
        kept as ``result_``. Returns the result."""
        if isinstance(features, ir.Table):
            from streamwise.upstream.customers.segments_engine import fit_in_engine

            self.result_ = fit_in_engine(self, features)
            return self.result_
        if len(features) < 50:
            raise DataError("segmenting needs at least 50 customers")
        values = features.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise DataError("features hold missing or infinite values")
        scaling = self._scaling(features.columns, values.mean(axis=0), values.std(axis=0))
        kept = scaling[scaling["keep"]]
        z = (values[:, scaling["keep"].to_numpy()] - kept["mean"].to_numpy()) / kept[
            "scale"
        ].to_numpy()
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(len(z), size=min(len(z), self.sample_size), replace=False)
        result = self._choose(z[sample], rng, scaling)
        if result.structure_found:
            labels = result.predict(features)
            profiles, distinguishing = self._profiles(features, labels)
            result = replace(
                result, labels=labels, profiles=profiles, distinguishing=distinguishing
            )
        self.result_ = result
        return result

    @staticmethod
    def _scaling(columns: Any, means: np.ndarray, scales: np.ndarray) -> pd.DataFrame:
        """Mean and scale per feature; ``keep`` is False (and both NaN) for constant ones."""
        keep = scales > 1e-12 * np.maximum(1.0, np.abs(means))
        return pd.DataFrame(
            {"mean": np.where(keep, means, np.nan), "scale": np.where(keep, scales, np.nan),
             "keep": keep},
            index=pd.Index([str(c) for c in columns], name="feature"),
        )  # fmt: skip

    def _choose(
        self, zs: np.ndarray, rng: np.random.Generator, scaling: pd.DataFrame
    ) -> SegmentationResult:
        """Score every k on the standardised sample ``zs``; the verdict, the chosen model's
        centres and the sample's labels (profiles are left to the caller)."""
        reference = self._reference(zs, rng)
        rows, fits = [], {}
        for k in self.k_values:
            if k >= len(zs):
                break
            model = self._kmeans(k, self.random_state).fit(zs)
            labels = model.labels_
            # One start suffices for the reference and the resamples: they are compared, not
            # kept, and 4 starts cost 4 times as much (3/4 of the fitting time before).
            ref_labels = self._kmeans(k, self.random_state, n_init=1).fit_predict(reference)
            sil = float(silhouette_score(zs, labels))
            sil_ref = float(silhouette_score(reference, ref_labels))
            aris = []
            for b in range(self.n_bootstrap):
                boot = rng.choice(len(zs), size=len(zs), replace=True)
                other = self._kmeans(k, self.random_state + 1 + b, n_init=1).fit(zs[boot])
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
            return SegmentationResult(
                False, 0,
                f"no structure: the best silhouette ({scores.loc[best, 'silhouette']:.2f} at "
                f"k={best}) is no better than on uniform noise "
                f"({scores.loc[best, 'reference']:.2f}); these customers do not form distinct "
                "groups on these features",
                scores, empty, pd.DataFrame(),
            )  # fmt: skip
        if stability < self.min_stability:
            return SegmentationResult(
                False, 0,
                f"no stable structure: k={best} beats noise but bootstrap resamples agree only "
                f"ARI {stability:.2f} < {self.min_stability}; more data or other features needed",
                scores, empty, pd.DataFrame(),
            )  # fmt: skip
        kept = scaling[scaling["keep"]]
        centres = pd.DataFrame(fits[best].cluster_centers_, columns=kept.index)
        centres.index.name = "segment"
        return SegmentationResult(
            True, best,
            f"k={best}: highest silhouette gain over uniform noise ({gain:.2f}); bootstrap "
            f"stability ARI {stability:.2f}",
            scores, empty, pd.DataFrame(), {}, kept[["mean", "scale"]], centres,
        )  # fmt: skip

    @staticmethod
    def _profiles(
        features: pd.DataFrame, labels: pd.Series
    ) -> tuple[pd.DataFrame, dict[int, list[str]]]:
        means = features.groupby(labels).mean()
        counts = labels.value_counts().sort_index()
        return profile(means, counts, features.mean(), features.std())


def profile(
    means: pd.DataFrame, counts: pd.Series, overall: pd.Series, spread: pd.Series
) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """Profiles (customers, share, feature means per segment) and the three features that set
    each segment apart most, in standard deviations (``spread``) from the ``overall`` mean."""
    z = (means - overall) / spread.replace(0, 1)
    profiles = means.copy()
    profiles.insert(0, "share", counts / counts.sum())
    profiles.insert(0, "customers", counts)
    distinguishing = {
        int(seg): [
            f"{col} {'high' if z.loc[seg, col] > 0 else 'low'} ({z.loc[seg, col]:+.1f} sd)"
            for col in z.loc[seg].abs().sort_values(ascending=False).index[:3]
        ]
        for seg in z.index
    }
    return profiles, distinguishing
