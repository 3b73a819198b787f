"""Attribution on a workspace: paths from its ``touchpoints`` and ``orders``, every model, one
result table (``channel_attribution``) that the plan, reports and the dashboard read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
from ibis.common.exceptions import TableNotFound

from streamwise.errors import DataError
from streamwise.measure.attribution.paths import build_paths
from streamwise.measure.attribution.registry import MODELS, from_config

__all__ = ["RESULT_TABLES", "AttributionRun", "run_attribution"]

#: The tables :func:`run_attribution` writes.
RESULT_TABLES = ("channel_attribution", "attribution_paths")
#: Models run by default: the heuristics people know, Markov and Shapley.
DEFAULT_MODELS = ("last", "first", "linear", "position", "time_decay", "markov", "shapley")


@dataclass(frozen=True)
class AttributionRun:
    """Attributed conversions and value per model and channel.

    Attributes
    ----------
    table
        ``model, channel, conversions, value, share, removal_effect`` (removal effects for the
        Markov model only).
    paths
        The compressed paths (``path, conversions, value, nulls``).
    """

    table: pd.DataFrame
    paths: pd.DataFrame

    @property
    def journeys(self) -> int:
        """Journeys behind the paths (converting and not)."""
        return int(self.paths["conversions"].sum() + self.paths["nulls"].sum())

    def pivot(self, column: str = "conversions") -> pd.DataFrame:
        """Channels by model (one column per model)."""
        return self.table.pivot(index="channel", columns="model", values=column).fillna(0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the table's rows, path and journey counts."""
        return {
            "rows": self.table.to_dict(orient="records"),
            "paths": len(self.paths),
            "journeys": self.journeys,
        }


def run_attribution(
    workspace: Any,
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    order: int = 1,
    window_hours: float = 24.0,
    use_journey_ids: bool = True,
    collapse_repeats: bool = False,
    max_touches: int | None = None,
) -> AttributionRun:
    """Build paths from the workspace (Ibis on its analytics engine), run ``models`` and save
    ``channel_attribution`` and ``attribution_paths``.

    Parameters
    ----------
    models
        Names from :data:`~streamwise.measure.attribution.registry.MODELS`.
    order
        Order of the Markov chain (1–3).
    window_hours
        An order within this many hours after a journey's last touch is its conversion.
    use_journey_ids
        Group touches by ``touchpoints.journey_id`` where the data has it (otherwise journeys
        are cut at each order and after a week without touches).
    collapse_repeats, max_touches
        Path options (see :func:`~streamwise.measure.attribution.paths.paths_expr`).
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise DataError(f"unknown attribution model(s) {unknown}; choose from {sorted(MODELS)}")
    backend = workspace.analytics()  # DuckDB, PostgreSQL or Spark
    for needed in ("touchpoints", "orders"):
        try:
            backend.table(needed)
        except TableNotFound:
            raise DataError(
                f"the workspace has no {needed}; import them first "
                f"(streamwise import {needed} FILE)"
            ) from None
    touches = backend.table("touchpoints")
    journey = None
    if use_journey_ids and "journey_id" in touches.columns and touches.journey_id.count().execute():
        journey = "journey_id"
    paths = build_paths(
        touches,
        backend.table("orders"),
        window=timedelta(hours=window_hours),
        journey=journey,
        collapse_repeats=collapse_repeats,
        max_touches=max_touches,
    )
    if paths.empty or paths["conversions"].sum() == 0:
        raise DataError(
            "no touchpoint journey ends in a conversion within the window; check "
            "that touchpoints and orders share customer ids, or widen --window-hours"
        )
    parts = []
    for name in models:
        config: dict[str, Any] = {"name": name}
        if name == "markov":
            config["order"] = order
        frame = from_config(config).attribute(paths).to_frame()
        frame.insert(0, "model", name if name != "markov" else f"markov{order}")
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    if "removal_effect" not in table:
        table["removal_effect"] = float("nan")
    total = table.groupby("model")["conversions"].transform("sum")
    table["share"] = table["conversions"] / total
    table = table[["model", "channel", "conversions", "value", "share", "removal_effect"]]
    workspace.save_result("channel_attribution", table, RESULT_TABLES)
    workspace.save_result("attribution_paths", paths, RESULT_TABLES)
    return AttributionRun(table=table.reset_index(drop=True), paths=paths)
