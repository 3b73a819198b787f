"""Each analytics step gives DuckDB's results on Spark (``local[2]``) and on PostgreSQL.

Every test runs the step on the reference DuckDB database and on the other engine, loaded with
the same sample business, and compares the frames up to row order and a relative tolerance of
1e-9 (sums of floats are added in another order on another engine).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

from streamwise.downstream.journeys.analytics import (
    Analytics,
    category_affinity,
    customer_fields,
    top_categories,
)
from streamwise.measure.attribution.paths import build_paths
from streamwise.measure.experiments import arm_stats, compare
from streamwise.plan.customer_profile import cluster_names, customer_metrics
from streamwise.plan.document import Target
from streamwise.plan.kpis import goals_and_kpis
from streamwise.plan.profiles import SegmentProfiles
from streamwise.upstream.customers import summarize
from streamwise.upstream.customers.clv import BetaGeo
from streamwise.upstream.customers.clv_engine import clv_in_engine
from streamwise.upstream.customers.rfm import rfm
from streamwise.upstream.customers.segments import Segmenter, feature_expr

RTOL = 1e-9


def test_summaries(duckdb_engine: Any, engine: Any, same: Any) -> None:
    for options in ({"unit": "W"}, {"unit": "D", "calibration_end": "2024-06-30"}):
        ours = summarize(engine.table("orders"), **options)
        ref = summarize(duckdb_engine.table("orders"), **options)
        assert len(ref) > 100
        same(ours, ref, ["customer_id"], RTOL)


def test_rfm(duckdb_engine: Any, engine: Any, same: Any) -> None:
    ours = rfm(engine.table("orders"), bins=5)
    ref = rfm(duckdb_engine.table("orders"), bins=5)
    assert ref["segment"].nunique() > 3
    same(ours, ref, ["customer_id"], RTOL)


@pytest.mark.parametrize(
    "options",
    [{}, {"journey": "journey_id", "collapse_repeats": True, "max_touches": 3}],
    ids=["cut-at-conversions", "journey-ids"],
)
def test_attribution_paths(
    duckdb_engine: Any, engine: Any, options: dict[str, Any], same: Any
) -> None:
    ours = build_paths(engine.table("touchpoints"), engine.table("orders"), **options)
    ref = build_paths(duckdb_engine.table("touchpoints"), duckdb_engine.table("orders"), **options)
    assert ref["conversions"].sum() > 100
    same(ours, ref, ["path"], RTOL)


def test_journey_inputs(duckdb_engine: Any, engine: Any, sample: Any, same: Any) -> None:
    ids = list(sample.tables["customers"]["customer_id"].iloc[::40])
    ours, ref = Analytics(None, backend=engine), Analytics(None, backend=duckdb_engine)
    same(customer_fields(ours, ids), customer_fields(ref, ids), ["customer_id"], RTOL)
    assert category_affinity(ours) == category_affinity(ref) != {}
    assert top_categories(ours, ids) == top_categories(ref, ids) != {}
    assert ours.has("orders")
    assert not ours.has("no_such_table")


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        ("proportion", {"metric": "converted"}),
        ("mean", {"metric": "revenue"}),
        ("ratio", {"metric": "revenue", "denominator": "orders"}),
        ("cuped", {"metric": "revenue", "pre": "pre_revenue"}),
    ],
)
def test_experiment_statistics(
    duckdb_engine: Any, engine: Any, kind: str, columns: dict[str, str]
) -> None:
    for by in ("country", None):  # per group, then per arm
        ours = arm_stats(engine.table("experiment_units"), kind=kind, by=by, **columns)
        ref = arm_stats(duckdb_engine.table("experiment_units"), kind=kind, by=by, **columns)
        assert list(ours) == list(ref)
        assert len(ref) >= 3
        for key, stat in ref.items():
            assert ours[key].to_dict() == pytest.approx(stat.to_dict(), rel=RTOL)
    effect = compare(ref["control"], ref["treatment"], method="frequentist").effect
    assert effect is not None
    mine = compare(ours["control"], ours["treatment"], method="frequentist").effect
    assert mine == pytest.approx(effect, rel=RTOL)


def test_plan_kpis(duckdb_engine: Any, engine: Any, sample: Any, same: Any) -> None:
    names = cluster_names(engine, sample.respondents)
    same(names, cluster_names(duckdb_engine, sample.respondents), ["cluster"], RTOL)
    assert names["segment"].nunique() >= 3
    keys = ["segment", "metric", "item"]
    ours, ref = customer_metrics(engine, names), customer_metrics(duckdb_engine, names)
    same(ours.fillna({"item": ""}), ref.fillna({"item": ""}), keys, RTOL)
    assert {"active_customers", "category_share", "media_share", "open_hour"} <= set(ref["metric"])

    def kpis(table: pd.DataFrame) -> list[tuple[str, float, float]]:
        segments = tuple(sorted(names["segment"].unique()))
        profiles = SegmentProfiles(segments, table, names)
        targets = tuple(Target(segment=s, decision="target", score=1.0, rank=i + 1, reasons=())
                        for i, s in enumerate(segments))  # fmt: skip
        _, out = goals_and_kpis(profiles, targets, None, start=date(2026, 1, 1),
                                end=date(2026, 12, 31), ambition={"active": 0.05, "clv": 0.1,
                                                                  "nps": 5.0})  # fmt: skip
        return [(k.id, k.baseline, k.target) for k in out]

    theirs, mine = kpis(ref), kpis(ours)
    assert [k[0] for k in mine] == [k[0] for k in theirs]
    assert len(theirs) >= 5
    for (_, base, target), (_, ref_base, ref_target) in zip(mine, theirs, strict=True):
        assert (base, target) == pytest.approx((ref_base, ref_target), abs=0.01)


def test_models_on_compressed_statistics(duckdb_engine: Any, engine: Any, same: Any) -> None:
    """CLV fitted on distinct histories and segments on a pulled sample, each customer scored
    and labelled by the engine: the same as on DuckDB."""
    ours = clv_in_engine(engine.table("orders"), BetaGeo())
    ref = clv_in_engine(duckdb_engine.table("orders"), BetaGeo())
    assert (ours.histories, ours.spend_rows) == (ref.histories, ref.spend_rows)
    # the spend fit stops where the optimiser does: equal to far below a standard error
    same(ours.customers.to_pandas(), ref.customers.to_pandas(), ["customer_id"], 2e-4)

    def segments(backend: Any, **options: Any) -> tuple[Any, pd.DataFrame]:
        features = feature_expr(*(backend.table(n) for n in ("orders", "order_lines", "products")))
        cached = features.cache()  # as run_segments does: built once, read by every step
        result = Segmenter(k_values=range(2, 7), n_bootstrap=2, **options).fit(cached)
        labels = result.label_expr(cached).to_pandas() if result.structure_found else None
        cached.release()
        return result, labels

    mine, my_labels = segments(engine)
    theirs, their_labels = segments(duckdb_engine)
    assert theirs.structure_found, theirs.reason
    assert mine.k == theirs.k
    pd.testing.assert_frame_equal(mine.scores, theirs.scores, rtol=1e-6)
    same(my_labels, their_labels, ["customer_id"])
    same(mine.profiles.reset_index(), theirs.profiles.reset_index(), ["segment"], RTOL)
    # a sample (each engine draws its own): every customer still labelled, by the engine
    sampled, labels = segments(engine, sample_size=600)
    assert sampled.structure_found, sampled.reason
    assert 400 <= len(sampled.labels) <= 600  # the sample's own labels
    assert len(labels) == len(their_labels) == sampled.profiles["customers"].sum()
