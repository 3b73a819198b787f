"""The weekly design of a media mix model: spend per channel, the outcome and optional controls.

:meth:`MediaData.from_frames` takes spend in long form (``period, channel, amount``, as in the
``spend`` contract) or wide form (one column per channel, indexed by week start) and an outcome
series indexed by week start. :meth:`MediaData.from_workspace` reads both from a workspace: spend
summed per week and channel, and new customers counted per signup week, aggregated by the
analytics engine (Ibis) so that no raw rows are pulled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from streamwise.errors import DataError, ModelError

__all__ = ["MIN_WEEKS", "MediaData"]

#: Fewer weeks than this cannot separate media from seasonality.
MIN_WEEKS = 26

_WEEK = pd.Timedelta(days=7)


def _show(weeks: Any, limit: int = 5) -> str:
    items = [pd.Timestamp(w).date().isoformat() for w in list(weeks)[:limit]]
    more = len(weeks) - limit
    return ", ".join(items) + (f" and {more} more" if more > 0 else "")


def _wide_spend(spend: pd.DataFrame) -> pd.DataFrame:
    if {"period", "channel", "amount"} <= set(spend.columns):
        if spend["amount"].isna().any():
            raise DataError(
                "spend has empty amounts; fill them (0 if nothing was spent)",
                source="spend",
                column="amount",
            )
        frame = spend.assign(period=pd.to_datetime(spend["period"]).dt.tz_localize(None))
        wide = frame.pivot_table(index="period", columns="channel", values="amount", aggfunc="sum")
    else:
        wide = spend.copy()
        wide.index = pd.to_datetime(wide.index).tz_localize(None)
    wide = wide.sort_index()
    wide.columns = [str(c) for c in wide.columns]
    wide.index.name = "week_start"
    return wide.astype(np.float64)


@dataclass(frozen=True, eq=False)
class MediaData:
    """Weekly spend per channel (columns), the outcome and controls, on consecutive weeks.

    Parameters
    ----------
    spend
        Spend per week (rows, indexed by week start) and channel (columns), non-negative.
    outcome
        The outcome per week (new customers, orders, revenue ...), same index.
    controls
        Optional other drivers per week (price index, promotions ...), same index.
    """

    spend: pd.DataFrame
    outcome: pd.Series
    controls: pd.DataFrame | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names in column order."""
        return tuple(self.spend.columns)

    @property
    def week_start(self) -> pd.DatetimeIndex:
        """Start of each week."""
        return pd.DatetimeIndex(self.spend.index)

    @property
    def n_weeks(self) -> int:
        """Number of weeks."""
        return len(self.spend)

    @classmethod
    def from_frames(
        cls,
        spend: pd.DataFrame,
        outcome: pd.Series | pd.DataFrame,
        controls: pd.DataFrame | None = None,
        *,
        channels: list[str] | tuple[str, ...] | None = None,
    ) -> MediaData:
        """Check and align spend, outcome and controls.

        Parameters
        ----------
        spend
            Long form (``period``, ``channel``, ``amount``) or wide form (index week start,
            one column per channel). Weeks with no row for a channel count as missing.
        outcome
            Series indexed by week start, or a frame with ``week_start`` (or ``period``) and one
            value column.
        controls
            Frame indexed by week start, one column per control.
        channels
            Keep only these channels (default: all in ``spend``).

        Raises
        ------
        DataError
            Missing or irregular weeks, negative or empty spend, a channel that never spends,
            an outcome with gaps, or too few weeks.
        """
        wide = _wide_spend(spend)
        if channels is not None:
            unknown = [c for c in channels if c not in wide.columns]
            if unknown:
                raise DataError(
                    f"no spend for channel(s) {', '.join(unknown)}; the spend table has: "
                    f"{', '.join(wide.columns)}",
                    source="spend",
                    column="channel",
                )
            wide = wide[list(channels)]
        if wide.empty or wide.shape[1] == 0:
            raise DataError("there is no spend; import the spend table first", source="spend")
        y = cls._outcome_series(outcome)
        start = max(wide.index.min(), y.index.min())
        end = min(wide.index.max(), y.index.max())
        if start > end:
            raise DataError(
                f"spend ({_show([wide.index.min()])} to {_show([wide.index.max()])}) and outcome "
                f"({_show([y.index.min()])} to {_show([y.index.max()])}) do not overlap",
                source="outcome",
            )
        weeks = pd.date_range(start, end, freq="7D")
        wide = wide.loc[(wide.index >= start) & (wide.index <= end)]
        off_grid = wide.index.difference(weeks)
        if len(off_grid):
            raise DataError(
                f"spend periods {_show(off_grid)} are not on the weekly grid starting "
                f"{_show([start])}; aggregate spend to weeks that start on the same weekday",
                source="spend",
                column="period",
            )
        missing = weeks.difference(wide.index)
        if len(missing):
            raise DataError(
                f"spend is missing for week(s) {_show(missing)}; add rows with amount 0 for weeks "
                "without spend, or fit on a period without gaps",
                source="spend",
                column="period",
            )
        gaps = wide.isna()
        if gaps.any().any():
            bad = {c: wide.index[gaps[c]] for c in wide.columns if gaps[c].any()}
            detail = "; ".join(f"{c}: {_show(w)}" for c, w in bad.items())
            raise DataError(
                f"spend is missing for some channel-weeks ({detail}); add rows with amount 0 "
                "where nothing was spent",
                source="spend",
                column="amount",
            )
        negative = (wide < 0).any()
        if negative.any():
            names = ", ".join(wide.columns[negative])
            raise DataError(
                f"negative spend for channel(s) {names}; spend must be >= 0 (refunds belong to "
                "the week they reduce, netted to 0 at least)",
                source="spend",
                column="amount",
            )
        zero = wide.sum() <= 0
        if zero.any():
            names = ", ".join(wide.columns[zero])
            raise DataError(
                f"channel(s) {names} have no spend in {_show([start])} to {_show([end])}; their "
                "effect cannot be estimated: leave them out (channels=[...])",
                source="spend",
                column="channel",
            )
        y = y.reindex(weeks)
        if y.isna().any():
            raise DataError(
                f"the outcome is missing for week(s) {_show(weeks[y.isna().to_numpy()])}; every "
                "week with spend needs an outcome value",
                source="outcome",
            )
        if len(weeks) < MIN_WEEKS:
            raise DataError(
                f"only {len(weeks)} weeks of data; a media mix model needs at least {MIN_WEEKS} "
                "(two years or more to separate media from seasonality)",
                source="spend",
            )
        ctrl = None
        if controls is not None:
            ctrl = controls.copy()
            ctrl.index = pd.to_datetime(ctrl.index).tz_localize(None)
            ctrl = ctrl.reindex(weeks).astype(np.float64)
            if ctrl.isna().any().any():
                raise DataError(
                    "controls are missing for some weeks; give every control a value in every week",
                    source="controls",
                )
            ctrl.index.name = "week_start"
        wide.index = weeks.rename("week_start")
        y.index = wide.index
        return cls(spend=wide, outcome=y.rename(y.name or "outcome"), controls=ctrl)

    @staticmethod
    def _outcome_series(outcome: pd.Series | pd.DataFrame) -> pd.Series:
        if isinstance(outcome, pd.DataFrame):
            key = next((k for k in ("week_start", "period", "week") if k in outcome.columns), None)
            values = [c for c in outcome.columns if c != key]
            if key is None or len(values) != 1:
                raise DataError(
                    "pass the outcome as a series indexed by week start, or a frame with a "
                    "week_start column and one value column",
                    source="outcome",
                )
            outcome = outcome.set_index(key)[values[0]]
        y = pd.Series(np.asarray(outcome, dtype=np.float64), index=pd.to_datetime(outcome.index))
        y.index = y.index.tz_localize(None)
        y.name = outcome.name
        y = y.groupby(level=0).sum().sort_index()
        if (y < 0).any():
            raise DataError("the outcome has negative values", source="outcome")
        return y

    @classmethod
    def from_workspace(
        cls,
        workspace: Any,
        *,
        channels: list[str] | tuple[str, ...] | None = None,
        start: date | str | None = None,
        end: date | str | None = None,
    ) -> MediaData:
        """Weekly spend per channel and new customers per signup week from a workspace.

        Spend is summed per ``period`` and channel in the analytics engine; customers are
        counted per ``signup_date`` there, and the days are binned into the spend's weeks
        (``week_start <= signup_date < week_start + 7 days``).

        Parameters
        ----------
        workspace
            An open :class:`streamwise.workspace.Workspace`.
        channels
            Keep only these channels.
        start, end
            Keep weeks starting in this range (inclusive).
        """
        db = workspace.analytics()
        spend_t = db.table("spend")
        spend = (
            spend_t.group_by(["period", "channel"])
            .aggregate(amount=spend_t.amount.sum())
            .to_pandas()
        )
        if spend.empty:
            raise ModelError("the workspace has no spend yet; import it with streamwise import")
        customers = db.table("customers")
        days = (
            customers.group_by("signup_date")
            .aggregate(n=customers.count())
            .to_pandas()
            .dropna(subset=["signup_date"])
        )
        if days.empty:
            raise ModelError(
                "the workspace has no customers yet; import them with streamwise import"
            )
        periods = pd.to_datetime(spend["period"]).sort_values().unique()
        first = pd.Timestamp(periods[0])
        day = pd.to_datetime(days["signup_date"])
        week = first + ((day - first) // pd.Timedelta(days=1) // 7) * _WEEK
        outcome = days.groupby(week.to_numpy())["n"].sum().astype(np.float64)
        # a week of spend in which nobody signed up had 0 new customers, not a missing value
        outcome = outcome.reindex(pd.DatetimeIndex(periods).union(outcome.index), fill_value=0.0)
        outcome.name = "new_customers"
        spend = spend.assign(period=pd.to_datetime(spend["period"]))
        if start is not None:
            spend = spend[spend["period"] >= pd.Timestamp(start)]
        if end is not None:
            spend = spend[spend["period"] <= pd.Timestamp(end)]
        return cls.from_frames(spend, outcome, channels=channels)

    def to_frame(self) -> pd.DataFrame:
        """One row per week: spend per channel, controls and the outcome."""
        parts = [self.spend, self.outcome.rename("outcome").to_frame()]
        if self.controls is not None:
            parts.insert(1, self.controls)
        return pd.concat(parts, axis=1)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: weeks, channels, total spend per channel and the outcome's total."""
        return {
            "weeks": self.n_weeks,
            "first_week": self.week_start[0].date().isoformat(),
            "last_week": self.week_start[-1].date().isoformat(),
            "channels": list(self.channels),
            "total_spend": {c: float(v) for c, v in self.spend.sum().items()},
            "outcome_total": float(self.outcome.sum()),
            "controls": [] if self.controls is None else list(self.controls.columns),
        }
