"""Helpers of the journey tests: a small shop with planted truth (who consents, who buys what,
P(alive) and CLV), a mailbox for a real SMTP server (aiosmtpd), the real tracking server (post
events, follow tracked links), the sales team's webhook receiver and a simulated clock."""

from __future__ import annotations

import email
import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from streamwise.downstream.journeys import template_text
from streamwise.workspace import CONFIG_FILE, Workspace

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")  # fmt: skip
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: Categories, and who buys which: the planted affinity (tents ↔ sleeping, backpacks ↔ footwear).
BASKETS = {range(1, 21): ("tents", "sleeping"), range(21, 41): ("backpacks", "footwear"),
           range(41, 61): ("apparel", "footwear")}  # fmt: skip
N = 60


def cid(i: int) -> str:
    return f"C{i:03d}"


def consents(i: int) -> bool:
    """Every fifth customer has not agreed to marketing e-mail."""
    return i % 5 != 0


def shop(root: Path, operational: str | None = None, customers: int = N) -> Path:
    """A workspace whose analytics database holds ``customers`` customers (:data:`N` by
    default), the first 60's orders (the planted baskets), P(alive) = min(i/60, 1) and
    CLV = 20·i; its operational database is ``operational`` (a PostgreSQL URL) or SQLite."""
    ws = Workspace.init(root, company="Shop", brand="Shop")
    ws.close()
    if operational:
        config = root / CONFIG_FILE
        config.write_text(config.read_text().replace('"sqlite:///streamwise.sqlite"',
                                                     f'"{operational}"'))  # fmt: skip
    with Workspace.open(root) as ws:
        ws.upgrade()
        con = ws.duckdb()
        for i in range(1, customers + 1):
            con.execute("INSERT INTO customers (customer_id, email, first_name, signup_date, "
                        "timezone, email_consent) VALUES (?, ?, ?, DATE '2025-01-01', 'UTC', ?)",
                        [cid(i), f"c{i}@example.com", f"Name{i}", consents(i)])  # fmt: skip
        cats = sorted({c for basket in BASKETS.values() for c in basket})
        for n, cat in enumerate(cats, 1):
            con.execute("INSERT INTO products (product_id, name, category) VALUES (?, ?, ?)",
                        [f"P{n}", f"{cat} item", cat])  # fmt: skip
        order = 0
        for ids, basket in BASKETS.items():
            for i in ids:
                for cat in basket:
                    order += 1
                    con.execute("INSERT INTO orders (order_id, customer_id, order_date, amount) "
                                "VALUES (?, ?, TIMESTAMP '2025-06-01', 50)",
                                [f"O{order}", cid(i)])  # fmt: skip
                    con.execute("INSERT INTO order_lines (order_id, line_number, product_id, "
                                "quantity, unit_price) VALUES (?, 1, ?, 1, 50)",
                                [f"O{order}", f"P{cats.index(cat) + 1}"])  # fmt: skip
        con.execute("CREATE TABLE customer_clv (customer_id VARCHAR, probability_alive DOUBLE, "
                    "expected_purchases DOUBLE, expected_spend DOUBLE, clv DOUBLE)")  # fmt: skip
        clv = [[cid(i), min(i / N, 1.0), 20.0 * i] for i in range(1, customers + 1)]
        con.executemany("INSERT INTO customer_clv VALUES (?, ?, 1, 50, ?)", clv)
    return root


@dataclass
class Clock:
    """The simulated clock the worker reads."""

    t: datetime = START

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


class Mailbox:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.raw.append(envelope.original_content or envelope.content)
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        with self.lock:
            raw = list(self.raw)
        return [email.message_from_bytes(m, policy=policy.default) for m in raw]  # type: ignore[misc]

    def to(self, subject_part: str = "") -> Counter[str]:
        """How many messages each address received (whose subject contains ``subject_part``)."""
        return Counter(str(m["To"]) for m in self.messages() if subject_part in str(m["Subject"]))


class Tracker:
    """The real tracking server: post Segment ``track`` calls, follow tracked links."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.key = key
        self.sent = 0

    def track(self, user: str, event: str, at: datetime, **properties: Any) -> None:
        self.sent += 1
        body = {"userId": user, "event": event, "properties": properties,
                "timestamp": at.isoformat(), "messageId": f"m-{self.sent}-{user}"}  # fmt: skip
        auth = {"Authorization": f"Bearer {self.key}"}
        r = self.client.post("/v1/track", json=body, headers=auth)
        assert r.status_code == 200, r.text

    def click(self, message: email.message.EmailMessage) -> str:
        """Follow the first tracked link of an e-mail through ``/c/``; returns the target."""
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        token = re.search(r"https://[^\"']+/c/([A-Za-z0-9_.-]+)", html)
        assert token, html
        r = self.client.get(f"/c/{token.group(1)}", headers={"User-Agent": CHROME},
                            follow_redirects=False)  # fmt: skip
        assert r.status_code == 302, r.text
        return r.headers["location"]


def journey_data(name: str, port: int, **changes: Any) -> dict[str, Any]:
    """A shipped template as data, sending to the SMTP server on ``port``."""
    data = yaml.safe_load(template_text(name))
    data["settings"]["channel"] = {"host": "127.0.0.1", "port": port, "starttls": False,
                                   "pool_size": 2}  # fmt: skip
    data.update(changes)
    return data


SALES_SECRET = "sales-secret-0123456789abcdef"


class SalesHook:
    """The sales team's CRM on loopback: verifies each webhook's HMAC signature and keeps the
    bodies it accepts (with their Idempotency-Key)."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/streamwise"


SMS_SECRET = "gw-secret-0123456789abcdef"


class Gateway:
    """An SMS gateway on loopback (adapted from the campaign tests'): verifies each POST's HMAC
    signature (401 when it is wrong) and keeps the accepted ones (Idempotency-Key, ``to``,
    body)."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def to(self) -> Counter[str]:
        """How many accepted requests each number received."""
        with self.lock:
            return Counter(r["to"] for r in self.accepted)
