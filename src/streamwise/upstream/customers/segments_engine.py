"""Segmenting the customers of an engine (DuckDB, PostgreSQL, Spark) without pulling them all.

What comes into Python: one row of feature means and spreads, and about ``sample_size``
customers' features (all of them when there are fewer; otherwise about 1.2 times as many chosen
by a hash of their id and the seed, cut to ``sample_size`` at random). k is chosen, scored and
fitted on that sample as :class:`Segmenter` does on a frame; the engine then labels every
customer by the nearest centre and aggregates the profiles. Memory: ``sample_size`` × features
× 8 bytes and the k-means fits on them (about 5 MB at the defaults), whatever the number of
customers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from streamwise.engine import hash_sample
from streamwise.errors import DataError

if TYPE_CHECKING:
    from streamwise.upstream.customers.segments import SegmentationResult, Segmenter

__all__ = ["fit_in_engine", "profile_in_engine"]

_OVERSAMPLE = 1.2


def _moments(features: ir.Table, columns: list[str]) -> tuple[int, pd.DataFrame]:
    """The number of customers, and per feature: non-null count, mean, population and sample
    standard deviation (one aggregate query)."""
    aggs = {"n": features.count()}
    for i, col in enumerate(columns):
        x = features[col].cast("float64")
        aggs |= {f"c{i}": x.count(), f"m{i}": x.mean(), f"p{i}": x.std(how="pop"),
                 f"s{i}": x.std(how="sample")}  # fmt: skip
    row = features.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    stats = pd.DataFrame(
        {key: [row[f"{key[0]}{i}"] for i in range(len(columns))]
         for key in ("count", "mean", "pop_std", "std")},
        index=columns, dtype=float,
    )  # fmt: skip
    return int(row["n"]), stats


def _draw(features: ir.Table, n: int, size: int, seed: int) -> pd.DataFrame:
    """Every customer's features when ``n <= size``, else about 1.2 × ``size`` of them chosen by
    a hash of the customer id and the seed (:func:`hash_sample`); sorted by customer."""
    rows = hash_sample(features, "customer_id", _OVERSAMPLE * size / n, seed)
    return rows.to_pyarrow().to_pandas().set_index("customer_id").sort_index()


def profile_in_engine(
    features: ir.Table, result: SegmentationResult, stats: pd.DataFrame
) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """Profiles of the segments over every customer, aggregated by the engine."""
    from streamwise.upstream.customers.segments import profile

    labelled = result.label_expr(features, with_features=True)
    columns = list(stats.index)
    grouped = (
        labelled.group_by("segment")
        .aggregate(
            customers=labelled.count(),
            **{c: labelled[c].cast("float64").mean() for c in columns},
        )
        .order_by("segment")
        .to_pyarrow()
        .to_pandas()
        .set_index("segment")
    )
    counts = grouped.pop("customers")
    return profile(grouped, counts, stats["mean"], stats["std"])


def fit_in_engine(segmenter: Segmenter, features: ir.Table) -> SegmentationResult:
    """:meth:`Segmenter.fit` on an engine's feature table (``customer_id`` and the features);
    ``labels`` of the result are the sample's, :meth:`SegmentationResult.label_expr` labels
    everyone."""
    if "customer_id" not in features.columns:
        raise DataError("the feature table has no column 'customer_id'", column="customer_id")
    columns = [c for c in features.columns if c != "customer_id"]
    n, stats = _moments(features, columns)
    if n < 50:
        raise DataError("segmenting needs at least 50 customers")
    finite = np.isfinite(stats[["mean", "pop_std"]].to_numpy()).all()
    if not finite or (stats["count"] < n).any():
        raise DataError("features hold missing or infinite values")
    scaling = segmenter._scaling(columns, stats["mean"].to_numpy(), stats["pop_std"].to_numpy())
    kept = scaling[scaling["keep"]]
    drawn = _draw(features, n, segmenter.sample_size, segmenter.random_state)
    rng = np.random.default_rng(segmenter.random_state)
    sample = rng.choice(len(drawn), size=min(len(drawn), segmenter.sample_size), replace=False)
    z = (drawn[kept.index].to_numpy(float) - kept["mean"].to_numpy()) / kept["scale"].to_numpy()
    result = segmenter._choose(z[sample], rng, scaling)
    if not result.structure_found:
        return result
    profiles, distinguishing = profile_in_engine(features, result, stats)
    labels = result.predict(drawn.iloc[np.sort(sample)])
    return replace(result, labels=labels, profiles=profiles, distinguishing=distinguishing)
