"""``streamwise ads`` end to end on a copy of the demo workspace."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from streamwise.cli.ads import parse_top
from streamwise.cli.app import app
from streamwise.errors import ConfigError


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_export_writes_the_file_and_reports_removals(ws_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "alpine.csv"
    result = invoke("ads", "export", 'segment = "Alpine Pros"', "--platform", "google",
                    "--out", str(out), "-w", str(ws_root))  # fmt: skip
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(ws_root / "analytics.duckdb"), read_only=True)
    try:
        emails = [r[0] for r in con.execute(
            "SELECT c.email FROM customers c JOIN customer_segments s USING (customer_id) "
            "JOIN segment_clusters n ON n.cluster = s.segment "
            "WHERE n.segment = 'Alpine Pros' AND c.ads_consent"
        ).fetchall()]  # fmt: skip
        members = con.execute(
            "SELECT count(*) FROM customer_segments s JOIN segment_clusters n "
            "ON n.cluster = s.segment WHERE n.segment = 'Alpine Pros'"
        ).fetchall()[0][0]
    finally:
        con.close()
    lines = out.read_text().splitlines()
    assert lines[0] == "Email,Phone"
    written = {line.split(",")[0] for line in lines[1:]}
    assert written <= {hashlib.sha256(e.lower().encode()).hexdigest() for e in emails}
    assert f"Wrote {len(lines) - 1:,} of {members:,} people" in " ".join(result.output.split())
    assert "left out, no ads consent" in result.output


def test_seed_with_segment_and_share(ws_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "seed.csv"
    result = invoke("ads", "seed", "-p", "meta", "-o", str(out), "--top", "20%",
                    "--segment", "Trail Enthusiasts", "-w", str(ws_root))  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Seed: top 20% of" in text
    assert 'where segment = "Trail Enthusiasts"' in text
    assert out.read_text().splitlines()[0] == "email,phone,fn,ln,doby,country,value"


def test_x_file_has_no_header(ws_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.txt"
    result = invoke("ads", "seed", "-p", "x", "-o", str(out), "--top", "25",
                    "-w", str(ws_root))  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert 0 < len(lines) <= 25
    assert all(len(line) == 64 for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "clv > 1", "-p", "myspace"], "unknown ad platform 'myspace'"),
        (["export", 'segment = "x"; drop table customers', "-p", "meta"], "unexpected"),
        (["export", "clv > 1", "-p", "meta", "-o", "/no/such/folder/f.csv"], "is not a folder"),
        (["seed", "-p", "meta", "--top", "lots"], "--top 'lots'"),
        (["seed", "-p", "meta", "--top", "150%"], r"(0, 1]"),
    ],
)
def test_errors_say_what_to_do(
    ws_root: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    if "-o" not in args:
        args = [*args, "-o", str(tmp_path / "f.csv")]
    result = invoke("ads", *args, "-w", str(ws_root))
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "f.csv").exists()


def test_platforms_lists_every_platform() -> None:
    result = invoke("ads", "platforms")
    assert result.exit_code == 0
    for name in ("meta", "google", "tiktok", "linkedin", "x"):
        assert f"│ {name}" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10%", (0.1, None)), ("0.25", (0.25, None)), ("5000", (None, 5000)), ("1.0", (1.0, None))],
)
def test_parse_top(text: str, expected: tuple) -> None:
    assert (
        parse_top(text) == pytest.approx(expected) if expected[0] else parse_top(text) == expected
    )


def test_parse_top_refuses_words() -> None:
    with pytest.raises(ConfigError, match="--top 5000"):
        parse_top("many")
