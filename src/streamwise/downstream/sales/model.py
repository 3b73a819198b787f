"""The propensity model: logistic regression on standardised features, its exact per-customer
decomposition, and its validation on a later period.

The log-odds of buying is linear in the standardised features ``z_j = (x_j - mean_j) / sd_j``::

    logit P(buy) = b0 + sum_j b_j z_j

so ``b_j z_j`` is exactly how much feature ``j`` moves this customer's log-odds away from those of
a customer at the training mean of every feature (``z = 0``); the contributions and the intercept
add up to the log-odds (Hosmer, Lemeshow & Sturdivant 2013, *Applied Logistic Regression*, 3rd
ed., ch. 1 and 3 on interpreting coefficients). The same arithmetic is written as an Ibis
expression, so every customer is scored in the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from streamwise.errors import ModelError

__all__ = ["HoldoutQuality", "PropensityModel", "holdout_quality"]

#: Fewest buyers and fewest non-buyers a model is fitted or judged on.
MIN_CLASS = 10


class PropensityModel:
    """Logistic regression of "bought within the horizon" on standardised features.

    Parameters
    ----------
    features
        Names of the input columns.
    C
        Inverse strength of scikit-learn's L2 penalty (1.0: negligible with thousands of rows,
        and it keeps the fit finite when a feature separates the classes).
    max_iter
        Iterations of the L-BFGS solver.

    Attributes
    ----------
    features_
        The inputs actually used: those that vary in the training data.
    dropped_
        Inputs left out because they were constant (e.g. no plan, so no target segments).
    mean_, scale_
        Training mean and standard deviation of each used input.
    coef_, intercept_
        Coefficients on the standardised inputs and the intercept (log-odds).
    n_, positives_
        Training rows and how many of them bought.
    """

    def __init__(self, features: Sequence[str], C: float = 1.0, max_iter: int = 1000) -> None:
        self.features = tuple(features)
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y: Any) -> Self:
        """Fit on inputs ``X`` (a column per feature) and 0/1 outcomes ``y``.

        Raises
        ------
        ModelError
            When fewer than :data:`MIN_CLASS` rows bought or did not buy.
        """
        target = np.asarray(y, dtype=float)
        positives = int(target.sum())
        if positives < MIN_CLASS or len(target) - positives < MIN_CLASS:
            raise ModelError(
                f"too few outcomes to fit the propensity model: {positives:,} of "
                f"{len(target):,} bought (need at least {MIN_CLASS} buyers and non-buyers); "
                "import more orders or use a longer --horizon"
            )
        values = X.loc[:, list(self.features)].to_numpy(dtype=float)
        sd = values.std(axis=0)
        keep = sd > 1e-12
        self.features_ = tuple(f for f, k in zip(self.features, keep, strict=True) if k)
        self.dropped_ = tuple(f for f, k in zip(self.features, keep, strict=True) if not k)
        self.mean_ = values[:, keep].mean(axis=0)
        self.scale_ = sd[keep]
        z = (values[:, keep] - self.mean_) / self.scale_
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(z, target)
        self.coef_ = lr.coef_[0].copy()
        self.intercept_ = float(lr.intercept_[0])
        self.n_ = len(target)
        self.positives_ = positives
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelError("the propensity model is not fitted; call fit(X, y) first")

    def standardise(self, X: pd.DataFrame) -> np.ndarray:
        """``z = (x - mean_) / scale_`` for the used inputs (missing values count as 0)."""
        self._check_fitted()
        values = X.loc[:, list(self.features_)].to_numpy(dtype=float)
        return (np.nan_to_num(values) - self.mean_) / self.scale_

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """``coef_j * z_j`` per row and used input; with ``intercept_`` they sum to the log-odds."""
        return pd.DataFrame(
            self.standardise(X) * self.coef_, columns=list(self.features_), index=X.index
        )

    def log_odds(self, X: pd.DataFrame) -> np.ndarray:
        """The linear predictor ``intercept_ + sum_j coef_j z_j``."""
        z = self.standardise(X)
        return self.intercept_ + z @ self.coef_

    def probability_to_buy(self, X: pd.DataFrame) -> np.ndarray:
        """P(buy within the horizon) for each row of ``X``."""
        return 1.0 / (1.0 + np.exp(-self.log_odds(X)))

    def contribution_exprs(self, inputs: Mapping[str, ir.NumericValue]) -> dict[str, ir.Value]:
        """The contributions as Ibis expressions of the input expressions (scoring in the
        database)."""
        self._check_fitted()
        return {
            f: (inputs[f] - float(m)) / float(s) * float(b)
            for f, m, s, b in zip(self.features_, self.mean_, self.scale_, self.coef_, strict=True)
        }

    def log_odds_expr(self, inputs: Mapping[str, ir.NumericValue]) -> ir.NumericValue:
        """:meth:`log_odds` as an Ibis expression."""
        total: ir.NumericValue = ibis.literal(self.intercept_)
        for value in self.contribution_exprs(inputs).values():
            total = total + value
        return total

    def to_dict(self) -> dict[str, Any]:
        """Parameters and fitted state, JSON-ready (see :meth:`from_dict`)."""
        self._check_fitted()
        return {
            "features": list(self.features),
            "C": self.C,
            "features_used": list(self.features_),
            "dropped": list(self.dropped_),
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
            "coef": [float(v) for v in self.coef_],
            "intercept": self.intercept_,
            "n": self.n_,
            "positives": self.positives_,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PropensityModel:
        """The fitted model from :meth:`to_dict`'s output."""
        model = cls(data["features"], C=float(data["C"]))
        model.features_ = tuple(data["features_used"])
        model.dropped_ = tuple(data["dropped"])
        model.mean_ = np.asarray(data["mean"], dtype=float)
        model.scale_ = np.asarray(data["scale"], dtype=float)
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.intercept_ = float(data["intercept"])
        model.n_ = int(data["n"])
        model.positives_ = int(data["positives"])
        return model

    def coefficients(self) -> pd.DataFrame:
        """One row per used input: ``coef`` (per standard deviation), ``odds_ratio``, ``mean``,
        ``sd``."""
        self._check_fitted()
        return pd.DataFrame(
            {"coef": self.coef_, "odds_ratio": np.exp(self.coef_), "mean": self.mean_,
             "sd": self.scale_},
            index=pd.Index(self.features_, name="feature"),
        )  # fmt: skip

    def __repr__(self) -> str:
        if not hasattr(self, "coef_"):
            return f"PropensityModel(features={list(self.features)}, C={self.C})"
        coefs = ", ".join(f"{f}={c:+.3f}" for f, c in zip(self.features_, self.coef_, strict=True))
        return (
            f"PropensityModel(intercept={self.intercept_:+.3f}, {coefs}; "
            f"fitted on {self.n_:,} rows, {self.positives_:,} bought)"
        )


@dataclass(frozen=True)
class HoldoutQuality:
    """How a model fitted on one period predicted the next.

    Attributes
    ----------
    n, positives
        Holdout rows and how many bought.
    base_rate
        ``positives / n``.
    auc
        Area under the ROC curve: the chance that a random buyer is scored above a random
        non-buyer (0.5 is no better than chance).
    top_decile_lift
        Buying rate in the tenth of rows with the highest scores over the base rate.
    calibration
        Per decile of the score (1 = highest): ``rows, predicted`` (mean P(buy)) and
        ``observed`` (share that bought). A calibrated model has the two close.
    """

    n: int
    positives: int
    base_rate: float
    auc: float
    top_decile_lift: float
    calibration: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The calibration table."""
        return self.calibration.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "n": self.n,
            "positives": self.positives,
            "base_rate": self.base_rate,
            "auc": self.auc,
            "top_decile_lift": self.top_decile_lift,
            "calibration": self.calibration.reset_index().to_dict(orient="records"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HoldoutQuality:
        """From :meth:`to_dict`'s output."""
        calibration = pd.DataFrame(data["calibration"]).set_index("decile")
        return cls(
            n=int(data["n"]), positives=int(data["positives"]),
            base_rate=float(data["base_rate"]), auc=float(data["auc"]),
            top_decile_lift=float(data["top_decile_lift"]), calibration=calibration,
        )  # fmt: skip


def holdout_quality(y: Any, p: Any) -> HoldoutQuality:
    """AUC, top-decile lift and calibration by decile of predictions ``p`` for outcomes ``y``.

    The AUC is the Mann-Whitney probability that a buyer outscores a non-buyer (Hanley & McNeil
    1982, "The meaning and use of the area under a ROC curve", Radiology 143(1)). Calibration
    groups rows into deciles of predicted risk, as the Hosmer-Lemeshow test does (Hosmer &
    Lemeshow 1980, Communications in Statistics A9(10)); deciles are cut on the rank of ``p``
    (ties broken by position), so each holds a tenth of the rows even when scores are equal.

    Raises
    ------
    ModelError
        When the holdout has fewer than :data:`MIN_CLASS` buyers or non-buyers.
    """
    outcome = np.asarray(y, dtype=float)
    score = np.asarray(p, dtype=float)
    positives = int(outcome.sum())
    if positives < MIN_CLASS or len(outcome) - positives < MIN_CLASS:
        raise ModelError(
            f"too few outcomes in the holdout to judge the model ({positives:,} of "
            f"{len(outcome):,} bought)"
        )
    order = np.argsort(-score, kind="stable")
    decile = np.empty(len(score), dtype=int)
    decile[order] = np.arange(len(score)) * 10 // len(score) + 1
    frame = pd.DataFrame({"decile": decile, "p": score, "y": outcome})
    table = frame.groupby("decile").agg(
        rows=("y", "size"), predicted=("p", "mean"), observed=("y", "mean")
    )
    base = positives / len(outcome)
    return HoldoutQuality(
        n=len(outcome),
        positives=positives,
        base_rate=base,
        auc=float(roc_auc_score(outcome, score)),
        top_decile_lift=float(table.loc[1, "observed"] / base),
        calibration=table,
    )
