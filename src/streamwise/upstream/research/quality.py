"""Screening survey respondents: speeders, straight-liners, duplicates, inconsistent answers.

Each check flags respondents with a reason; a flagged respondent is left out of every analysis,
and every report states how many were left out and why (nothing is dropped silently).

The rules (common practice; thresholds are parameters):

* **speeder**: finished in less than ``speed_ratio`` (default 1/3) of the median time of all
  respondents (``duration_seconds``), a rule used by survey platforms such as Qualtrics and
  discussed by Greszki, Meyer & Schoen (2015), *Public Opinion Quarterly* 79(S1).
* **straight-liner**: gave the same answer to every question of a rating grid (rating questions
  sharing one ``grid`` name, or else one scale) of at least ``grid_min`` questions.
* **duplicate**: the same ``customer_id`` answered again, or another respondent gave exactly the
  same answers to at least ``duplicate_min`` questions (the later respondent is flagged).
* **inconsistent**: Van Westendorp prices out of order (too cheap, cheap, expensive, too
  expensive must not decrease). (Kano's "questionable" answer pairs concern one feature only;
  the Kano analysis reports them per feature instead of leaving the respondent out.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from streamwise.upstream.research.questionnaire import VW_POINTS
from streamwise.upstream.research.responses import Survey

__all__ = ["Screening", "screen"]


@dataclass(frozen=True)
class Screening:
    """Who was flagged and why.

    Attributes
    ----------
    flags
        One row per respondent and failed check: ``respondent_id, check, reason``.
    kept
        Respondents left for analysis, in survey order.
    n_respondents
        All respondents.
    """

    flags: pd.DataFrame
    kept: pd.Index
    n_respondents: int

    @property
    def excluded(self) -> dict[str, int]:
        """Respondents flagged by each check (one respondent may fail several)."""
        counts = self.flags.groupby("check")["respondent_id"].nunique()
        return {str(k): int(v) for k, v in counts.items()}

    def summary(self) -> str:
        """One line for reports: how many were kept, and who was left out for what."""
        out = self.n_respondents - len(self.kept)
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.excluded.items()))
        return f"{len(self.kept):,} of {self.n_respondents:,} respondents analysed" + (
            f"; {out:,} left out ({parts})" if out else ""
        )


def _flag(ids: pd.Index, check: str, reasons: pd.Series | str) -> pd.DataFrame:
    reason = reasons if isinstance(reasons, pd.Series) else pd.Series(reasons, index=ids)
    return pd.DataFrame({"respondent_id": ids, "check": check, "reason": reason.to_numpy()})


def _speeders(survey: Survey, ratio: float) -> pd.DataFrame:
    seconds = pd.to_numeric(survey.respondent_field("duration_seconds"), errors="coerce")
    median = float(seconds.median()) if seconds.notna().any() else float("nan")
    fast = seconds[seconds < ratio * median]
    why = fast.map(lambda s: f"took {s:.0f} s; the median is {median:.0f} s")
    return _flag(fast.index, "speeder", why)


def _straight_liners(survey: Survey, grid_min: int) -> pd.DataFrame:
    grids: dict[str, list[str]] = {}
    for q in survey.questionnaire.of_type("rating"):
        grids.setdefault(str(q.field("grid") or f"scale {q.scale}"), []).append(q.id)
    found = []
    for name, ids in grids.items():
        if len(ids) < grid_min:
            continue
        wide = survey.wide(ids).dropna()
        same = wide[wide.nunique(axis=1) == 1]
        if len(same):
            label = f"to all {len(ids)} of {name}"
            why = same.iloc[:, 0].map(lambda v, label=label: f"{v:g} {label}")
            found.append(_flag(same.index, "straight-liner", why))
    return pd.concat(found) if found else _flag(pd.Index([]), "straight-liner", "")


def _duplicates(survey: Survey, duplicate_min: int) -> pd.DataFrame:
    found = []
    customers = survey.respondent_field("customer_id").dropna()
    again = customers[customers.duplicated(keep="first")]
    found.append(_flag(again.index, "duplicate", again.map(lambda c: f"customer {c} again")))
    a = survey.answers
    answered = a.groupby("respondent_id", sort=False)["question_id"].count()
    enough = answered[answered >= duplicate_min].index
    rows = a[a["respondent_id"].isin(enough)].sort_values(["respondent_id", "question_id"])
    signature = rows.groupby("respondent_id", sort=False).apply(
        lambda r: hash(tuple(zip(r["question_id"], r["answer"].astype(str), strict=True))),
        include_groups=False,
    )
    signature = signature.reindex(survey.respondents).dropna()
    copies = signature[signature.duplicated(keep="first")]
    first = signature.reset_index().drop_duplicates(0).set_index(0)["respondent_id"]
    found.append(
        _flag(copies.index, "duplicate", copies.map(lambda h: f"same answers as {first[h]}"))
    )
    return pd.concat(found)


def _vw_disorder(prices: pd.Series) -> str:
    """The Van Westendorp answers above the next one, e.g. ``too_cheap 70 above cheap 60``."""
    pairs = zip(VW_POINTS[:-1], VW_POINTS[1:], prices.iloc[:-1], prices.iloc[1:], strict=True)
    wrong = [f"{a} {x:g} above {b} {y:g}" for a, b, x, y in pairs if x > y]
    return "Van Westendorp prices out of order: " + "; ".join(wrong)


def _inconsistent(survey: Survey) -> pd.DataFrame:
    found = []
    by_point = {q.field("point"): q.id for q in survey.questionnaire.of_type("price_vw")}
    if len(by_point) == len(VW_POINTS):
        prices = survey.wide([by_point[p] for p in VW_POINTS]).dropna()
        values = prices.to_numpy(float)
        wrong = (np.diff(values, axis=1) < 0).any(axis=1)
        if wrong.any():
            bad = prices[wrong]
            why = bad.apply(_vw_disorder, axis=1)
            found.append(_flag(bad.index, "inconsistent", why))
    return pd.concat(found) if found else _flag(pd.Index([]), "inconsistent", "")


def screen(
    survey: Survey,
    *,
    speed_ratio: float = 1 / 3,
    grid_min: int = 5,
    duplicate_min: int = 10,
    checks: tuple[str, ...] = ("speeder", "straight-liner", "duplicate", "inconsistent"),
) -> Screening:
    """Flag respondents who fail any of ``checks`` (see the module docstring for the rules)."""
    run = {
        "speeder": lambda: _speeders(survey, speed_ratio),
        "straight-liner": lambda: _straight_liners(survey, grid_min),
        "duplicate": lambda: _duplicates(survey, duplicate_min),
        "inconsistent": lambda: _inconsistent(survey),
    }
    flags = pd.concat([run[c]() for c in checks], ignore_index=True)
    respondents = survey.respondents
    kept = respondents[~respondents.isin(flags["respondent_id"])]
    return Screening(flags=flags, kept=kept, n_respondents=len(respondents))
