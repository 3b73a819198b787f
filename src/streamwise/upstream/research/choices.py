"""Choice frames for conjoint analysis: one row per respondent, task and alternative, built
from a survey's CBC answers and design, and checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.research.responses import Survey

__all__ = ["CHOICE_COLUMNS", "check_choice_frame", "choice_frame"]

#: The columns of a choice frame besides the attributes.
CHOICE_COLUMNS = ("respondent_id", "task", "alternative", "chosen")
_NOT_ATTRIBUTES = (*CHOICE_COLUMNS, "version")


# --------------------------------------------------------------------------------------------
# the choice frame
# --------------------------------------------------------------------------------------------


def choice_frame(survey: Survey, design: str = "cbc") -> pd.DataFrame:
    """The long choice frame of a survey's CBC questions.

    The questionnaire's ``designs[design]`` holds ``attributes`` (attribute → levels),
    ``price_attribute``, ``none_option`` (``{answer: 0}`` or absent) and ``versions`` (each with
    ``tasks``, each with its ``alternatives`` as attribute → level). The ``cbc`` question with
    ``role: version`` holds each respondent's design version; a ``role: task`` question with
    ``task: k`` holds the answer to task *k*: 0 for "none", else the chosen alternative's
    position (1-based).

    Parameters
    ----------
    survey
        Checked survey answers.
    design
        Name of the design under ``designs:``.

    Returns
    -------
    pandas.DataFrame
        ``respondent_id, task, alternative, <attributes>, chosen``: one row per respondent, task
        answered and alternative shown (plus the "none" option at position 0 when the design has
        one, with empty attributes), sorted by respondent (survey order), task and position.
        Attribute columns are categorical with the design's level order, price is float.

    Raises
    ------
    DataError
        The design or its version question is missing, a respondent answered tasks without a
        version, a version or task is not in the design, or an answer names no alternative.
    """
    questionnaire = survey.questionnaire
    spec = questionnaire.designs.get(design)
    if not isinstance(spec, dict) or "versions" not in spec or "attributes" not in spec:
        raise DataError(
            f"the questionnaire has no CBC design {design!r} with attributes and versions; "
            "add it under designs:"
        )
    mine = [q for q in questionnaire.of_type("cbc") if q.field("design", design) == design]
    version_qs = [q for q in mine if q.field("role") == "version"]
    task_qs = [q for q in mine if q.field("role") == "task"]
    if len(version_qs) != 1 or not task_qs:
        raise DataError(
            f"design {design!r} needs one cbc question with role: version and at least one with "
            f"role: task; found {len(version_qs)} and {len(task_qs)}"
        )
    attributes = {str(a): [_text(v) for v in lv] for a, lv in spec["attributes"].items()}
    price = spec.get("price_attribute")
    table = _design_table(spec, attributes, price)

    versions = survey.values(version_qs[0].id)
    answers = pd.concat(
        [
            pd.DataFrame({"respondent_id": s.index, "task": int(q.field("task")), "answer": s})
            for q in task_qs
            for s in [survey.values(q.id).dropna()]
        ],
        ignore_index=True,
    )
    answers["version"] = answers["respondent_id"].map(versions)
    if answers["version"].isna().any():
        rid = answers.loc[answers["version"].isna(), "respondent_id"].iloc[0]
        raise DataError(
            f"respondent {rid} answered CBC tasks but has no {version_qs[0].id!r} (design "
            "version); add it or drop the respondent's CBC answers"
        )
    answers["version"] = answers["version"].astype(int)
    shown = table[["version", "task"]].drop_duplicates()
    known = answers.merge(shown, on=["version", "task"], how="left", indicator=True)
    if (known["_merge"] != "both").any():
        row = known[known["_merge"] != "both"].iloc[0]
        raise DataError(
            f"respondent {row['respondent_id']} answered task {row['task']} of version "
            f"{row['version']}, which design {design!r} does not have"
        )
    long = answers.merge(table, on=["version", "task"], how="inner")
    long["chosen"] = (long["alternative"] == long["answer"]).astype(np.int64)
    picked = long.groupby(["respondent_id", "task"], sort=False)["chosen"].transform("sum")
    if (picked != 1).any():
        row = long[picked != 1].iloc[0]
        raise DataError(
            f"respondent {row['respondent_id']} answered {row['answer']:g} to task {row['task']}, "
            "which names no alternative shown (0 is 'none' only when the design has a "
            "none_option)"
        )
    order = {rid: i for i, rid in enumerate(survey.respondents)}
    long["_order"] = long["respondent_id"].map(order)
    long = long.sort_values(["_order", "task", "alternative"], kind="stable")
    columns = ["respondent_id", "task", "alternative", *attributes, "chosen"]
    return long[columns].reset_index(drop=True)


def _design_table(
    spec: dict[str, Any], attributes: dict[str, list[str]], price: Any
) -> pd.DataFrame:
    """One row per version × task × alternative of a design (plus "none" rows)."""
    rows = [
        {"version": int(v["version"]), "task": int(t["task"]), "alternative": pos}
        | {a: alt.get(a) for a in attributes}
        for v in spec["versions"]
        for t in v["tasks"]
        for pos, alt in enumerate(t["alternatives"], start=1)
    ]
    table = pd.DataFrame(rows)
    none = spec.get("none_option")
    if none:
        heads = table[["version", "task"]].drop_duplicates()
        heads = heads.assign(
            alternative=int(none.get("answer", 0)) if isinstance(none, dict) else 0
        )
        table = pd.concat([table, heads], ignore_index=True)
    for a, levels in attributes.items():
        if a == price:
            table[a] = pd.to_numeric(table[a], errors="raise").astype(float)
        else:
            text = table[a].map(lambda v: None if v is None or v != v else _text(v))
            table[a] = pd.Categorical(text, categories=levels)
    return table


def _text(level: Any) -> str:
    """A level as text; whole numbers without a decimal point (149.0 → "149")."""
    if isinstance(level, float | np.floating) and float(level).is_integer():
        return str(int(level))
    return str(level)


def check_choice_frame(frame: pd.DataFrame) -> None:
    """Refuse a choice frame without its columns, with repeated rows or a task whose ``chosen``
    is not exactly one 1.

    Raises
    ------
    DataError
        Naming the respondent and task at fault (and the row, 1-based, of its first line).
    """
    _Tasks.of(frame)


@dataclass(frozen=True)
class _Tasks:
    """A checked choice frame sorted by respondent, task and alternative, with task bounds."""

    frame: pd.DataFrame
    starts: np.ndarray  # first row of each task
    sizes: np.ndarray  # alternatives per task
    respondent: np.ndarray  # respondent code of each task (0..n-1, in first-seen order)
    chosen: np.ndarray  # row of the chosen alternative of each task

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Tasks:
        missing = [c for c in CHOICE_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(
                f"the choice frame has no column {missing[0]!r}; it needs "
                f"{', '.join(CHOICE_COLUMNS)} and one column per attribute (see choice_frame)",
                column=missing[0],
            )
        if len(frame) == 0:
            raise DataError("the choice frame has no rows")
        chosen = pd.to_numeric(frame["chosen"], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isin(chosen, (0.0, 1.0))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"chosen is {frame['chosen'].iloc[i]} for respondent "
                f"{frame['respondent_id'].iloc[i]}, task {frame['task'].iloc[i]}; "
                "it must be 1 (chosen) or 0",
                row=i + 1,
                column="chosen",
            )
        resp = pd.factorize(frame["respondent_id"], sort=False)[0]
        task = pd.factorize(frame["task"], sort=True)[0]
        alt = pd.factorize(frame["alternative"], sort=True)[0]
        order = np.lexsort((alt, task, resp))
        resp, task, alt = resp[order], task[order], alt[order]
        new_task = np.ones(len(order), dtype=bool)
        new_task[1:] = (resp[1:] != resp[:-1]) | (task[1:] != task[:-1])
        starts = np.flatnonzero(new_task)
        sizes = np.diff(np.append(starts, len(order)))
        twice = ~new_task & (alt == np.roll(alt, 1))
        if twice.any():
            i = int(order[np.argmax(twice)])
            raise DataError(
                f"respondent {frame['respondent_id'].iloc[i]}, task {frame['task'].iloc[i]}: "
                f"alternative {frame['alternative'].iloc[i]} appears twice; keep one row per "
                "respondent, task and alternative",
                row=i + 1,
            )
        picked = np.add.reduceat(chosen[order], starts)
        wrong = picked != 1
        if wrong.any():
            k = int(np.argmax(wrong))
            i = int(order[starts[k]])
            what = "no alternative is chosen" if picked[k] == 0 else f"{picked[k]:g} are chosen"
            raise DataError(
                f"respondent {frame['respondent_id'].iloc[i]}, task {frame['task'].iloc[i]}: "
                f"{what}; exactly one alternative per task must have chosen = 1 (drop tasks "
                "that were not answered)",
                row=i + 1,
                column="chosen",
            )
        sorted_frame = frame.iloc[order].reset_index(drop=True)
        chosen_rows = np.flatnonzero(chosen[order] == 1)
        return cls(sorted_frame, starts, sizes, resp[starts], chosen_rows)

    @property
    def n_respondents(self) -> int:
        return int(self.respondent.max()) + 1

    def dense(self, x: np.ndarray) -> _Dense:
        """The design matrix laid out by position, ``(J, choice sets, K)`` (padded where a task
        has fewer than J alternatives), with identical choice sets merged.

        The MNL log-likelihood depends on a task only through its choice set and the position
        chosen, so tasks that show the same alternatives in the same order (respondents given
        the same design version) are one set with counts: a CBC survey has far fewer distinct
        sets (versions × tasks) than tasks.
        """
        n, j = len(self.starts), int(self.sizes.max())
        if (self.sizes == j).all():
            xj = np.ascontiguousarray(x.reshape(n, j, -1).transpose(1, 0, 2))
            avail = None
        else:
            pos = np.arange(len(x)) - np.repeat(self.starts, self.sizes)
            task = np.repeat(np.arange(n), self.sizes)
            xj = np.zeros((j, n, x.shape[1]))
            xj[pos, task] = x
            avail = np.zeros((j, n), dtype=bool)
            avail[pos, task] = True
        chosen = self.chosen - self.starts
        flat = xj.transpose(1, 0, 2).reshape(n, -1)
        if avail is not None:
            flat = np.hstack([flat, avail.T])
        # a random projection finds candidate duplicates; the exact comparison confirms them
        key = flat @ np.random.default_rng(0).standard_normal(flat.shape[1])
        codes, uniques = pd.factorize(key)
        sets = len(uniques)
        first = np.empty(sets, dtype=np.int64)
        first[codes[::-1]] = np.arange(n)[::-1]
        if sets < n / 2 and np.array_equal(flat, flat[first[codes]]):
            counts = np.bincount(codes * j + chosen, minlength=sets * j).reshape(sets, j).T
            xj = xj[:, first]
            avail = None if avail is None else avail[:, first]
        else:
            counts = np.zeros((j, n))
            counts[chosen, np.arange(n)] = 1.0
        counts = counts.astype(float)
        chosen_sum = np.einsum("js,jsk->k", counts, xj)
        return _Dense(xj, avail, counts, counts.sum(axis=0), chosen_sum)


@dataclass(frozen=True)
class _Dense:
    """Distinct choice sets by position: ``x[j, s]`` is the j-th alternative of set s, chosen
    ``counts[j, s]`` times; ``weight[s]`` is the number of tasks that showed set s."""

    x: np.ndarray  # (J, sets, K)
    avail: np.ndarray | None  # (J, sets), None when every task has J alternatives
    counts: np.ndarray  # (J, sets)
    weight: np.ndarray  # (sets,)
    chosen_sum: np.ndarray  # Σ_t x_t,chosen


# --------------------------------------------------------------------------------------------
# coding
