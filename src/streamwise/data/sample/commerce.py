"""The commerce part of the sample business: customers, orders, products, events, media.

:func:`generate_commerce` writes the tables of a believable outdoor-gear retailer and returns the
truth it planted, so that tests can check that analyses recover it:

- five latent segments (``names.SEGMENTS``) with their own purchase and dropout rates, spend,
  category mix, sales-channel mix, media preference, active hours, consent and countries;
- purchases that follow the BG/NBD model exactly (Fader, Hardie & Lee 2005, "Counting your
  customers the easy way"): the first order at signup, then repeat orders at Poisson rate
  ``lam`` per week while alive and a dropout with probability ``p`` after each repeat order;
  order values follow the Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV");
- weekly signups driven by a baseline and by media spend through adstock and Hill saturation
  (Jin et al. 2017), see :mod:`streamwise.data.sample.media`;
- journeys whose conversion follows a noisy-OR of channel effects, see
  :mod:`streamwise.data.sample.journeys`;
- Segment-style events, see :mod:`streamwise.data.sample.events`.

Customers are generated in chunks of ``cfg.chunk_customers`` with a random stream per chunk
(``SeedSequence(seed, spawn_key=(purpose, chunk))``), so memory stays bounded and the same
configuration always gives the same tables. Customer numbers follow signup order.

Tables written: ``products`` and ``spend`` (once), then per chunk ``customers``, ``orders``,
``order_lines``, ``touchpoints``, ``events`` and the truth tables ``truth_customers`` (one row per
customer: segment, ``lam``, ``p``, ``nu``, alive at the end, dropout time...) and
``truth_journeys`` (one row per journey: converted, order, noisy-OR probability...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from streamwise.data.sample.catalog import Catalog, build_catalog
from streamwise.data.sample.config import SampleConfig
from streamwise.data.sample.events import (
    build_events,
    finish_events,
    fixed_ids,
    take_strings,
    to_frame,
)
from streamwise.data.sample.journeys import (
    CONVERSION_WINDOW_HOURS,
    EFFECTS,
    LENGTH_PROBS,
    P0,
    REPEAT_JOURNEY_SHARE,
    JourneyTruth,
    build_journeys,
    group_rates_by_segment,
)
from streamwise.data.sample.media import MediaPlan, MediaTruth, build_media
from streamwise.data.sample.names import CATEGORIES, MEDIA_CHANNELS, SALES_CHANNELS, SEGMENTS
from streamwise.data.sample.segments import (
    SEGMENT_SPECS,
    SegmentTruth,
    draw_consents,
    draw_countries,
    draw_local_seconds,
    draw_people,
    tz_offsets_seconds,
)
from streamwise.data.sample.sink import TableSink

__all__ = ["COMMERCE_TABLES", "CommerceTruth", "generate_commerce"]

#: Tables written by :func:`generate_commerce` (the last two hold planted truth).
COMMERCE_TABLES = (
    "products",
    "spend",
    "customers",
    "orders",
    "order_lines",
    "touchpoints",
    "events",
    "truth_customers",
    "truth_journeys",
)

DAY = 86_400
WEEK = 7 * DAY
_LINE_COUNT_PROBS = (0.45, 0.30, 0.15, 0.10)
# random-stream purposes (first element of the spawn key); consent to text messages and ads has a
# stream of its own per chunk, added later without changing any earlier draw
_CATALOG, _MEDIA, _CHUNK, _CONSENT = 1, 2, 3, 4


@dataclass(frozen=True)
class CommerceTruth:
    """The truth planted by :func:`generate_commerce`.

    Parameters
    ----------
    company, currency, start, end
        As in the configuration; every timestamp lies between ``start`` 00:00:00 and ``end``
        23:59:59 (UTC).
    time_unit
        Unit of the BG/NBD rates: ``"weeks"``.
    n_customers, segment_counts
        Customers in all and per segment (realised).
    segments
        Per segment parameters (:class:`~streamwise.data.sample.segments.SegmentTruth`).
    first_order_value
        Expected value of a first order over the segment mix (used for media ROI).
    media
        Media-mix truth (:class:`~streamwise.data.sample.media.MediaTruth`).
    journeys
        Attribution truth (:class:`~streamwise.data.sample.journeys.JourneyTruth`).
    n_products, n_orders, n_order_lines, n_events, n_touchpoints
        Row counts of the tables written.
    """

    company: str
    currency: str
    start: date
    end: date
    time_unit: str
    n_customers: int
    segment_counts: dict[str, int]
    segments: tuple[SegmentTruth, ...]
    first_order_value: float
    media: MediaTruth
    journeys: JourneyTruth
    n_products: int
    n_orders: int
    n_order_lines: int
    n_events: int
    n_touchpoints: int

    def segment(self, name: str) -> SegmentTruth:
        """The truth of segment ``name``."""
        for seg in self.segments:
            if seg.name == name:
                return seg
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per segment with its scalar parameters and realised customer count."""
        rows = []
        for seg in self.segments:
            row = {k: v for k, v in seg.to_dict().items() if not isinstance(v, dict)}
            row["n_customers"] = self.segment_counts.get(seg.name, 0)
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable)."""
        return {
            "company": self.company,
            "currency": self.currency,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "time_unit": self.time_unit,
            "n_customers": self.n_customers,
            "segment_counts": dict(self.segment_counts),
            "segments": [s.to_dict() for s in self.segments],
            "first_order_value": self.first_order_value,
            "media": self.media.to_dict(),
            "journeys": self.journeys.to_dict(),
            "n_products": self.n_products,
            "n_orders": self.n_orders,
            "n_order_lines": self.n_order_lines,
            "n_events": self.n_events,
            "n_touchpoints": self.n_touchpoints,
        }


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _segment_array(attr: str) -> np.ndarray:
    return np.array([getattr(s, attr) for s in SEGMENT_SPECS], dtype=np.float64)


def _mix_matrix(attr: str, keys: tuple[str, ...]) -> np.ndarray:
    return np.array([[getattr(s, attr)[k] for k in keys] for s in SEGMENT_SPECS])


def _dirichlet_rows(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    draws = rng.standard_gamma(alpha)
    return draws / draws.sum(axis=1, keepdims=True)


def _categorical_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    return (rng.random(len(probs))[:, None] >= cum).sum(axis=1).astype(np.int64)


def _segmented_position(counts: np.ndarray) -> np.ndarray:
    """0-based position of each element within its group, for groups of ``counts`` elements."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)


def generate_commerce(
    cfg: SampleConfig,
    sink: TableSink,
    progress: Callable[[int], None] | None = None,
) -> CommerceTruth:
    """Generate the commerce tables of the sample business and return the planted truth.

    Parameters
    ----------
    cfg
        Size, seed, period, company, currency and chunk size.
    sink
        Receives ``sink.write(table, frame)`` calls: ``products`` and ``spend`` once, the other
        tables of :data:`COMMERCE_TABLES` once per chunk of ``cfg.chunk_customers`` customers.
        Column names and types follow :mod:`streamwise.data.contracts`; every row is valid.
    progress
        Called with the number of customers finished after each chunk.

    Returns
    -------
    CommerceTruth
        Segment, CLV, media and journey truth, and the row counts.
    """
    epoch = np.datetime64(cfg.start, "s")
    end_second = (cfg.end - cfg.start).days * DAY + DAY - 1

    catalog = build_catalog(_rng(cfg.seed, _CATALOG), cfg.start, cfg.end)
    sink.write("products", catalog.frame())

    shares = _segment_array("share")
    shares = shares / shares.sum()
    first_order_value = float(np.dot(shares, [s.mean_order_value for s in SEGMENT_SPECS]))
    plan = build_media(
        _rng(cfg.seed, _MEDIA), cfg.start, cfg.weeks, cfg.n_customers, first_order_value
    )
    sink.write("spend", plan.spend)

    counters = {"order": 1, "line": 0, "journey": 1, "message": 1, "touch": 0}
    journeys = {"n": 0, "conv": 0, "expected_conv": 0.0}
    seg_counts = np.zeros(len(SEGMENT_SPECS), dtype=np.int64)
    cum_counts = np.cumsum(plan.counts)
    chunk = max(int(cfg.chunk_customers), 1)
    for number, lo in enumerate(range(0, cfg.n_customers, chunk)):
        hi = min(lo + chunk, cfg.n_customers)
        stats = _chunk(
            cfg, sink, number, lo, hi, epoch, end_second, catalog, plan, cum_counts, counters
        )
        seg_counts += stats["segments"]
        journeys["n"] += stats["n_journeys"]
        journeys["conv"] += stats["n_converting"]
        journeys["expected_conv"] += stats["expected_converting"]
        if progress is not None:
            progress(hi)

    n_j = int(journeys["n"])
    journey_truth = JourneyTruth(
        p0=P0,
        effects=dict(EFFECTS),
        length_probs=tuple(LENGTH_PROBS),
        repeat_journey_share=REPEAT_JOURNEY_SHARE,
        conversion_window_hours=CONVERSION_WINDOW_HOURS,
        group_conversion_rates=group_rates_by_segment(),
        marginal_conversion_rate=float(journeys["expected_conv"]) / max(n_j, 1),
        n_journeys=n_j,
        n_converting=int(journeys["conv"]),
        n_touchpoints=counters["touch"],
    )
    return CommerceTruth(
        company=cfg.company,
        currency=cfg.currency,
        start=cfg.start,
        end=cfg.end,
        time_unit="weeks",
        n_customers=cfg.n_customers,
        segment_counts={s: int(c) for s, c in zip(SEGMENTS, seg_counts, strict=True)},
        segments=SEGMENT_SPECS,
        first_order_value=first_order_value,
        media=plan.truth,
        journeys=journey_truth,
        n_products=len(catalog.product_id),
        n_orders=counters["order"] - 1,
        n_order_lines=counters["line"],
        n_events=counters["message"] - 1,
        n_touchpoints=counters["touch"],
    )


def _chunk(
    cfg: SampleConfig,
    sink: TableSink,
    number: int,
    lo: int,
    hi: int,
    epoch: np.datetime64,
    end_second: int,
    catalog: Catalog,
    plan: MediaPlan,
    cum_counts: np.ndarray,
    counters: dict[str, int],
) -> dict[str, Any]:
    """Generate and write customers ``lo`` (inclusive) to ``hi`` (exclusive)."""
    r_people, r_orders, r_lines, r_journeys, r_events = (
        np.random.default_rng(s)
        for s in np.random.SeedSequence(cfg.seed, spawn_key=(_CHUNK, number)).spawn(5)
    )
    n = hi - lo
    index = np.arange(lo, hi, dtype=np.int64)

    # ---- customers -------------------------------------------------------------------------
    week = np.searchsorted(cum_counts, index, side="right")
    shares = _segment_array("share")
    segment = r_people.choice(len(SEGMENT_SPECS), size=n, p=shares / shares.sum())
    tz_row = draw_countries(r_people, segment)
    offset = tz_offsets_seconds(tz_row)
    acq = _categorical_rows(r_people, plan.channel_probs[week])
    people = draw_people(r_people, index + 1, segment, tz_row)
    consents = draw_consents(_rng(cfg.seed, _CONSENT, number), segment)
    local_day = week * 7 + r_people.integers(0, 7, n)
    signup = local_day * DAY + draw_local_seconds(r_people, segment) - offset
    signup = np.clip(signup, 0, end_second)
    cust_id = fixed_ids("C", index + 1, 8)
    anon_id = fixed_ids("anon-", (index + 1) * 2_654_435_761 % 10**10, 10)

    # ---- BG/NBD purchases --------------------------------------------------------------------
    lam = r_orders.gamma(_segment_array("r")[segment], 1.0 / _segment_array("alpha")[segment])
    p_drop = r_orders.beta(_segment_array("a")[segment], _segment_array("b")[segment])
    nu = r_orders.gamma(_segment_array("gg_q")[segment], 1.0 / _segment_array("gg_v")[segment])
    horizon = (end_second - signup) / WEEK
    arrivals = r_orders.poisson(lam * horizon)
    death_at = r_orders.geometric(p_drop)
    repeats = np.minimum(arrivals, death_at)
    alive = death_at > arrivals
    # the first `repeats` of `arrivals` sorted uniforms via exponential spacings
    rep_cust = np.repeat(np.arange(n), repeats)
    spacing = r_orders.exponential(size=len(rep_cust))
    csum = np.cumsum(spacing)
    ends = np.cumsum(repeats)
    group_base = np.where(ends - repeats > 0, csum[np.maximum(ends - repeats - 1, 0)], 0.0)
    partial = csum - np.repeat(group_base, repeats)
    tail = r_orders.standard_gamma(arrivals - repeats + 1.0)
    last = np.zeros(n)
    has = repeats > 0
    last[has] = partial[ends[has] - 1]
    u = partial / (last + tail)[rep_cust]
    cont = signup[rep_cust] + u * horizon[rep_cust] * WEEK
    rep_day = np.floor_divide(cont.astype(np.int64) + offset[rep_cust], DAY)
    rep_sec = rep_day * DAY + draw_local_seconds(r_orders, segment[rep_cust]) - offset[rep_cust]
    early = rep_sec <= signup[rep_cust]
    rep_sec[early] = signup[rep_cust][early] + r_orders.integers(60, 6 * 3600, int(early.sum()))
    rep_sec = np.clip(rep_sec, 0, end_second)

    o_cust = np.concatenate([np.arange(n), rep_cust])
    o_sec = np.concatenate([signup, rep_sec])
    o_first = np.concatenate([np.ones(n, bool), np.zeros(len(rep_cust), bool)])
    srt = np.argsort(o_cust * (1 << 32) + o_sec, kind="stable")
    o_cust, o_sec, o_first = o_cust[srt], o_sec[srt], o_first[srt]
    n_orders = len(o_cust)
    amount = r_orders.gamma(_segment_array("gg_p")[segment][o_cust], 1.0 / nu[o_cust])
    amount = np.maximum(np.round(amount, 2), 1.0)
    sales_mix = _dirichlet_rows(
        r_orders,
        _mix_matrix("sales_channel_mix", SALES_CHANNELS)[segment]
        * _segment_array("sales_channel_concentration")[segment][:, None],
    )
    o_channel = _categorical_rows(r_orders, sales_mix[o_cust])
    dropout_sec = np.full(n, -1, dtype=np.int64)
    dead = ~alive
    if rep_sec.size:
        latest = np.full(n, -1, dtype=np.int64)
        latest[has] = np.maximum.reduceat(rep_sec, (ends - repeats)[has])
        dropout_sec[dead] = latest[dead]

    # ---- order lines ---------------------------------------------------------------------------
    n_lines = r_lines.choice(len(_LINE_COUNT_PROBS), size=n_orders, p=_LINE_COUNT_PROBS) + 1
    l_order = np.repeat(np.arange(n_orders), n_lines)
    l_pos = _segmented_position(n_lines)
    weight = r_lines.gamma(4.0, size=len(l_order))
    wsum = np.bincount(l_order, weights=weight, minlength=n_orders)
    cents = np.rint(amount * 100).astype(np.int64)
    l_cents = np.floor(cents[l_order] * weight / wsum[l_order]).astype(np.int64)
    is_last = l_pos == n_lines[l_order] - 1
    others = np.bincount(l_order[~is_last], weights=l_cents[~is_last], minlength=n_orders)
    l_cents[is_last] = cents - others.astype(np.int64)
    l_amount = l_cents / 100.0
    cat_mix = _dirichlet_rows(
        r_lines,
        _mix_matrix("category_mix", CATEGORIES)[segment]
        * _segment_array("category_concentration")[segment][:, None],
    )
    l_cat = _categorical_rows(r_lines, cat_mix[o_cust[l_order]])
    l_qty = np.minimum(1 + r_lines.poisson(0.25, len(l_order)), 4).astype(np.int64)
    target = l_amount / l_qty * np.exp(r_lines.normal(0.0, 0.1, len(l_order)))
    l_product = catalog.choose(l_cat, target, o_sec[l_order])
    # units bought: as many as the line amount pays for at list price (at least one)
    l_qty = np.clip(np.rint(l_amount / catalog.price[l_product]), 1, 12).astype(np.int64)
    l_unit = np.round(l_amount / l_qty, 2)
    list_value = np.bincount(l_order, weights=catalog.price[l_product] * l_qty, minlength=n_orders)
    discount = np.round(np.maximum(list_value - amount, 0.0), 2)
    o_qty = np.bincount(l_order, weights=l_qty, minlength=n_orders).astype(np.int64)

    # ---- journeys and touchpoints ---------------------------------------------------------------
    consent = people["email_consent"]
    jr = build_journeys(
        r_journeys,
        cfg.start,
        end_second,
        counters["journey"],
        segment,
        consent,
        offset,
        draw_local_seconds,
        signup,
        o_cust,
        o_sec,
        o_first,
    )

    # ---- write -----------------------------------------------------------------------------------
    order_id = fixed_ids("O", np.arange(counters["order"], counters["order"] + n_orders), 10)
    camp_idx = jr["order_campaign"]
    campaigns = take_strings(jr["campaign_names"], np.maximum(camp_idx, 0))
    campaigns = pc.if_else(
        pa.array(camp_idx >= 0), campaigns, pa.nulls(n_orders, pa.large_string())
    )
    sink.write(
        "customers",
        to_frame(
            {
                "customer_id": cust_id,
                "email": people["email"],
                "signup_date": ("days", np.floor_divide(signup, DAY)),
                "country": people["country"],
                "first_name": people["first_name"],
                "last_name": people["last_name"],
                "phone": people["phone"],
                "timezone": people["timezone"],
                "birth_year": people["birth_year"],
                "acquisition_channel": take_strings((*MEDIA_CHANNELS, "organic"), acq),
                "email_consent": consent.astype(bool),
                "sms_consent": consents["sms_consent"],
                "ads_consent": consents["ads_consent"],
            },
            epoch,
        ),
    )
    sink.write(
        "orders",
        to_frame(
            {
                "order_id": order_id,
                "customer_id": cust_id.take(pa.array(o_cust)),
                "order_date": ("seconds", o_sec),
                "amount": amount,
                "currency": take_strings((cfg.currency,), np.zeros(n_orders, np.int64)),
                "channel": take_strings(SALES_CHANNELS, o_channel),
                "quantity": o_qty,
                "discount": discount,
                "campaign": campaigns,
            },
            epoch,
        ),
    )
    sink.write(
        "order_lines",
        to_frame(
            {
                "order_id": order_id.take(pa.array(l_order)),
                "line_number": (l_pos + 1).astype(np.int64),
                "product_id": take_strings(list(catalog.product_id), l_product),
                "quantity": l_qty,
                "unit_price": l_unit,
                "amount": l_amount,
            },
            epoch,
        ),
    )
    touch = jr["touch"]
    sink.write(
        "touchpoints",
        to_frame(
            {
                "customer_id": cust_id.take(pa.array(touch["customer"])),
                "ts": ("seconds", touch["second"]),
                "channel": take_strings(MEDIA_CHANNELS, touch["channel"]),
                "campaign": take_strings(jr["campaign_names"], touch["campaign"]),
                "interaction": take_strings(jr["interactions"], touch["interaction"]),
                "journey_id": touch["journey_id"],
                "cost": touch["cost"],
            },
            epoch,
        ),
    )
    journey = jr["journey"]
    j_order = journey["order"]
    j_order_id = order_id.take(pa.array(np.maximum(j_order, 0)))
    j_order_id = pc.if_else(
        pa.array(j_order >= 0), j_order_id, pa.nulls(len(j_order), pa.large_string())
    )
    sink.write(
        "truth_journeys",
        to_frame(
            {
                "journey_id": journey["journey_id"],
                "customer_id": cust_id.take(pa.array(journey["customer"])),
                "segment": take_strings(SEGMENTS, segment[journey["customer"]]),
                "converted": journey["converted"],
                "order_id": j_order_id,
                "n_touches": journey["n_touches"],
                "conversion_probability": journey["conversion_probability"],
                "first_ts": ("seconds", journey["first_second"]),
                "last_ts": ("seconds", journey["last_second"]),
            },
            epoch,
        ),
    )

    n_touches = len(jr.pop("touch")["second"])
    del touch, journey, j_order_id
    jr.pop("journey")

    pieces = build_events(
        r_events,
        epoch,
        end_second,
        {
            "customer_id": cust_id,
            "anonymous_id": anon_id,
            "email": people["email"],
            "first_name": people["first_name"],
            "last_name": people["last_name"],
            "country": people["country"],
            "signup_second": signup,
        },
        {
            "customer": o_cust,
            "order_id": order_id,
            "second": o_sec,
            "amount": amount,
            "channel": o_channel,
            "sales_channels": SALES_CHANNELS,
        },
        {
            "order": l_order,
            "product_id": take_strings(list(catalog.product_id), l_product),
            "category": l_cat,
            "price": catalog.price[l_product],
        },
        jr["email"],
        cfg.currency,
        CATEGORIES,
    )
    n_events = 0
    for piece in pieces:
        columns = finish_events(r_events, piece, counters["message"] + n_events, end_second)
        n_events += len(piece["seconds"])
        sink.write("events", to_frame(columns, epoch))
        del columns

    sink.write(
        "truth_customers",
        to_frame(
            {
                "customer_id": cust_id,
                "segment": take_strings(SEGMENTS, segment),
                "lam": lam,
                "p": p_drop,
                "nu": nu,
                "expected_order_value": _segment_array("gg_p")[segment] / nu,
                "alive": alive,
                "dropout_ts": ("seconds", dropout_sec),
                "n_repeat_orders": repeats.astype(np.int64),
                "signup_week": week.astype(np.int64),
            },
            epoch,
        ).assign(dropout_ts=lambda f: f["dropout_ts"].where(~f["alive"])),
    )
    counters["order"] += n_orders
    counters["line"] += len(l_order)
    counters["journey"] += jr["n_journeys"]
    counters["message"] += n_events
    counters["touch"] += n_touches
    return {
        "segments": np.bincount(segment, minlength=len(SEGMENT_SPECS)),
        "n_journeys": jr["n_journeys"],
        "n_converting": jr["n_converting"],
        "expected_converting": jr["expected_converting"],
    }
