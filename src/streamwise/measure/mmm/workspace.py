"""The media mix model on a workspace: weekly spend and new customers from its tables, the fit,
and the results saved where the budget optimiser and the feedback run find them
(``media_roi``, and the response curves in ``response_curves``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from streamwise.data.tables import replace_table, table_names
from streamwise.errors import DataError
from streamwise.measure.curves import save_curves
from streamwise.measure.mmm.data import MediaData
from streamwise.measure.mmm.estimator import MediaMix

__all__ = ["RESULT_TABLES", "MediaMixRun", "first_order_value", "read_lift_tests", "run_mmm"]

#: The table :func:`run_mmm` writes besides ``response_curves``.
RESULT_TABLES = ("media_roi",)
LIFT_COLUMNS = ("channel", "start", "end", "delta_spend", "delta_y", "sigma")


@dataclass(frozen=True)
class MediaMixRun:
    """A fitted model on a workspace: the model, its per-channel table and the data it saw."""

    model: MediaMix
    table: pd.DataFrame
    data: MediaData

    def to_dict(self) -> dict[str, Any]:
        """Plain data: per-channel results and the diagnostics' worst values."""
        return {
            "channels": self.table.to_dict(orient="records"),
            "weeks": self.data.n_weeks,
            "value_per_unit": self.model.value_per_unit,
        }


def first_order_value(workspace: Any) -> float:
    """Mean amount of customers' first orders: what a new customer is worth at once (the
    outcome of the model is new customers)."""
    con = workspace.duckdb()
    if "orders" not in table_names(con):
        raise DataError("the workspace has no orders; import them, or pass --value-per-customer")
    value = con.execute(
        "SELECT avg(amount) FROM (SELECT arg_min(amount, order_date) AS amount FROM orders "
        "GROUP BY customer_id)"
    ).fetchall()[0][0]
    if value is None:
        raise DataError("no orders to value a new customer by; pass --value-per-customer")
    return float(value)


def read_lift_tests(path: str | Path) -> pd.DataFrame:
    """Lift tests from a CSV file with columns ``channel, start, end, delta_spend, delta_y,
    sigma`` (see :meth:`MediaMix.fit`)."""
    frame = pd.read_csv(path)
    missing = [c for c in LIFT_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: lift tests need the columns {', '.join(LIFT_COLUMNS)}; "
            f"missing {', '.join(missing)}"
        )
    return frame


def run_mmm(
    workspace: Any,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    seed: int = 0,
    value_per_unit: float | None = None,
    lift_tests: pd.DataFrame | None = None,
    likelihood: str = "normal",
) -> MediaMixRun:
    """Fit the media mix model to the workspace's weekly spend and new customers and save
    ``media_roi`` and ``response_curves``."""
    if "jax" not in sys.modules and importlib.util.find_spec("numpyro") is not None:
        # one CPU device per chain so the chains run in parallel (2× faster on 2 cores than
        # vectorised); it must be set before JAX starts, and does nothing on a GPU
        import numpyro

        numpyro.set_host_device_count(max(chains, os.cpu_count() or 1))
    data = MediaData.from_workspace(workspace)
    value = value_per_unit if value_per_unit is not None else first_order_value(workspace)
    model = MediaMix(
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        value_per_unit=value,
        likelihood=likelihood,
    )  # type: ignore[arg-type]
    model.fit(data, lift_tests=lift_tests)
    table = model.results().to_frame().reset_index()
    con = workspace.duckdb()
    replace_table(con, "media_roi", table, RESULT_TABLES)
    save_curves(con, model.response_curves())
    return MediaMixRun(model=model, table=table, data=data)
