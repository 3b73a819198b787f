from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from streamwise import __version__
from streamwise.cli.app import app
from streamwise.cli.docs import command_paths, render_cli

ROOT = Path(__file__).resolve().parents[2]
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=ENV)
    return result.exit_code, result.output


def test_version() -> None:
    assert run("--version") == (0, f"streamwise {__version__}\n")


@pytest.mark.parametrize("words", [(), *command_paths(app)])
def test_every_command_has_help(words: tuple[str, ...]) -> None:
    code, out = run(*words, "--help")
    assert code == 0
    assert "Usage:" in out


def test_the_cli_reference_matches_the_commands() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == render_cli(), "run `make docs`"
    assert {"init", "import", "quarantine", "demo"} <= {w[0] for w in command_paths(app)}


def test_init_import_quarantine(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    code, out = run("init", str(ws), "--company", "Acme")
    assert code == 0, out
    assert "Created workspace" in out
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,email,signup_date\nC1,a@example.com,2024-01-01\nC2,oops,2024-01-02\n"
    )
    code, out = run("import", "customers", str(customers), "-w", str(ws))
    assert code == 0, out
    assert "email: not an e-mail address" in out
    code, out = run("quarantine", "-w", str(ws), "--export", str(tmp_path / "q.csv"))
    assert code == 0, out
    assert "oops" in out
    exported = pd.read_csv(tmp_path / "q.csv")
    assert exported[["row", "column"]].values.tolist() == [[2, "email"]]


def test_import_exits_1_when_nothing_usable_landed(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    run("init", str(ws))
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,signup_date\nC1,yesterday\n")
    code, out = run("import", "customers", str(bad), "-w", str(ws))
    assert code == 1
    assert "none of its 1 rows could be used" in out


def test_unreadable_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    run("init", str(ws))
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet at all")
    code, out = run("import", "customers", str(broken), "-w", str(ws))
    assert code == 1
    assert f"Error: {broken}: cannot read it as parquet" in " ".join(out.split())


def test_wrong_kind_and_missing_workspace_say_what_to_do(tmp_path: Path) -> None:
    code, out = run("import", "ordres", str(tmp_path / "x.csv"), "-w", str(tmp_path))
    assert code == 1
    assert "unknown kind 'ordres'; use one of: customers" in " ".join(out.split())
    code, out = run("quarantine", "-w", str(tmp_path))
    assert code == 1
    assert "streamwise init" in out


def test_workspace_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("init", str(tmp_path / "ws"))
    result = CliRunner().invoke(
        app, ["quarantine"], env={**ENV, "STREAMWISE_WORKSPACE": str(tmp_path / "ws")}
    )
    assert result.exit_code == 0, result.output
    assert "The quarantine is empty" in result.output


def test_sample_writes_every_kind_and_the_truth(tmp_path: Path) -> None:
    code, out = run("sample", str(tmp_path / "s"), "--customers", "300", "--format", "csv")
    assert code == 0, out
    for kind in ("customers", "orders", "touchpoints", "spend", "survey_responses"):
        assert (tmp_path / "s" / f"{kind}.csv").exists(), kind
    assert (tmp_path / "s" / "ground_truth.json").exists()
    code, out = run("sample", str(tmp_path / "t"), "--format", "xlsx")
    assert code == 1
    assert "unknown format 'xlsx'" in out


def test_demo_builds_a_workspace_with_every_kind(tmp_path: Path) -> None:
    code, out = run("demo", str(tmp_path / "demo"), "--customers", "400")
    assert code == 0, out
    assert "Sample business imported" in out
    code, out = run("quarantine", "-w", str(tmp_path / "demo"), "--limit", "0")
    assert code == 0
    assert "orders" in out
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("keep me")
    code, out = run("demo", str(tmp_path / "other"), "--customers", "400")
    assert code == 1
    assert (tmp_path / "other" / "precious.txt").exists()


def test_import_a_table_of_another_database(tmp_path: Path) -> None:
    import sqlite3

    ws = tmp_path / "ws"
    run("init", str(ws))
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE clients (customer_id TEXT, email TEXT, signup_date TEXT)")
        con.executemany(
            "INSERT INTO clients VALUES (?, ?, ?)",
            [("C1", "a@example.com", "2024-01-01"), ("C2", "b@example", "2024-01-02")],
        )
    code, out = run("import", "customers", f"sqlite:///{db}", "--table", "clients", "-w", str(ws))
    assert code == 0, out
    assert "email: not an e-mail address" in out
    code, out = run("import", "customers", f"sqlite:///{db}", "--table", "nope", "-w", str(ws))
    assert code == 1
    assert "no table 'nope'" in out


@pytest.mark.postgres
def test_import_a_postgresql_table(tmp_path: Path, postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS crm")
        con.execute("CREATE TABLE crm.people (customer_id text, signup_date date, email text)")
        con.execute(
            "INSERT INTO crm.people VALUES ('P1', '2024-02-01', 'p1@example.com'), "
            "('P2', '2099-01-01', 'p2@example.com')"
        )
    ws = tmp_path / "ws"
    run("init", str(ws))
    secret_url = postgres_url.replace("postgres@", "postgres:hunter2@")
    code, out = run("import", "customers", secret_url, "--table", "crm.people", "-w", str(ws))
    assert code == 0, out
    assert "signup_date: in the future" in out
    assert "hunter2" not in out


def test_empty_files_are_errors_that_say_so(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    run("init", str(ws))
    header_only = tmp_path / "header.csv"
    header_only.write_text("customer_id,email,signup_date\n")
    zero = tmp_path / "zero.csv"
    zero.write_text("")
    code, out = run("import", "customers", str(header_only), "-w", str(ws))
    assert code == 1
    assert "has no data rows" in out
    code, out = run("import", "customers", str(zero), "-w", str(ws))
    assert code == 1
    assert "the file is empty" in out


def test_customer_analytics_commands_write_their_tables(tmp_path: Path) -> None:
    import duckdb

    ws = tmp_path / "demo"
    code, out = run("demo", str(ws), "--customers", "500")
    assert code == 0, out
    assert "BG/NBD r" in out
    assert "Net Promoter Score" in out
    assert "Van Westendorp" in out
    code, out = run("customers", "summarize", "-w", str(ws), "--calibration-end", "2025-06-30")
    assert code == 0, out
    code, out = run("customers", "rfm", "-w", str(ws), "--bins", "4")
    assert code == 0, out
    assert "Champions" in out
    code, out = run("customers", "clv", "-w", str(ws), "--model", "pareto")
    assert code == 0, out
    assert "ParetoNBD" in out
    code, out = run("customers", "segment", "-w", str(ws), "--k-max", "6")
    assert code == 0, out
    assert "Choosing k" in out
    code, out = run("customers", "clv", "-w", str(ws), "--model", "nope")
    assert code == 1
    assert "unknown model 'nope'" in out
    con = duckdb.connect(str(ws / "analytics.duckdb"), read_only=True)
    for table in ("customer_summary", "customer_rfm", "customer_clv"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 300, table
    assert "frequency_holdout" in [
        r[0] for r in con.execute("DESCRIBE customer_summary").fetchall()
    ]
    con.close()
    questionnaire = ws / "sample" / "questionnaire.yaml"
    code, out = run(
        "research", "run", "-w", str(ws), "-q", str(questionnaire), "--nps-by", "segment_self"
    )
    assert code == 0, out
    assert "Net Promoter Score" in out
    assert "Alpine Pros" in out
    assert "Van Westendorp" in out
    assert "Gabor-Granger" in out
    con = duckdb.connect(str(ws / "analytics.duckdb"), read_only=True)
    for table in (
        "research_nps",
        "research_price_points",
        "research_gabor_granger",
        "research_maxdiff",
        "research_kano",
        "research_conjoint",
        "research_themes",
    ):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 4, table
    points = dict(con.execute("SELECT point, price FROM research_price_points").fetchall())
    assert points["pmc"] < points["opp"] <= points["pme"]
    con.close()
    code, out = run("research", "run", "-w", str(ws), "-q", str(tmp_path / "none.yaml"))
    assert code == 1
    assert "no questionnaire file" in out
    code, out = run(
        "competitors", "--brand", "Northwind", "-w", str(ws), "-q", str(questionnaire),
        "--price", "price_tent",
    )  # fmt: skip
    assert code == 0, out
    assert "Weekend Campers: nearest" in out
    assert "Northwind lacks:" in out
    con = duckdb.connect(str(ws / "analytics.duckdb"), read_only=True)
    spaces = dict(con.execute("SELECT segment, white_space FROM competitor_white_space").fetchall())
    assert len(spaces) == 5
    assert con.execute("SELECT count(*) FROM competitor_map").fetchone()[0] >= 12
    con.close()
    code, out = run("competitors", "--brand", "Nobody", "-w", str(ws))
    assert code == 1
    assert "Nobody" in out
