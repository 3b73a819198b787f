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
from typing import Literal

import numpy as np
import pandas as pd

from streamwise.errors import DataError, ModelError
from streamwise.upstream.research.choices import (
    _NOT_ATTRIBUTES,
    CHOICE_COLUMNS,
    _Dense,
    _Tasks,
    _text,
    check_choice_frame,
    choice_frame,
)

__all__ = ["CHOICE_COLUMNS", "MixedLogit", "MultinomialLogit", "check_choice_frame", "choice_frame"]

Coding = Literal["effects", "dummy"]
Rule = Literal["logit", "first_choice"]


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


from streamwise.upstream.research.mixed_logit import MixedLogit  # noqa: E402 - it builds on the classes above
