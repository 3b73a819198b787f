"""The campaign pages' pure part: a new campaign's defaults from a persona and the house style,
the settings a form makes, and an e-mail taken apart for its preview."""

from __future__ import annotations

import email
import email.policy
import html as html_lib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streamwise.downstream.audiences.nodes import quote
from streamwise.plan.document import PersonaCard, PlanDocument

__all__ = [
    "HOUSE_KEYS",
    "EmailView",
    "NewCampaign",
    "email_view",
    "house_style",
    "new_campaign",
    "persona_html",
    "settings_from_form",
]

#: The settings a new campaign takes from the newest e-mail campaign (who sends, how, tracking).
HOUSE_KEYS = ("sender", "channel", "tracking_base_url", "utm", "window", "frequency_cap")


@dataclass(frozen=True)
class NewCampaign:
    """What the "new campaign" form starts with."""

    persona: int | None
    name: str
    audience: str
    subject: str
    html: str
    goal: str
    sender: dict[str, Any]
    channel: dict[str, Any]
    tracking_base_url: str
    holdout: float


def house_style(settings: list[dict[str, Any]]) -> dict[str, Any]:
    """The sending settings of the newest e-mail campaign (``settings`` newest first) that has a
    sender; empty when there is none."""
    for s in settings:
        if s.get("sender"):
            return {k: s[k] for k in HOUSE_KEYS if s.get(k) is not None}
    return {}


def persona_html(persona: PersonaCard | None, need: str) -> str:
    """A plain first e-mail for a persona: greeting, the positioning's promise, one link."""
    escaped = html_lib.escape(need).replace("{", "&#123;").replace("}", "&#125;")
    return (
        "<html><body>\n<p>Hi {{ first_name }},</p>\n"
        f"<p>{escaped}</p>\n"
        '<p><a href="https://example.com/">See what is new for you</a></p>\n</body></html>\n'
    )


def new_campaign(
    plan: PlanDocument | None, persona_index: int | None, house: dict[str, Any], today: datetime
) -> NewCampaign:
    """The form's defaults for a campaign to ``plan``'s persona ``persona_index`` (its segment is
    the audience, its positioning the message), sent the way the house sends."""
    persona = None
    if plan is not None and persona_index is not None and 0 <= persona_index < len(plan.personas):
        persona = plan.personas[persona_index]
    month = today.astimezone(UTC).strftime("%B %Y")
    if persona is None:
        return NewCampaign(None, f"Campaign {month}", "", "Hi {{ first_name }}",
                           persona_html(None, "Something new for you."), "",
                           house.get("sender", {}), house.get("channel", {}),
                           house.get("tracking_base_url", ""), 0.1)  # fmt: skip
    assert plan is not None
    positions = {p.segment: p for p in plan.strategy.positioning}
    pos = positions.get(persona.segment)
    need = pos.statement if pos else persona.summary
    slug = re.sub(r"[^a-z0-9]+", "-", persona.segment.lower()).strip("-")
    return NewCampaign(
        persona=persona_index,
        name=f"{persona.name}: {month}",
        audience=f"segment = {quote(persona.segment)}",
        subject=f"{{{{ first_name }}}}, made for {persona.segment}",
        html=persona_html(persona, need),
        goal=f"win-{slug}",
        sender=house.get("sender", {}),
        channel=house.get("channel", {}),
        tracking_base_url=house.get("tracking_base_url", ""),
        holdout=0.1,
    )


def _text(form: dict[str, Any], key: str, default: str = "") -> str:
    value = form.get(key, default)
    return value.strip() if isinstance(value, str) else default


def settings_from_form(form: dict[str, Any], house: dict[str, Any]) -> dict[str, Any]:
    """Campaign settings from the new-campaign form: the house style, with the sender, SMTP
    server, tracking address, holdout and first variant the form gives. (Checked by
    :class:`~streamwise.downstream.campaigns.settings.CampaignSettings` when saved.)"""
    settings: dict[str, Any] = {k: v for k, v in house.items() if k in HOUSE_KEYS}
    sender = dict(house.get("sender") or {})
    for key in ("address", "name", "domain", "postal_address", "organisation"):
        value = _text(form, f"sender_{key}")
        if value or key in ("address", "domain", "postal_address"):
            sender[key] = value
    domain = sender.get("domain", "")
    sender.setdefault("list_id", f"{sender.get('name') or domain} <news.{domain}>")
    settings["sender"] = sender
    channel = dict(house.get("channel") or {})
    channel["host"] = _text(form, "smtp_host", str(channel.get("host", "")))
    port = _text(form, "smtp_port", str(channel.get("port", "")))
    channel["port"] = int(port) if port.isdigit() else port
    channel["starttls"] = form.get("smtp_starttls") in ("on", "true", "1")
    username = _text(form, "smtp_username")
    if username:
        channel["username"] = username  # the password comes from STREAMWISE_SMTP_PASSWORD
    else:
        channel.pop("username", None)
    settings["channel"] = channel
    settings["tracking_base_url"] = _text(form, "tracking_base_url")
    holdout = _text(form, "holdout", "10")
    try:
        settings["holdout"] = float(holdout) / 100
    except ValueError:
        settings["holdout"] = holdout  # refused with its field name when checked
    settings["variants"] = {
        "A": {"weight": 1, "subject": _text(form, "subject"), "html": form.get("html", "")}
    }
    return settings


@dataclass(frozen=True)
class EmailView:
    """An e-mail as the preview shows it: headers people read, the HTML and the text."""

    subject: str
    sender: str
    to: str
    headers: tuple[tuple[str, str], ...]
    html: str
    text: str


_SHOWN = ("List-Unsubscribe", "List-Id", "Message-ID", "Date")


def email_view(raw: bytes) -> EmailView:
    """Take an RFC 5322 message apart for the preview."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    html = html_part.get_content() if html_part is not None else ""  # type: ignore[attr-defined]
    text = text_part.get_content() if text_part is not None else ""  # type: ignore[attr-defined]
    headers = tuple((k, str(msg[k])) for k in _SHOWN if msg[k] is not None)
    return EmailView(str(msg["Subject"] or ""), str(msg["From"] or ""), str(msg["To"] or ""),
                     headers, html, text)  # fmt: skip
