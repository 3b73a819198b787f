"""``streamwise sales leads``: the table with reasons, JSON, CSV and the segment filter."""

from __future__ import annotations

import json
import shutil

import pandas as pd
from typer.testing import CliRunner

from streamwise.cli.app import app

WIDE = {"COLUMNS": "200"}


def test_leads_computes_shows_and_exports(planted, tmp_path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(planted["root"], root)
    csv = tmp_path / "top.csv"
    out = CliRunner().invoke(app, ["sales", "leads", "-w", str(root), "--top", "15", "--csv",
                                   str(csv)], env=WIDE)  # fmt: skip
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    run = planted["run"]
    assert f"Hand-off {run.run_id} as of {run.as_of}" in text  # the same data, the same run
    assert "AUC 0." in text
    assert "top-decile lift" in text
    assert "Wrote 15 rows" in text
    assert len(pd.read_csv(csv)) == 15
    assert text.count("+ expects") >= 10  # the top customers' reasons are shown


def test_leads_json_and_segment(planted) -> None:
    run = planted["run"]
    segment = run.targets[0]
    out = CliRunner().invoke(app, ["sales", "leads", "-w", str(planted["root"]), "--json",
                                   "--top", "30", "--segment", segment])  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["run"]["run_id"] == run.run_id
    assert data["run"]["buyer_quality"]["auc"] == run.buyer_quality.auc
    assert len(data["leads"]) == 30
    assert {r["segment"] for r in data["leads"]} == {segment}
    first = data["leads"][0]
    assert first["p_buy"] > 0.5
    assert first["reasons"][0]["contribution"] > 0
    assert first["reasons"][0]["text"]
    assert not first["lead"]


def test_leads_without_a_workspace_says_what_to_do(tmp_path) -> None:
    out = CliRunner().invoke(app, ["sales", "leads", "-w", str(tmp_path)])
    assert out.exit_code == 1
    assert "streamwise init" in out.output
