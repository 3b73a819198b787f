"""A demo workspace (customers, segments, a plan, two sent campaigns) built once, copied for each
test, served by the real app through FastAPI's TestClient with one key per scope."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from streamwise.cli.demo import run_demo
from streamwise.downstream.campaigns.demo import LocalSmtp
from streamwise.web.app import create_app
from streamwise.web.auth import SCOPES, create_key
from streamwise.workspace import Workspace

SENDER = {
    "address": "news@shop.example",
    "domain": "shop.example",
    "list_id": "News <news.shop.example>",
    "postal_address": "1 Trail Road, Portland, OR 97201, USA",
}
VARIANT = {"subject": "Hi {{ first_name }}", "html": "<p>Hello {{ first_name }}</p>"}


def _campaign_body(name: str = "spring", **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /campaigns`` body."""
    body: dict[str, Any] = {
        "name": name,
        "audience": 'segment = "Weekend Campers"',
        "settings": {
            "sender": SENDER,
            "variants": {"A": VARIANT},
            "tracking_base_url": "https://t.shop.example",
            "channel": {"host": "127.0.0.1", "port": 2525, "username": "mailer",
                        "password": "hunter2-do-not-show"},
        },
    }  # fmt: skip
    body.update(overrides)
    return body


@dataclass
class Api:
    """The app under test, its workspace and a key per scope (``admin``, ``read``, ``ingest``)."""

    client: TestClient
    workspace: Workspace
    keys: dict[str, str]

    def headers(self, scope: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"} if scope else {}

    def get(self, path: str, scope: str | None = "admin", **kw: Any) -> httpx.Response:
        return self.client.get(path, headers={**self.headers(scope), **kw.pop("headers", {})},
                               **kw)  # fmt: skip

    def post(self, path: str, scope: str | None = "admin", **kw: Any) -> httpx.Response:
        return self.client.post(path, headers={**self.headers(scope), **kw.pop("headers", {})},
                                **kw)  # fmt: skip


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace, built once for the session."""
    out = run_demo(tmp_path_factory.mktemp("api") / "demo", customers=300, seed=11, mmm_draws=0)
    return Path(out["workspace"])


@pytest.fixture
def ws_dir(tmp_path: Path, demo_dir: Path) -> Path:
    """A copy of the demo workspace for one test (settings may be added to its toml)."""
    target = tmp_path / "ws"
    shutil.copytree(demo_dir, target, ignore=shutil.ignore_patterns("sample", "*.html", ".locks"))
    return target


def add_settings(folder: Path, **values: Any) -> None:
    """Append settings to the workspace's streamwise.toml (as TOML literals)."""
    import json

    lines = [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    with (folder / "streamwise.toml").open("a") as fh:
        fh.write("\n" + "\n".join(lines) + "\n")


@pytest.fixture
def make_api(ws_dir: Path) -> Iterator[Callable[..., Api]]:
    """Build the app for the test's workspace, optionally with extra settings first."""
    opened: list[tuple[TestClient, Workspace]] = []

    def build(**settings: Any) -> Api:
        if settings:
            add_settings(ws_dir, **settings)
        ws = Workspace.open(ws_dir)
        keys = {s: create_key(ws.operational(), f"test {s}", s)[1] for s in SCOPES}
        client = TestClient(create_app(ws), raise_server_exceptions=True)
        client.__enter__()
        opened.append((client, ws))
        return Api(client, ws, keys)

    yield build
    for client, ws in opened:
        client.__exit__(None, None, None)
        ws.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """The app with default settings."""
    return make_api()


@pytest.fixture
def campaign_body() -> Callable[..., dict[str, Any]]:
    """Makes a valid ``POST /campaigns`` body: ``campaign_body(name, **overrides)``."""
    return _campaign_body


@pytest.fixture
def smtp() -> Iterator[LocalSmtp]:
    """A real SMTP server on loopback that keeps what it accepts (``received``)."""
    with LocalSmtp() as server:
        yield server
