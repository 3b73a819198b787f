"""How the sample business's customers react to the e-mail they receive: the demo replays these
reactions against the real tracking server, so the loop closes on measured, not invented, results.

Each delivered message is parsed as any mail client would (the open pixel, the links, the
``List-Unsubscribe`` header); the recipient and the variant are read from the public part of the
tracking token. The planted rates (:class:`ReactionTruth`) differ by variant, privacy proxies
and link scanners add machine requests, and some customers buy whether mailed or not (also in the
holdout), so what the server reports can be checked against what was planted.
"""

from __future__ import annotations

import base64
import email
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from email import policy
from typing import Any, Literal

import numpy as np

__all__ = ["PLANTED_REACTIONS", "Reaction", "ReactionTruth", "plan_reactions"]

HUMAN_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
#: Apple Mail Privacy Protection fetches remote images through a proxy with this bare agent.
APPLE_PROXY_UA = "Mozilla/5.0"
SCANNER_UA = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"


@dataclass(frozen=True)
class ReactionTruth:
    """The planted behaviour of recipients.

    Attributes
    ----------
    open_rate
        Probability that a recipient opens, per variant.
    click_given_open
        Probability of a click given an open, per variant.
    convert_given_click
        Probability of buying after a click.
    baseline_conversion
        Probability of buying anyway, mailed or held out (what incrementality subtracts).
    unsubscribe_given_open
        Probability of unsubscribing given an open.
    apple_proxy_share
        Share of recipients whose mail app prefetches images through Apple's proxy.
    scanner_share
        Share of recipients behind a security gateway that follows every link.
    mean_order
        Mean order value (revenue) of a conversion.
    """

    open_rate: dict[str, float] = field(default_factory=lambda: {"A": 0.30, "B": 0.40})
    click_given_open: dict[str, float] = field(default_factory=lambda: {"A": 0.15, "B": 0.25})
    convert_given_click: float = 0.20
    baseline_conversion: float = 0.02
    unsubscribe_given_open: float = 0.01
    apple_proxy_share: float = 0.20
    scanner_share: float = 0.03
    mean_order: float = 80.0

    def to_dict(self) -> dict[str, Any]:
        """The truth, JSON-ready."""
        return asdict(self)


PLANTED_REACTIONS = ReactionTruth()


@dataclass(frozen=True)
class Reaction:
    """One request a recipient's mail client (or a machine in between) makes.

    ``kind`` is ``open``, ``click`` or ``unsubscribe`` (``url`` is the tracking URL) or
    ``purchase`` (a conversion event for ``customer_id`` with ``revenue``); ``machine`` marks
    requests made by proxies and scanners, which the server should flag.
    """

    kind: Literal["open", "click", "unsubscribe", "purchase"]
    customer_id: str
    arm: str
    url: str | None = None
    user_agent: str = HUMAN_UA
    machine: bool = False
    revenue: float | None = None


_SRC = re.compile(r'<img[^>]+src="([^"]+/o/[^"]+)"', re.IGNORECASE)
_HREF = re.compile(r'<a[^>]+href="([^"]+/c/[^"]+)"', re.IGNORECASE)


def _token_fields(url: str) -> dict[str, Any]:
    payload = url.rsplit("/", 1)[1].split(".", 1)[0]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _html_of(raw: bytes) -> tuple[str, str | None]:
    msg = email.message_from_bytes(raw, policy=policy.default)
    part = msg.get_body(preferencelist=("html",))
    html = part.get_content() if part is not None else ""  # type: ignore[union-attr]
    unsub = msg.get("List-Unsubscribe", "")
    https = [u.strip("<> ") for u in str(unsub).split(",") if "https://" in u]
    return html, (https[0] if https else None)


def plan_reactions(
    messages: Iterable[bytes],
    holdout: Sequence[str],
    *,
    truth: ReactionTruth = PLANTED_REACTIONS,
    seed: int = 42,
) -> list[Reaction]:
    """What the recipients of ``messages`` and the held-out customers do, drawn from ``truth``.

    Parameters
    ----------
    messages
        Raw RFC 5322 messages as delivered.
    holdout
        Customer ids that were held out (they receive nothing but may still buy).
    truth
        The planted rates.
    seed
        Seed of the draws.
    """
    rng = np.random.default_rng(seed)
    out: list[Reaction] = []

    def buy(customer: str, arm: str) -> None:
        revenue = round(float(rng.gamma(4.0, truth.mean_order / 4.0)), 2)
        out.append(Reaction("purchase", customer, arm, revenue=revenue))

    # Draw in a fixed order (campaign, recipient), not in the order the SMTP server happened
    # to receive the messages, so that a seed always gives the same reactions.
    parsed = []
    for raw in messages:
        html, unsubscribe = _html_of(raw)
        pixel, links = _SRC.search(html), _HREF.findall(html)
        if pixel is not None:
            fields = _token_fields(pixel.group(1))
            parsed.append((str(fields["c"]), str(fields["r"]), str(fields.get("v") or ""),
                           pixel.group(1), links, unsubscribe))  # fmt: skip
    parsed.sort(key=lambda p: (p[0], p[1]))
    for _campaign, customer, arm, pixel_url, links, unsubscribe in parsed:
        if rng.random() < truth.apple_proxy_share:
            out.append(Reaction("open", customer, arm, pixel_url, APPLE_PROXY_UA, True))
        if rng.random() < truth.scanner_share:
            out.extend(Reaction("click", customer, arm, link, SCANNER_UA, True) for link in links)
        bought = False
        if rng.random() < truth.open_rate.get(arm, 0.0):
            out.append(Reaction("open", customer, arm, pixel_url))
            if links and rng.random() < truth.click_given_open.get(arm, 0.0):
                out.append(Reaction("click", customer, arm, links[0]))
                if rng.random() < truth.convert_given_click:
                    buy(customer, arm)
                    bought = True
            if unsubscribe and rng.random() < truth.unsubscribe_given_open:
                out.append(Reaction("unsubscribe", customer, arm, unsubscribe))
        if not bought and rng.random() < truth.baseline_conversion:
            buy(customer, arm)
    for customer in sorted(holdout):
        if rng.random() < truth.baseline_conversion:
            buy(customer, "holdout")
    return out
