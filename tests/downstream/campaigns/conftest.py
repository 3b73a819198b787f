"""A demo workspace with a plan, and a real SMTP server (aiosmtpd) on loopback that records the
Message-ID of every message it accepts."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from streamwise.cli.demo import run_demo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """Keeps every accepted message (raw bytes) and its Message-ID."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"

    def message_ids(self) -> list[str]:
        with self.lock:
            raw = list(self.messages)
        return [email.message_from_bytes(m, policy=policy.default)["Message-ID"] for m in raw]


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace (customers, segments, plan) built once; tests copy it."""
    out = run_demo(tmp_path_factory.mktemp("campaigns") / "demo", customers=1_500, seed=42)
    return Path(out["workspace"])
