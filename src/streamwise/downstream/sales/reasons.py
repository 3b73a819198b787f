"""The reasons for a rank, in plain words.

A customer's log-odds of buying is the intercept plus one contribution per feature (coefficient
× standardised value, see :mod:`~streamwise.downstream.sales.model`), so the features with the
largest contributions in absolute value are exactly what lifts or holds back this customer
against an average one. Each becomes a sentence about the raw value ("clicked an e-mail 3 days
ago"), marked ``+`` when it raises P(buy) and ``-`` when it lowers it. Days are counted back from
the hand-off's as-of date (the last order day in the data).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.downstream.sales.features import (
    EMAIL_WINDOW_DAYS,
    NEVER_ACTIVE_DAYS,
    WEB_WINDOW_DAYS,
)
from streamwise.downstream.sales.scoring import ALL_FEATURES, contribution_column

__all__ = ["SENTENCES", "Reason", "join_reasons", "rank_words", "reasons_for"]

_BUCKETS = (1, 2, 5, 10, 20, 25, 30, 40, 50)
#: Contributions smaller than this (log-odds) explain nothing worth saying.
_NEGLIGIBLE = 0.01


@dataclass(frozen=True)
class Reason:
    """One reason: the feature, its contribution to the log-odds (``None`` for notes such as
    the lead flag) and the sentence."""

    feature: str
    contribution: float | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"feature": self.feature, "contribution": self.contribution, "text": self.text}

    def __str__(self) -> str:
        if self.contribution is None:
            return self.text
        return f"{'+' if self.contribution > 0 else '-'} {self.text}"


def join_reasons(reasons: Sequence[Reason]) -> str:
    """The reasons as one line (the CSV cell): ``"+ P(alive) 0.93, top 10 %; - ..."``."""
    return "; ".join(str(r) for r in reasons)


def rank_words(value: float, quantiles: Sequence[float]) -> str:
    """Where ``value`` stands among scored customers: ``"top 10 %"`` or ``"bottom 20 %"`` (the
    share rounded up to 1, 2, 5, 10, 20, 25, 30, 40 or 50 %); empty without quantiles."""
    if not quantiles or not math.isfinite(value):
        return ""
    # Whole numbers only: `below` of `total` parts lie at or below the value.
    total = len(quantiles) + 1
    below = bisect.bisect_right(quantiles, value)
    part, word = (total - below, "top") if 2 * below >= total else (below, "bottom")
    bucket = next((b for b in _BUCKETS if 100 * part <= b * total), 50)
    return f"{word} {bucket} %"


def _ago(days: Any) -> str:
    d = int(days)
    return "on the as-of day" if d <= 0 else "1 day ago" if d == 1 else f"{d} days ago"


def _plural(n: int, one: str, many: str) -> str:
    return f"1 {one}" if n == 1 else f"{n} {many}"


def _with_rank(text: str, value: float, run: Any, raw: str) -> str:
    words = rank_words(value, run.quantiles.get(raw, ()))
    return f"{text}, {words}" if words else text


def _alive(row: Mapping[str, Any], run: Any) -> str:
    v = float(row["probability_alive"])
    return _with_rank(f"P(alive) {v:.2f}", v, run, "probability_alive")


def _expected(row: Mapping[str, Any], run: Any) -> str:
    v = float(row["expected_purchases"])
    return _with_rank(f"expects {v:.1f} purchases in the CLV horizon", v, run, "expected_purchases")


def _clv(row: Mapping[str, Any], run: Any) -> str:
    v = float(row["clv"])
    return _with_rank(f"CLV {v:,.0f} {run.currency}", v, run, "clv")


def _opens(row: Mapping[str, Any], run: Any) -> str:
    n = int(row["email_opens_90d"])
    what = "no e-mail" if n == 0 else _plural(n, "e-mail", "e-mails")
    return f"opened {what} in the last {EMAIL_WINDOW_DAYS} days"


def _clicks(row: Mapping[str, Any], run: Any) -> str:
    n = int(row["email_clicks_90d"])
    if n == 0:
        return f"clicked no e-mail in the last {EMAIL_WINDOW_DAYS} days"
    last = _ago(row["last_email_click_days"])
    if n == 1:
        return f"clicked an e-mail {last}"
    return f"clicked {n} e-mails in the last {EMAIL_WINDOW_DAYS} days, most recently {last}"


def _web(row: Mapping[str, Any], run: Any) -> str:
    n = int(row["web_views_30d"])
    if n == 0:
        return f"no site or app visits in the last {WEB_WINDOW_DAYS} days"
    return f"{_plural(n, 'site/app view', 'site/app views')} in the last {WEB_WINDOW_DAYS} days"


def _ads(row: Mapping[str, Any], run: Any) -> str:
    n = int(row["ad_clicks_30d"])
    if n == 0:
        return f"no ad clicks in the last {WEB_WINDOW_DAYS} days"
    what = _plural(n, "ad click or visit", "ad clicks or visits")
    return f"{what} in the last {WEB_WINDOW_DAYS} days"


def _active(row: Mapping[str, Any], run: Any) -> str:
    d = int(row["days_since_active"])
    if d >= NEVER_ACTIVE_DAYS:
        return "no recorded activity in two years"
    return f"last active {_ago(d)}"


def _target(row: Mapping[str, Any], run: Any) -> str:
    segment, persona = row.get("segment"), row.get("persona")
    if not isinstance(segment, str) or not segment:
        return "no behavioural segment yet"
    if int(row["in_target"]) == 1:
        who = f" (persona {persona.split(' (')[0]})" if isinstance(persona, str) else ""
        return f"in target segment {segment}{who}"
    return f"segment {segment} is not a target of the plan"


def _signup(row: Mapping[str, Any], run: Any) -> str:
    return f"signed up {_ago(row['days_since_signup'])}"


#: The sentence of each feature, from the row's raw values.
SENTENCES: dict[str, Callable[[Mapping[str, Any], Any], str]] = {
    "probability_alive": _alive,
    "log_expected_purchases": _expected,
    "log_clv": _clv,
    "log_email_opens": _opens,
    "log_email_clicks": _clicks,
    "log_web_views": _web,
    "log_ad_clicks": _ads,
    "log_days_since_active": _active,
    "in_target": _target,
    "log_days_since_signup": _signup,
}


class _Row(Mapping[str, Any]):
    """Row ``i`` of a set of columns, read on demand (cheaper than a dict per row)."""

    def __init__(self, columns: Mapping[str, np.ndarray], i: int) -> None:
        self._columns = columns
        self._i = i

    def __getitem__(self, key: str) -> Any:
        return self._columns[key][self._i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def reasons_for(frame: pd.DataFrame, run: Any, *, top: int = 3) -> list[list[Reason]]:
    """The ``top`` reasons of each row of ``frame`` (rows of ``sales_leads``).

    Leads carry a first note "lead: no order yet"; unscored leads say why and what they did.
    """
    columns = [contribution_column(f) for f in ALL_FEATURES]
    values = frame[columns].to_numpy(dtype=float)
    size = np.where(np.isnan(values), -1.0, np.abs(values))
    order = np.argsort(-size, axis=1, kind="stable")[:, :top]
    out: list[list[Reason]] = []
    data = {c: frame[c].to_numpy() for c in frame.columns}
    is_lead = frame["is_lead"].to_numpy(dtype=int)
    for i in range(len(frame)):
        row = _Row(data, i)
        items: list[Reason] = []
        if is_lead[i] == 1:
            items.append(Reason("lead", None, "lead: no order yet"))
            if pd.isna(row["p_buy"]):
                items.append(
                    Reason("lead", None, "not scored: too few past leads bought to estimate P(buy)")
                )
                items += [Reason(f, None, SENTENCES[f](row, run)) for f in
                          ("log_web_views", "log_days_since_active")]  # fmt: skip
                out.append(items)
                continue
        for j in order[i]:
            if size[i, j] < _NEGLIGIBLE:
                break
            feature = ALL_FEATURES[j]
            items.append(Reason(feature, float(values[i, j]), SENTENCES[feature](row, run)))
        out.append(items)
    return out
