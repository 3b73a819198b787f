"""Machine-request rules: each fires on the request it describes, none fires on people's mail
clients and browsers, the first rule that fires wins, and no input makes them raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamwise.downstream.tracking.bots import (
    RULES,
    BotSettings,
    History,
    RequestInfo,
    detect,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=3)

#: People: mail clients and browsers, and the proxies that fetch when a person opens.
HUMANS = {
    "gmail image proxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
    "(via ggpht.com GoogleImageProxy)",
    "yahoo mail proxy": "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    "outlook desktop": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "outlook mso": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "apple mail (macOS)": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko)",
    "apple mail (iPhone)": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "firefox": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "android gmail webview": "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36",
    "cubot phone": "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/120.0 Mobile Safari/537.36",
    "thunderbird": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 "
    "Thunderbird/115.10.1",
}


def req(kind: str = "open", ua: str | None = HUMANS["chrome"], **kw: object) -> RequestInfo:
    return RequestInfo(kind=kind, at=kw.pop("at", LATER), user_agent=ua, **kw)  # type: ignore[arg-type]


def rule_of(request: RequestInfo, history: History | None = None, **s: object) -> str | None:
    found = detect(request, history, BotSettings(**s) if s else None)  # type: ignore[arg-type]
    return found.name if found else None


@pytest.mark.parametrize("kind", ["open", "click"])
@pytest.mark.parametrize("name", sorted(HUMANS))
def test_people_are_not_machines(name: str, kind: str) -> None:
    history = History(sent_at=T0, clicks=[(LATER - timedelta(minutes=5), "https://shop.example/a")])
    request = req(kind, HUMANS[name], ip="203.0.113.7", url="https://shop.example/b")
    assert rule_of(request, history) is None


def test_human_opens_from_an_apple_address_with_a_real_user_agent_count() -> None:
    # Apple's own network with a full user agent: a person (an Apple employee, say).
    assert rule_of(req("open", HUMANS["apple mail (macOS)"], ip="17.58.63.1")) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"purpose": "prefetch"}, "prefetch"),
        ({"sec-purpose": "prefetch;prerender"}, "prefetch"),
        ({"sec-purpose": "prefetch"}, "prefetch"),
        ({"x-moz": "prefetch"}, "prefetch"),
        ({"x-purpose": "preview"}, "prefetch"),
        ({"x-purpose": "Preview"}, "prefetch"),
        ({"purpose": "navigate"}, None),
        ({"sec-purpose": ""}, None),
    ],
)
def test_prefetch_headers(headers: dict[str, str], expected: str | None) -> None:
    assert rule_of(req("click", headers=headers)) == expected
    assert rule_of(req("open", headers=headers)) == expected


def test_head_requests_are_machines_and_come_first() -> None:
    assert rule_of(req("open", method="HEAD")) == "head_request"
    assert rule_of(req("click", "curl/8.5.0", method="head")) == "head_request"  # first wins
    assert rule_of(req("click", method="GET")) is None


@pytest.mark.parametrize(
    ("ua", "ip", "expected"),
    [
        ("Mozilla/5.0", None, "apple_mpp"),
        ("Mozilla/5.0", "17.58.100.3", "apple_mpp"),
        ("Mozilla/5.0", "104.28.40.7", "apple_mpp"),  # relayed through a partner network
        (" Mozilla/5.0 ", "203.0.113.9", "apple_mpp"),
        (None, "17.1.2.3", "apple_mpp"),
        ("", "17.255.0.1", "apple_mpp"),
        ("Mozilla/4.0", "17.1.2.3", "apple_mpp"),
        (None, "18.1.2.3", "empty_user_agent"),  # outside Apple's 17/8: just no user agent
        ("Mozilla/4.0", "198.51.100.1", "bare_user_agent"),
    ],
)
def test_apple_mail_privacy_protection(ua: str | None, ip: str | None, expected: str) -> None:
    assert rule_of(req("open", ua, ip=ip)) == expected


def test_apple_rule_is_for_opens_only() -> None:
    # Mail Privacy Protection fetches images, never links: a bare agent on a click is still
    # a machine, by another rule.
    assert rule_of(req("click", "Mozilla/5.0", ip="17.1.2.3")) == "bare_user_agent"
    assert rule_of(req("click", None, ip="17.1.2.3")) == "empty_user_agent"


def test_apple_networks_are_configurable_and_bad_addresses_are_ignored() -> None:
    assert rule_of(req("open", None, ip="2620:149::1")) == "empty_user_agent"
    six = {"apple_networks": ("17.0.0.0/8", "2620:149::/32")}
    assert rule_of(req("open", None, ip="2620:149::1"), **six) == "apple_mpp"
    assert rule_of(req("open", None, ip="not an address"), **six) == "empty_user_agent"
    assert rule_of(req("open", "Mozilla/4.0", ip="17.0.0.1"), apple_networks=()) == (
        "bare_user_agent"
    )


@pytest.mark.parametrize(
    "ua",
    [
        "Barracuda Sentinel (EE)",
        "Mozilla/5.0 (compatible; Mimecast URL protection)",
        "Proofpoint URL Defense",
        "Mozilla/5.0 (Windows NT 10.0) SafeLinks/1.0",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) BingPreview/1.0b",
        "Microsoft Office Existence Discovery",
        "Symantec Email Security.cloud",
        "Cisco IronPort URL Scanner",
        "Mozilla/5.0 (compatible; Trend Micro Email Security)",
    ],
)
def test_security_scanners(ua: str) -> None:
    assert rule_of(req("click", ua)) == "security_scanner"
    assert rule_of(req("open", ua)) == "security_scanner"


@pytest.mark.parametrize(
    "ua",
    [
        "curl/8.5.0",
        "Wget/1.21.4",
        "python-requests/2.32.3",
        "Python-urllib/3.11",
        "python-httpx/0.27.0",
        "Go-http-client/2.0",
        "okhttp/4.12.0",
        "Java/17.0.2",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/124.0.0.0 Safari/537.36",
        "axios/1.7.2",
        "PostmanRuntime/7.39.0",
    ],
)
def test_automation(ua: str) -> None:
    assert rule_of(req("click", ua)) == "automation"


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Some crawler 1.0",
        "spider-thing",
    ],
)
def test_crawlers_and_link_previewers(ua: str) -> None:
    assert rule_of(req("click", ua)) == "crawler"


def test_empty_user_agent() -> None:
    assert rule_of(req("click", None)) == "empty_user_agent"
    assert rule_of(req("click", "   ")) == "empty_user_agent"


def test_too_fast_after_sending() -> None:
    sent = History(sent_at=T0)
    assert rule_of(req("open", at=T0 + timedelta(seconds=1)), sent) == "too_fast"
    assert rule_of(req("click", at=T0 + timedelta(seconds=1.99)), sent) == "too_fast"
    assert rule_of(req("click", at=T0 - timedelta(seconds=30)), sent) == "too_fast"  # before
    assert rule_of(req("click", at=T0 + timedelta(seconds=2)), sent) is None
    assert rule_of(req("click", at=T0 + timedelta(seconds=1)), History()) is None  # unknown
    assert rule_of(req("open", at=T0 + timedelta(seconds=5)), sent, too_fast_seconds=10) == (
        "too_fast"
    )
    naive = History(sent_at=T0.replace(tzinfo=None))  # SQLite gives naive UTC values
    assert rule_of(req("open", at=T0 + timedelta(seconds=1)), naive) == "too_fast"


def test_burst_of_different_links() -> None:
    at = LATER
    other = [(at - timedelta(milliseconds=400), "https://shop.example/a")]
    click = req("click", at=at, url="https://shop.example/b")
    assert rule_of(click, History(clicks=other)) == "burst"
    same = [(at - timedelta(milliseconds=400), "https://shop.example/b")]  # a double click
    assert rule_of(click, History(clicks=same)) is None
    apart = [(at - timedelta(seconds=3), "https://shop.example/a")]
    assert rule_of(click, History(clicks=apart)) is None
    assert rule_of(click, History(clicks=other), burst_links=3) is None
    three = [*other, (at + timedelta(milliseconds=100), "https://shop.example/c")]
    assert rule_of(click, History(clicks=three), burst_links=3) == "burst"
    assert rule_of(req("open", at=at), History(clicks=other)) is None  # clicks only


def test_rules_are_named_once_and_explained() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert {"head_request", "prefetch", "apple_mpp", "too_fast", "burst"} <= set(names)
    for rule in RULES:
        assert rule.description
        assert len(rule.rationale) > 40
        assert rule.kinds <= {"open", "click"}


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["open", "click"]),
    method=st.text(max_size=8),
    ua=st.none() | st.text(max_size=200),
    ip=st.none() | st.text(max_size=50) | st.ip_addresses().map(str),
    headers=st.dictionaries(
        st.sampled_from(["purpose", "sec-purpose", "x-moz", "x-purpose"]), st.text(max_size=30)
    ),
    seconds=st.floats(-1e6, 1e6, allow_nan=False),
)
def test_no_input_makes_detection_raise(
    kind: str, method: str, ua: str | None, ip: str | None, headers: dict[str, str], seconds: float
) -> None:
    at = T0 + timedelta(seconds=seconds)
    request = RequestInfo(
        kind=kind,  # type: ignore[arg-type]
        at=at,
        method=method,
        user_agent=ua,
        ip=ip,
        headers=headers,
        url="https://x.example/",
    )
    found = detect(request, History(sent_at=T0, clicks=[(T0, "https://y.example/")]))
    assert found is None or found in RULES
