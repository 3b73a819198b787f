"""The send and notify steps: who may be reached (consent, address, suppression, as campaigns
apply them), which arm (variant or holdout) and the ledger row each message gets.

The rows are queued here and written by the batch, in the transaction that records the step:
the step's effect is the ledger row, so a step that ran has queued its message exactly once,
and delivery follows the ledger's claim → record → recover protocol.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from streamwise.downstream.audiences.rules import apply_rules
from streamwise.downstream.campaigns.assignment import HOLDOUT, assign
from streamwise.downstream.campaigns.enrolment import ADDRESS, CONSENT, with_channel_fields
from streamwise.downstream.campaigns.windows import next_send_time
from streamwise.downstream.journeys.analytics import customer_fields, top_categories
from streamwise.downstream.journeys.context import Run, StepCampaign
from streamwise.downstream.journeys.definition import Send, Step
from streamwise.downstream.journeys.schedule import Entry
from streamwise.downstream.journeys.store import Live

__all__ = ["CONTEXT_FIELDS", "notify", "send"]

#: Customer fields the templates see (besides ``event``, the journey and the step).
CONTEXT_FIELDS = ("first_name", "last_name", "email", "country", "segment", "clv",
                  "probability_alive")  # fmt: skip
Result = list[tuple[Entry, str, str | None]]


class _Backend:
    """What :func:`with_channel_fields` needs of a workspace: ``analytics()``."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def analytics(self) -> Any:
        return self.run.analytics.backend()


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _recommend(entries: list[Entry], run: Run) -> dict[str, tuple[str | None, str | None]]:
    """Customer → (the category just bought, the category to recommend)."""
    affinity = run.caches.affinity()
    bought: dict[str, str | None] = {}
    for e in entries:
        props = e.context.get("event") or {}
        cat = props.get("category")
        if not cat and isinstance(props.get("products"), list) and props["products"]:
            first = props["products"][0]
            cat = first.get("category") if isinstance(first, dict) else None
        bought[e.customer_id] = str(cat) if cat else None
    unknown = [c for c, cat in bought.items() if cat is None]
    bought.update(top_categories(run.analytics, unknown))
    return {c: (cat, affinity.get(cat) if cat else None) for c, cat in bought.items()}


def send(step: Step, entries: list[Entry], live: Live, run: Run) -> Result:
    """Queue the step's message for each entry the rules allow; everyone moves on."""
    body = step.body
    assert isinstance(body, Send)
    c = run.caches.campaign(run.con, live.campaigns[step.id])
    s = c.settings
    assert s is not None
    ids = [e.customer_id for e in entries]
    t = s.text_message
    extra = ("timezone",) if t is None else ("timezone", t.address_field, t.consent_field)
    frame = customer_fields(run.analytics, ids, extra)
    known = set(frame["customer_id"])
    missing = pd.DataFrame({"customer_id": [i for i in ids if i not in known]})
    frame = pd.concat([frame, missing], ignore_index=True) if len(missing) else frame
    suppressed = run.caches.suppressed(run.con, c.channel)
    if t is None:
        if "email_consent" not in frame.columns:
            frame["email_consent"] = False
        if "email" not in frame.columns:
            frame["email"] = None
        rules = apply_rules(frame, channel=c.channel, suppressed=suppressed, recent_sends=None,
                            cap=None, at=run.now)  # fmt: skip
        column = "email"
    else:
        frame = with_channel_fields(_Backend(run), frame, t)
        rules = apply_rules(frame, channel=c.channel, suppressed=suppressed, recent_sends=None,
                            cap=None, at=run.now, consent=CONSENT, address=ADDRESS,
                            address_format="e164" if t.kind == "sms" else "any",
                            label="SMS" if t.kind == "sms" else "chat")  # fmt: skip
        column = ADDRESS
    why = dict(zip(rules.removed["customer_id"], rules.removed["reason"], strict=True))
    kept = rules.kept
    arms = assign(kept["customer_id"].astype(str), seed=c.seed, holdout=s.holdout,
                  variants={k: v.weight for k, v in s.variants.items()})  # fmt: skip
    rows = {str(r["customer_id"]): r for r in kept.to_dict("records")}
    picks = _recommend(entries, run) if body.recommend else {}
    out: Result = []
    for e in entries:
        rec = rows.get(e.customer_id)
        if rec is None:
            out.append((e, f"skipped: {why.get(e.customer_id, 'not a customer')}", step.next))
            continue
        arm = str(arms[e.customer_id])
        ctx = {k: _plain(rec.get(k)) for k in CONTEXT_FIELDS if k in rec}
        ctx |= {"journey": live.name, "step": step.id, **e.context}
        if body.recommend:
            bought, recommended = picks.get(e.customer_id, (None, None))
            ctx["bought_category"], ctx["recommended_category"] = bought, recommended
        when = None
        if s.window is not None:
            w = s.window
            when = next_send_time(run.now, _plain(rec.get("timezone")), start=w.start,
                                  end=w.end, weekdays=frozenset(w.weekdays),
                                  default_timezone=w.default_timezone)  # fmt: skip
        run.ledger.append(_row(c, e, str(rec[column]), arm, when, ctx, s.message_domain))
        out.append((e, "held out" if arm == HOLDOUT else f"queued {arm}", step.next))
    return out


def _row(c: StepCampaign, e: Entry, address: str, arm: str, when: Any, ctx: dict[str, Any],
         domain: str) -> dict[str, Any]:  # fmt: skip
    return {
        "_key": (e.id, e.seq), "_domain": domain, "campaign_id": c.id, "customer_id": e.customer_id,
        "address": address, "arm": arm, "status": "held_out" if arm == HOLDOUT else "pending",
        "attempts": 0, "send_after": when, "detail": "", "context": ctx,
    }  # fmt: skip


def notify(step: Step, entries: list[Entry], live: Live, run: Run) -> Result:
    """Queue a signed webhook to the sales team for each entry, with the customer's fields."""
    c = run.caches.campaign(run.con, live.campaigns[step.id])
    notify_settings = c.raw["notify"]
    frame = customer_fields(run.analytics, [e.customer_id for e in entries])
    rows = {str(r["customer_id"]): r for r in frame.to_dict("records")}
    out: Result = []
    for e in entries:
        rec = rows.get(e.customer_id, {})
        customer = {k: _plain(v) for k, v in rec.items() if k not in ("email_consent",)}
        ctx = {"journey": live.name, "step": step.id, "note": notify_settings.get("note", ""),
               "customer": customer or {"customer_id": e.customer_id},
               "entered_at": e.entered_at.isoformat(), "trigger": e.context}  # fmt: skip
        run.ledger.append(_row(c, e, notify_settings["url"], "notify", None, ctx,
                               "sales.streamwise"))  # fmt: skip
        out.append((e, "queued", step.next))
    return out
