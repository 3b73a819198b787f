"""The sample business as a whole: deterministic, complete, and its planted bad rows are exactly
what the import quarantines."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from streamwise.data.contracts import CONTRACTS, import_order
from streamwise.data.importer import import_file
from streamwise.data.sample import SampleBusiness, generate
from streamwise.data.sample.bad_rows import FRESH_KEY
from streamwise.workspace import Workspace

TODAY = date(2026, 1, 1)


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory: pytest.TempPathFactory) -> SampleBusiness:
    return generate(n_customers=1_500, seed=11, out_dir=tmp_path_factory.mktemp("s"), fmt="csv")


def test_same_seed_same_business_other_seed_other_business() -> None:
    a = generate(n_customers=600, seed=5)
    b = generate(n_customers=600, seed=5)
    c = generate(n_customers=600, seed=6)
    assert a.tables is not None
    assert b.tables is not None
    assert c.tables is not None
    for kind in CONTRACTS:
        pd.testing.assert_frame_equal(a.tables[kind], b.tables[kind])
    assert a.truth.to_dict() == b.truth.to_dict()
    assert not a.tables["orders"].equals(c.tables["orders"])


def test_every_input_kind_is_generated_with_its_contract_columns() -> None:
    biz = generate(n_customers=600, seed=5)
    assert biz.tables is not None
    assert set(biz.tables) == set(CONTRACTS)
    for kind, frame in biz.tables.items():
        assert list(frame.columns) == list(CONTRACTS[kind].names), kind
        assert len(frame) > 0, kind


def test_planted_truth_is_there(on_disk: SampleBusiness) -> None:
    truth = json.loads((on_disk.paths["orders"].parent / "ground_truth.json").read_text())
    commerce, research = truth["commerce"], truth["research"]
    assert len(commerce["segments"]) == 5
    for seg in commerce["segments"]:
        assert {"r", "alpha", "a", "b", "gg_p", "gg_q", "gg_v"} <= set(seg)
    assert commerce["media"]
    assert commerce["journeys"]
    for key in (
        "nps",
        "van_westendorp",
        "conjoint",
        "maxdiff",
        "kano",
        "text",
        "positioning",
        "market",
    ):
        assert key in research, key
    assert "questions" in on_disk.questionnaire_yaml or "id:" in on_disk.questionnaire_yaml
    assert (on_disk.paths["orders"].parent / "truth" / "truth_customers.parquet").exists()


def _key(kind: str, record: dict) -> str:
    if kind == "order_lines":
        return f"{record['order_id']}|{record['line_number']}"
    return str(record[FRESH_KEY[kind]])


def test_import_quarantines_exactly_the_planted_bad_rows(
    on_disk: SampleBusiness, tmp_path: Path
) -> None:
    planted = on_disk.truth.bad_rows
    assert len(planted) > 20
    with Workspace.init(tmp_path / "ws") as ws:
        con = ws.duckdb()
        results = {
            kind: import_file(con, kind, on_disk.files(kind)[0], today=TODAY)
            for kind in import_order()
        }
        for kind, result in results.items():
            expected = {b.key for b in planted if b.kind == kind}
            records = con.execute(
                "SELECT DISTINCT record::VARCHAR FROM _quarantine WHERE kind = $k", {"k": kind}
            ).fetchall()
            got = {_key(kind, json.loads(r[0])) for r in records}
            assert got == expected, kind
            assert result.quarantined == len(expected), kind
            assert result.rows_read == result.inserted + result.quarantined, kind
    defects = Counter(b.defect for b in planted)
    assert {"negative amount", "unknown customer", "date in the future"} <= set(defects)
