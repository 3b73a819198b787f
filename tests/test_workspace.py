from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

import pytest

from streamwise.data.contracts import CONTRACTS
from streamwise.errors import ConfigError, WorkspaceError
from streamwise.settings import load_settings
from streamwise.store import head_revision
from streamwise.workspace import Workspace


def test_init_creates_settings_and_both_databases(tmp_path: Path) -> None:
    with Workspace.init(tmp_path / "ws", company="Acme", currency="EUR") as ws:
        tables = {r[0] for r in ws.duckdb().execute("SHOW TABLES").fetchall()}
    root = tmp_path / "ws"
    settings = tomllib.loads((root / "streamwise.toml").read_text())
    assert settings["company"] == "Acme"
    assert settings["currency"] == "EUR"
    assert len(settings["secret_key"]) >= 32
    assert (root / "streamwise.toml").stat().st_mode & 0o077 == 0  # secret: owner only
    assert set(CONTRACTS) | {"_quarantine", "_imports"} <= tables
    with sqlite3.connect(root / "streamwise.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        version = db.execute("SELECT version_num FROM alembic_version").fetchone()
        meta = dict(db.execute("SELECT key, value FROM workspace_meta").fetchall())
    assert version == (head_revision(),)
    assert {"created_at", "streamwise_version"} <= set(meta)


def test_init_twice_keeps_settings_and_data(tmp_path: Path) -> None:
    with Workspace.init(tmp_path) as ws:
        ws.duckdb().execute("INSERT INTO spend VALUES ('2024-01-01', 'search', 10, NULL, NULL)")
    first = (tmp_path / "streamwise.toml").read_text()
    with Workspace.init(tmp_path) as ws:
        assert ws.duckdb().execute("SELECT count(*) FROM spend").fetchone() == (1,)
    assert (tmp_path / "streamwise.toml").read_text() == first


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Workspace.init(tmp_path).close()
    monkeypatch.setenv("STREAMWISE_CURRENCY", "GBP")
    assert Workspace.open(tmp_path).settings.currency == "GBP"


def test_placeholder_secret_is_refused_outside_demo_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMWISE_SECRET_KEY", "change-me")
    with pytest.raises(ConfigError, match="secret_key is a placeholder"):
        load_settings(None)
    monkeypatch.setenv("STREAMWISE_DEMO", "true")
    assert load_settings(None).demo


def test_bad_settings_name_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "streamwise.toml"
    path.write_text('secret_key = "0123456789abcdef0123"\nengine = "oracle"\ncurrency = "euro"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "engine" in str(info.value)
    assert "currency" in str(info.value)
    path.write_text('secret_key = "0123456789abcdef0123"\ncolour = "blue"\n')
    with pytest.raises(ConfigError, match="colour"):
        load_settings(path)


def test_opening_a_folder_that_is_no_workspace_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="streamwise init"):
        Workspace.open(tmp_path)


def test_secret_is_not_in_the_settings_repr(tmp_path: Path) -> None:
    with Workspace.init(tmp_path) as ws:
        secret = ws.settings.secret_key.get_secret_value()
        assert secret not in repr(ws.settings)
        assert secret not in str(ws.describe())
