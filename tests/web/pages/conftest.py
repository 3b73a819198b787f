"""Fixtures of the dashboard tests: a workspace with a saved plan and a user per role, the real
app through TestClient, and the same app served by uvicorn for the browser tests."""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from streamwise.plan.store import save_plan
from streamwise.web.app import create_app
from streamwise.web.pages.accounts import ROLES, create_user
from streamwise.workspace import Workspace

PASSWORD = "correct horse battery"
ARTIFACTS = Path(os.environ.get("STREAMWISE_ARTIFACTS", "test-artifacts")) / "dashboard"


def _make_plan() -> Any:
    """The small valid plan of the report tests (``tests/reports/conftest.py``)."""
    path = Path(__file__).parents[2] / "reports" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_report_fixtures", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_plan()


def _workspace(root: Path) -> Workspace:
    ws = Workspace.init(root, company="Test Co", brand="Testbrand")
    ws.upgrade()
    engine = ws.operational()
    for role in ROLES:
        create_user(engine, role, PASSWORD, role, display_name=f"{role.title()} Person")
    doc = _make_plan()
    save_plan(engine, doc, author="product", note="first version")
    changed = doc.model_copy(update={"summary": doc.summary + " Now with repairs."})
    save_plan(engine, changed, author="marketing", note="after the first measurement")
    return ws


@pytest.fixture
def team_workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace with two versions of a plan and one user per role (user name = role)."""
    ws = _workspace(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def client(team_workspace: Workspace) -> Iterator[TestClient]:
    """The real app, not following redirects."""
    with TestClient(create_app(team_workspace), follow_redirects=False) as c:
        yield c


def login_form_token(client: TestClient) -> str:
    """Open the sign-in page; the CSRF token of its form."""
    page = client.get("/login")
    assert page.status_code == 200
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Sign in through the form; the response (303 on success)."""
    token = login_form_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def csrf_of(client: TestClient, path: str = "/app") -> str:
    """The session's CSRF token, read from a page's sign-out form."""
    text = client.get(path).text
    marker = 'name="csrf_token" value="'
    start = text.index(marker) + len(marker)
    return text[start : text.index('"', start)]


@contextmanager
def serve(ws: Workspace) -> Iterator[str]:
    """The app on ``ws`` served by uvicorn on a free loopback port; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, for the browser."""
    ws = _workspace(tmp_path_factory.mktemp("live") / "ws")
    with serve(ws) as url:
        yield url
    ws.close()


@pytest.fixture(scope="module")
def live_demo(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A copy of the demo workspace served by uvicorn: ``(base URL, workspace)``."""
    ws = copy_demo(demo_root, tmp_path_factory.mktemp("live-demo") / "ws")
    with serve(ws) as url:
        yield url, ws
    ws.close()


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace (customers, segments, a plan with personas, sent campaigns) with
    one user per role, built once; tests work on copies (:func:`copy_demo`)."""
    from streamwise.cli.demo import run_demo

    out = run_demo(tmp_path_factory.mktemp("demo") / "demo", customers=300, seed=11, mmm_draws=0)
    root = Path(out["workspace"])
    with Workspace.open(root) as ws:
        for role in ROLES:
            create_user(ws.operational(), role, PASSWORD, role, display_name=f"{role.title()} P.")
    return root


def copy_demo(demo_root: Path, target: Path) -> Workspace:
    """A copy of the demo workspace at ``target``, opened."""
    import shutil

    shutil.copytree(demo_root, target, ignore=shutil.ignore_patterns("sample", ".locks", "logs"))
    return Workspace.open(target)


@pytest.fixture
def demo_client(demo_root: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The real app on a copy of the demo workspace, not following redirects."""
    ws = copy_demo(demo_root, tmp_path / "ws")
    with TestClient(create_app(ws), follow_redirects=False) as c:
        yield c
    ws.close()
