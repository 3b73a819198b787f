"""MaxDiff (best–worst scaling): choice counts and the sequential best–worst logit.

In each MaxDiff task a respondent sees a few items and picks the one that matters most (best) and
the one that matters least (worst). :func:`maxdiff_tasks` turns a survey's answers and its design
into a long frame, one row per item shown; :func:`maxdiff_counts` counts how often each item was
shown, chosen best and chosen worst, and :func:`maxdiff_logit` estimates item utilities by
maximum likelihood.

Counts (Louviere, Flynn & Marley 2015, the object case): for item *j* shown ``n_j`` times, chosen
best ``B_j`` and worst ``W_j`` times, the best–worst score is ``B_j − W_j`` and the standardised
score ``(B_j − W_j) / n_j`` (in [−1, 1]).

Sequential best–worst logit (Marley & Louviere 2005, the "sequential" best-then-worst model;
Louviere, Flynn & Marley 2015): with utilities ``u`` and the set ``S`` of items shown,

    P(best = b | S)     = exp(u_b) / Σ_{k∈S} exp(u_k)
    P(worst = w | S, b) = exp(−u_w) / Σ_{k∈S∖{b}} exp(−u_k)

and a task's likelihood is their product. Utilities are identified up to a constant, so one
reference item is fixed at 0; the log-likelihood is globally concave. Its gradient is
``Σ_t (e_b − Σ_k p_k e_k) − (e_w − Σ_k q_k e_k)`` and the observed information
``Σ_t [diag(p) − p pᵀ] + [diag(q) − q qᵀ]`` (mapped onto the items; p and q the best and worst
choice probabilities of the task; Train 2009, §3.7). Standard errors come from the inverse
of the information; centred utilities and shares of preference ``s_j = exp(u_j) / Σ_k exp(u_k)``
get theirs by the delta method.

A pooled logit estimates one utility vector for everyone. When respondents differ (segments,
individual tastes), its utilities are shrunk towards zero compared with the average of the
individual ones (the scale is confounded with heterogeneity); ranks and ratios are what carry
over. Estimate per segment with :func:`maxdiff_logit_by` to see the differences.

References
----------
Finn, A. and Louviere, J. J. (1992). Determining the appropriate response to evidence of public
concern: the case of food safety. Journal of Public Policy & Marketing 11(2), 12–25.
Marley, A. A. J. and Louviere, J. J. (2005). Some probabilistic models of best, worst, and
best–worst choices. Journal of Mathematical Psychology 49(6), 464–480.
Louviere, J. J., Flynn, T. N. and Marley, A. A. J. (2015). Best-Worst Scaling: Theory, Methods and
Applications. Cambridge University Press.
Train, K. E. (2009). Discrete Choice Methods with Simulation, 2nd ed. Cambridge University Press.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from streamwise.errors import DataError, ModelError
from streamwise.upstream.research.maxdiff_design import first_row, maxdiff_tasks
from streamwise.upstream.research.responses import Survey, respondent_groups, stack_groups

__all__ = [
    "LONG_COLUMNS",
    "MaxDiffCounts",
    "MaxDiffLogit",
    "maxdiff_counts",
    "maxdiff_counts_by",
    "maxdiff_logit",
    "maxdiff_logit_by",
    "maxdiff_tasks",
]

#: Columns of the long frame that :func:`maxdiff_counts` and :func:`maxdiff_logit` read.
LONG_COLUMNS = ("respondent_id", "task", "item", "best", "worst")


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaxDiffCounts:
    """How often each item was shown, chosen best and chosen worst.

    Counts of disjoint groups of respondents add up: ``counts_a + counts_b`` is the count of both.

    Attributes
    ----------
    items
        Item keys, in design order.
    shown, best, worst
        Per item: times shown, chosen best, chosen worst.
    respondents, tasks
        Respondents and tasks counted.
    """

    items: tuple[str, ...]
    shown: tuple[int, ...]
    best: tuple[int, ...]
    worst: tuple[int, ...]
    respondents: int
    tasks: int

    @property
    def score(self) -> tuple[int, ...]:
        """Best–worst score ``B − W`` per item."""
        return tuple(b - w for b, w in zip(self.best, self.worst, strict=True))

    @property
    def standardised(self) -> tuple[float, ...]:
        """Standardised score ``(B − W) / shown`` per item (NaN for an item never shown)."""
        return tuple(
            (b - w) / n if n else float("nan")
            for b, w, n in zip(self.best, self.worst, self.shown, strict=True)
        )

    def __add__(self, other: MaxDiffCounts) -> MaxDiffCounts:
        if not isinstance(other, MaxDiffCounts):
            return NotImplemented
        if other.items != self.items:
            raise ValueError("counts of different item lists cannot be added")

        def plus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
            return tuple(x + y for x, y in zip(a, b, strict=True))

        return MaxDiffCounts(
            items=self.items,
            shown=plus(self.shown, other.shown),
            best=plus(self.best, other.best),
            worst=plus(self.worst, other.worst),
            respondents=self.respondents + other.respondents,
            tasks=self.tasks + other.tasks,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per item (index ``item``): shown, best, worst, score, standardised, rank
        (1 = highest standardised score; ties share the best rank)."""
        frame = pd.DataFrame(
            {
                "shown": self.shown,
                "best": self.best,
                "worst": self.worst,
                "score": self.score,
                "standardised": self.standardised,
            },
            index=pd.Index(self.items, name="item"),
        )
        frame["rank"] = frame["standardised"].rank(ascending=False, method="min").astype("Int64")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary: per-item lists and the totals."""
        return {
            "items": list(self.items),
            "shown": list(self.shown),
            "best": list(self.best),
            "worst": list(self.worst),
            "score": list(self.score),
            "standardised": list(self.standardised),
            "respondents": self.respondents,
            "tasks": self.tasks,
        }


@dataclass(frozen=True)
class MaxDiffLogit:
    """Item utilities of the sequential best–worst logit.

    Attributes
    ----------
    items
        Item keys, in design order.
    utility, std_error
        Centred utilities (mean 0 over the items) and their standard errors.
    share, share_std_error
        Shares of preference ``exp(u_j) / Σ_k exp(u_k)`` and their standard errors.
    reference
        The item whose utility was fixed at 0 for estimation.
    utility_vs_reference, std_error_vs_reference
        Utilities relative to the reference item (its own is 0 with standard error 0).
    log_likelihood, null_log_likelihood
        At the estimate and with every utility 0 (all choices equally likely).
    respondents, tasks, iterations
        Respondents and tasks used; iterations of the optimiser.
    covariance
        Covariance matrix of the centred utilities (items × items).
    """

    items: tuple[str, ...]
    utility: tuple[float, ...]
    std_error: tuple[float, ...]
    share: tuple[float, ...]
    share_std_error: tuple[float, ...]
    reference: str
    utility_vs_reference: tuple[float, ...]
    std_error_vs_reference: tuple[float, ...]
    log_likelihood: float
    null_log_likelihood: float
    respondents: int
    tasks: int
    iterations: int
    covariance: np.ndarray = field(repr=False, compare=False)

    @property
    def mcfadden_r2(self) -> float:
        """McFadden's pseudo R² = 1 − LL / LL₀ (Train 2009, §3.8)."""
        return 1.0 - self.log_likelihood / self.null_log_likelihood

    def to_frame(self) -> pd.DataFrame:
        """One row per item (index ``item``): utility, std_error, share, share_std_error,
        utility_vs_reference, std_error_vs_reference, rank (1 = highest utility)."""
        frame = pd.DataFrame(
            {
                "utility": self.utility,
                "std_error": self.std_error,
                "share": self.share,
                "share_std_error": self.share_std_error,
                "utility_vs_reference": self.utility_vs_reference,
                "std_error_vs_reference": self.std_error_vs_reference,
            },
            index=pd.Index(self.items, name="item"),
        )
        frame["rank"] = frame["utility"].rank(ascending=False, method="min").astype("Int64")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary: per-item lists, the fit statistics (covariance left out)."""
        return {
            "items": list(self.items),
            "utility": list(self.utility),
            "std_error": list(self.std_error),
            "share": list(self.share),
            "share_std_error": list(self.share_std_error),
            "reference": self.reference,
            "utility_vs_reference": list(self.utility_vs_reference),
            "std_error_vs_reference": list(self.std_error_vs_reference),
            "log_likelihood": self.log_likelihood,
            "null_log_likelihood": self.null_log_likelihood,
            "mcfadden_r2": self.mcfadden_r2,
            "respondents": self.respondents,
            "tasks": self.tasks,
            "iterations": self.iterations,
        }


# --------------------------------------------------------------------------------------------
# checked arrays
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tasks:
    """Tasks as padded arrays: item codes ``x`` (tasks × slots), ``shown`` mask, the best and
    worst slot of each task."""

    items: list[str]
    x: np.ndarray
    shown: np.ndarray
    best: np.ndarray
    worst: np.ndarray
    respondents: int


def _bools(column: pd.Series, name: str) -> np.ndarray:
    values = column.to_numpy()
    if column.dtype == bool:
        return values.astype(bool)
    ok = pd.Series(values).isin([True, False, 0, 1]).to_numpy()
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise DataError(f"{name} must be true/false, not {values[i]!r}", row=i + 1, column=name)
    return values.astype(bool)


def _long(data: Survey | pd.DataFrame) -> pd.DataFrame:
    """The long frame of ``data`` (built from a survey, or checked when given)."""
    if isinstance(data, Survey):
        return maxdiff_tasks(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError("pass a Survey or the long frame of maxdiff_tasks")
    missing = [c for c in LONG_COLUMNS if c not in data.columns]
    if missing:
        raise DataError(
            f"the MaxDiff frame has no column {missing[0]!r}; it needs {', '.join(LONG_COLUMNS)}",
            column=missing[0],
        )
    if data.empty:
        raise DataError("no MaxDiff answers to analyse")
    frame = data.loc[:, list(LONG_COLUMNS)].reset_index(drop=True)
    frame["best"] = _bools(frame["best"], "best")
    frame["worst"] = _bools(frame["worst"], "worst")
    if frame["item"].isna().any():
        i = int(np.flatnonzero(frame["item"].isna().to_numpy())[0])
        raise DataError("an item is missing; name every item shown", row=i + 1, column="item")
    keys = ["respondent_id", "task"]
    twice = frame.duplicated([*keys, "item"])
    if twice.any():
        r = first_row(frame, twice)
        raise DataError(
            f"respondent {r['respondent_id']} was shown {r['item']!r} twice in MaxDiff task "
            f"{r['task']}; list each item once per task"
        )
    both = frame["best"] & frame["worst"]
    if both.any():
        r = first_row(frame, both)
        raise DataError(
            f"respondent {r['respondent_id']} chose {r['item']!r} as both best and worst in "
            f"MaxDiff task {r['task']}; best and worst must differ"
        )
    per = frame.groupby(keys, sort=False).agg(
        n=("item", "size"), best=("best", "sum"), worst=("worst", "sum")
    )
    bad = (per["n"] < 2) | (per["best"] != 1) | (per["worst"] != 1)
    if bad.any():
        (rid, task), row = next(iter(per[bad].iterrows()))
        raise DataError(
            f"respondent {rid} has {row['best']} best and {row['worst']} worst choice(s) among "
            f"{row['n']} item(s) in MaxDiff task {task}; each task needs at least two items, one "
            "best and one worst"
        )
    return frame


def _arrays(frame: pd.DataFrame) -> _Tasks:
    """Pad the tasks of a checked long frame into arrays."""
    item = frame["item"]
    if isinstance(item.dtype, pd.CategoricalDtype):
        items = [str(c) for c in item.cat.categories]
        code = item.cat.codes.to_numpy(dtype=np.int64)
    else:
        text = item.astype(str)
        items = list(dict.fromkeys(text))
        code = pd.Categorical(text, categories=items).codes.astype(np.int64)
    keys = ["respondent_id", "task"]
    task = frame.groupby(keys, sort=False).ngroup().to_numpy()
    slot = frame.groupby(keys, sort=False).cumcount().to_numpy()
    n_tasks, width = int(task.max()) + 1, int(slot.max()) + 1
    x = np.zeros((n_tasks, width), dtype=np.int64)
    shown = np.zeros((n_tasks, width), dtype=bool)
    x[task, slot] = code
    shown[task, slot] = True
    best = np.zeros(n_tasks, dtype=np.int64)
    worst = np.zeros(n_tasks, dtype=np.int64)
    b, w = frame["best"].to_numpy(dtype=bool), frame["worst"].to_numpy(dtype=bool)
    best[task[b]] = slot[b]
    worst[task[w]] = slot[w]
    return _Tasks(items, x, shown, best, worst, int(frame["respondent_id"].nunique()))


# --------------------------------------------------------------------------------------------
# counts
# --------------------------------------------------------------------------------------------


def _count(t: _Tasks) -> MaxDiffCounts:
    n_items = len(t.items)
    rows = np.arange(len(t.x))
    shown = np.bincount(t.x[t.shown], minlength=n_items)
    best = np.bincount(t.x[rows, t.best], minlength=n_items)
    worst = np.bincount(t.x[rows, t.worst], minlength=n_items)
    return MaxDiffCounts(
        items=tuple(t.items),
        shown=tuple(int(v) for v in shown),
        best=tuple(int(v) for v in best),
        worst=tuple(int(v) for v in worst),
        respondents=t.respondents,
        tasks=len(t.x),
    )


def maxdiff_counts(data: Survey | pd.DataFrame) -> MaxDiffCounts:
    """Times shown, chosen best and chosen worst per item, and the best–worst scores.

    Parameters
    ----------
    data
        A survey (read with :func:`maxdiff_tasks`) or its long frame (``respondent_id, task,
        item, best, worst``; one best and one worst per respondent and task).

    Returns
    -------
    MaxDiffCounts
        ``score`` = B − W and ``standardised`` = (B − W) / shown per item (Louviere, Flynn &
        Marley 2015).

    Raises
    ------
    DataError
        A task without exactly one best and one worst choice, or with the same item as both
        (the respondent and task are named).
    """
    return _count(_arrays(_long(data)))


# --------------------------------------------------------------------------------------------
# logit
# --------------------------------------------------------------------------------------------


def _pairs(x: np.ndarray, p: np.ndarray, n_items: int) -> np.ndarray:
    """Σ_t Σ_{k,l} p_tk p_tl e_{x_tk} e_{x_tl}ᵀ, accumulated item by item (items × items)."""
    index = (x[:, :, None] * n_items + x[:, None, :]).ravel()
    weight = (p[:, :, None] * p[:, None, :]).ravel()
    return np.bincount(index, weights=weight, minlength=n_items * n_items).reshape(n_items, n_items)


def _log_likelihood(
    u: np.ndarray, t: _Tasks, *, derivatives: bool = True
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood of the sequential best–worst logit at utilities ``u`` (one per item), its
    gradient and the observed information (minus the Hessian), both over all items."""
    n_items = len(u)
    rows = np.arange(len(t.x))
    util = u[t.x]
    v_best = np.where(t.shown, util, -np.inf)
    lse_best = special.logsumexp(v_best, axis=1)
    remaining = t.shown.copy()
    remaining[rows, t.best] = False
    v_worst = np.where(remaining, -util, -np.inf)
    lse_worst = special.logsumexp(v_worst, axis=1)
    ll = float(np.sum(util[rows, t.best] - lse_best) + np.sum(-util[rows, t.worst] - lse_worst))
    if not derivatives:
        return ll, np.empty(0), np.empty((0, 0))
    p = np.exp(v_best - lse_best[:, None])
    q = np.exp(v_worst - lse_worst[:, None])
    flat = t.x.ravel()
    p_sum = np.bincount(flat, weights=p.ravel(), minlength=n_items)
    q_sum = np.bincount(flat, weights=q.ravel(), minlength=n_items)
    chosen_best = np.bincount(t.x[rows, t.best], minlength=n_items)
    chosen_worst = np.bincount(t.x[rows, t.worst], minlength=n_items)
    grad = chosen_best - p_sum - chosen_worst + q_sum
    info = np.diag(p_sum + q_sum) - _pairs(t.x, p, n_items) - _pairs(t.x, q, n_items)
    return ll, grad, info


def _newton(
    t: _Tasks, free: np.ndarray, full: Any, *, max_iter: int = 100
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, int]:
    """Maximise the (concave) log-likelihood by Newton's method with step halving."""
    theta = np.zeros(len(free))
    ll, grad, info = _log_likelihood(full(theta), t)
    for iteration in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(info[np.ix_(free, free)], grad[free])
        except np.linalg.LinAlgError:
            raise ModelError(
                "the MaxDiff information matrix is singular: the design does not connect all "
                "items (some items are never shown together with the others)"
            ) from None
        for _ in range(40):
            new_ll, new_grad, new_info = _log_likelihood(full(theta + step), t)
            if new_ll >= ll - 1e-12 * abs(ll):
                break
            step = step / 2
        theta, gain = theta + step, new_ll - ll
        ll, grad, info = new_ll, new_grad, new_info
        if np.max(np.abs(step)) < 1e-9 and gain < 1e-9:
            return full(theta), ll, grad, info, iteration
        if np.max(np.abs(theta)) > 50:
            break
    raise ModelError(
        "the MaxDiff logit did not converge: an item that is always (or never) chosen best or "
        "worst has no finite utility; check the counts with maxdiff_counts"
    )


def _fit(t: _Tasks, reference: str | None) -> MaxDiffLogit:
    items = t.items
    n_items = len(items)
    shown = np.bincount(t.x[t.shown], minlength=n_items)
    never = [items[j] for j in np.flatnonzero(shown == 0)]
    if never:
        raise ModelError(
            f"item(s) {', '.join(never)} were never shown, so their utilities cannot be "
            "estimated; leave them out of the items or collect answers that show them"
        )
    ref = items[-1] if reference is None else reference
    if ref not in items:
        raise ValueError(f"reference {ref!r} is not an item; choose one of {items}")
    r = items.index(ref)
    free = np.array([j for j in range(n_items) if j != r])
    n_tasks = len(t.x)

    def full(theta: np.ndarray) -> np.ndarray:
        u = np.zeros(n_items)
        u[free] = theta
        return u

    u, ll, _, info, iterations = _newton(t, free, full)
    try:
        cov_free = np.linalg.inv(info[np.ix_(free, free)])
    except np.linalg.LinAlgError:
        raise ModelError(
            "the MaxDiff information matrix is singular: the design does not connect all "
            "items (some items are never shown together with the others)"
        ) from None
    cov_ref = np.zeros((n_items, n_items))
    cov_ref[np.ix_(free, free)] = cov_free
    centre = np.eye(n_items) - 1.0 / n_items
    cov = centre @ cov_ref @ centre.T
    share = special.softmax(u)
    jac = np.diag(share) - np.outer(share, share)
    cov_share = jac @ cov_ref @ jac.T
    null_ll, _, _ = _log_likelihood(np.zeros(n_items), t, derivatives=False)

    def floats(a: np.ndarray) -> tuple[float, ...]:
        return tuple(float(v) for v in a)

    return MaxDiffLogit(
        items=tuple(items),
        utility=floats(centre @ u),
        std_error=floats(np.sqrt(np.clip(np.diag(cov), 0, None))),
        share=floats(share),
        share_std_error=floats(np.sqrt(np.clip(np.diag(cov_share), 0, None))),
        reference=ref,
        utility_vs_reference=floats(u),
        std_error_vs_reference=floats(np.sqrt(np.clip(np.diag(cov_ref), 0, None))),
        log_likelihood=ll,
        null_log_likelihood=null_ll,
        respondents=t.respondents,
        tasks=n_tasks,
        iterations=iterations,
        covariance=cov,
    )


def maxdiff_logit(data: Survey | pd.DataFrame, *, reference: str | None = None) -> MaxDiffLogit:
    """Item utilities of the sequential best–worst logit, by maximum likelihood.

    Parameters
    ----------
    data
        A survey (read with :func:`maxdiff_tasks`) or its long frame (``respondent_id, task,
        item, best, worst``). A categorical ``item`` keeps its category order.
    reference
        The item fixed at utility 0 for estimation (default: the last item). Centred utilities,
        shares and their standard errors do not depend on it.

    Returns
    -------
    MaxDiffLogit
        Centred utilities with standard errors from the observed information, shares of
        preference ``exp(u) / Σ exp(u)`` with delta-method standard errors, the utilities
        relative to the reference, the log-likelihoods and the covariance.

    Raises
    ------
    DataError
        As :func:`maxdiff_counts`.
    ModelError
        An item was never shown, the optimiser did not converge (an item always or never chosen
        has an infinite utility), or the design leaves the items unconnected.
    """
    return _fit(_arrays(_long(data)), reference)


# --------------------------------------------------------------------------------------------
# by group
# --------------------------------------------------------------------------------------------


def maxdiff_counts_by(
    data: Survey | pd.DataFrame, by: pd.Series, *, name: str = "group"
) -> pd.DataFrame:
    """:func:`maxdiff_counts` per group of respondents, plus ``"All"`` (every respondent).

    Parameters
    ----------
    data
        As in :func:`maxdiff_counts`.
    by
        The group of each respondent (a Series indexed by ``respondent_id``, such as the answers
        to a segment question). Respondents without a group count only towards ``"All"``.
    name
        Name of the group column.

    Returns
    -------
    pandas.DataFrame
        ``name, item`` and the columns of :meth:`MaxDiffCounts.to_frame`; groups in sorted
        order, ``"All"`` last.
    """
    frame = _long(data)
    rows = [(key, _count(_arrays(part)).to_frame()) for key, part in respondent_groups(frame, by)]
    return stack_groups(rows, name)


def maxdiff_logit_by(
    data: Survey | pd.DataFrame,
    by: pd.Series,
    *,
    reference: str | None = None,
    name: str = "group",
) -> pd.DataFrame:
    """:func:`maxdiff_logit` per group of respondents, plus ``"All"`` (every respondent).

    Parameters
    ----------
    data, reference
        As in :func:`maxdiff_logit`.
    by
        The group of each respondent (a Series indexed by ``respondent_id``). Respondents
        without a group count only towards ``"All"``.
    name
        Name of the group column.

    Returns
    -------
    pandas.DataFrame
        ``name, item`` and the columns of :meth:`MaxDiffLogit.to_frame`, plus ``respondents``
        and ``log_likelihood`` of each group's fit; groups in sorted order, ``"All"`` last.
    """
    frame = _long(data)
    rows = []
    for key, part in respondent_groups(frame, by):
        fit = _fit(_arrays(part), reference)
        rows.append(
            (
                key,
                fit.to_frame().assign(
                    respondents=fit.respondents, log_likelihood=fit.log_likelihood
                ),
            )
        )
    return stack_groups(rows, name)
