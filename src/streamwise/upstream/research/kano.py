"""Kano analysis: which features customers expect, want more of, are delighted by or ignore.

For every feature a respondent answers a functional question ("How would you feel if the product
had it?") and a dysfunctional one ("... did not have it?"), each with one of five answers:
``like``, ``must_be``, ``neutral``, ``live_with``, ``dislike``. The Kano evaluation table
(Kano, Seraku, Takahashi & Tsuji 1984; Berger et al. 1993) maps the pair to a category:

======================  ====  =======  =======  =========  =======
functional \\ dysfunct.  like  must_be  neutral  live_with  dislike
======================  ====  =======  =======  =========  =======
like                    Q     A        A        A          O
must_be                 R     I        I        I          M
neutral                 R     I        I        I          M
live_with               R     I        I        I          M
dislike                 R     R        R        R          Q
======================  ====  =======  =======  =========  =======

A attractive, O one-dimensional, M must-be, I indifferent, R reverse, Q questionable (a
contradictory pair). Per feature we count the categories; the feature's category is the most
frequent one other than Q, ties broken by M > O > A > I (Berger et al. 1993: the order in which
they matter to product decisions), then R. Questionable pairs are counted and reported, never
dropped silently; shares are of all answered pairs, questionable ones included.

Customer-satisfaction coefficients (Berger et al. 1993)::

    Better = (A + O) / (A + O + M + I)        (extent of satisfaction when present)
    Worse  = −(O + M) / (A + O + M + I)       (extent of dissatisfaction when absent)

Whether the most frequent category stands out from the runner-up is judged by Fong's test
(Fong 1996): with a and b the two largest counts among n pairs, the difference is significant
at about the 10 % level when |a − b| ≥ 1.65 · √((a + b)(2n − a − b) / (2n)).

References
----------
Kano, N., Seraku, N., Takahashi, F. and Tsuji, S. (1984). Attractive quality and must-be quality.
Hinshitsu (Quality, the Journal of the Japanese Society for Quality Control) 14(2), 147–156.
Berger, C., Blauth, R., Boger, D. et al. (1993). Kano's methods for understanding
customer-defined quality. Center for Quality of Management Journal 2(4), 3–36.
Fong, D. (1996). Using the self-stated importance questionnaire to interpret Kano questionnaire
results. Center for Quality of Management Journal 5(3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.research.responses import Survey, respondent_groups, stack_groups

__all__ = [
    "KANO_ANSWERS",
    "KANO_CATEGORIES",
    "KANO_TABLE",
    "TIE_ORDER",
    "KanoFeature",
    "KanoResult",
    "kano",
    "kano_by",
    "kano_pairs",
]

#: The five answers, in the order of the evaluation table's rows and columns.
KANO_ANSWERS: tuple[str, ...] = ("like", "must_be", "neutral", "live_with", "dislike")
_ROWS: dict[str, str] = {
    "like": "QAAAO",
    "must_be": "RIIIM",
    "neutral": "RIIIM",
    "live_with": "RIIIM",
    "dislike": "RRRRQ",
}
#: Kano evaluation table: functional answer → dysfunctional answer → category letter.
KANO_TABLE: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {f: MappingProxyType(dict(zip(KANO_ANSWERS, row, strict=True))) for f, row in _ROWS.items()}
)
#: Category letter → name.
KANO_CATEGORIES: Mapping[str, str] = MappingProxyType(
    {
        "A": "attractive",
        "O": "one-dimensional",
        "M": "must-be",
        "I": "indifferent",
        "R": "reverse",
        "Q": "questionable",
    }
)
#: Order that breaks a tie for the most frequent category (Berger et al. 1993), then reverse.
TIE_ORDER: tuple[str, ...] = ("M", "O", "A", "I", "R")
_LETTERS = tuple(KANO_CATEGORIES)
_FIELDS = {letter: name.replace("-", "_") for letter, name in KANO_CATEGORIES.items()}
_LOOKUP = np.array([[_LETTERS.index(c) for c in _ROWS[f]] for f in KANO_ANSWERS])
_FONG_Z = 1.65


@dataclass(frozen=True)
class KanoFeature:
    """Category counts of one feature; counts of disjoint groups of respondents add up.

    Attributes
    ----------
    feature
        The feature's key.
    attractive, one_dimensional, must_be, indifferent, reverse, questionable
        Answered pairs that the evaluation table maps to each category.
    unpaired
        Respondents who answered only one of the feature's two questions (not counted above).
    """

    feature: str
    attractive: int = 0
    one_dimensional: int = 0
    must_be: int = 0
    indifferent: int = 0
    reverse: int = 0
    questionable: int = 0
    unpaired: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """Category letter → count."""
        return {letter: getattr(self, _FIELDS[letter]) for letter in _LETTERS}

    @property
    def n(self) -> int:
        """Answered pairs, questionable ones included."""
        return sum(self.counts.values())

    @property
    def shares(self) -> dict[str, float]:
        """Category name → share of all answered pairs (NaN when there are none)."""
        n = self.n
        return {KANO_CATEGORIES[k]: (v / n if n else float("nan")) for k, v in self.counts.items()}

    @property
    def category(self) -> str | None:
        """Most frequent category other than questionable, ties by M > O > A > I > R;
        ``"questionable"`` when every pair is, ``None`` without pairs."""
        counts = self.counts
        top = max(TIE_ORDER, key=lambda c: (counts[c], -TIE_ORDER.index(c)))
        if counts[top] > 0:
            return KANO_CATEGORIES[top]
        return KANO_CATEGORIES["Q"] if counts["Q"] else None

    @property
    def better(self) -> float:
        """Berger et al. (1993): (A + O) / (A + O + M + I); NaN when the denominator is 0."""
        base = self.attractive + self.one_dimensional + self.must_be + self.indifferent
        return (self.attractive + self.one_dimensional) / base if base else float("nan")

    @property
    def worse(self) -> float:
        """Berger et al. (1993): −(O + M) / (A + O + M + I); NaN when the denominator is 0."""
        base = self.attractive + self.one_dimensional + self.must_be + self.indifferent
        return -(self.one_dimensional + self.must_be) / base if base else float("nan")

    @property
    def significant(self) -> bool:
        """Fong (1996): the two most frequent categories (Q aside) differ significantly."""
        a, b = sorted((self.counts[c] for c in TIE_ORDER), reverse=True)[:2]
        n = self.n
        if n == 0:
            return False
        return abs(a - b) >= _FONG_Z * np.sqrt((a + b) * (2 * n - a - b) / (2 * n))

    def __add__(self, other: KanoFeature) -> KanoFeature:
        if not isinstance(other, KanoFeature):
            return NotImplemented
        if other.feature != self.feature:
            raise ValueError(f"cannot add counts of {self.feature!r} and {other.feature!r}")
        names = [*_FIELDS.values(), "unpaired"]
        return KanoFeature(self.feature, **{k: getattr(self, k) + getattr(other, k) for k in names})

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary: counts, n, shares (by category name), category, Better, Worse."""
        return {
            "feature": self.feature,
            **{name: getattr(self, name) for name in _FIELDS.values()},
            "unpaired": self.unpaired,
            "n": self.n,
            "shares": self.shares,
            "category": self.category,
            "better": self.better,
            "worse": self.worse,
            "significant": bool(self.significant),
        }


@dataclass(frozen=True)
class KanoResult:
    """Kano counts, categories and Better/Worse coefficients of every feature."""

    features: tuple[KanoFeature, ...]

    def feature(self, key: str) -> KanoFeature:
        """The result of one feature."""
        for f in self.features:
            if f.feature == key:
                return f
        raise KeyError(f"no feature {key!r}; the features are {[f.feature for f in self.features]}")

    def to_frame(self) -> pd.DataFrame:
        """One row per feature (index ``feature``): n, the six counts, ``share_<category>``
        for each, unpaired, category, better, worse, significant."""
        rows = []
        for f in self.features:
            d = f.to_dict()
            shares = {f"share_{_FIELDS[k]}": d["shares"][v] for k, v in KANO_CATEGORIES.items()}
            rows.append(
                {"feature": f.feature, "n": f.n}
                | {name: d[name] for name in _FIELDS.values()}
                | shares
                | {k: d[k] for k in ("unpaired", "category", "better", "worse", "significant")}
            )
        return pd.DataFrame(rows).set_index("feature")

    def to_dict(self) -> dict[str, Any]:
        """Feature → :meth:`KanoFeature.to_dict`."""
        return {f.feature: f.to_dict() for f in self.features}


# --------------------------------------------------------------------------------------------
# answers to pairs
# --------------------------------------------------------------------------------------------


def _codes(codes: Mapping[Any, str] | None) -> dict[str, str]:
    if codes is None:
        return {a: a for a in KANO_ANSWERS}
    bad = sorted({str(v) for v in codes.values()} - set(KANO_ANSWERS))
    if bad:
        raise ValueError(f"codes must map answers to {KANO_ANSWERS}, not to {bad}")
    return {str(k).strip(): v for k, v in codes.items()}


def _index(
    values: pd.Series, codes: dict[str, str], respondents: pd.Series, where: pd.Series
) -> np.ndarray:
    """Answers as row/column numbers of the evaluation table (−1 where missing)."""
    text = values.astype("string").str.strip()
    mapped = text.map(codes)
    bad = text.notna() & mapped.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"respondent {respondents.iloc[i]} answered {text.iloc[i]!r} to {where.iloc[i]}; "
            f"a Kano answer is one of {', '.join(codes)} (map other codes with codes=)",
            column="answer",
        )
    order = {a: i for i, a in enumerate(KANO_ANSWERS)}
    return mapped.map(order).fillna(-1).to_numpy(dtype=np.int64)


def _categorise(frame: pd.DataFrame, codes: dict[str, str], where: tuple[Any, Any]) -> pd.Series:
    f = _index(frame["functional"], codes, frame["respondent_id"], where[0])
    d = _index(frame["dysfunctional"], codes, frame["respondent_id"], where[1])
    both = (f >= 0) & (d >= 0)
    letters = np.full(len(frame), None, dtype=object)
    letters[both] = np.array(_LETTERS, dtype=object)[_LOOKUP[f[both], d[both]]]
    return pd.Series(letters, index=frame.index, name="category")


def kano_pairs(survey: Survey, *, codes: Mapping[Any, str] | None = None) -> pd.DataFrame:
    """Each respondent's functional/dysfunctional pair per feature, and its category.

    Parameters
    ----------
    survey
        Checked answers; the questionnaire's ``kano`` questions carry ``feature`` and ``side``
        (``functional`` or ``dysfunctional``), one of each per feature.
    codes
        Answer as written → one of :data:`KANO_ANSWERS` (e.g. ``{"1": "like", ...}``); by
        default the answers are those keys themselves.

    Returns
    -------
    pandas.DataFrame
        ``respondent_id, feature, functional, dysfunctional, category`` (category letter, empty
        when the respondent answered only one side); features in questionnaire order.

    Raises
    ------
    DataError
        A feature lacks one of its two questions, or an answer is not a Kano answer (the
        respondent and question are named).
    """
    code = _codes(codes)
    sides: dict[str, dict[str, str]] = {}
    for q in survey.questionnaire.of_type("kano"):
        feature = q.field("feature")
        if not feature:
            raise DataError(f"kano question {q.id!r} needs feature: the feature it asks about")
        side = str(q.field("side"))
        if side in sides.setdefault(str(feature), {}):
            raise DataError(
                f"kano questions {sides[str(feature)][side]!r} and {q.id!r} both ask the {side} "
                f"question of feature {feature!r}; keep one"
            )
        sides[str(feature)][side] = q.id
    if not sides:
        raise DataError("the questionnaire has no kano questions")
    parts = []
    for feature, ids in sides.items():
        if set(ids) != {"functional", "dysfunctional"}:
            lacking = ({"functional", "dysfunctional"} - set(ids)).pop()
            raise DataError(f"kano feature {feature!r} has no {lacking} question; add one")
        pair = pd.concat(
            {
                "functional": survey.values(ids["functional"]),
                "dysfunctional": survey.values(ids["dysfunctional"]),
            },
            axis=1,
        )
        pair = pair.reindex(survey.respondents.intersection(pair.index, sort=False))
        frame = pd.DataFrame(
            {
                "respondent_id": pair.index.astype(str),
                "feature": feature,
                "functional": pair["functional"].to_numpy(),
                "dysfunctional": pair["dysfunctional"].to_numpy(),
            }
        )
        where = (
            pd.Series(f"question {ids['functional']!r}", index=frame.index),
            pd.Series(f"question {ids['dysfunctional']!r}", index=frame.index),
        )
        frame["category"] = _categorise(frame, code, where)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _pairs(data: Survey | pd.DataFrame, codes: Mapping[Any, str] | None) -> pd.DataFrame:
    if isinstance(data, Survey):
        return kano_pairs(data, codes=codes)
    if not isinstance(data, pd.DataFrame):
        raise TypeError("pass a Survey or a frame of respondent_id, feature, functional, ...")
    needed = ("respondent_id", "feature", "functional", "dysfunctional")
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise DataError(
            f"the Kano frame has no column {missing[0]!r}; it needs {', '.join(needed)}",
            column=missing[0],
        )
    frame = data.loc[:, list(needed)].reset_index(drop=True)
    twice = frame.duplicated(["respondent_id", "feature"])
    if twice.any():
        r = frame[twice.to_numpy()].iloc[0]
        raise DataError(
            f"respondent {r['respondent_id']} has two rows for feature {r['feature']!r}; keep one"
        )
    where = tuple(
        "the " + side + " question of feature " + frame["feature"].astype(str).map(repr)
        for side in ("functional", "dysfunctional")
    )
    frame["category"] = _categorise(frame, _codes(codes), where)
    return frame


def _summarise(pairs: pd.DataFrame) -> KanoResult:
    features = []
    for feature, rows in pairs.groupby("feature", sort=False):
        counts = rows["category"].value_counts()
        features.append(
            KanoFeature(
                str(feature),
                **{_FIELDS[c]: int(counts.get(c, 0)) for c in _LETTERS},
                unpaired=int(rows["category"].isna().sum()),
            )
        )
    return KanoResult(tuple(features))


def kano(data: Survey | pd.DataFrame, *, codes: Mapping[Any, str] | None = None) -> KanoResult:
    """Kano categories, their shares and the Better/Worse coefficients of every feature.

    Parameters
    ----------
    data
        A survey (read with :func:`kano_pairs`), or a frame of ``respondent_id, feature,
        functional, dysfunctional`` (one row per respondent and feature).
    codes
        As in :func:`kano_pairs`.

    Returns
    -------
    KanoResult
        Per feature: counts of A, O, M, I, R and Q, shares of all answered pairs, the category
        (mode, ties by M > O > A > I), Better and Worse (Berger et al. 1993), Fong's test, and
        the respondents who answered only one side.

    Raises
    ------
    DataError
        An answer is not one of the Kano answers (the respondent and question are named), or a
        respondent has two rows for one feature.
    """
    return _summarise(_pairs(data, codes))


def kano_by(
    data: Survey | pd.DataFrame,
    by: pd.Series,
    *,
    codes: Mapping[Any, str] | None = None,
    name: str = "group",
) -> pd.DataFrame:
    """:func:`kano` per group of respondents, plus ``"All"`` (every respondent).

    Parameters
    ----------
    data, codes
        As in :func:`kano`.
    by
        The group of each respondent (a Series indexed by ``respondent_id``). Respondents
        without a group count only towards ``"All"``.
    name
        Name of the group column.

    Returns
    -------
    pandas.DataFrame
        ``name, feature`` and the columns of :meth:`KanoResult.to_frame`; groups in sorted
        order, ``"All"`` last.
    """
    pairs = _pairs(data, codes)
    rows = [(key, _summarise(part).to_frame()) for key, part in respondent_groups(pairs, by)]
    return stack_groups(rows, name)
