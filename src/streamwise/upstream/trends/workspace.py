"""Market trends on a workspace's ``market_series``, with results written back as tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from streamwise.data.tables import replace_table
from streamwise.errors import DataError
from streamwise.upstream.trends.analysis import TrendsRun, analyse_trends
from streamwise.upstream.trends.forecast import DEFAULT_MODELS, Transform

__all__ = ["RESULT_TABLES", "run_trends"]

#: The tables :func:`run_trends` writes (names fixed here, never taken from input).
RESULT_TABLES = ("market_trends", "market_forecast", "market_backtest", "market_components")

_ALL = "SELECT category, metric, period, value FROM market_series ORDER BY category, metric, period"
_ONE = (
    "SELECT category, metric, period, value FROM market_series WHERE metric = $metric "
    "ORDER BY category, metric, period"
)
_METRICS = "SELECT DISTINCT metric FROM market_series ORDER BY metric"


def run_trends(
    workspace: Any,
    *,
    metric: str | None = None,
    horizon: int | None = None,
    models: Sequence[str] = DEFAULT_MODELS,
    backtest_horizon: int | None = None,
    windows: int = 4,
    transform: Transform = "auto",
    growth_years: float = 2.0,
    emerging: float = 0.15,
    declining: float = -0.05,
    n_jobs: int | None = None,
    on_step: Callable[[str], None] | None = None,
) -> TrendsRun:
    """Analyse the workspace's market series and save the tables ``market_trends``,
    ``market_forecast``, ``market_backtest`` and ``market_components``.

    Parameters
    ----------
    workspace
        An open :class:`~streamwise.workspace.Workspace`.
    metric
        Only this metric (default: every metric).
    horizon, models, backtest_horizon, windows, transform, growth_years, emerging, declining,
    n_jobs, on_step
        As for :func:`~streamwise.upstream.trends.analysis.analyse_trends`.

    Raises
    ------
    DataError
        No market series (for ``metric``), or a series is irregular or too short.
    """
    con = workspace.duckdb()
    query = con.execute(_ALL) if metric is None else con.execute(_ONE, {"metric": metric})
    frame = query.df()
    if frame.empty:
        if metric is None:
            raise DataError(
                "the workspace has no market_series data; import it with "
                "`streamwise import market_series FILE`"
            )
        present = [row[0] for row in con.execute(_METRICS).fetchall()]
        raise DataError(
            f"the workspace has no market_series rows for metric {metric!r}; "
            f"metrics present: {', '.join(present) or 'none'}"
        )
    run = analyse_trends(
        frame,
        horizon=horizon,
        models=models,
        backtest_horizon=backtest_horizon,
        windows=windows,
        transform=transform,
        growth_years=growth_years,
        emerging=emerging,
        declining=declining,
        n_jobs=n_jobs,
        on_step=on_step,
    )
    if on_step is not None:
        on_step("saving the tables")
    replace_table(con, "market_trends", run.trends, RESULT_TABLES)
    replace_table(con, "market_forecast", run.forecast, RESULT_TABLES)
    replace_table(con, "market_backtest", run.backtest.to_frame(), RESULT_TABLES)
    replace_table(con, "market_components", run.decomposition.components, RESULT_TABLES)
    return run
