"""A demo workspace with planted leads, and a CRM on loopback that verifies every signature.

The sample business has no leads (every customer's first order is their signup), so
:func:`add_leads` plants some with a known truth: "hot" leads browse the site often and buy with a
hazard of 1/150 per day, "cold" ones rarely browse and buy with a hazard of 1/2500 per day.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from streamwise.cli.demo import run_demo
from streamwise.downstream.channels.webhook import SIGNATURE_HEADER, verify_webhook_signature
from streamwise.downstream.sales import hand_off
from streamwise.upstream.customers.workspace import run_clv
from streamwise.workspace import Workspace

CRM_SECRET = "crm-secret-0123456789abcdef"
HOT_SHARE, HOT_HAZARD, COLD_HAZARD = 0.3, 1 / 150, 1 / 2500
HOT_VIEWS, COLD_VIEWS = 0.4, 0.02  # site views per day


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo business (3,000 customers, CLV, segments, a plan), built once."""
    out = run_demo(tmp_path_factory.mktemp("sales") / "demo", customers=3_000, seed=11, mmm_draws=0)
    return Path(out["workspace"])


def add_leads(root: Path, n: int, *, seed: int, convert: bool = True) -> pd.DataFrame:
    """Plant ``n`` leads (signed up in the last 420 days of trading) with page views and, when
    ``convert``, first orders at the planted hazards; recompute CLV. Returns the truth:
    ``customer_id, hot, signup, converted_at``."""
    rng = np.random.default_rng(seed)
    con = duckdb.connect(str(root / "analytics.duckdb"))
    try:
        end = pd.Timestamp(con.execute("SELECT max(order_date) FROM orders").fetchall()[0][0])
        last_day = end.normalize()
        ids = [f"L{i:07d}" for i in range(1, n + 1)]
        hot = rng.random(n) < HOT_SHARE
        signup = last_day - pd.to_timedelta(rng.integers(20, 420, n), unit="D")
        hazard = np.where(hot, HOT_HAZARD, COLD_HAZARD)
        waited = pd.to_timedelta(rng.exponential(1 / hazard) * 86_400, unit="s")
        converted = (signup + waited).where((signup + waited) <= end) if convert else None
        people = pd.DataFrame({
            "customer_id": ids, "email": [f"{i.lower()}@leads.example" for i in ids],
            "signup_date": signup.date, "first_name": "Lead", "last_name": ids,
        })  # fmt: skip
        con.register("people", people)
        con.execute("INSERT INTO customers (customer_id, email, signup_date, first_name, "
                    "last_name) SELECT * FROM people")  # fmt: skip
        rows = []
        for i in range(n):
            days = (last_day - signup[i]).days + 1
            views = rng.poisson(HOT_VIEWS if hot[i] else COLD_VIEWS, days)
            for d in np.nonzero(views)[0]:
                for k in range(views[d]):
                    ts = signup[i] + pd.Timedelta(days=int(d), seconds=int(rng.integers(0, 86_399)))
                    rows.append((f"lv-{ids[i]}-{d}-{k}", "page", ids[i], ts, "Tents"))
        events = pd.DataFrame(rows, columns=["message_id", "type", "user_id", "timestamp", "name"])
        con.register("ev", events)
        con.execute("INSERT INTO events (message_id, type, user_id, timestamp, name) "
                    "SELECT * FROM ev")  # fmt: skip
        if convert:
            bought = pd.DataFrame({"customer_id": ids, "order_date": converted})
            bought = bought.dropna().reset_index(drop=True)
            bought["order_id"] = [f"LO{i:07d}" for i in range(len(bought))]
            bought["amount"] = 90.0
            con.register("lo", bought)
            con.execute(
                "INSERT INTO orders (order_id, customer_id, order_date, amount, currency) "
                "SELECT order_id, customer_id, order_date, amount, 'USD' FROM lo"
            )
    finally:
        con.close()
    with Workspace.open(root) as ws:
        run_clv(ws)
    return pd.DataFrame({"customer_id": ids, "hot": hot, "signup": signup,
                         "converted_at": converted if convert else pd.NaT})  # fmt: skip


@pytest.fixture
def plant_leads() -> Callable[..., pd.DataFrame]:
    """:func:`add_leads`, for tests that plant their own leads."""
    return add_leads


@pytest.fixture(scope="session")
def planted(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the demo with 1,500 planted leads, and its hand-off run."""
    root = tmp_path_factory.mktemp("handoff") / "ws"
    shutil.copytree(demo_dir, root)
    leads = add_leads(root, 1_500, seed=5)
    with Workspace.open(root) as ws:
        started = time.perf_counter()
        run = hand_off(ws)
        seconds = time.perf_counter() - started
    return {"root": root, "run": run, "leads": leads, "seconds": seconds}


class Crm:
    """A CRM endpoint on loopback: refuses requests whose signature does not verify (401), can
    fail chosen requests first (a script of statuses per batch number), can hold an answer
    (``hold``: batch number → seconds, announced through ``holding``) and records everything."""

    def __init__(self, secret: str = CRM_SECRET) -> None:
        self.secret = secret
        self.requests: list[dict] = []  # every request: key, batch, status
        self.accepted: list[dict] = []  # 2xx answers: key, body bytes, parsed body
        self.bad_signatures = 0
        self.script: dict[int, list[int]] = {}
        self.hold: dict[int, float] = {}
        self.holding = threading.Event()
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/crm/leads"

    def delivered(self) -> dict[str, dict]:
        """What a CRM that honours Idempotency-Key keeps: the first body per key."""
        out: dict[str, dict] = {}
        with self.lock:
            for r in self.accepted:
                out.setdefault(r["key"], r)
        return out

    def handler(self) -> type[BaseHTTPRequestHandler]:
        crm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify_webhook_signature(crm.secret, self.headers.get(SIGNATURE_HEADER, ""),
                                              body)  # fmt: skip
                data = json.loads(body) if ok else {}
                number = int(data.get("batch", 0))
                key = self.headers.get("Idempotency-Key")
                with crm.lock:
                    if not ok:
                        crm.bad_signatures += 1
                        status = 401
                    else:
                        queue = crm.script.get(number) or [200]
                        status = queue.pop(0) if len(queue) > 1 else queue[0]
                    crm.requests.append({"key": key, "batch": number, "status": status})
                    if 200 <= status < 300:
                        crm.accepted.append({"key": key, "raw": body, "body": data})
                wait = crm.hold.get(number, 0.0)
                if wait:
                    crm.holding.set()
                    time.sleep(wait)
                answer = b'{"ok": true}' if status < 300 else b'{"error": "try later"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a pusher killed mid-request resets its connection: expected in the crash test


@pytest.fixture
def crm() -> Iterator[Crm]:
    """A :class:`Crm` serving on 127.0.0.1 at a free port."""
    server = Crm()
    server.server = _QuietServer(("127.0.0.1", 0), server.handler())
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
