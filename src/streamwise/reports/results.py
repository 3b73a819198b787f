"""The latest results: what the campaigns caused, which channels get the credit, what media
returns and how to split the budget, from what the workspace holds.

Each section reads one kind of result: campaign lift against the holdouts (the operational
database, :func:`~streamwise.measure.incrementality.workspace_lift`), ``channel_attribution``,
``media_roi`` and ``response_curves`` (the analytics database), and the budget the latest
measurement run recommended (the plan). When a result is missing its section says which command
makes it; a table with unexpected columns gives a section that says so, never a failed report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from streamwise.measure.curves import load_curves
from streamwise.measure.feedback import current_spend
from streamwise.plan.document import PlanDocument
from streamwise.reports.html import Figure, Heading, Paragraph, Section, Table
from streamwise.reports.measure_charts import (
    attribution_chart,
    budget_chart,
    lift_chart,
    response_chart,
    roi_chart,
)
from streamwise.reports.tables import read_table

__all__ = [
    "RESULT_HINTS",
    "attribution_section",
    "budget_section",
    "lift_section",
    "media_mix_section",
    "response_frame",
    "results_sections",
]

#: Per section: its title, what is missing, and what to run to make it.
RESULT_HINTS = {
    "lift": (
        "Campaign lift",
        "No campaign with a holdout has been sent yet, so nothing says what the campaigns caused.",
        "Give a campaign a holdout (`holdout: 0.1`), send it, then run `streamwise measure lift`.",
    ),
    "attribution": (
        "Channel attribution",
        "The workspace has no channel attribution yet.",
        "Import touchpoints and orders and run `streamwise measure attribution`.",
    ),
    "media-mix": (
        "Media mix: return on spend",
        "The workspace has no media mix model yet.",
        "Import spend and run `streamwise measure mmm` (needs the `[bayes]` extra).",
    ),
    "budget": (
        "Media budget",
        "No budget recommendation yet.",
        "Fit the media mix model (`streamwise measure mmm`), then run "
        "`streamwise measure feedback -q QUESTIONNAIRE` to save one in the plan "
        "(`streamwise measure budget` prints one without saving it).",
    ),
}


def _hint(key: str) -> Section:
    title, missing, todo = RESULT_HINTS[key]
    return Section(title, lead=missing, blocks=[Paragraph(todo, "hint")], id=key)


def _interval(low: Any, high: Any, fmt: str) -> str:
    if pd.isna(low) or pd.isna(high):
        return "–"
    return f"{fmt.format(low)} … {fmt.format(high)}"


def lift_section(workspace: Any, plan: PlanDocument | None = None) -> Section:
    """Every campaign's conversion lift against its holdout, overall and per persona, with 95%
    intervals: a chart and a table of incremental conversions and revenue."""
    from streamwise.measure.incrementality import workspace_lift

    lifts = workspace_lift(workspace, by="persona")
    lifts = lifts[lifts["conversion_lift"].notna()]
    # overall, and per persona unless the campaign is itself for that persona
    keep = [
        g == "all" or str(g) not in str(c)
        for c, g in zip(lifts["campaign"], lifts["group"], strict=True)
    ]
    lifts = lifts[keep]
    if lifts.empty:
        return _hint("lift")
    frame = pd.DataFrame(
        {
            "label": [f"{c} · {g}" for c, g in zip(lifts["campaign"], lifts["group"], strict=True)],
            "lift": lifts["conversion_lift"].astype(float),
            "low": lifts["conversion_lift_low"].astype(float),
            "high": lifts["conversion_lift_high"].astype(float),
        }
    )
    table = pd.DataFrame(
        {
            "campaign": lifts["campaign"],
            "group": lifts["group"],
            "treated": lifts["treated"],
            "holdout": lifts["holdout"],
            "conversion lift": lifts["conversion_lift"],
            "95% interval": [
                _interval(lo, hi, "{:+.2%}")
                for lo, hi in zip(
                    lifts["conversion_lift_low"], lifts["conversion_lift_high"], strict=True
                )
            ],
            "incremental conversions": lifts["incremental_conversions"],
            "incremental revenue": lifts["incremental_revenue"],
        }
    )
    overall = lifts[lifts["group"] == "all"]
    above = overall[overall["conversion_lift_low"] > 0]["campaign"].tolist()
    below = overall[overall["conversion_lift_high"] < 0]["campaign"].tolist()
    lead = f"{len(overall)} campaign(s) measured against their holdouts. "
    if above:
        lead += f"Raised conversions beyond doubt: {', '.join(f'**{c}**' for c in above)}. "
    if below:
        lead += f"Lowered them beyond doubt: {', '.join(f'**{c}**' for c in below)}. "
    if not above and not below:
        lead += "None changed conversions beyond doubt: every 95% interval includes zero."
    elif not above:
        lead += "None raised them beyond doubt."
    blocks = [
        Figure(lift_chart(frame), caption="Treated minus held-out conversion rate per send."),
        Table(
            table,
            caption="Incremental effect against the holdout (95% intervals)",
            formats={"conversion lift": "{:+.2%}"},
        ),
    ]
    return Section("Campaign lift", lead=lead.strip(), blocks=blocks, id="lift")


def attribution_section(workspace: Any, plan: PlanDocument | None = None) -> Section:
    """Conversions credited to each channel by each attribution model (``channel_attribution``),
    as a chart of shares and a table of conversions, with the Markov removal effects."""
    table = read_table(workspace, "channel_attribution")
    if table is None:
        return _hint("attribution")
    shares = table.pivot_table(index="channel", columns="model", values="share", sort=True)
    shares = shares.loc[shares.mean(axis=1).sort_values(ascending=False).index].reset_index()
    shares.columns.name = None
    models = [str(c) for c in shares.columns if c != "channel"]
    top = shares.iloc[0]
    low, high = float(top[models].min()), float(top[models].max())
    credit = (
        f"{high:.0%} of the conversions ({models[0]})"
        if len(models) == 1
        else f"{low:.0%} to {high:.0%} of the conversions across {len(models)} models"
    )
    lead = (
        f"**{top['channel']}** gets the most credit: {credit}. Where the models disagree, a "
        "channel's credit depends on its place in the journey (first, last or assisting touch)."
    )
    blocks: list = [
        Figure(attribution_chart(table), caption="Each model's share of the conversions."),
        Table(
            shares,
            caption="Share of conversions per channel and model",
            formats=dict.fromkeys(models, "{:.1%}"),
        ),
    ]
    if "removal_effect" in table.columns and table["removal_effect"].notna().any():
        effects = (
            table.dropna(subset=["removal_effect"])[["channel", "removal_effect"]]
            .drop_duplicates("channel")
            .sort_values("removal_effect", ascending=False)
            .rename(columns={"removal_effect": "removal effect"})
        )
        blocks += [
            Heading("What removing a channel would cost"),
            Table(
                effects,
                caption="Markov removal effect: the share of conversions lost without the channel",
                formats={"removal effect": "{:.2f}"},
            ),
        ]
    return Section("Channel attribution", lead=lead, blocks=blocks, id="attribution")


def response_frame(workspace: Any, points: int = 41) -> pd.DataFrame | None:
    """The saved response curves on a grid of spend per channel (from zero to twice today's
    spend or the half-saturation spend, whichever is larger), with a ``current`` row at today's
    spend; None when no curves are saved."""
    con = workspace.duckdb()
    curves = load_curves(con)
    if not curves:
        return None
    spend = current_spend(con)
    parts = []
    for channel, curve in curves.items():
        now = spend.get(channel)
        top = 2 * max(now or 0.0, float(np.mean(curve.K)))
        grid = np.linspace(0.0, top, points)
        frame = curve.to_frame(grid).assign(current=False)
        if now is not None:
            frame = pd.concat([frame, curve.to_frame([now]).assign(current=True)])
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def media_mix_section(workspace: Any, plan: PlanDocument | None = None) -> Section:
    """ROI per channel with its interval (``media_roi``) and the response curves."""
    roi = read_table(workspace, "media_roi")
    curves = response_frame(workspace)
    if roi is None and curves is None:
        return _hint("media-mix")
    blocks: list = []
    lead = "What the media mix model learned about each channel."
    if roi is not None:
        roi = roi.sort_values("roi", ascending=False)
        best, worst = roi.iloc[0], roi.iloc[-1]
        losing = roi[roi["roi_high"] < 1]["channel"].tolist()
        lead = (
            f"**{best['channel']}** returns the most per unit of spend (ROI {best['roi']:.2f}), "
            f"**{worst['channel']}** the least ({worst['roi']:.2f})."
        )
        if losing:
            lead += f" {', '.join(losing)} do not earn back their spend."
        shown = pd.DataFrame(
            {
                "channel": roi["channel"],
                "spend": roi["spend"],
                "contribution": roi["contribution"],
                "ROI": roi["roi"],
                "interval": [
                    _interval(lo, hi, "{:.2f}")
                    for lo, hi in zip(roi["roi_low"], roi["roi_high"], strict=True)
                ],
                "marginal ROI": roi["marginal_roi"],
            }
        )
        blocks += [
            Figure(roi_chart(roi), caption="Revenue per unit of spend, 90% interval."),
            Table(
                shown,
                caption="Media mix model per channel (contribution in new customers)",
                formats={"ROI": "{:.2f}", "marginal ROI": "{:.2f}", "contribution": "{:,.0f}"},
            ),
        ]
    if curves is not None:
        blocks += [
            Heading("Response curves"),
            Figure(
                response_chart(curves),
                caption="Outcome per period for a steady spend per period; the flatter the "
                "curve at the diamond, the less the next unit of spend brings.",
            ),
        ]
    else:
        blocks.append(
            Paragraph("No response curves saved: run `streamwise measure mmm` again.", "hint")
        )
    return Section("Media mix: return on spend", lead=lead, blocks=blocks, id="media-mix")


def budget_section(workspace: Any, plan: PlanDocument | None = None) -> Section:
    """The media budget the latest measurement run recommends (the plan's measurement), today's
    split beside it."""
    m = plan.measurement if plan is not None else None
    if m is None or not m.budget:
        return _hint("budget")
    frame = pd.DataFrame([b.model_dump() for b in m.budget]).rename(columns={"id": "channel"})
    frame["change"] = frame["recommended"] - frame["current"]
    total = float(frame["current"].sum())
    moves = frame[(frame["change"].abs() > 0.05 * frame["current"])]
    lead = f"Same total of {total:,.0f} per period, as the measurement run on {m.as_of} found. "
    lead += (
        "Move " + "; ".join(
            f"{r.channel} {r.current:,.0f} → {r.recommended:,.0f}" for r in moves.itertuples()
        ) + "."
        if len(moves)
        else "Today's split is close to the best one."
    )  # fmt: skip
    table = frame[["channel", "current", "recommended", "change", "roi", "marginal_roi"]].rename(
        columns={"roi": "ROI", "marginal_roi": "marginal ROI"}
    )
    blocks: list = [
        Figure(
            budget_chart(frame[["channel", "current", "recommended"]]),
            caption="Media spend per period, today and recommended.",
        ),
        Table(
            table,
            caption="Spend per period by channel",
            formats={"change": "{:+,.0f}", "ROI": "{:.2f}", "marginal ROI": "{:.2f}"},
        ),
    ]
    return Section("Media budget", lead=lead, blocks=blocks, id="budget")


_SECTIONS: tuple[Callable[[Any, PlanDocument | None], Section], ...] = (
    lift_section, attribution_section, media_mix_section, budget_section,
)  # fmt: skip


def _safe(build: Callable[[Any, PlanDocument | None], Section], ws: Any, plan: Any) -> Section:
    """A section, or one that says why it could not be made (a table with unexpected columns)."""
    try:
        return build(ws, plan)
    except (KeyError, ValueError, TypeError) as exc:
        name = build.__name__.removesuffix("_section").replace("_", " ").capitalize()
        return Section(
            name,
            lead="This section could not be made from the workspace's results.",
            blocks=[Paragraph(f"{type(exc).__name__}: {exc}", "caveat")],
        )


def results_sections(workspace: Any, *, plan: PlanDocument | None = None) -> list[Section]:
    """The latest results, in reading order: campaign lift, channel attribution, media mix and
    the media budget.

    Parameters
    ----------
    workspace
        A :class:`streamwise.workspace.Workspace`.
    plan
        The latest plan version, whose measurement holds the recommended budget.

    Returns
    -------
    list of Section
        One per kind of result; a missing one says which command makes it.
    """
    return [_safe(build, workspace, plan) for build in _SECTIONS]
