"""The sales hand-off: fit the propensity models on the past, validate them on a later period,
and score every customer and lead in the database.

Dates (``T`` is the last order day in the data, ``h`` the horizon):

- **validation**: a model fitted on features as of ``T - 2h`` and purchases in ``(T - 2h, T - h]``
  predicts purchases in ``(T - h, T]`` from features as of ``T - h``; its AUC, top-decile lift and
  calibration by decile are the reported quality (an out-of-time holdout);
- **final model**: the same model fitted on features as of ``T - h`` and purchases in
  ``(T - h, T]``;
- **scoring**: every customer's features as of ``T`` (CLV from ``customer_clv``), giving
  P(buy in the ``h`` days after ``T``).

Customers with orders and leads (no order yet) have separate models; leads have no CLV and no
segment, so theirs uses engagement and time since signup. When the past holds too few leads who
went on to buy, leads are listed unscored (P(buy) empty) after everyone scored, most recently
active first.

Results: the table ``sales_leads`` (one row per customer and lead: features, contributions,
log-odds, P(buy), rank, score) and a row in ``sales_runs`` (the run's JSON document).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd

from streamwise.downstream.sales.features import (
    BUYER_FEATURES,
    FEATURES,
    LEAD_FEATURES,
    has_table,
    input_frame,
    segment_table,
)
from streamwise.downstream.sales.fingerprint import data_fingerprint, run_digest
from streamwise.downstream.sales.model import HoldoutQuality, PropensityModel, holdout_quality
from streamwise.downstream.sales.scoring import plan_targets, score_all
from streamwise.downstream.sales.training import cutoff_rows
from streamwise.errors import ModelError, WorkspaceError
from streamwise.upstream.customers.workspace import PURCHASE_MODELS

__all__ = ["RESULT_TABLES", "HandOff", "hand_off", "load_hand_off"]

#: The tables the hand-off writes in the analytics database.
RESULT_TABLES = ("sales_leads", "sales_runs")


@dataclass(frozen=True)
class HandOff:
    """One run of the hand-off: when, the models, how well they predicted, what was scored.

    Attributes
    ----------
    run_id
        A digest of the data and the settings (the same data and settings, the same id).
    as_of
        ``T``: the last order day; scores are P(buy) in the ``horizon_days`` after it.
    cutoffs
        ``(T - 2h, T - h)``: the training cut-off of the validated model and of the final one.
    buyer_model, lead_model
        The fitted models (``lead_model`` is ``None`` when too few past leads bought).
    buyer_quality, lead_quality
        Out-of-time holdout quality (``None`` when it could not be measured).
    counts
        ``customers`` and ``leads`` scored, ``unscored_leads``, training and holdout rows.
    quantiles
        Per CLV feature, its 1st..99th percentiles among scored customers (for "top 10 %").
    personas, targets
        Segment → persona name, and the plan's target segments.
    notes
        What was left out and why.
    """

    run_id: str
    created_at: datetime
    as_of: date
    horizon_days: int
    cutoffs: tuple[date, date]
    sample_fraction: float
    currency: str
    buyer_model: PropensityModel
    lead_model: PropensityModel | None
    buyer_quality: HoldoutQuality
    lead_quality: HoldoutQuality | None
    counts: Mapping[str, int]
    quantiles: Mapping[str, tuple[float, ...]] = field(repr=False)
    personas: Mapping[str, str] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The whole run, JSON-ready (what ``sales_runs`` stores)."""
        return {
            "run_id": self.run_id,
            "created_at": self.created_at.isoformat(),
            **_content(self),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HandOff:
        """The run from :meth:`to_dict`'s output."""
        lead = data["lead_model"]
        lead_q = data["lead_quality"]
        return cls(
            run_id=data["run_id"],
            created_at=datetime.fromisoformat(data["created_at"]),
            as_of=date.fromisoformat(data["as_of"]),
            horizon_days=int(data["horizon_days"]),
            cutoffs=tuple(date.fromisoformat(d) for d in data["cutoffs"]),  # type: ignore[arg-type]
            sample_fraction=float(data["sample_fraction"]),
            currency=data["currency"],
            buyer_model=PropensityModel.from_dict(data["buyer_model"]),
            lead_model=PropensityModel.from_dict(lead) if lead else None,
            buyer_quality=HoldoutQuality.from_dict(data["buyer_quality"]),
            lead_quality=HoldoutQuality.from_dict(lead_q) if lead_q else None,
            counts=dict(data["counts"]),
            quantiles={k: tuple(v) for k, v in data["quantiles"].items()},
            personas=dict(data["personas"]),
            targets=tuple(data["targets"]),
            notes=tuple(data["notes"]),
        )

    def to_frame(self) -> pd.DataFrame:
        """The coefficients of both models: ``model, feature, label, coef, odds_ratio, mean,
        sd``."""
        parts = []
        for name, model in (("customers", self.buyer_model), ("leads", self.lead_model)):
            if model is None:
                continue
            part = model.coefficients().reset_index()
            part.insert(0, "model", name)
            part.insert(2, "label", [FEATURES[f].label for f in part["feature"]])
            parts.append(part)
        return pd.concat(parts, ignore_index=True)


def _content(run: HandOff) -> dict[str, Any]:
    return {
        "as_of": run.as_of.isoformat(),
        "horizon_days": run.horizon_days,
        "cutoffs": [d.isoformat() for d in run.cutoffs],
        "sample_fraction": run.sample_fraction,
        "currency": run.currency,
        "buyer_model": run.buyer_model.to_dict(),
        "lead_model": run.lead_model.to_dict() if run.lead_model else None,
        "buyer_quality": run.buyer_quality.to_dict(),
        "lead_quality": run.lead_quality.to_dict() if run.lead_quality else None,
        "counts": dict(run.counts),
        "quantiles": {k: list(v) for k, v in run.quantiles.items()},
        "personas": dict(run.personas),
        "targets": list(run.targets),
        "notes": list(run.notes),
    }


def _fit_and_judge(
    features: tuple[str, ...], older: pd.DataFrame, newer: pd.DataFrame
) -> tuple[PropensityModel, HoldoutQuality]:
    """Fit on the older cut-off, judge on the newer one, then refit on the newer one."""
    validated = PropensityModel(features).fit(input_frame(older, features), older["bought"])
    quality = holdout_quality(
        newer["bought"], validated.probability_to_buy(input_frame(newer, features))
    )
    final = PropensityModel(features).fit(input_frame(newer, features), newer["bought"])
    return final, quality


def _last_order_day(backend: Any) -> tuple[date, date]:
    if not has_table(backend, "orders"):
        raise WorkspaceError("the workspace has no orders table; run `streamwise init` first")
    o = backend.table("orders")
    first, last = o.aggregate(first=o.order_date.min(), last=o.order_date.max()).execute().iloc[0]
    if pd.isna(last):
        raise ModelError("the workspace has no orders yet; import them with streamwise import")
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


def hand_off(
    workspace: Any,
    *,
    horizon_days: int = 90,
    sample_size: int = 200_000,
    clv_model: str = "bgnbd",
    refit: bool = False,
) -> HandOff:
    """Fit, validate and score; write ``sales_leads`` and a ``sales_runs`` row.

    When the stored run has the same id (the same data and settings, see
    :mod:`~streamwise.downstream.sales.fingerprint`) and ``sales_leads`` still holds it, that
    run is returned as it is, unless ``refit``.

    Parameters
    ----------
    workspace
        An open workspace with orders, ``customer_clv`` (``streamwise customers clv``) and,
        for segment fit, segments and a saved plan.
    horizon_days
        P(buy) is the probability of an order within this many days.
    sample_size
        Customers sampled per training cut-off (memory grows with it; see
        :mod:`~streamwise.downstream.sales.training`).
    clv_model
        The purchase model ``customer_clv`` was computed with.
    refit
        Fit and score again even when the data and settings are those of the stored run.

    Raises
    ------
    ModelError
        When ``customer_clv`` is missing or older than the orders, or the history is too short.
    """
    if clv_model not in PURCHASE_MODELS:
        raise ModelError(
            f"unknown CLV model {clv_model!r}; use one of {', '.join(PURCHASE_MODELS)}"
        )
    if horizon_days < 7:
        raise ModelError("the horizon must be at least 7 days")
    backend = workspace.analytics()
    first, as_of = _last_order_day(backend)
    h = timedelta(days=horizon_days)
    cutoffs = (as_of - 2 * h, as_of - h)
    if first > cutoffs[0] - timedelta(days=30):
        raise ModelError(
            f"the orders span {first} to {as_of}; validating a {horizon_days}-day propensity "
            f"needs orders from before {cutoffs[0] - timedelta(days=30)}. Use a shorter --horizon"
        )
    if not has_table(backend, "customer_clv"):
        raise ModelError("the workspace has no CLV yet; run `streamwise customers clv` first")
    personas, targets, notes = plan_targets(workspace)
    settings = {"horizon_days": horizon_days, "sample_size": sample_size, "clv_model": clv_model,
                "personas": personas, "targets": sorted(targets)}  # fmt: skip
    run_id = run_digest(settings, data_fingerprint(backend))
    if not refit:
        stored = _stored(workspace, run_id)
        if stored is not None:
            return stored
    segments = _segments(backend, personas, targets, notes)
    c = backend.table("customers")
    population = int(c.filter(c.signup_date <= as_of).count().execute())
    fraction = min(1.0, sample_size / max(population, 1))
    older, newer = (
        cutoff_rows(backend, d, horizon_days, fraction=fraction, segments=segments,
                    clv_model=clv_model)
        for d in cutoffs
    )  # fmt: skip
    buyer_model, buyer_quality = _fit_and_judge(BUYER_FEATURES, older.buyers, newer.buyers)
    lead_model, lead_quality = _lead_model(
        older.leads, newer.leads, cutoffs[1], horizon_days, notes
    )
    scored = score_all(workspace, as_of, buyer_model, lead_model, segments, run_id)
    run = HandOff(
        run_id=run_id,
        created_at=datetime.now(UTC),
        as_of=as_of,
        horizon_days=horizon_days,
        cutoffs=cutoffs,
        sample_fraction=fraction,
        currency=workspace.settings.currency,
        buyer_model=buyer_model,
        lead_model=lead_model,
        buyer_quality=buyer_quality,
        lead_quality=lead_quality,
        counts={
            **scored.counts,
            "training_customers": len(newer.buyers),
            "training_leads": len(newer.leads),
            "holdout_customers": buyer_quality.n,
        },
        quantiles=scored.quantiles,
        personas=dict(personas),
        targets=tuple(sorted(targets)),
        notes=tuple(notes),
    )
    _append_run(backend, run)
    return run


def _segments(backend: Any, personas: Mapping[str, str], targets: Any, notes: list[str]) -> Any:
    table = segment_table(backend, personas, frozenset(targets))
    if table is None:
        notes.append(
            "no segment fit: the workspace has no named segments (run `streamwise customers "
            "segment`, then `streamwise plan build`)"
        )
    elif not targets:
        notes.append("no segment fit: the plan targets no segment (or no plan is saved)")
    return table


def _lead_model(
    older: pd.DataFrame, newer: pd.DataFrame, cutoff: date, horizon: int, notes: list[str]
) -> tuple[PropensityModel | None, HoldoutQuality | None]:
    try:
        model = PropensityModel(LEAD_FEATURES).fit(
            input_frame(newer, LEAD_FEATURES), newer["bought"]
        )
    except ModelError:
        bought = int(newer["bought"].sum()) if len(newer) else 0
        past = (
            f"of {len(newer):,} leads on {cutoff} {bought:,} bought in the next {horizon} days"
            if len(newer)
            else f"there were no leads (people without orders) on {cutoff}"
        )
        notes.append(
            f"leads are not scored: {past}, too few to estimate P(buy); any leads are listed "
            "after the customers, most recently active first"
        )
        return None, None
    try:
        _, quality = _fit_and_judge(LEAD_FEATURES, older, newer)
    except ModelError:
        notes.append(
            "the lead model is not validated: too few leads bought after the earlier cut-off"
        )
        return model, None
    return model, quality


def _append_run(backend: Any, run: HandOff) -> None:
    row = pd.DataFrame(
        {
            "run_id": [run.run_id],
            "created_at": [run.created_at.replace(tzinfo=None)],
            "as_of": [run.as_of],
            "document": [json.dumps(run.to_dict(), sort_keys=True)],
        }
    )
    if has_table(backend, "sales_runs"):
        backend.insert("sales_runs", row)
    else:
        backend.create_table("sales_runs", row)


def _stored(workspace: Any, run_id: str) -> HandOff | None:
    """Run ``run_id`` when it is stored and ``sales_leads`` holds it, else ``None``."""
    backend = workspace.analytics()
    if not (has_table(backend, "sales_runs") and has_table(backend, "sales_leads")):
        return None
    held = backend.table("sales_leads").select("run_id").limit(1).execute()
    if held.empty or held["run_id"].iloc[0] != run_id:
        return None
    return load_hand_off(workspace, run_id)


def load_hand_off(workspace: Any, run_id: str | None = None) -> HandOff:
    """The latest hand-off run (or run ``run_id``).

    Raises
    ------
    WorkspaceError
        When no run is stored (or ``run_id`` is unknown): run ``streamwise sales leads``.
    """
    backend = workspace.analytics()
    if not has_table(backend, "sales_runs"):
        raise WorkspaceError("no sales hand-off yet; run `streamwise sales leads` first")
    t = backend.table("sales_runs")
    if run_id is not None:
        t = t.filter(t.run_id == run_id)
    rows = t.order_by(ibis.desc("created_at")).limit(1).execute()
    if rows.empty:
        raise WorkspaceError(f"no sales hand-off run {run_id!r}; run `streamwise sales leads`")
    return HandOff.from_dict(json.loads(rows["document"].iloc[0]))
