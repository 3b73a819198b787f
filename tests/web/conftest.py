"""Fixtures of the server tests: a workspace on SQLite or on a fresh PostgreSQL database, the real
app through FastAPI's TestClient, and API keys per scope.

Servers the tests need are skipped when missing, unless ``STREAMWISE_REQUIRE_SERVICES`` is set
(then a missing server is a failure), as in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from streamwise.web.app import create_app
from streamwise.web.auth import create_key
from streamwise.workspace import CONFIG_FILE, Workspace


def make_workspace(root: Path, operational: str | None = None, **settings: str) -> Workspace:
    """A new workspace in ``root``; ``operational`` (a PostgreSQL URL) and ``settings`` (TOML
    values, already quoted) are written to its ``streamwise.toml`` before it is migrated."""
    ws = Workspace.init(root, company="Test Co", brand="Testbrand")
    ws.close()
    config = root / CONFIG_FILE
    text = config.read_text()
    if operational:
        text = text.replace('"sqlite:///streamwise.sqlite"', f'"{operational}"')
    text += "".join(f"{key} = {value}\n" for key, value in settings.items())
    config.write_text(text)
    ws = Workspace.open(root)
    ws.upgrade()
    return ws


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ingest_db(request: pytest.FixtureRequest) -> str | None:
    """``None`` for SQLite, else the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def ingest_workspace(tmp_path: Path, ingest_db: str | None) -> Iterator[Workspace]:
    """A workspace on SQLite, then on PostgreSQL."""
    ws = make_workspace(tmp_path / "ws", ingest_db)
    yield ws
    ws.close()


@pytest.fixture
def ingest_keys(ingest_workspace: Workspace) -> dict[str, str]:
    """One key per scope, by scope name."""
    engine = ingest_workspace.operational()
    return {scope: create_key(engine, f"test-{scope}", scope)[1]
            for scope in ("ingest", "read", "admin")}  # fmt: skip


@pytest.fixture
def ingest_client(ingest_workspace: Workspace) -> Iterator[TestClient]:
    """The real app (event writer started) of :func:`ingest_workspace`."""
    with TestClient(create_app(ingest_workspace)) as client:
        yield client


@pytest.fixture
def new_workspace() -> Iterator[Callable[..., Workspace]]:
    """:func:`make_workspace`, closing what it made after the test."""
    made: list[Workspace] = []

    def make(root: Path, operational: str | None = None, **settings: str) -> Workspace:
        made.append(make_workspace(root, operational, **settings))
        return made[-1]

    yield make
    for ws in made:
        ws.close()


@pytest.fixture
def app_of() -> Iterator[Callable[[Workspace], TestClient]]:
    """Start the app of a given workspace (stopped after the test)."""
    clients: list[TestClient] = []

    def start(ws: Workspace) -> TestClient:
        client = TestClient(create_app(ws))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)
