"""The CSV export round-trips, filters by segment or persona, and refuses a stale ranking."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from streamwise.downstream.sales.export import CSV_COLUMNS, ranked_frame, write_csv
from streamwise.downstream.sales.reasons import rank_words
from streamwise.errors import ConfigError, WorkspaceError
from streamwise.workspace import Workspace


def test_csv_round_trips_the_whole_list(planted, tmp_path) -> None:
    path = tmp_path / "leads.csv"
    with Workspace.open(planted["root"]) as ws:
        n = write_csv(ws, path, planted["run"])
        expected = ranked_frame(ws, planted["run"], top=None)
    back = pd.read_csv(path, keep_default_na=False, dtype={"customer_id": str})
    assert tuple(back.columns) == CSV_COLUMNS
    assert (
        n
        == len(back)
        == len(expected)
        == sum(planted["run"].counts[k] for k in ("customers", "leads", "unscored_leads"))
    )
    assert not (tmp_path / "leads.csv.part").exists()
    assert list(back["rank"]) == list(expected["rank"])
    assert list(back["customer_id"]) == list(expected["customer_id"])
    assert list(back["reasons"]) == list(expected["reason_text"])
    assert list(back["email"]) == [e or "" for e in expected["email"]]
    p = pd.to_numeric(back["p_buy"].replace("", None))
    assert (p - expected["p_buy"]).abs().max() < 5e-5
    assert (back["lead"] == "yes").sum() == planted["run"].counts["leads"]
    assert set(back.loc[back["lead"] == "yes", "customer_id"].str[0]) == {"L"}


def test_top_and_segment_filters(planted, tmp_path) -> None:
    run = planted["run"]
    segment = run.targets[0]
    persona = run.personas[segment]
    with Workspace.open(planted["root"]) as ws:
        by_segment = ranked_frame(ws, run, top=25, segment=segment)
        by_first_name = ranked_frame(ws, run, top=25, segment=persona.split(" (")[0])
        n = write_csv(ws, tmp_path / "s.csv", run, top=10, segment=persona)
        with pytest.raises(ConfigError, match="no segment or persona 'Nobody'"):
            ranked_frame(ws, run, segment="Nobody")
    assert len(by_segment) == 25
    assert n == 10
    assert set(by_segment["segment"]) == {segment}
    assert list(by_first_name["customer_id"]) == list(by_segment["customer_id"])
    assert by_segment["rank"].is_monotonic_increasing  # ranks in the whole list are kept
    fit = [r for reasons in by_segment["reasons"] for r in reasons if r.feature == "in_target"]
    assert all(r.text.startswith(f"in target segment {segment}") for r in fit)


def test_a_ranking_from_another_run_is_refused(planted, tmp_path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(planted["root"], root)
    con = duckdb.connect(str(root / "analytics.duckdb"))
    con.execute("UPDATE sales_leads SET run_id = 'something-else'")
    con.close()
    with Workspace.open(root) as ws, pytest.raises(WorkspaceError, match="sales leads` again"):
        ranked_frame(ws, planted["run"])


def test_rank_words() -> None:
    q = [float(i) for i in range(1, 100)]  # percentiles 1..99 of 0..100
    assert rank_words(99.5, q) == "top 1 %"
    assert rank_words(93.0, q) == "top 10 %"
    assert rank_words(60.0, q) == "top 40 %"
    assert rank_words(12.0, q) == "bottom 20 %"
    assert rank_words(0.0, q) == "bottom 1 %"
    assert rank_words(5.0, []) == ""
