"""Machine-request detection for the open pixel and click links.

Opens and clicks are not all made by people. Privacy proxies fetch every image of a message
when it arrives, security gateways follow every link to scan the page behind it, and link
previewers, crawlers and scripts fetch whatever they are given. Each kind leaves a trace in the
request: its method, its headers, its user agent, its source address, or its timing. Each trace
is one named :class:`MachineRule`; :func:`detect` returns the first rule that fires, or
``None`` for a request that looks like a person.

Machine requests are still recorded (they say the message arrived, which matters for
deliverability) but they are not counted as human engagement in campaign results.

The rules are pure functions of a small description of the request (:class:`RequestInfo`) and
of what the send ledger and earlier clicks say (:class:`History`), so they test without HTTP.

Proxies that fetch on a person's behalf at the moment they open the message are *not*
machines: Gmail's image proxy (``GoogleImageProxy``, via ``ggpht.com``) and Yahoo's
(``YahooMailProxy``) fetch the pixel when the reader opens the message, so their opens count
as human, although the address and user agent are the proxy's, not the reader's.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "APPLE_NETWORKS",
    "RULES",
    "BotSettings",
    "History",
    "MachineRule",
    "RequestInfo",
    "detect",
]

RequestKind = Literal["open", "click"]

#: Apple's own address block (ARIN allocation ``NET-17-0-0-0-1``), from which Mail Privacy
#: Protection's proxies fetch remote content.
APPLE_NETWORKS: tuple[str, ...] = ("17.0.0.0/8",)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class RequestInfo:
    """What the tracking endpoint knows about one request.

    Attributes
    ----------
    kind
        ``"open"`` (the pixel) or ``"click"`` (a tracked link).
    at
        When the request arrived (a naive value is taken as UTC).
    method
        HTTP method, upper case.
    user_agent
        The ``User-Agent`` header, or ``None`` when absent.
    ip
        The client address as the server saw it (after any trusted proxy), or ``None``.
    headers
        Other request headers, names in lower case (only the few the rules read are needed).
    url
        The click's target (clicks only).
    """

    kind: RequestKind
    at: datetime
    method: str = "GET"
    user_agent: str | None = None
    ip: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None

    def header(self, name: str) -> str:
        """A header's value (``""`` when absent); ``name`` in any case."""
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class History:
    """What the database says about the message and the recipient's earlier clicks.

    Attributes
    ----------
    sent_at
        When the message left (the ledger's ``sent_at``; its ``claimed_at`` while the row is
        still ``sending``, since a gateway may fetch before the ledger records the send).
    clicks
        The recipient's other clicks in the same campaign near this request, as
        ``(time, url)`` pairs.
    """

    sent_at: datetime | None = None
    clicks: Sequence[tuple[datetime, str]] = ()


@dataclass(frozen=True)
class BotSettings:
    """Thresholds of the timing rules and the networks of the Apple rule.

    Attributes
    ----------
    too_fast_seconds
        An open or click this soon after ``sent_at`` (or before it) is a machine's: no person
        reads a message within two seconds of its sending, a gateway scanning it on arrival does.
    burst_seconds, burst_links
        Clicks on ``burst_links`` or more different links within ``burst_seconds`` of each other
        are a scanner following every link of the message.
    apple_networks
        Source networks of Apple Mail Privacy Protection's proxies (CIDR).
    """

    too_fast_seconds: float = 2.0
    burst_seconds: float = 1.0
    burst_links: int = 2
    apple_networks: tuple[str, ...] = APPLE_NETWORKS

    def in_apple_network(self, ip: str | None) -> bool:
        """Whether ``ip`` is in one of :attr:`apple_networks`."""
        if not ip:
            return False
        try:
            address = ipaddress.ip_address(ip.strip())
        except ValueError:
            return False
        return any(
            address in net for net in _networks(self.apple_networks)
            if net.version == address.version
        )  # fmt: skip


@functools.lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


@dataclass(frozen=True)
class MachineRule:
    """One way of telling a machine's request from a person's.

    Attributes
    ----------
    name
        Stored in ``engagements.rule`` when the rule fires.
    kinds
        The request kinds it applies to.
    description
        What it looks for.
    rationale
        Why that means a machine, and where the behaviour is documented.
    check
        ``check(request, history, settings) -> bool``.
    """

    name: str
    kinds: frozenset[str]
    description: str
    rationale: str
    check: Callable[[RequestInfo, History, BotSettings], bool] = field(repr=False)

    def fires(self, request: RequestInfo, history: History, settings: BotSettings) -> bool:
        """Whether the rule applies to ``request`` and finds a machine."""
        return request.kind in self.kinds and self.check(request, history, settings)


_BOTH = frozenset({"open", "click"})

# --- request method and headers -------------------------------------------------------------


def _head(r: RequestInfo, _h: History, _s: BotSettings) -> bool:
    return r.method.upper() == "HEAD"


_PREFETCH_HEADERS = {"purpose": "prefetch", "sec-purpose": "prefetch", "x-moz": "prefetch"}


def _prefetch(r: RequestInfo, _h: History, _s: BotSettings) -> bool:
    for name, token in _PREFETCH_HEADERS.items():
        if token in r.header(name).lower():
            return True
    return r.header("x-purpose").strip().lower() in {"preview", "prefetch", "instant"}


# --- user agents ----------------------------------------------------------------------------

_BARE_MOZILLA = re.compile(r"^\s*Mozilla/\d+(?:\.\d+)?\s*$", re.IGNORECASE)


def _apple_mpp(r: RequestInfo, _h: History, s: BotSettings) -> bool:
    ua = (r.user_agent or "").strip()
    if ua == "Mozilla/5.0":
        return True
    return s.in_apple_network(r.ip) and (not ua or bool(_BARE_MOZILLA.match(ua)))


def _empty_ua(r: RequestInfo, _h: History, _s: BotSettings) -> bool:
    return not (r.user_agent or "").strip()


def _bare_ua(r: RequestInfo, _h: History, _s: BotSettings) -> bool:
    return bool(_BARE_MOZILLA.match(r.user_agent or ""))


#: Security gateways and link-protection services that fetch links (and images) to scan them.
SCANNERS = (
    "barracuda", "mimecast", "proofpoint", "ppops", "urldefense", "safelinks", "safe links",
    "bingpreview", "microsoft office existence discovery", "microsoft office protocol discovery",
    "symantec", "messagelabs", "ironport", "cisco", "trend micro", "trendmicro", "sophos",
    "forcepoint", "fireeye", "trellix", "trustwave", "zscaler", "fortiguard", "fortimail",
    "cloudmark", "avanan", "checkpoint", "check point", "spamtitan", "hornetsecurity",
    "vadesecure", "abnormal security", "libraesva", "paloalto", "palo alto", "virustotal",
    "urlscan", "phishtank", "google-safety", "google-inspectiontool",
)  # fmt: skip
_SCANNER = re.compile("|".join(re.escape(s) for s in SCANNERS), re.IGNORECASE)

#: HTTP libraries, command-line tools and browser automation.
AUTOMATION = (
    r"headlesschrome", r"phantomjs", r"puppeteer", r"playwright", r"selenium", r"webdriver",
    r"\bcurl/", r"\bwget/", r"python-requests", r"python-urllib", r"python-httpx", r"\bhttpx/",
    r"aiohttp", r"go-http-client", r"\bokhttp", r"apache-httpclient", r"\bjava/",
    r"libwww-perl", r"\blwp::", r"node-fetch", r"\baxios/", r"\bundici", r"ruby",
    r"\bscrapy", r"\bhttpclient", r"postmanruntime", r"insomnia/", r"\bpowershell",
)  # fmt: skip
_AUTOMATION = re.compile("|".join(AUTOMATION), re.IGNORECASE)

#: Crawlers, link unfurlers and anything calling itself a bot ("Cubot" is a phone maker).
_CRAWLER = re.compile(
    r"(?<!cu)bot\b|bot[/_-]|crawl|spider|slurp|facebookexternalhit|embedly|"
    r"skypeuripreview|whatsapp|linkexpanding|preview(?:er|bot)|monitor(?:ing)?/",
    re.IGNORECASE,
)


def _scanner(r: RequestInfo, _h: History, _s: BotSettings) -> bool:
    return bool(_SCANNER.search(r.user_agent or ""))


def _automation(r: RequestInfo, _h: History, _s: BotSettings) -> bool:
    return bool(_AUTOMATION.search(r.user_agent or ""))


def _crawler(r: RequestInfo, _h: History, _s: BotSettings) -> bool:
    return bool(_CRAWLER.search(r.user_agent or ""))


# --- timing ---------------------------------------------------------------------------------


def _too_fast(r: RequestInfo, h: History, s: BotSettings) -> bool:
    if h.sent_at is None:
        return False
    return (_utc(r.at) - _utc(h.sent_at)).total_seconds() < s.too_fast_seconds


def _burst(r: RequestInfo, h: History, s: BotSettings) -> bool:
    at = _utc(r.at)
    links = {r.url}
    for when, url in h.clicks:
        if abs((_utc(when) - at).total_seconds()) <= s.burst_seconds:
            links.add(url)
    return len(links) >= s.burst_links


RULES: tuple[MachineRule, ...] = (
    MachineRule(
        "head_request", _BOTH, "the request is a HEAD request",
        "A person's mail client or browser GETs the image or link; HEAD only asks whether it "
        "exists, which is what link checkers and gateways do (RFC 9110 §9.3.2).",
        _head,
    ),
    MachineRule(
        "prefetch", _BOTH,
        "a prefetch header: Purpose: prefetch, Sec-Purpose: prefetch, X-Moz: prefetch or "
        "X-Purpose: preview",
        "Browsers mark speculative loads with these headers (Sec-Purpose in the Fetch "
        "standard and Chromium's speculation rules; X-Moz in Firefox's link prefetching; "
        "X-Purpose: preview in Safari's Top Sites previews); nobody has looked at the page yet.",
        _prefetch,
    ),
    MachineRule(
        "apple_mpp", frozenset({"open"}),
        "Apple Mail Privacy Protection: the bare user agent 'Mozilla/5.0', or a source address "
        "in Apple's 17.0.0.0/8 with no or a bare user agent",
        "Since iOS 15 and macOS 12 (September 2021) Apple Mail fetches all remote content of "
        "a message through Apple's proxies when the message arrives, whether or not it is "
        "read; these requests carry exactly 'Mozilla/5.0' (reported by ESPs such as "
        "SocketLabs and in ua-parser/uap-core#509) and come from Apple's network.",
        _apple_mpp,
    ),
    MachineRule(
        "empty_user_agent", _BOTH, "no User-Agent header, or an empty one",
        "Every browser and mail client sends a user agent (RFC 9110 §10.1.5 says a user agent "
        "SHOULD send one); scripts and some gateways send none.",
        _empty_ua,
    ),
    MachineRule(
        "bare_user_agent", _BOTH, "a user agent of only 'Mozilla/N.N' (no platform or product)",
        "Real browsers add a platform and product after Mozilla/5.0; a bare token is a "
        "proxy's or a script's placeholder.",
        _bare_ua,
    ),
    MachineRule(
        "security_scanner", _BOTH,
        "the user agent names a security gateway or link protection (Barracuda, Mimecast, "
        "Proofpoint, Microsoft Safe Links and Office link discovery, Symantec/MessageLabs, "
        "Cisco IronPort, Trend Micro, Sophos, ...)",
        "These services fetch every link (and often every image) of a message on delivery or "
        "at click time to scan the page behind it, before any person does.",
        _scanner,
    ),
    MachineRule(
        "automation", _BOTH,
        "the user agent is an HTTP library, a command-line tool or browser automation "
        "(curl, Wget, python-requests, Go-http-client, HeadlessChrome, Selenium, ...)",
        "People read mail in mail clients and browsers; these agents are programs, including "
        "the sandboxes of scanners that do not name themselves.",
        _automation,
    ),
    MachineRule(
        "crawler", _BOTH,
        "the user agent calls itself a bot, crawler or spider, or is a link unfurler "
        "(Slackbot, facebookexternalhit, WhatsApp, Skype preview, ...)",
        "Crawlers and link previewers identify themselves this way by convention; a preview "
        "of a forwarded link is not the recipient's click.",
        _crawler,
    ),
    MachineRule(
        "too_fast", _BOTH, "within too_fast_seconds (2 s) of the message's sending, or before it",
        "Gateways scan a message the moment it is delivered; a person cannot open and click "
        "a message within two seconds of its leaving the sender.",
        _too_fast,
    ),
    MachineRule(
        "burst", frozenset({"click"}),
        "clicks on burst_links (2) or more different links within burst_seconds (1 s)",
        "Link scanners follow every link of a message at once; a person clicks one link, then "
        "has to come back to the message to click another.",
        _burst,
    ),
)  # fmt: skip


def detect(
    request: RequestInfo,
    history: History | None = None,
    settings: BotSettings | None = None,
) -> MachineRule | None:
    """The first rule of :data:`RULES` that finds ``request`` to be a machine's, or ``None``.

    Parameters
    ----------
    request
        The request.
    history
        The message's sending time and the recipient's nearby clicks; without it the timing
        rules cannot fire.
    settings
        Thresholds; :class:`BotSettings` defaults otherwise.

    Returns
    -------
    MachineRule or None
        The rule (its ``name`` is what gets stored), or ``None`` for a person.
    """
    history = history or History()
    settings = settings or BotSettings()
    for rule in RULES:
        if rule.fires(request, history, settings):
            return rule
    return None
