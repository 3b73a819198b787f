"""Benchmark: Segment-style event ingestion on loopback, acknowledged events/s and request
latency, against a real uvicorn server (issue 7 goal: >= 5,000 acknowledged events/s with p99
< 50 ms on 2 cores).

The server runs in its own process: one worker on SQLite (one writer at a time anyway), two
workers (``streamwise.web.main:app_from_env``) on PostgreSQL. The load generator, in this
process, keeps a fixed number of HTTP/1.1 keep-alive connections busy (raw asyncio, so that it
takes little of the machine's 2 cores) for a fixed time: ``/v1/batch`` calls of 100 events (how
Segment's libraries send) and single ``/v1/track`` calls. Every event has a unique messageId; an
event counts once its request was answered 2xx (i.e. committed). The figures are checked
against the rows in ``tracked_events`` at the end.

The peer figure cannot be measured here (RudderStack is a Go server with its own PostgreSQL
setup, not in the package registries); its documentation gives ~1,700 events/s on 2 cores,
printed for reference and marked as documented, not measured.

    .venv/bin/python benchmarks/ingest.py [--seconds 10] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from streamwise.store import TrackedEvent
from streamwise.web.auth import create_key
from streamwise.workspace import Workspace

RUDDERSTACK_DOCUMENTED = 1_700.0
PG = "postgresql://postgres@127.0.0.1:5432"

_SERVER = """
import sys, uvicorn
path, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if workers == 1:
    from streamwise.web.app import create_app
    uvicorn.run(create_app(path), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)
else:
    import os
    os.environ["STREAMWISE_WORKSPACE"] = path
    uvicorn.run("streamwise.web.main:app_from_env", factory=True, host="127.0.0.1", port=port,
                workers=workers, log_level="warning", access_log=False)
"""


@dataclass
class Load:
    """What the clients saw in one run."""

    events: int = 0
    requests: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        """Latency (ms) at quantile ``q``."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _event(mid: str, user: int) -> dict[str, object]:
    now = "2026-12-02T10:00:00.000Z"
    return {
        "type": "track", "messageId": mid, "userId": f"C{user:07d}", "event": "Product Viewed",
        "properties": {"product_id": "SKU-1042", "price": 49.9, "currency": "USD",
                       "category": "Tents", "email": "someone@example.com"},
        "context": {"ip": "203.0.113.7", "library": {"name": "analytics.js", "version": "5.2.0"},
                    "page": {"path": "/tents/1042", "url": "https://shop.example/tents/1042"},
                    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0"},
        "originalTimestamp": now, "sentAt": now,
    }  # fmt: skip


async def _client(port: int, key: str, path: str, size: int, stop_at: float, warm_until: float,
                  load: Load, prefix: str) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n").encode()  # fmt: skip
    seq = 0
    try:
        while (start := time.perf_counter()) < stop_at:
            events = [_event(f"{prefix}-{seq + i}", (seq + i) % 50_000) for i in range(size)]
            seq += size
            body = orjson.dumps({"batch": events} if path == "/v1/batch" else events[0])
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            status = int(answer[9:12])
            length = 0
            for line in answer.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if start < warm_until:
                continue
            load.requests += 1
            load.latencies.append(time.perf_counter() - start)
            if 200 <= status < 300:
                load.events += size
            else:
                load.failures += 1
    finally:
        writer.close()


async def _drive(port: int, key: str, path: str, size: int, connections: int, seconds: float,
                 warmup: float) -> Load:  # fmt: skip
    load = Load()
    now = time.perf_counter()
    run = uuid.uuid4().hex[:8]
    await asyncio.gather(*(
        _client(port, key, path, size, now + warmup + seconds, now + warmup, load, f"{run}-{c}")
        for c in range(connections)
    ))  # fmt: skip
    return load


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start within 60 s")


def _workspace(root: Path, db: str) -> tuple[Workspace, str | None]:
    ws = Workspace.init(root, company="Bench", brand="Bench")
    if db == "sqlite":
        return ws, None
    import psycopg

    name = f"streamwise_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    ws.close()
    config = root / "streamwise.toml"
    text = config.read_text().replace('"sqlite:///streamwise.sqlite"', f'"{PG}/{name}"')
    config.write_text(text)
    ws = Workspace.open(root)
    ws.upgrade()
    return ws, name


def _scenario(db: str, args: argparse.Namespace, console: Console) -> list[tuple[str, Load]]:
    root = Path(tempfile.mkdtemp(prefix="sw-bench-ingest-")) / "ws"
    ws, pg_name = _workspace(root, db)
    _, key = create_key(ws.operational(), "bench", "ingest", rate_limit=1e9)
    workers = args.sqlite_workers if db == "sqlite" else args.pg_workers
    port = _port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, str(root), str(port), str(workers)],
                            env=env)  # fmt: skip
    results = []
    try:
        _wait_ready(port, proc)
        time.sleep(1.0 if workers > 1 else 0.2)  # every worker up
        for label, path, size, conns in (
            (f"batch of {args.batch_size}", "/v1/batch", args.batch_size, args.batch_connections),
            ("single /v1/track", "/v1/track", 1, args.single_connections),
        ):
            console.print(f"  {db}: {label}, {conns} connections, {args.seconds:g} s ...")
            load = asyncio.run(_drive(port, key, path, size, conns, args.seconds, args.warmup))
            results.append((f"{label} x {conns} connections", load))
    finally:
        proc.terminate()
        proc.wait(30)
    with ws.operational().connect() as con:
        stored = con.execute(select(func.count()).select_from(TrackedEvent)).scalar_one()
    ws.close()
    if pg_name:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    acked = sum(load.events for _, load in results)
    if stored < acked:
        raise SystemExit(f"{db}: {acked} events acknowledged but only {stored} stored")
    return [(f"{db}, {workers} worker{'s' * (workers > 1)}, {label}", load)
            for label, load in results]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured start per run")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--batch-connections", type=int, default=2)
    parser.add_argument("--single-connections", type=int, default=16)
    parser.add_argument("--pg-workers", type=int, default=2)
    parser.add_argument("--sqlite-workers", type=int, default=1)
    args = parser.parse_args()
    console = Console(width=150)
    console.print(f"event ingestion on loopback, {os.cpu_count()} cores (load average "
                  f"{os.getloadavg()[0]:.1f} before the runs), load generator in this process "
                  "(raw asyncio HTTP/1.1 keep-alive)")  # fmt: skip
    rows: list[tuple[str, Load]] = []
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        rows += _scenario(db, args, console)
    table = Table(title="acknowledged (committed) events")
    for name in ("run", "events/s", "requests/s", "p50 ms", "p99 ms", "failed", "vs peer"):
        table.add_column(name, justify="left" if name == "run" else "right")
    for name, load in rows:
        rate = load.events / args.seconds
        table.add_row(name, f"{rate:,.0f}", f"{load.requests / args.seconds:,.0f}",
                      f"{load.percentile(0.5):.1f}", f"{load.percentile(0.99):.1f}",
                      str(load.failures), f"{rate / RUDDERSTACK_DOCUMENTED:.2f}x")  # fmt: skip
    table.add_row("RudderStack (documented, not measured here)",
                  f"~{RUDDERSTACK_DOCUMENTED:,.0f}", "", "", "", "", "1.00x")  # fmt: skip
    console.print(table)
    for name, load in rows:
        rate = load.events / args.seconds
        met = rate >= 5_000 and load.percentile(0.99) < 50
        console.print(f"  goal >= 5,000 events/s with p99 < 50 ms, {name}: "
                      f"{'met' if met else 'not met'}")  # fmt: skip


if __name__ == "__main__":
    main()
