"""MaxDiff designs and answers read from a survey into one long frame (one row per item shown).

The questionnaire's ``maxdiff`` questions (``role``: version, best, worst; ``task``; ``design``) and
its ``designs[name]["versions"][*]["tasks"][*]["items"]`` say which items each respondent saw in
each task; :func:`maxdiff_tasks` joins them with the answers and checks every task.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.research.responses import Survey

__all__ = ["first_row", "maxdiff_tasks"]


# --------------------------------------------------------------------------------------------
# from the survey to the long frame
# --------------------------------------------------------------------------------------------


def _design_name(survey: Survey, design: str | None) -> str:
    used = (q.field("design") for q in survey.questionnaire.of_type("maxdiff"))
    names = sorted({str(d) for d in used if d is not None})
    if design is not None:
        if design not in survey.questionnaire.designs:
            raise DataError(f"the questionnaire has no design {design!r} under designs:")
        return design
    if len(names) != 1:
        found = ", ".join(names) if names else "none"
        raise DataError(
            f"expected the maxdiff questions to use one design (design: ...), found {found}; "
            "pass design= to pick one"
        )
    return names[0]


def _design_frame(block: Any, name: str) -> tuple[pd.DataFrame, list[str]]:
    """The design as rows ``version, task, position, item``, and the item keys in order."""
    if not isinstance(block, dict) or not isinstance(block.get("versions"), list):
        raise DataError(f"design {name!r} needs versions: [{{version, tasks: [{{task, items}}]}}]")
    rows = []
    for v in block["versions"]:
        for t in v.get("tasks", []):
            for pos, item in enumerate(t.get("items", [])):
                rows.append((str(v.get("version")), int(t["task"]), pos, str(item)))
    shown = pd.DataFrame(rows, columns=["version", "task", "position", "item"])
    declared = block.get("items")
    items = [str(k) for k in declared] if declared else list(dict.fromkeys(shown["item"]))
    stray = shown[~shown["item"].isin(items)]
    if not stray.empty:
        r = stray.iloc[0]
        raise DataError(
            f"design {name!r} version {r['version']} task {r['task']} shows {r['item']!r}, "
            "which is not under its items:"
        )
    twice = shown.duplicated(["version", "task", "item"])
    if twice.any():
        r = shown[twice].iloc[0]
        raise DataError(
            f"design {name!r} version {r['version']} task {r['task']} shows {r['item']!r} twice"
        )
    return shown, items


def _version_key(value: Any) -> str:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number == int(number) else text


def _answers(survey: Survey, questions: list[Any]) -> pd.DataFrame:
    """Best and worst answers as rows ``respondent_id, task, best, worst`` (+ question ids)."""
    parts = []
    seen: dict[tuple[int, str], str] = {}
    for q in questions:
        role = q.field("role")
        if role not in ("best", "worst"):
            continue
        task = q.field("task")
        if not isinstance(task, int) or isinstance(task, bool):
            raise DataError(f"maxdiff question {q.id!r} needs task: the task number it answers")
        if (task, role) in seen:
            raise DataError(
                f"maxdiff questions {seen[(task, role)]!r} and {q.id!r} both ask for the "
                f"{role} item of task {task}; keep one"
            )
        seen[(task, role)] = q.id
        values = survey.values(q.id).astype("string").str.strip()
        parts.append(
            pd.DataFrame(
                {
                    "respondent_id": values.index.astype(str),
                    "task": task,
                    "role": role,
                    "answer": values.to_numpy(),
                    "question_id": q.id,
                }
            )
        )
    if not parts:
        raise DataError("the questionnaire has no maxdiff questions with role best or worst")
    long = pd.concat(parts, ignore_index=True)
    wide = long.pivot(index=["respondent_id", "task"], columns="role", values="answer")
    wide = wide.reindex(columns=["best", "worst"]).reset_index()
    for side in ("best", "worst"):
        qids = {task: qid for (task, role), qid in seen.items() if role == side}
        wide[f"{side}_question"] = wide["task"].map(qids)
    return wide


def first_row(frame: pd.DataFrame, mask: Any) -> pd.Series:
    """The first row where ``mask`` is true (for error messages)."""
    return frame[np.asarray(mask, dtype=bool)].iloc[0]


def maxdiff_tasks(
    survey: Survey,
    *,
    design: str | None = None,
    incomplete: Literal["raise", "drop"] = "raise",
) -> pd.DataFrame:
    """The MaxDiff answers as a long frame: one row per respondent, task and item shown.

    Parameters
    ----------
    survey
        Checked answers and their questionnaire. The questionnaire's ``maxdiff`` questions carry
        ``role`` (``version``, ``best`` or ``worst``), ``task`` (best/worst) and ``design``; the
        design (under ``designs:``) lists ``items`` and ``versions: [{version, tasks: [{task,
        items}]}]``. Without a version question the design must have a single version.
    design
        Name of the design, when the questionnaire has several.
    incomplete
        A task with a best but no worst answer (or the reverse): ``"raise"`` refuses it,
        ``"drop"`` leaves that task out. Tasks with neither answer are never counted.

    Returns
    -------
    pandas.DataFrame
        ``respondent_id, version, task, position, item, best, worst``: ``item`` is categorical
        with the design's items as categories, ``best`` and ``worst`` are booleans (one of each
        per respondent and task). Sorted by respondent (survey order), task and position.

    Raises
    ------
    DataError
        A respondent chose the same item as best and worst, chose an item that the task did not
        show, answered a task their version does not have, has no version, or (with
        ``incomplete="raise"``) answered only one side of a task. The message names the
        respondent, the task and the question.
    """
    if incomplete not in ("raise", "drop"):
        raise ValueError(f"incomplete must be 'raise' or 'drop', not {incomplete!r}")
    name = _design_name(survey, design)
    shown, items = _design_frame(survey.questionnaire.designs[name], name)
    questions = [q for q in survey.questionnaire.of_type("maxdiff") if q.field("design") == name]
    answers = _answers(survey, questions)

    version_qs = [q for q in questions if q.field("role") == "version"]
    if version_qs:
        versions = survey.values(version_qs[0].id)
        version_of = pd.Series(
            [_version_key(v) for v in versions.to_numpy()], index=versions.index.astype(str)
        )
    elif shown["version"].nunique() == 1:
        version_of = pd.Series(shown["version"].iloc[0], index=answers["respondent_id"].unique())
    else:
        raise DataError(
            f"design {name!r} has several versions but no maxdiff question has role: version; "
            "add one that records the version each respondent saw"
        )
    answers["version"] = answers["respondent_id"].map(version_of)
    if answers["version"].isna().any():
        r = first_row(answers, answers["version"].isna())
        raise DataError(
            f"respondent {r['respondent_id']} answered MaxDiff task {r['task']} but has no "
            f"answer to {version_qs[0].id!r}; record the design version they saw or drop them"
        )

    one_side = answers["best"].isna() != answers["worst"].isna()
    if one_side.any() and incomplete == "raise":
        r = first_row(answers, one_side)
        missing = "worst" if pd.isna(r["worst"]) else "best"
        raise DataError(
            f"respondent {r['respondent_id']} answered only one side of MaxDiff task "
            f"{r['task']}: no answer to {r[missing + '_question']!r}; drop the task "
            "(incomplete='drop') or the respondent"
        )
    answers = answers[answers["best"].notna() & answers["worst"].notna()]

    same = answers["best"] == answers["worst"]
    if same.any():
        r = first_row(answers, same)
        raise DataError(
            f"respondent {r['respondent_id']} chose {r['best']!r} as both best and worst in "
            f"MaxDiff task {r['task']} ({r['best_question']!r}, {r['worst_question']!r}); best "
            "and worst must differ: fix or drop that respondent's answers"
        )

    tasks_of = shown[["version", "task"]].drop_duplicates()
    known = answers.merge(tasks_of, on=["version", "task"], how="left", indicator=True)
    unknown = (known["_merge"] == "left_only").to_numpy()
    if unknown.any():
        r = first_row(known, unknown)
        raise DataError(
            f"respondent {r['respondent_id']} answered MaxDiff task {r['task']} "
            f"({r['best_question']!r}), but design {name!r} version {r['version']} has no such "
            "task; check the version answer or the design"
        )

    long = answers.merge(shown, on=["version", "task"], how="inner")
    long["best_hit"] = long["item"] == long["best"]
    long["worst_hit"] = long["item"] == long["worst"]
    hit = long.groupby(["respondent_id", "task"], sort=False)[["best_hit", "worst_hit"]].any()
    for side in ("best", "worst"):
        miss = ~hit[f"{side}_hit"].to_numpy()
        if miss.any():
            rid, task = hit.index[int(np.flatnonzero(miss)[0])]
            r = first_row(answers, (answers["respondent_id"] == rid) & (answers["task"] == task))
            offered = long[(long["respondent_id"] == rid) & (long["task"] == task)]["item"]
            raise DataError(
                f"respondent {rid} chose {r[side]!r} as {side} in MaxDiff task {task} "
                f"({r[side + '_question']!r}), but version {r['version']} showed only "
                f"{', '.join(offered)}; fix or drop that answer"
            )

    order = {rid: i for i, rid in enumerate(survey.respondents.astype(str))}
    long["_order"] = long["respondent_id"].map(order)
    long = long.sort_values(["_order", "task", "position"], kind="stable")
    return pd.DataFrame(
        {
            "respondent_id": long["respondent_id"].to_numpy(),
            "version": long["version"].to_numpy(),
            "task": long["task"].to_numpy(dtype=np.int64),
            "position": long["position"].to_numpy(dtype=np.int64),
            "item": pd.Categorical(long["item"].to_numpy(), categories=items),
            "best": long["best_hit"].to_numpy(dtype=bool),
            "worst": long["worst_hit"].to_numpy(dtype=bool),
        }
    )
