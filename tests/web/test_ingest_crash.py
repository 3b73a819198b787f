"""An acknowledged event is never lost: a real uvicorn server takes events from several
concurrent clients and is killed with SIGKILL at a random moment, a few times over; after a
restart every messageId that was answered 2xx is in ``tracked_events``, once."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from streamwise.store import TrackedEvent
from streamwise.web.auth import create_key
from streamwise.workspace import Workspace

T = TrackedEvent.__table__
SERVER = (
    "import sys, uvicorn\n"
    "from streamwise.web.app import create_app\n"
    "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]),"
    " log_level='warning')\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``create_app(workspace)`` under uvicorn in its own process."""

    def __init__(self, root: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(root), str(self.port)])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server exited ({self.proc.returncode})"
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("the server did not start within 60 s")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


class Client(threading.Thread):
    """Posts single calls and batches with fresh messageIds until its server goes away."""

    def __init__(self, url: str, key: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.rng = url, key, random.Random(seed)
        self.acked: list[str] = []
        self.sent: list[str] = []
        self.errors = 0

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=5) as http:
            while True:
                n = self.rng.choice([1, 1, 5, 20])
                ids = [uuid.uuid4().hex for _ in range(n)]
                events = [{"type": "track", "messageId": m, "userId": f"u{self.rng.randrange(50)}",
                           "event": "Product Viewed", "properties": {"i": i}}
                          for i, m in enumerate(ids)]  # fmt: skip
                self.sent += ids
                try:
                    if n == 1:
                        response = http.post("/v1/track", json=events[0])
                    else:
                        response = http.post("/v1/batch", json={"batch": events})
                except httpx.HTTPError:
                    self.errors += 1
                    return  # the server was killed
                if 200 <= response.status_code < 300:
                    self.acked += ids


def _counts(ws: Workspace) -> tuple[int, int]:
    with ws.operational().connect() as con:
        total = con.execute(select(func.count()).select_from(T)).scalar_one()
        distinct = con.execute(select(func.count(T.c.message_id.distinct()))).scalar_one()
    return int(total), int(distinct)


def _stored(ws: Workspace, ids: list[str]) -> set[str]:
    found: set[str] = set()
    with ws.operational().connect() as con:
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            found.update(
                con.execute(select(T.c.message_id).where(T.c.message_id.in_(part))).scalars()
            )
    return found


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_no_acknowledged_event_is_lost_when_the_server_is_killed(
    db: str, tmp_path: Path, request: pytest.FixtureRequest,
    new_workspace: Callable[..., Workspace],
) -> None:  # fmt: skip
    url = str(request.getfixturevalue("pg_url")) if db == "postgres" else None
    ws = new_workspace(tmp_path / "ws", url)
    key = create_key(ws.operational(), "crash", "ingest", rate_limit=1e9)[1]
    acked: list[str] = []
    for seed in (1, 2, 3):
        rng = random.Random(seed)
        server = Server(ws.root)
        clients = [Client(server.url, key, seed * 100 + c) for c in range(6)]
        for client in clients:
            client.start()
        # Kill at a random moment once events are flowing: the first answers can take over a
        # second on a loaded CI machine (key check, first database connection), so the random
        # delay starts from the first acknowledgement rather than from the clients' start.
        deadline = time.monotonic() + 60
        while not any(c.acked for c in clients) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.1, 1.0))
        server.kill()
        for client in clients:
            client.join(30)
            assert not client.is_alive()
        round_acked = [m for c in clients for m in c.acked]
        assert round_acked, "no event was acknowledged before the kill"
        assert sum(c.errors for c in clients) > 0  # requests were in flight when it died
        acked += round_acked
        # Every acknowledged messageId survived the kill (checked before any restart).
        missing = set(round_acked) - _stored(ws, round_acked)
        assert not missing, f"round {seed}: {len(missing)} acknowledged events lost"
    total, distinct = _counts(ws)
    assert total == distinct >= len(acked)
    # A restarted server takes events again, and retries of acknowledged events store nothing.
    server = Server(ws.root)
    try:
        retry = [{"type": "track", "messageId": m, "userId": "u", "event": "Product Viewed"}
                 for m in acked[:100]]  # fmt: skip
        headers = {"Authorization": f"Bearer {key}"}
        answer = httpx.post(server.url + "/v1/batch", json={"batch": retry}, headers=headers)
        assert answer.json() == {"success": True, "received": len(retry), "stored": 0}
        body = {"userId": "u", "event": "E", "messageId": "after-restart"}
        fresh = httpx.post(server.url + "/v1/track", headers=headers, json=body)
        assert fresh.json()["stored"] == 1
    finally:
        server.stop()
    assert _counts(ws) == (total + 1, total + 1)
