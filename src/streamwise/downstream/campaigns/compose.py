"""Turn a ledger row into a message: render the arm's template with the recipient's fields,
tag and track its links, add the open pixel, build the RFC 5322 bytes and sign them (DKIM); for
a webhook campaign, render the text message and check its length (SMS segments)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2

from streamwise.downstream.campaigns.settings import TEXT, CampaignSettings
from streamwise.downstream.campaigns.sms import sms_length
from streamwise.downstream.campaigns.windows import utm_tag
from streamwise.downstream.channels.base import OutgoingMessage
from streamwise.downstream.dkim import DkimSigner
from streamwise.downstream.message import build_email, format_address
from streamwise.downstream.render import EmailTemplate, render
from streamwise.downstream.tracking import (
    add_open_pixel,
    open_pixel,
    rewrite_links,
    sign_token,
    tracking_url,
)
from streamwise.errors import DataError

__all__ = ["Composer"]


class Composer:
    """Builds each recipient's e-mail for one campaign; templates and the DKIM key load once.

    Parameters
    ----------
    campaign_id, campaign_name
        Identify the campaign in tokens, UTM tags and headers.
    settings
        The campaign's settings.
    secret
        Signs the tracking tokens (the workspace's secret key).
    """

    def __init__(
        self, campaign_id: int, campaign_name: str, settings: CampaignSettings, secret: str
    ) -> None:
        self.campaign_id = str(campaign_id)
        self.name = campaign_name
        self.settings = settings
        self.secret = secret
        self.posts = [
            TEXT.from_string(p.text) for p in settings.posts
        ]  # content campaigns: each post's text, compiled once
        t = settings.text_message
        self.texts = {arm: TEXT.from_string(v.text or "") for arm, v in settings.variants.items()
                      } if t is not None else {}  # fmt: skip
        self.footer = TEXT.from_string(t.opt_out) if t is not None and t.opt_out else None
        s = settings.sender
        if s is None:
            self.templates, self.sender = {}, ""
            return
        self.templates = {
            arm: EmailTemplate(subject=v.subject, html=v.html, text=v.text,
                               postal_address=s.postal_address, organisation=s.organisation,
                               name=f"{campaign_name}/{arm}")
            for arm, v in settings.variants.items()
        }  # fmt: skip
        self.sender = format_address(f"{s.name} <{s.address}>" if s.name else s.address)

    @cached_property
    def signer(self) -> DkimSigner | None:
        """The DKIM signer, when the campaign has a key."""
        d = self.settings.dkim
        if not d:
            return None
        return DkimSigner(d["selector"], d["domain"], Path(d["key_file"]).read_bytes())

    def _url(self, kind: str, recipient: str, arm: str, url: str | None = None) -> str:
        token = sign_token(self.secret, kind=kind, campaign_id=self.campaign_id,  # type: ignore[arg-type]
                           recipient_id=recipient, variant=arm, url=url)  # fmt: skip
        path = {"click": "c", "open": "o", "unsubscribe": "u"}[kind]
        return tracking_url(f"{self.settings.tracking_base_url}/{path}", token)

    def _post(self, message_id: str, account: str, context: dict[str, Any]) -> OutgoingMessage:
        """A content campaign's post for the outbox (rendered text, UTM-tagged link)."""
        i = int(context["post"])
        post = self.settings.posts[i]
        text = self.posts[i].render(campaign=self.name, network=post.network)
        link = post.link
        if link and self.settings.utm:
            utm = self.settings.utm
            link = utm_tag(link, source=utm.get("source", post.network),
                           medium=utm.get("medium", "social"),
                           campaign=utm.get("campaign", self.name))  # fmt: skip
        payload = {"network": post.network, "text": text, "link": link,
                   "media": list(post.media), "scheduled_at": post.scheduled_at.isoformat(),
                   "campaign": self.name}  # fmt: skip
        return OutgoingMessage(message_id=message_id, recipient=account, payload=payload,
                               metadata={"campaign": self.name})  # fmt: skip

    def _text(
        self,
        message_id: str,
        customer_id: str,
        address: str,
        arm: str,
        context: dict[str, Any],
        check_length: bool = True,
    ) -> OutgoingMessage:
        """A webhook campaign's text message: rendered, length-checked, links tracked only where
        the template asks (``{{ link("https://…") }}``: UTM-tagged and signed)."""
        t = self.settings.text_message
        assert t is not None
        utm = self.settings.utm

        def link(url: str) -> str:
            if utm:
                url = utm_tag(url, source=utm.get("source", "streamwise"),
                              medium=utm.get("medium", t.kind),
                              campaign=utm.get("campaign", self.name), content=arm)  # fmt: skip
            return self._url("click", customer_id, arm, url)

        ctx = {k: ("" if v is None else v) for k, v in context.items()}
        ctx |= {"unsubscribe_url": self._url("unsubscribe", customer_id, arm),
                "campaign": self.name, "variant": arm, "link": link}  # fmt: skip
        try:
            text = self.texts[arm].render(ctx).strip()
            if self.footer is not None:
                text = f"{text}\n{self.footer.render(ctx).strip()}".strip()
        except jinja2.TemplateError as exc:
            raise DataError(
                f"variant {arm!r} of {self.name!r} could not be rendered for {customer_id}: "
                f"{exc}; fix the template (fields: {', '.join(sorted(ctx))})"
            ) from None
        if not text:
            raise DataError(f"variant {arm!r} of {self.name!r} renders an empty message")
        payload: dict[str, Any] = {"to": address, "text": text, "kind": t.kind}
        if t.kind == "sms":
            size = sms_length(text)
            if check_length and size.segments > t.max_segments:
                raise DataError(
                    f"the SMS for {customer_id} is {size.segments} segments ({size.units} "
                    f"{size.encoding} units); the limit is {t.max_segments}: shorten variant "
                    f"{arm!r} or raise text_message.max_segments"
                )
            payload |= {"encoding": size.encoding, "segments": size.segments}
        elif check_length and len(text) > t.max_chars:
            raise DataError(
                f"the message for {customer_id} is {len(text)} characters; the limit is "
                f"{t.max_chars}: shorten variant {arm!r} or raise text_message.max_chars"
            )
        else:
            payload["segments"] = 1
        if t.sender_id:
            payload["from"] = t.sender_id
        return OutgoingMessage(message_id=message_id, recipient=address, payload=payload,
                               metadata={"campaign": self.name, "variant": arm,
                                         "customer_id": customer_id})  # fmt: skip

    def compose(
        self,
        *,
        customer_id: str,
        address: str,
        arm: str,
        message_id: str,
        context: dict[str, Any],
        check_length: bool = True,
    ) -> OutgoingMessage:
        """The signed message for one recipient (or a content campaign's post).

        Raises
        ------
        DataError
            When a template cannot be rendered, or (with ``check_length``) a text message is
            longer than the campaign allows.
        """
        if self.settings.posts:
            return self._post(message_id, address, context)
        if self.settings.text_message is not None:
            return self._text(message_id, customer_id, address, arm, context, check_length)
        unsubscribe = self._url("unsubscribe", customer_id, arm)
        ctx = {**context, "unsubscribe_url": unsubscribe, "preferences_url": unsubscribe,
               "campaign": self.name, "variant": arm}  # fmt: skip
        rendered = render(self.templates[arm], ctx)
        utm = self.settings.utm

        def click(url: str) -> str:
            if utm:
                url = utm_tag(url, source=utm.get("source", "streamwise"),
                              medium=utm.get("medium", "email"),
                              campaign=utm.get("campaign", self.name), content=arm)  # fmt: skip
            return self._url("click", customer_id, arm, url)

        html = rewrite_links(rendered.html, click, skip=(unsubscribe,))
        opened = sign_token(
            self.secret, kind="open", campaign_id=self.campaign_id, recipient_id=customer_id,
            variant=arm,
        )  # fmt: skip
        html = add_open_pixel(html, open_pixel(f"{self.settings.tracking_base_url}/o", opened))
        rendered = type(rendered)(subject=rendered.subject, html=html, text=rendered.text)
        s = self.settings.sender
        assert s is not None  # checked by CampaignSettings
        raw = build_email(
            rendered, sender=self.sender, recipient=address, message_id=message_id,
            list_id=s.list_id, unsubscribe_url=unsubscribe,
            unsubscribe_mailto=s.unsubscribe_mailto, reply_to=s.reply_to,
        )  # fmt: skip
        if self.signer is not None:
            raw = self.signer.sign(raw)
        return OutgoingMessage(
            message_id=message_id, recipient=address, payload=raw, envelope_from=s.address,
            metadata={"customer_id": customer_id},
        )  # fmt: skip
