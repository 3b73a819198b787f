"""Shared fixtures. Tests that need a server skip without it, unless STREAMWISE_REQUIRE_SERVICES
is set (as .ci/run does), in which case the missing server is a failure."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from streamwise.workspace import Workspace

PG_HOST, PG_PORT = "127.0.0.1", 5432
CHROMIUM = Path(os.environ.get("STREAMWISE_CHROMIUM", "/usr/bin/chromium"))
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def need_service(reason: str) -> None:
    """Skip (on a laptop) or fail (in CI) because a server the test needs is missing."""
    if os.environ.get("STREAMWISE_REQUIRE_SERVICES"):
        pytest.fail(f"{reason} (STREAMWISE_REQUIRE_SERVICES is set, so this is a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def require_service() -> Callable[[str], None]:
    """:func:`need_service` for fixtures in other conftests (which cannot import this one)."""
    return need_service


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh workspace in a temporary folder."""
    ws = Workspace.init(tmp_path / "ws", company="Test Co", brand="Testbrand")
    yield ws
    ws.close()


@contextmanager
def fresh_postgres(prefix: str = "streamwise_test") -> Iterator[str]:
    """A new PostgreSQL database on 127.0.0.1:5432 (user postgres), dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    admin = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        need_service(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} ({exc})")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database shared by the session's tests."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    with fresh_postgres("streamwise_one") as url:
        yield url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (never downloaded), one for the whole session.

    Playwright's sync API allows one running instance per thread, so every browser test shares
    this one (a second ``sync_playwright()`` while the first runs fails "inside the asyncio loop").
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need_service("playwright is not installed; pip install -e '.[dev]'")
    if not (CHROMIUM.exists() or shutil.which(str(CHROMIUM))):
        need_service(f"Chromium is missing at {CHROMIUM}; install Debian's chromium package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()
