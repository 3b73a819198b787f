"""Choice-based conjoint (CBC): the choice frame, multinomial and mixed logit, part-worths,
importances, willingness to pay and a share-of-preference simulator.

The **choice frame** is long: one row per respondent × task × alternative, with columns
``respondent_id``, ``task``, ``alternative`` (its position; the "none" option is a row whose
attribute columns are all empty, position 0 in :func:`choice_frame`), one column per attribute
(levels as text, price as a number) and ``chosen`` (1 for the chosen alternative, exactly one per
task). :func:`choice_frame` builds it from a :class:`~streamwise.upstream.research.responses.Survey`
whose questionnaire holds a CBC design.

Utility of alternative *j* in task *t* is ``V_tj = x_tj'β``, with ``x_tj`` the effects-coded
levels (an attribute with *L* levels has *L*−1 columns; its last level is coded −1 in all of them,
so its part-worth is minus the sum of the others), the price per unit, and a 1 in the ``none``
column for the "none" option (its alternative-specific constant). The multinomial logit gives
``P_tj = exp V_tj / Σ_i exp V_ti``; the mixed logit lets β vary over respondents as independent
normals and integrates the product of a respondent's task probabilities over them.

References
----------
McFadden, D. (1974). Conditional logit analysis of qualitative choice behavior. In P. Zarembka
(ed.), Frontiers in Econometrics, 105–142. Academic Press.
Louviere, J. J. and Woodworth, G. (1983). Design and analysis of simulated consumer choice or
allocation experiments: an approach based on aggregate data. Journal of Marketing Research
20(4), 350–367.
Revelt, D. and Train, K. (1998). Mixed logit with repeated choices: households' choices of
appliance efficiency level. Review of Economics and Statistics 80(4), 647–657.
Train, K. E. (2009). Discrete Choice Methods with Simulation, 2nd ed. Cambridge University Press
(ch. 3: logit, eqs. 3.6, 3.7; ch. 6: mixed logit, eq. 6.2; ch. 9: Halton draws; ch. 10).
Berndt, E., Hall, B., Hall, R. and Hausman, J. (1974). Estimation and inference in nonlinear
structural models. Annals of Economic and Social Measurement 3(4), 653–665.
Bhat, C. R. (2003). Simulation estimation of mixed discrete choice models using randomized and
scrambled Halton sequences. Transportation Research B 37(9), 837–855.
Orme, B. K. (2010). Getting Started with Conjoint Analysis, 2nd ed. Research Publishers
(importances as ranges of part-worths; shares of preference).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from streamwise.errors import DataError, ModelError
from streamwise.upstream.research.responses import Survey

__all__ = ["CHOICE_COLUMNS", "MixedLogit", "MultinomialLogit", "check_choice_frame", "choice_frame"]

#: The columns of a choice frame besides the attributes.
CHOICE_COLUMNS = ("respondent_id", "task", "alternative", "chosen")
_NOT_ATTRIBUTES = (*CHOICE_COLUMNS, "version")
Coding = Literal["effects", "dummy"]
Rule = Literal["logit", "first_choice"]


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
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Coder:
    """How attribute levels become columns of the design matrix."""

    levels: dict[str, list[str]]  # categorical attribute → levels (last one implied)
    price: str | None
    none: bool
    coding: str

    @property
    def names(self) -> list[str]:
        cols = [f"{a}[{lvl}]" for a, lv in self.levels.items() for lvl in lv[:-1]]
        return cols + (["price"] if self.price else []) + (["none"] if self.none else [])

    def block(self, attribute: str) -> np.ndarray:
        """Codes of each level of a categorical attribute (levels × its L−1 columns)."""
        n = len(self.levels[attribute])
        last = -np.ones((1, n - 1)) if self.coding == "effects" else np.zeros((1, n - 1))
        return np.vstack([np.eye(n - 1), last])

    @classmethod
    def learn(
        cls, frame: pd.DataFrame, attributes: Sequence[str] | None, price: str | None, none: bool,
        coding: str,
    ) -> _Coder:  # fmt: skip
        if coding not in ("effects", "dummy"):
            raise ModelError(f"coding must be 'effects' or 'dummy', not {coding!r}")
        names = (
            list(attributes)
            if attributes is not None
            else [c for c in frame.columns if c not in _NOT_ATTRIBUTES]
        )
        for name in [*names, *([price] if price else [])]:
            if name not in frame.columns:
                raise DataError(
                    f"the choice frame has no attribute column {name!r}; "
                    + ("pass price=None if there is no price" if name == price else "add it"),
                    column=name,
                )
        if not names:
            raise DataError("the choice frame has no attribute columns")
        levels: dict[str, list[str]] = {}
        for name in names:
            if name == price:
                continue
            col = frame[name]
            if isinstance(col.dtype, pd.CategoricalDtype):
                found = [_text(c) for c in col.cat.categories]
            else:
                values = col.dropna().unique()
                numeric = pd.api.types.is_numeric_dtype(col.dtype)
                found = [
                    _text(v) for v in (sorted(values) if numeric else sorted(map(str, values)))
                ]
            if len(found) < 2:
                raise ModelError(
                    f"attribute {name!r} has {len(found)} level(s); an attribute needs at least "
                    "two to be estimated (drop the column)"
                )
            levels[name] = found
        return cls(levels, price, none, coding)

    def code(self, frame: pd.DataFrame, tasks: _Tasks | None = None) -> np.ndarray:
        """The design matrix of ``frame`` (rows × parameters); "none" rows have every attribute
        empty. Refuses unknown levels, partly empty rows and "none" rows the model lacks."""
        n = len(frame)
        columns = [*self.levels, *([self.price] if self.price else [])]
        empty = np.column_stack([frame[c].isna().to_numpy() for c in columns])
        is_none = empty.all(axis=1)
        partial = empty.any(axis=1) & ~is_none
        if partial.any():
            self._refuse(frame, int(np.argmax(partial)), "has some attributes empty", tasks)
        if is_none.any() and not self.none:
            self._refuse(
                frame, int(np.argmax(is_none)),
                "is a 'none' option (every attribute empty); fit with none=True", tasks,
            )  # fmt: skip
        blocks = []
        for a, levels in self.levels.items():
            codes, found = pd.factorize(frame[a])
            where = {lvl: k for k, lvl in enumerate(levels)}
            lookup = np.array([where.get(_text(v), -1) for v in found] + [-1], dtype=np.int64)
            idx = lookup[codes]  # code -1 (empty) takes the appended -1
            unknown = (idx < 0) & ~is_none
            if unknown.any():
                i = int(np.argmax(unknown))
                value = str(frame[a].iloc[i])
                self._refuse(frame, i, f"has {a} = {value!r}, not one of {levels}", tasks)
            coded = self.block(a)[np.where(is_none, 0, idx)]
            coded[is_none] = 0.0
            blocks.append(coded)
        if self.price:
            price = pd.to_numeric(frame[self.price], errors="coerce").to_numpy(dtype=float)
            bad = np.isnan(price) & ~is_none
            if bad.any():
                i = int(np.argmax(bad))
                value = frame[self.price].iloc[i]
                self._refuse(frame, i, f"has a price that is not a number ({value})", tasks)
            blocks.append(np.where(is_none, 0.0, price)[:, None])
        if self.none:
            blocks.append(is_none.astype(float)[:, None])
        return np.hstack(blocks) if blocks else np.zeros((n, 0))

    @staticmethod
    def _refuse(frame: pd.DataFrame, i: int, problem: str, tasks: _Tasks | None) -> None:
        if tasks is not None:
            row = frame.iloc[i]
            where = f"respondent {row['respondent_id']}, task {row['task']}"
            raise DataError(f"{where}: alternative {row['alternative']} {problem}")
        label = frame.index[i]
        raise DataError(f"product {label!r} {problem}")


# --------------------------------------------------------------------------------------------
# the models
# --------------------------------------------------------------------------------------------


class _ChoiceModel:
    """What MNL and mixed logit share: the coding, and what follows from mean coefficients."""

    coding: str
    price: str | None
    none: bool
    attributes: Sequence[str] | None

    def _prepare(self, frame: pd.DataFrame) -> tuple[_Tasks, np.ndarray]:
        tasks = _Tasks.of(frame)
        self._coder = _Coder.learn(tasks.frame, self.attributes, self.price, self.none, self.coding)
        x = self._coder.code(tasks.frame, tasks)
        if self.none and not x[:, -1].any():
            raise DataError(
                "none=True but no task has a 'none' option (a row with every attribute empty); "
                "fit with none=False"
            )
        for a, levels in self._coder.levels.items():
            seen = {_text(v) for v in tasks.frame[a].dropna().unique()}
            unseen = [lvl for lvl in levels if lvl not in seen]
            if unseen:
                raise ModelError(
                    f"level {unseen[0]!r} of {a!r} is never shown, so it cannot be estimated; "
                    "drop it from the column's categories"
                )
        if self.price:
            shown = tasks.frame[self.price].dropna().to_numpy(dtype=float)
            self.price_range_ = (float(shown.min()), float(shown.max()))
        self.levels_ = {a: list(lv) for a, lv in self._coder.levels.items()}
        self.n_respondents_ = tasks.n_respondents
        self.n_tasks_ = len(tasks.starts)
        return tasks, x

    def _fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ModelError(f"{type(self).__name__} is not fitted yet; call fit(frame) first")

    def _mean_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean coefficients and their covariance (what part-worths and WTP use)."""
        return self.params_.to_numpy(), self.covariance_

    def summary(self) -> pd.DataFrame:
        """Parameters with standard errors, z values and 95% intervals."""
        self._fitted()
        est, se = self.params_, self.standard_errors_
        return pd.DataFrame(
            {"estimate": est, "std_error": se, "z": est / se,
             "lower_95": est - 1.96 * se, "upper_95": est + 1.96 * se}
        )  # fmt: skip

    def part_worths(self) -> pd.DataFrame:
        """Every level's part-worth, the implied last one included, with delta-method standard
        errors (the part-worths are linear in β: ``pw = Cβ``, ``Var pw = C Σ C'``).

        Returns
        -------
        pandas.DataFrame
            ``attribute, level, part_worth, std_error``; price is linear (see ``params_``).
        """
        self._fitted()
        beta, cov = self._mean_parts()
        rows = [(a, lvl) for a, levels in self._coder.levels.items() for lvl in levels]
        c = np.vstack([self._level_codes(a) for a in self._coder.levels])
        out = pd.DataFrame(rows, columns=["attribute", "level"])
        out["part_worth"] = c @ beta
        out["std_error"] = _delta_se(c, cov)
        return out

    def importances(self) -> pd.DataFrame:
        """Attribute importances: each attribute's range of part-worths over the sum of ranges;
        price's range is |β_price| × (highest − lowest price shown) (Orme 2010, ch. 9).

        Standard errors by the delta method with the highest and lowest level of each attribute
        held at the estimate's (ranges ``R = Dβ``, importances ``I = R / ΣR``, Jacobian
        ``(E − I1')/ΣR · D``); they understate the uncertainty when two levels are close to tied
        for highest or lowest.

        Returns
        -------
        pandas.DataFrame
            Indexed by attribute (in attribute order): ``importance`` (summing to 1),
            ``std_error``.
        """
        self._fitted()
        beta, cov = self._mean_parts()
        rows, names = [], []
        for a in self._coder.levels:
            c = self._level_codes(a)
            pw = c @ beta
            rows.append(c[np.argmax(pw)] - c[np.argmin(pw)])
            names.append(a)
        if self._coder.price:
            low, high = self.price_range_
            row = np.zeros(len(beta))
            k = self._coder.names.index("price")
            row[k] = np.sign(beta[k]) * (high - low)
            rows.append(row)
            names.append(self._coder.price)
        d = np.array(rows)
        ranges = d @ beta
        total = ranges.sum()
        share = ranges / total
        jac = (np.eye(len(share)) - share[:, None]) / total @ d
        index = pd.Index(names, name="attribute")
        return pd.DataFrame({"importance": share, "std_error": _delta_se(jac, cov)}, index=index)

    def willingness_to_pay(self) -> pd.DataFrame:
        """Willingness to pay for each level over its attribute's first level:
        ``(pw_level − pw_first) / (−β_price)``, in price units, with delta-method standard
        errors (gradient ``D/(−β_price)`` in the part-worth directions and ``−wtp/β_price`` in
        the price direction; Train 2009, sec. 3.6).

        Returns
        -------
        pandas.DataFrame
            ``attribute, level, wtp, std_error`` (0 and 0 for each first level).

        Raises
        ------
        ModelError
            The model has no price coefficient.
        """
        self._fitted()
        if not self._coder.price:
            raise ModelError("willingness to pay needs a price coefficient; fit with price=...")
        beta, cov = self._mean_parts()
        k_price = self._coder.names.index("price")
        rows = [(a, lvl) for a, levels in self._coder.levels.items() for lvl in levels]
        d = np.vstack([c - c[0] for c in map(self._level_codes, self._coder.levels)])
        b_price = beta[k_price]
        wtp = d @ beta / -b_price
        jac = d / -b_price
        jac[:, k_price] = -wtp / b_price
        out = pd.DataFrame(rows, columns=["attribute", "level"])
        out["wtp"] = wtp
        out["std_error"] = _delta_se(jac, cov)
        return out

    def utilities(self, products: pd.DataFrame) -> pd.Series:
        """Mean utility ``x'β`` of each product profile (one row per product, attribute
        columns; index labels kept)."""
        self._fitted()
        x = self._product_matrix(products)
        return pd.Series(x @ self.params_.to_numpy(), index=products.index, name="utility")

    def simulate(
        self, products: pd.DataFrame, rule: Rule = "logit", *, include_none: bool = True
    ) -> pd.Series:
        """Shares of preference of a set of product profiles (a market scenario).

        Parameters
        ----------
        products
            One row per product, a column per attribute (levels as in the data, price a number);
            the index labels the products.
        rule
            ``"logit"``: the model's choice probabilities (share of preference); ``"first_choice"``:
            the product of highest utility wins (for a mixed logit, per simulated respondent).
        include_none
            Add the "none" option when the model has one.

        Returns
        -------
        pandas.Series
            Product → share (summing to 1), with ``"none"`` last when included.
        """
        self._fitted()
        x = self._product_matrix(products)
        labels = list(products.index)
        if self._coder.none and include_none:
            none = np.zeros((1, x.shape[1]))
            none[0, -1] = 1.0
            x = np.vstack([x, none])
            labels.append("none")
        if rule not in ("logit", "first_choice"):
            raise ModelError(f"rule must be 'logit' or 'first_choice', not {rule!r}")
        betas = self._simulation_betas()
        u = betas @ x.T  # (draws, products)
        if rule == "logit":
            shares = _softmax(u).mean(axis=0)
        else:
            best = u == u.max(axis=1, keepdims=True)
            shares = (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
        return pd.Series(shares, index=pd.Index(labels, name="product"), name="share")

    def _simulation_betas(self) -> np.ndarray:
        return self.params_.to_numpy()[None, :]

    def _product_matrix(self, products: pd.DataFrame) -> np.ndarray:
        if not isinstance(products, pd.DataFrame) or len(products) == 0:
            raise DataError("products must be a data frame with one row per product")
        needed = [*self._coder.levels, *([self._coder.price] if self._coder.price else [])]
        missing = [c for c in needed if c not in products.columns]
        if missing:
            raise DataError(
                f"products have no column {missing[0]!r}; give every product a level of each of "
                f"{', '.join(needed)}",
                column=missing[0],
            )
        coder = _Coder(self._coder.levels, self._coder.price, False, self._coder.coding)
        x = coder.code(products)
        if self._coder.none:
            x = np.hstack([x, np.zeros((len(x), 1))])
        return x

    def _level_codes(self, attribute: str) -> np.ndarray:
        """Each level's row of codes over all parameters (levels × K): ``pw = codes @ β``."""
        names = self._coder.names
        pos = [names.index(f"{attribute}[{lvl}]") for lvl in self._coder.levels[attribute][:-1]]
        block = self._coder.block(attribute)
        codes = np.zeros((len(block), len(names)))
        codes[:, pos] = block
        return codes

    def __repr__(self) -> str:
        name = type(self).__name__
        if not hasattr(self, "params_"):
            return f"<streamwise {name}: not fitted>"
        shown = ", ".join(f"{k}: {v:.4g}" for k, v in self.params_.items())
        return (
            f"<streamwise {name}: fitted on {self.n_respondents_:,} respondents, "
            f"{self.n_tasks_:,} tasks, log-likelihood {self.log_likelihood_:,.2f}; {shown}>"
        )


def _delta_se(jac: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Standard errors of ``g(β)`` with Jacobian ``jac``: the square roots of diag(J Σ J')."""
    return np.sqrt(np.clip(np.einsum("ik,kl,il->i", jac, cov, jac), 0, None))


def _softmax(u: np.ndarray) -> np.ndarray:
    e = np.exp(u - u.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class MultinomialLogit(_ChoiceModel):
    """Conditional (multinomial) logit of a choice frame, by maximum likelihood
    (McFadden 1974; Train 2009, ch. 3).

    ``LL(β) = Σ_t [x_t,chosen'β − log Σ_j exp x_tj'β]``; its gradient is
    ``Σ_t (x_t,chosen − x̄_t)`` and its Hessian ``−Σ_t Σ_j P_tj (x_tj − x̄_t)(x_tj − x̄_t)'`` with
    ``x̄_t = Σ_j P_tj x_tj`` (Train 2009, eqs. 3.6–3.7 and sec. 8.3). LL is concave, so Newton's
    method with step halving from β = 0 converges in a few steps.

    Parameters
    ----------
    coding
        ``"effects"`` (the last level of each attribute is minus the sum of the others) or
        ``"dummy"`` (the last level is the reference, 0).
    price
        The numeric attribute that enters linearly (per unit of price); ``None``: none does.
    none
        Estimate an alternative-specific constant for the "none" option (rows whose attributes
        are all empty).
    attributes
        Attribute columns; default: every column but ``respondent_id``, ``task``,
        ``alternative``, ``chosen`` and ``version``.

    Attributes
    ----------
    params_ : pandas.Series
        Coefficients: ``attribute[level]`` for all but the last level of each attribute, then
        ``price`` and ``none``.
    standard_errors_ : pandas.Series
        From the inverse observed information (the negative Hessian at the optimum).
    covariance_ : numpy.ndarray
        That inverse.
    log_likelihood_, null_log_likelihood_ : float
        At the optimum and at β = 0 (``−Σ_t log J_t``).
    n_respondents_, n_tasks_, n_iterations_ : int
    levels_ : dict
        Attribute → levels in coding order.
    price_range_ : tuple of float
        Lowest and highest price shown.

    Examples
    --------
    >>> model = MultinomialLogit().fit(choice_frame(survey))      # doctest: +SKIP
    >>> model.willingness_to_pay()                                 # doctest: +SKIP
    """

    def __init__(
        self,
        coding: Coding = "effects",
        price: str | None = "price",
        none: bool = True,
        attributes: Sequence[str] | None = None,
    ) -> None:
        self.coding = coding
        self.price = price
        self.none = none
        self.attributes = attributes

    def fit(self, frame: pd.DataFrame) -> MultinomialLogit:
        """Maximum-likelihood fit on a choice frame; returns ``self``.

        Raises
        ------
        DataError
            The frame is malformed (the message names the respondent and task).
        ModelError
            The information matrix is singular (an attribute does not vary, or levels are
            confounded) or Newton's method does not converge (a level is always or never
            chosen).
        """
        tasks, x = self._prepare(frame)
        beta, ll, hess, n_iter = _newton(tasks.dense(x), self._coder.names)
        try:
            cov = np.linalg.inv(-hess)
        except np.linalg.LinAlgError:
            cov = None
        if cov is None or not np.all(np.diag(cov) > 0):
            raise ModelError(
                "the information matrix is singular: some parameters cannot be told apart (an "
                "attribute that never varies within a task, or levels always shown together)"
            )
        names = self._coder.names
        self.params_ = pd.Series(beta, index=names, name="estimate")
        self.covariance_ = (cov + cov.T) / 2
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="std_error")
        self.log_likelihood_ = ll
        self.null_log_likelihood_ = float(-np.log(tasks.sizes).sum())
        self.n_iterations_ = n_iter
        return self


def _mnl_loglik(beta: np.ndarray, d: _Dense) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, gradient and Hessian of the MNL at ``beta`` (Train 2009, eqs. 3.6–3.7;
    the Hessian as in sec. 8.3), summed over choice sets with their counts:
    ``LL = Σ_sj n_sj v_sj − Σ_s n_s log Σ_j exp v_sj``, gradient ``Σ_t x_t,chosen − Σ_s n_s x̄_s``,
    Hessian ``−Σ_s n_s (Σ_j P_sj x_sj x_sj' − x̄_s x̄_s')`` with ``x̄_s = Σ_j P_sj x_sj``."""
    k = d.x.shape[2]
    v = d.x @ beta  # (J, sets)
    shown = v if d.avail is None else np.where(d.avail, v, -np.inf)
    top = shown.max(axis=0)
    e = np.exp(shown - top)
    denom = e.sum(axis=0)
    ll = float((d.counts * v).sum() - d.weight @ (top + np.log(denom)))
    pw = e * (d.weight / denom)  # n_s P_sj
    px = d.x * pw[:, :, None]
    xbar_w = px.sum(axis=0)  # n_s x̄_s
    grad = d.chosen_sum - xbar_w.sum(axis=0)
    outer = (xbar_w / d.weight[:, None]).T @ xbar_w
    hess = -(px.reshape(-1, k).T @ d.x.reshape(-1, k) - outer)
    return ll, grad, hess


#: Largest utility difference one parameter may make (odds of e^25 ≈ 7e10 to 1): beyond it
#: the choices are separated and the estimate runs off to infinity.
_MAX_REACH = 25.0


#: Choice sets above which the fit starts from a fit on a sample of them.
_WARM_START_SETS = 40_000


def _newton(d: _Dense, names: Sequence[str]) -> tuple[np.ndarray, float, np.ndarray, int]:
    """Newton–Raphson with step halving on the concave MNL log-likelihood, from β = 0; stops
    when the step is below 1e-9 in every coordinate (quadratic convergence: the next would be
    ~1e-18).

    Raises
    ------
    ModelError
        A parameter's reach (|β_k| × its largest |x_k|) passes :data:`_MAX_REACH`: a level or
        the none option is always or never chosen, so its maximum-likelihood value is infinite.
    """
    size = np.abs(d.x).max(axis=(0, 1))
    beta = np.zeros(d.x.shape[2])
    sets = d.x.shape[1]
    if sets > _WARM_START_SETS:
        # Newton from the optimum of every 8th choice set: two or three steps on all of them
        # then reach 1e-9 (quadratic convergence), where starting from 0 takes six or seven
        pick = slice(None, None, 8)
        counts = d.counts[:, pick]
        sub = _Dense(
            d.x[:, pick], None if d.avail is None else d.avail[:, pick], counts,
            d.weight[pick], np.einsum("js,jsk->k", counts, d.x[:, pick]),
        )  # fmt: skip
        try:
            beta = _newton(sub, names)[0]
        except ModelError:
            beta = np.zeros(d.x.shape[2])
    ll, grad, hess = _mnl_loglik(beta, d)
    for it in range(1, 101):
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(-hess, grad, rcond=None)[0]
        t = 1.0
        while True:
            found = _mnl_loglik(beta + t * step, d)
            if found[0] >= ll - 1e-12 * abs(ll) or t < 1e-10:
                break
            t /= 2
        beta = beta + t * step
        ll, grad, hess = found
        reach = np.abs(beta) * size
        if reach.max() > _MAX_REACH:
            name = names[int(np.argmax(reach))]
            raise ModelError(
                f"the multinomial logit has no finite estimate of {name!r}: a level (or the none "
                "option) is always or never chosen when shown, so its part-worth runs off to "
                "infinity; merge the level with another or drop it"
            )
        if np.max(np.abs(t * step)) < 1e-9:
            return beta, ll, hess, it
    raise ModelError(
        "the multinomial logit did not converge in 100 Newton steps; check the choice frame for "
        "levels that are always or never chosen"
    )


# --------------------------------------------------------------------------------------------
# mixed logit
# --------------------------------------------------------------------------------------------


class MixedLogit(_ChoiceModel):
    """Mixed logit with independent normal random coefficients, by simulated maximum likelihood
    over each respondent's sequence of tasks (Revelt & Train 1998; Train 2009, eq. 6.2, ch. 10).

    ``P_n = (1/R) Σ_r Π_t P_nt(β_nr)`` with ``β_nr = μ + σ ⊙ ξ_nr`` and ``ξ_nr`` from a scrambled
    Halton sequence (Bhat 2003) turned normal. The gradient is analytic:
    ``∂ log P_n / ∂μ = Σ_r w_nr Σ_t (x_nt,chosen − x̄_ntr)`` and, for σ, the same weighted by
    ``ξ_nr``, with ``w_nr`` the draw's share of ``P_n``. BFGS starts from the MNL estimates
    (standard deviations at half their size) with the BHHH matrix (Berndt et al. 1974) as its
    first curvature. Simulation biases SML when draws are few: on the sample survey (2,500
    respondents × 12 tasks, 22 parameters) 100 draws leave a mean 3.5 SE off, 300 recover every
    mean and sd within 2.6 SE, in about 10 s on two cores.

    Parameters
    ----------
    coding, price, none, attributes
        As for :class:`MultinomialLogit`.
    random
        Parameters with a random coefficient (default: all).
    n_draws
        Halton draws per respondent.
    random_state
        Seed of the Halton scrambling (and of the simulator's draws).

    Attributes
    ----------
    params_ : pandas.Series
        Means μ (part-worths, importances and WTP use them).
    sds_ : pandas.Series
        Standard deviations |σ| (0 for fixed coefficients).
    standard_errors_, sd_standard_errors_ : pandas.Series
        Of the means and of the standard deviations, from the inverse of the Hessian of the
        simulated log-likelihood (differences of its analytic gradient).
    covariance_ : numpy.ndarray
        Covariance of the means.
    log_likelihood_ : float
        Simulated log-likelihood at the optimum.
    n_respondents_, n_tasks_, n_iterations_ : int
    """

    def __init__(
        self,
        coding: Coding = "effects",
        price: str | None = "price",
        none: bool = True,
        attributes: Sequence[str] | None = None,
        random: Sequence[str] | None = None,
        n_draws: int = 200,
        random_state: int = 0,
    ) -> None:
        self.coding = coding
        self.price = price
        self.none = none
        self.attributes = attributes
        self.random = random
        self.n_draws = n_draws
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame) -> MixedLogit:
        """Simulated maximum-likelihood fit on a choice frame; returns ``self``.

        Raises
        ------
        DataError
            The frame is malformed.
        ModelError
            BFGS does not converge, or the information matrix is singular.
        """
        tasks, x = self._prepare(frame)
        names = self._coder.names
        random = names if self.random is None else list(self.random)
        unknown = [r for r in random if r not in names]
        if unknown:
            raise ModelError(f"random names {unknown[0]!r}, not a parameter; use one of {names}")
        panel = _Panel.of(x, tasks)
        k = len(names)
        self._random_mask = np.array([n in random for n in names])
        xi = _halton_normal(panel.n, self.n_draws, k, self.random_state)
        xi[:, :, ~self._random_mask] = 0.0

        mnl_beta = _newton(tasks.dense(x), names)[0]
        start = np.concatenate(
            [mnl_beta, np.where(self._random_mask, 0.5 * np.abs(mnl_beta) + 1e-3, 0.0)]
        )
        free = np.concatenate([np.ones(k, dtype=bool), self._random_mask])

        def gradient(theta_free: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            theta = np.zeros(2 * k)
            theta[free] = theta_free
            ll, grad, scores = panel.loglik(theta[:k], theta[k:], xi)
            return ll, grad[free], scores[:, free]

        def objective(theta_free: np.ndarray) -> tuple[float, np.ndarray]:
            """Minus the mean simulated log-likelihood and its gradient; stops BFGS once the
            Newton decrement g'B⁻¹g (B: BHHH, the scores' mean outer product) is below 1e-12:
            the log-likelihood is then within ~1e-9 of its maximum, and BFGS, left to its own
            test, spends dozens of evaluations on rounding noise."""
            ll, grad, scores = gradient(theta_free)
            value, g = -ll / panel.n, -grad / panel.n
            decrement = float(g @ np.linalg.solve(scores.T @ scores / panel.n, g))
            if decrement < 1e-12:
                raise _Converged(theta_free.copy(), value, g)
            return value, g

        _, _, scores = gradient(start[free])
        inverse = np.linalg.inv(scores.T @ scores / panel.n)  # BHHH (Berndt et al. 1974)
        steps: list[np.ndarray] = []
        try:
            res = optimize.minimize(
                objective, start[free], jac=True, method="BFGS", callback=steps.append,
                options={"gtol": 1e-6, "maxiter": 1_000, "hess_inv0": (inverse + inverse.T) / 2},
            )  # fmt: skip
            found, value, jac = res.x, res.fun, res.jac
        except _Converged as done:
            found, value, jac = done.x, done.value, done.grad
        if not np.all(np.isfinite(found)) or np.max(np.abs(jac)) > 1e-4:
            raise ModelError(
                "the mixed logit did not converge; try more draws or fewer random terms"
            )
        theta = np.zeros(2 * k)
        theta[free] = found
        hess = _hessian_from_gradient(lambda t: gradient(t)[1], found, -jac * panel.n)
        try:
            cov_free = np.linalg.inv(-hess)
        except np.linalg.LinAlgError:
            cov_free = np.full_like(hess, np.nan)
        cov = np.zeros((2 * k, 2 * k))
        cov[np.ix_(free, free)] = cov_free
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        self.params_ = pd.Series(theta[:k], index=names, name="mean")
        self.sds_ = pd.Series(np.abs(theta[k:]), index=names, name="sd")
        self.covariance_ = cov[:k, :k]
        self.standard_errors_ = pd.Series(se[:k], index=names, name="std_error")
        self.sd_standard_errors_ = pd.Series(se[k:], index=names, name="sd_std_error")
        self.log_likelihood_ = float(-value * panel.n)
        self.n_iterations_ = len(steps)
        return self

    def summary(self) -> pd.DataFrame:
        """Means and standard deviations with standard errors."""
        out = super().summary()
        out["sd"] = self.sds_
        out["sd_std_error"] = self.sd_standard_errors_
        return out

    def _simulation_betas(self) -> np.ndarray:
        k = len(self.params_)
        z = _halton_normal(1, 10_000, k, self.random_state + 1)[0]
        return self.params_.to_numpy() + self.sds_.to_numpy() * z


class _Converged(Exception):  # noqa: N818 - a signal, not an error
    """Raised by the objective to stop BFGS where the log-likelihood is flat."""

    def __init__(self, x: np.ndarray, value: float, grad: np.ndarray) -> None:
        super().__init__("converged")
        self.x, self.value, self.grad = x, value, grad


def _halton_normal(n: int, draws: int, k: int, seed: int) -> np.ndarray:
    """Scrambled Halton points (Bhat 2003) as standard normals, ``(n, draws, k)``; respondent
    *i* takes consecutive points ``i·draws`` … ``(i+1)·draws − 1`` (Train 2009, sec. 9.3.3)."""
    points = stats.qmc.Halton(d=k, scramble=True, seed=seed).random(n * draws)
    return stats.norm.ppf(np.clip(points, 1e-12, 1 - 1e-12)).reshape(n, draws, k)


@dataclass(frozen=True)
class _Panel:
    """The choice frame as respondents × (tasks · alternatives) × parameters, padded so every
    respondent has the same number of tasks and alternatives: a padded alternative is never
    available, a padded task has one all-zero alternative that is chosen (probability 1)."""

    x: np.ndarray  # (n, T·J, K)
    avail: np.ndarray | None  # (n, T·J, 1) as 0/1, None when nothing is padded
    x_chosen: np.ndarray  # (n, K): Σ_t x_nt,chosen
    n_tasks: int
    n_alts: int

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @classmethod
    def of(cls, x: np.ndarray, tasks: _Tasks) -> _Panel:
        n = tasks.n_respondents
        first = np.ones(len(tasks.starts), dtype=bool)
        first[1:] = tasks.respondent[1:] != tasks.respondent[:-1]
        idx = np.arange(len(tasks.starts))
        task_no = idx - np.maximum.accumulate(np.where(first, idx, 0))
        t_max, j_max = int(task_no.max()) + 1, int(tasks.sizes.max())
        slot = np.repeat(task_no, tasks.sizes)
        alt = np.arange(len(x)) - np.repeat(tasks.starts, tasks.sizes)
        who = np.repeat(tasks.respondent, tasks.sizes)
        big = np.zeros((n, t_max, j_max, x.shape[1]))
        avail = np.zeros((n, t_max, j_max), dtype=bool)
        big[who, slot, alt] = x
        avail[who, slot, alt] = True
        avail[:, :, 0] |= ~avail.any(axis=2)  # a padded task: one all-zero alternative
        x_chosen = np.zeros((n, x.shape[1]))
        np.add.at(x_chosen, tasks.respondent, x[tasks.chosen])
        tj = t_max * j_max
        mask = None if avail.all() else avail.reshape(n, tj, 1).astype(float)
        return cls(big.reshape(n, tj, -1), mask, x_chosen, t_max, j_max)

    def loglik(
        self, mu: np.ndarray, sigma: np.ndarray, xi: np.ndarray, chunk: int = 16
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Simulated log-likelihood, its gradient in (μ, σ) and each respondent's score.

        With ``L_nr = Π_t P_nt(β_nr)`` and ``w_nr = L_nr / Σ_r L_nr``: the score in μ is
        ``x_n,chosen − Σ_r w_nr X_n'P_nr`` and in σ_k ``Σ_r w_nr ξ_nrk (x_n,chosen − X_n'P_nr)_k``.
        """
        k, r = len(mu), xi.shape[1]
        scores = np.zeros((self.n, 2 * k))
        ll = 0.0
        for lo in range(0, self.n, chunk):
            sl = slice(lo, min(lo + chunk, self.n))
            x, z, xc = self.x[sl], xi[sl], self.x_chosen[sl]
            m = x.shape[0]
            beta = mu + sigma * z  # (m, R, K)
            v = np.matmul(x, beta.transpose(0, 2, 1))  # (m, TJ, R)
            shift = float(np.abs(v).max())
            shift = 0.0 if shift < 300 else shift  # exp(±300) is still a float
            e = np.exp(v - shift)
            if self.avail is not None:
                e *= self.avail[sl]
            denom = e.reshape(m, self.n_tasks, self.n_alts, r).sum(axis=2)  # (m, T, R)
            # log Π_t P_nt(β_nr) = Σ_t v_nt,chosen − Σ_t log Σ_j exp v_ntj
            log_l = (
                np.einsum("nk,nrk->nr", xc, beta) - np.log(denom).sum(axis=1) - self.n_tasks * shift
            )
            peak = log_l.max(axis=1, keepdims=True)
            w = np.exp(log_l - peak)
            total = w.sum(axis=1, keepdims=True)
            ll += float((np.log(total[:, 0]) + peak[:, 0]).sum() - m * np.log(r))
            w /= total
            q = e.reshape(m, self.n_tasks, self.n_alts, r) * (
                w[:, None, None, :] / denom[:, :, None, :]
            )
            g = np.matmul(x.transpose(0, 2, 1), q.reshape(m, -1, r))  # (m, K, R): Σ_r-weighted X'P
            scores[sl, :k] = xc - g.sum(axis=2)
            scores[sl, k:] = xc * np.einsum("nr,nrk->nk", w, z) - np.einsum("nkr,nrk->nk", g, z)
        return ll, scores.sum(axis=0), scores


def _hessian_from_gradient(grad: Any, x: np.ndarray, at_x: np.ndarray) -> np.ndarray:
    """Forward differences of an analytic gradient (``at_x`` = its value at ``x``),
    symmetrised; error ~1e-5 relative, plenty for standard errors."""
    n = len(x)
    h = 1e-5 * np.maximum(np.abs(x), 1e-2)
    hess = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h[i]
        hess[i] = (grad(x + e) - at_x) / h[i]
    return (hess + hess.T) / 2
