"""The demo's campaigns: one per target persona, sent to a local SMTP server the demo starts."""

from __future__ import annotations

import socket
import threading
from typing import Any

from aiosmtpd.controller import Controller

from streamwise.downstream.audiences import quote
from streamwise.downstream.campaigns.service import SendReport, create_campaign, run_send
from streamwise.plan.document import PlanDocument

__all__ = ["LocalSmtp", "persona_campaigns"]

_HTML = """<html><head><style>p {{ font-family: Arial, sans-serif; color: #222; }}
.cta {{ background: #0b6e4f; color: #fff; padding: 8px 14px; text-decoration: none; }}</style>
</head><body><p>Hi {{{{ first_name }}}},</p><p>{need}</p>
<p><a class="cta" href="https://shop.northwind.example/{slug}">See what's new for you</a></p>
</body></html>"""


class LocalSmtp:
    """An SMTP server on 127.0.0.1 (a free port) that keeps what it accepts in memory."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self._lock = threading.Lock()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.received.append(envelope.original_content or envelope.content)
        return "250 OK"

    def __enter__(self) -> LocalSmtp:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def persona_campaigns(
    workspace: Any,
    plan: PlanDocument,
    port: int,
    *,
    plan_version_id: int | None = None,
    seed: int | None = None,
) -> list[SendReport]:
    """Create and send one campaign per targeted segment's persona, with its positioning,
    linked to the plan version and the segment's goal.

    With ``seed`` the campaigns' variant and holdout arms are drawn from it (the same demo seed
    gives the same arms); without, each campaign gets a fresh random assignment seed."""
    positions = {p.segment: p for p in plan.strategy.positioning}
    personas = {p.segment: p for p in plan.personas}
    reports = []
    for target in (t for t in plan.strategy.targets if t.decision == "target"):
        persona, pos = personas.get(target.segment), positions.get(target.segment)
        name = f"demo: {persona.name if persona else target.segment}"
        need = pos.statement if pos else f"Something new for {target.segment}."
        slug = target.segment.lower().replace(" ", "-")
        settings = {
            "sender": {"address": "news@northwind.example", "name": plan.brand,
                       "domain": "northwind.example",
                       "list_id": f"{plan.brand} news <news.northwind.example>",
                       "postal_address": "1 Trail Road, Portland, OR 97201, USA",
                       "organisation": plan.company},
            "variants": {
                "A": {"weight": 1, "subject": f"{{{{ first_name }}}}, made for {target.segment}",
                      "html": _HTML.format(need=need.replace("{", "(").replace("}", ")"),
                                           slug=slug)},
                "B": {"weight": 1, "subject": "{{ first_name }}, your next trip starts here",
                      "html": _HTML.format(need=need.replace("{", "(").replace("}", ")"),
                                           slug=slug)},
            },
            "holdout": 0.1,
            "tracking_base_url": "https://t.northwind.example",
            "utm": {"source": "demo", "medium": "email"},
            "channel": {"host": "127.0.0.1", "port": port, "pool_size": 4, "starttls": False},
            "batch_size": 500,
        }  # fmt: skip
        create_campaign(workspace, name, audience=f"segment = {quote(target.segment)}",
                        settings=settings, persona=persona.name if persona else None,
                        goal=f"win-{slug}", plan_version_id=plan_version_id,
                        seed=None if seed is None else f"demo:{seed}:{slug}")  # fmt: skip
        reports.append(run_send(workspace, name))
    return reports
