"""The features of the sales hand-off, as Ibis expressions run where the data is.

One definition serves every cut-off: :func:`activity_table` gives, per customer and as of the end
of day ``cutoff``, the recent engagement, the orders before the cut-off and (for training) whether
the customer bought in the ``horizon_days`` after it. Only rows of sampled customers come back to
Python for training; scoring every customer stays in the database.

Engagement (all counted up to the end of the cut-off day, nothing later):

- **e-mail** opens and clicks by people: ``touchpoints`` with channel ``email`` (the imported
  ones and those ``streamwise events compact`` writes for every human open and click the tracking
  server saw) together with ``Email Opened`` / ``Email Clicked`` track events, de-duplicated on
  (customer, time, kind) so that an open recorded in both counts once. The tracking server's
  ``email_engagement`` table is not read directly: its human opens and clicks are the e-mail
  touchpoints, and its machine opens (privacy proxies, link scanners) must not count.
- **site and app**: ``page`` and ``screen`` calls and ``track`` calls other than ``Order
  Completed`` and the e-mail events (product views, cart changes, ...), by ``user_id``.
- **ads**: clicks and visits on other marketing channels (``touchpoints``); impressions are
  not engagement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound

__all__ = [
    "BUYER_FEATURES",
    "EMAIL_WINDOW_DAYS",
    "FEATURES",
    "LEAD_FEATURES",
    "NEVER_ACTIVE_DAYS",
    "WEB_WINDOW_DAYS",
    "Feature",
    "activity_table",
    "has_table",
    "input_frame",
    "model_inputs",
    "sample_filter",
    "segment_table",
]

#: Days counted back for e-mail opens and clicks, and for site visits and ad clicks.
EMAIL_WINDOW_DAYS = 90
WEB_WINDOW_DAYS = 30
#: ``days_since_active`` of someone with no recorded activity (and the cap for everyone).
NEVER_ACTIVE_DAYS = 730

_NOT_WEB = ("Order Completed", "Email Opened", "Email Clicked")
_EMAIL_EVENTS = {"Email Opened": "open", "Email Clicked": "click"}


@dataclass(frozen=True)
class Feature:
    """One input of the propensity model.

    Attributes
    ----------
    name
        The model input (the column that holds the transformed value).
    raw
        The per-customer value it is computed from (shown in the reasons).
    transform
        ``"log1p"`` (counts, days and money: their effect flattens as they grow) or
        ``"identity"``.
    label
        What it is, for people.
    """

    name: str
    raw: str
    transform: Literal["identity", "log1p"]
    label: str


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("probability_alive", "probability_alive", "identity", "P(alive)"),
        Feature("log_expected_purchases", "expected_purchases", "log1p", "expected purchases"),
        Feature("log_clv", "clv", "log1p", "customer lifetime value"),
        Feature("log_email_opens", "email_opens_90d", "log1p", "e-mail opens, last 90 days"),
        Feature("log_email_clicks", "email_clicks_90d", "log1p", "e-mail clicks, last 90 days"),
        Feature("log_web_views", "web_views_30d", "log1p", "site/app views, last 30 days"),
        Feature("log_ad_clicks", "ad_clicks_30d", "log1p", "ad clicks/visits, last 30 days"),
        Feature("log_days_since_active", "days_since_active", "log1p", "days since last activity"),
        Feature("in_target", "in_target", "identity", "in a target segment of the plan"),
        Feature("log_days_since_signup", "days_since_signup", "log1p", "days since signup"),
    )
}

#: Inputs of the model for customers (people with at least one order).
BUYER_FEATURES = (
    "probability_alive",
    "log_expected_purchases",
    "log_clv",
    "log_email_opens",
    "log_email_clicks",
    "log_web_views",
    "log_ad_clicks",
    "log_days_since_active",
    "in_target",
)
#: Inputs of the model for leads (no order yet): engagement and time since signup. Segment fit is
#: left out: segments are computed from orders, so a lead who has one bought after the cut-off.
LEAD_FEATURES = (
    "log_email_opens",
    "log_email_clicks",
    "log_web_views",
    "log_ad_clicks",
    "log_days_since_active",
    "log_days_since_signup",
)


def has_table(backend: BaseBackend, name: str) -> bool:
    """Whether the analytics database holds table ``name``."""
    try:
        backend.table(name)
    except TableNotFound:
        return False
    return True


def sample_filter(customer_id: ir.StringValue, fraction: float) -> ir.BooleanValue:
    """A deterministic pseudo-random ``fraction`` of customers, by a hash of their id (the same
    customers at every cut-off and on every run)."""
    if fraction >= 1:
        return ibis.literal(True)
    bucket = (customer_id.hash() % 1_000_000 + 1_000_000) % 1_000_000
    return bucket < round(fraction * 1_000_000)


def _end(cutoff: date) -> ir.TimestampValue:
    """The first instant after the cut-off day (everything strictly before it counts)."""
    return ibis.timestamp(cutoff + timedelta(days=1))


def _email(backend: BaseBackend, end: ir.TimestampValue, fraction: float) -> ir.Table:
    """Human e-mail opens and clicks before ``end``: ``customer_id, ts, kind``."""
    t = backend.table("touchpoints")
    tp = t.filter(
        t.channel == "email", t.interaction.isin(("open", "click")), t.ts < end,
        sample_filter(t.customer_id, fraction),
    ).select(customer_id=t.customer_id, ts=t.ts, kind=t.interaction)  # fmt: skip
    e = backend.table("events")
    ev = e.filter(
        e["type"] == "track", e.event.isin(tuple(_EMAIL_EVENTS)), e.user_id.notnull(),
        e.timestamp < end, sample_filter(e.user_id, fraction),
    ).select(
        customer_id=e.user_id, ts=e.timestamp,
        kind=ibis.cases(*((e.event == k, v) for k, v in _EMAIL_EVENTS.items())),
    )  # fmt: skip
    return tp.union(ev, distinct=True)


def activity_table(
    backend: BaseBackend,
    cutoff: date,
    *,
    horizon_days: int | None = None,
    fraction: float = 1.0,
) -> ir.Table:
    """Per customer (of ``customers``), as of the end of day ``cutoff``.

    Columns: ``customer_id, signup_date, n_orders`` (orders up to the cut-off),
    ``last_order_days``, ``email_opens_90d, email_clicks_90d, last_email_click_days,
    web_views_30d, ad_clicks_30d, days_since_active`` (capped at :data:`NEVER_ACTIVE_DAYS`, which
    also stands for "never"), ``days_since_signup`` and, with ``horizon_days``, ``bought``
    (1 when an order falls in the ``horizon_days`` days after the cut-off day). Days are calendar
    days before the cut-off day (0 on it).

    Parameters
    ----------
    backend
        The workspace's Ibis backend.
    cutoff
        The last day that counts.
    horizon_days
        Length of the label window after the cut-off (training); ``None`` when scoring.
    fraction
        Share of customers to keep (:func:`sample_filter`).
    """
    end = _end(cutoff)
    c = backend.table("customers")
    c = c.filter(c.signup_date <= cutoff, sample_filter(c.customer_id, fraction))
    people = c.select("customer_id", "signup_date")

    o = backend.table("orders")
    o = o.filter(sample_filter(o.customer_id, fraction))  # each source is sampled before grouping
    before = o.filter(o.order_date < end)
    bought = before.group_by("customer_id").aggregate(
        n_orders=before.count(), last_order=before.order_date.max()
    )
    mail = _email(backend, end, fraction)
    since_mail = end - ibis.interval(days=EMAIL_WINDOW_DAYS)
    mail_agg = mail.group_by("customer_id").aggregate(
        email_opens_90d=((mail.kind == "open") & (mail.ts >= since_mail)).sum(),
        email_clicks_90d=((mail.kind == "click") & (mail.ts >= since_mail)).sum(),
        last_click=mail.ts.max(where=mail.kind == "click"),
        last_mail=mail.ts.max(),
    )
    since_web = end - ibis.interval(days=WEB_WINDOW_DAYS)
    e = backend.table("events")
    web = e.filter(
        e.user_id.notnull(),
        e.timestamp < end,
        sample_filter(e.user_id, fraction),
        e["type"].isin(("page", "screen")) | ((e["type"] == "track") & ~e.event.isin(_NOT_WEB)),
    )
    web_agg = web.group_by(customer_id=web.user_id).aggregate(
        web_views_30d=(web.timestamp >= since_web).sum(), last_web=web.timestamp.max()
    )
    t = backend.table("touchpoints")
    ads = t.filter(
        t.channel != "email",
        t.interaction.isin(("click", "visit")),
        t.ts < end,
        sample_filter(t.customer_id, fraction),
    )
    ad_agg = ads.group_by("customer_id").aggregate(
        ad_clicks_30d=(ads.ts >= since_web).sum(), last_ad=ads.ts.max()
    )
    j = people
    for right in (bought, mail_agg, web_agg, ad_agg):
        j = j.left_join(right, "customer_id").drop("customer_id_right")

    day = ibis.date(cutoff)

    def days(ts: ir.TimestampValue) -> ir.IntegerValue:
        return day.delta(ts.cast("date"), unit="day")

    last_active = ibis.greatest(
        j.last_mail.fill_null(ibis.timestamp("1900-01-01")),
        j.last_web.fill_null(ibis.timestamp("1900-01-01")),
        j.last_ad.fill_null(ibis.timestamp("1900-01-01")),
    )
    out = j.select(
        "customer_id",
        "signup_date",
        n_orders=j.n_orders.fill_null(0),
        last_order_days=days(j.last_order),
        email_opens_90d=j.email_opens_90d.fill_null(0),
        email_clicks_90d=j.email_clicks_90d.fill_null(0),
        last_email_click_days=days(j.last_click),
        web_views_30d=j.web_views_30d.fill_null(0),
        ad_clicks_30d=j.ad_clicks_30d.fill_null(0),
        days_since_active=ibis.least(days(last_active), NEVER_ACTIVE_DAYS),
        days_since_signup=ibis.greatest(day.delta(j.signup_date, unit="day"), 0),
    )
    if horizon_days is None:
        return out
    after = o.filter(o.order_date >= end, o.order_date < end + ibis.interval(days=horizon_days))
    label = after.group_by("customer_id").aggregate(_n=after.count())
    out = out.left_join(label, "customer_id").drop("customer_id_right")
    return out.mutate(bought=(out._n.fill_null(0) > 0).cast("int8")).drop("_n")


def segment_table(
    backend: BaseBackend, personas: Mapping[str, str], targets: frozenset[str]
) -> ir.Table | None:
    """``customer_id, segment, persona, in_target`` from the behavioural clusters and their
    names (``customer_segments`` and ``segment_clusters``), ``None`` without them.

    Parameters
    ----------
    personas
        Named segment → persona name (the plan's persona cards).
    targets
        The segments the plan's strategy targets.
    """
    if not (has_table(backend, "customer_segments") and has_table(backend, "segment_clusters")):
        return None
    s = backend.table("customer_segments")
    n = backend.table("segment_clusters")
    j = s.left_join(n, s.segment == n.cluster)
    named = j.select(customer_id=j.customer_id, segment=j.segment_right.cast("string"))
    persona: Any = ibis.null("string")
    if personas:
        persona = ibis.cases(
            *((named.segment == seg, name) for seg, name in sorted(personas.items())),
            else_=ibis.null("string"),
        )
    target = named.segment.isin(tuple(sorted(targets))) if targets else ibis.literal(False)
    return named.mutate(persona=persona, in_target=target.fill_null(False).cast("int8"))


def model_inputs(table: ir.Table, names: tuple[str, ...]) -> dict[str, ir.NumericValue]:
    """The model inputs ``names`` as expressions over ``table``'s raw columns (nulls as 0)."""
    out: dict[str, ir.NumericValue] = {}
    for name in names:
        spec = FEATURES[name]
        raw = table[spec.raw].cast("float64").fill_null(0.0)
        out[name] = (raw + 1.0).ln() if spec.transform == "log1p" else raw
    return out


def input_frame(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """:func:`model_inputs` on a pandas frame of raw columns (training rows)."""
    out = {}
    for name in names:
        spec = FEATURES[name]
        raw = pd.to_numeric(frame[spec.raw], errors="coerce").astype(float).fillna(0.0)
        out[name] = np.log1p(raw) if spec.transform == "log1p" else raw
    return pd.DataFrame(out, index=frame.index)
