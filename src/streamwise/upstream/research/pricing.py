"""Pricing research: Van Westendorp's price sensitivity meter, its Newton–Miller–Smith extension
and Gabor–Granger's buy-response questions.

Each function takes a wide frame (one row per respondent, already screened) and returns a frozen
result with ``to_frame()`` (the curve) and ``to_dict()`` (the headline numbers). Prices may be
numbers or numeric text (survey answers are text); anything else is refused with a
:class:`~streamwise.errors.DataError` that names the column.

References
----------
van Westendorp, P. H. (1976). NSS-Price Sensitivity Meter (PSM): a new approach to study
consumer perception of prices. Proceedings of the 29th ESOMAR Congress, 139–167.
Newton, D., Miller, J. and Smith, P. (1993). A market acceptance extension to traditional price
sensitivity measurement. Proceedings of the AMA Advanced Research Techniques Forum.
Gabor, A. and Granger, C. W. J. (1966). Price as an indicator of quality: report on an enquiry.
Economica 33(129), 43–70.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22(158), 209–212.
Allen, R. G. D. (1934). The concept of arc elasticity of demand. Review of Economic Studies
1(3), 226–229.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from streamwise.errors import DataError

__all__ = [
    "NMS_CALIBRATION",
    "VW_DEFINITIONS",
    "GaborGrangerResult",
    "NmsResult",
    "VanWestendorpResult",
    "gabor_granger",
    "newton_miller_smith",
    "van_westendorp",
]

#: The curves and price points, in words (the convention of the R package
#: ``pricesensitivitymeter``). F_x(p) is the share of "x" answers <= p.
VW_DEFINITIONS: Mapping[str, str] = MappingProxyType(
    {
        "too_cheap_curve": "1 - F_too_cheap(p): share for whom p is too cheap",
        "cheap_curve": "1 - F_cheap(p): share for whom p is cheap",
        "expensive_curve": "F_expensive(p): share for whom p is expensive",
        "too_expensive_curve": "F_too_expensive(p): share for whom p is too expensive",
        "not_cheap": "F_cheap(p) = 1 - cheap_curve",
        "not_expensive": "1 - F_expensive(p) = 1 - expensive_curve",
        "pmc": "point of marginal cheapness: too_cheap_curve = not_cheap",
        "opp": "optimal price point: too_cheap_curve = too_expensive_curve",
        "ipp": "indifference price point: cheap_curve = expensive_curve",
        "pme": "point of marginal expensiveness: too_expensive_curve = not_expensive",
    }
)
#: Newton, Miller & Smith (1993): 5-point purchase likelihood → purchase probability.
NMS_CALIBRATION: Mapping[int, float] = MappingProxyType({1: 0.0, 2: 0.1, 3: 0.3, 4: 0.5, 5: 0.7})
#: Each price point: the curve that falls minus the curve that rises, as price goes up.
_PAIRS = (("pmc", ("too_cheap", "not_cheap")), ("opp", ("too_cheap", "too_expensive")),
          ("ipp", ("cheap", "expensive")), ("pme", ("not_expensive", "too_expensive")))  # fmt: skip
_Z95 = float(stats.norm.ppf(0.975))
_YES_NO: dict[Any, float] = {"yes": 1.0, "no": 0.0, True: 1.0, False: 0.0}  # 1 == True, 0 == False


@dataclass(frozen=True)
class VanWestendorpResult:
    """Van Westendorp price points (see :data:`VW_DEFINITIONS`); ``curves`` is indexed by price."""

    pmc: float
    opp: float
    ipp: float
    pme: float
    n: int
    curves: pd.DataFrame = field(repr=False, compare=False)
    definitions: Mapping[str, str] = field(default_factory=lambda: VW_DEFINITIONS, repr=False)

    @property
    def acceptable_range(self) -> tuple[float, float]:
        """The range of acceptable prices, (PMC, PME)."""
        return (self.pmc, self.pme)

    def to_frame(self) -> pd.DataFrame:
        return self.curves.copy()

    def to_dict(self) -> dict[str, Any]:
        points = {k: getattr(self, k) for k in ("pmc", "opp", "ipp", "pme")}
        return points | {"acceptable_range": list(self.acceptable_range), "n": self.n}


@dataclass(frozen=True)
class NmsResult:
    """Newton–Miller–Smith trial and revenue curves (``curves``, indexed by price) and the grid
    prices that maximise them."""

    trial_price: float
    revenue_price: float
    n: int
    curves: pd.DataFrame = field(repr=False, compare=False)
    calibration: Mapping[int, float] = field(default_factory=lambda: NMS_CALIBRATION, repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.curves.copy()

    def to_dict(self) -> dict[str, Any]:
        best = {"trial_price": self.trial_price, "revenue_price": self.revenue_price}
        return best | {"n": self.n, "calibration": dict(self.calibration)}


@dataclass(frozen=True)
class GaborGrangerResult:
    """Gabor–Granger demand (``demand``: per price the question, answers ``n``, ``yes``,
    ``share`` with a 95 % Wilson interval ``lower``/``upper`` and ``revenue`` = price × share),
    arc elasticities between consecutive prices and the revenue-maximising asked price."""

    revenue_price: float
    n: int
    demand: pd.DataFrame = field(repr=False, compare=False)
    elasticity: pd.DataFrame = field(repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        return self.demand.copy()

    def to_dict(self) -> dict[str, Any]:
        shares = {float(p): float(s) for p, s in self.demand["share"].items()}
        return {"revenue_price": self.revenue_price, "n": self.n, "demand": shares}


def _numbers(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """A column as floats; refuses a missing column, non-numbers, gaps and negative values."""
    if column not in frame.columns:
        raise DataError(f"no {what} column; pass its name or add it", column=column)
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    for bad, problem in (
        (np.isnan(values) & raw.notna().to_numpy(), "is not a number"),
        (np.isnan(values), "is missing; drop respondents who did not answer"),
        (values < 0, "is negative; it must be >= 0"),
    ):
        if bad.any():
            i = int(np.argmax(bad))
            message = f"{what} {raw.iloc[i]!r} (index {raw.index[i]!r}) {problem}"
            raise DataError(message, row=i + 1, column=column)
    return values


def _price_answers(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    if len(frame) == 0:
        raise DataError("no respondents; the frame is empty")
    return np.column_stack([_numbers(frame, c, "price") for c in columns])


def _grid(prices: Any, answers: np.ndarray) -> np.ndarray:
    if prices is None:
        return np.unique(answers)
    grid = np.unique(np.asarray(prices, dtype=float))
    if grid.size < 2 or not np.isfinite(grid).all() or grid[0] < 0:
        raise DataError("prices must be at least two finite, non-negative numbers")
    return grid


def _crossing(grid: np.ndarray, diff: np.ndarray, point: str) -> float:
    """Price where ``diff`` (non-increasing in price) first reaches 0, linearly interpolated."""
    below = np.flatnonzero(diff <= 0)
    if below.size == 0 or diff[0] < 0:  # never reaches 0, or is already past it
        raise DataError(
            f"{point.upper()} ({VW_DEFINITIONS[point]}): the two curves never cross between "
            f"{grid[0]:g} and {grid[-1]:g}; widen the price grid or check the answers"
        )
    k = int(below[0])
    if diff[k] == 0:
        return float(grid[k])
    return float(grid[k - 1] + diff[k - 1] / (diff[k - 1] - diff[k]) * (grid[k] - grid[k - 1]))


def van_westendorp(
    frame: pd.DataFrame,
    *,
    too_cheap: str = "too_cheap",
    cheap: str = "cheap",
    expensive: str = "expensive",
    too_expensive: str = "too_expensive",
    prices: Sequence[float] | None = None,
) -> VanWestendorpResult:
    """Van Westendorp's (1976) price sensitivity meter.

    On a price grid (default: every distinct answered price) the curves are
    ``too_cheap = 1 − F_too_cheap(p)``, ``cheap = 1 − F_cheap(p)``,
    ``expensive = F_expensive(p)`` and ``too_expensive = F_too_expensive(p)``, with ``F_x(p)`` the
    share of "x" answers ``<= p`` (the convention of R's ``pricesensitivitymeter``), plus
    ``not_cheap = F_cheap`` and ``not_expensive = 1 − F_expensive``. The price points solve
    PMC: too_cheap = not_cheap; OPP: too_cheap = too_expensive; IPP: cheap = expensive;
    PME: too_expensive = not_expensive (:data:`VW_DEFINITIONS`). Each difference
    (first curve − second) never rises with price; the point is found by linear interpolation
    between the two grid prices where it changes sign; where it is exactly 0 on a grid price,
    the lowest such price (as ``intersection_method = "min"`` in ``pricesensitivitymeter``).
    The acceptable range is (PMC, PME).

    Parameters
    ----------
    frame
        One row per respondent; the four price answers (numbers or numeric text, >= 0).
    too_cheap, cheap, expensive, too_expensive
        Column names of the four answers.
    prices
        Price grid for the curves.

    Raises
    ------
    DataError
        A column is missing, an answer is missing, not a number or negative, or two curves never
        cross on the grid.
    """
    answers = _price_answers(frame, (too_cheap, cheap, expensive, too_expensive))
    grid, n = _grid(prices, answers), len(frame)
    # Counts of answers <= p (F_x · n): whole numbers, so ties and zeros are exact.
    tc, c, e, te = (np.searchsorted(np.sort(a), grid, side="right") for a in answers.T)
    counts = pd.DataFrame(
        {"too_cheap": n - tc, "cheap": n - c, "expensive": e, "too_expensive": te,
         "not_cheap": c, "not_expensive": n - e},
        index=pd.Index(grid, name="price"),
    )  # fmt: skip
    points = {k: _crossing(grid, (counts[a] - counts[b]).to_numpy(), k) for k, (a, b) in _PAIRS}
    return VanWestendorpResult(**points, n=n, curves=counts / n)


def _calibrated(frame: pd.DataFrame, column: str, calibration: Mapping[int, float]) -> np.ndarray:
    answers = _numbers(frame, column, "likelihood")
    known = np.isin(answers, list(calibration))
    if not known.all():
        i = int(np.argmin(known))
        message = f"likelihood {answers[i]:g} (index {frame.index[i]!r}) has no calibration"
        raise DataError(f"{message}; known: {sorted(calibration)}", row=i + 1, column=column)
    return np.array([calibration[int(a)] for a in answers])


def newton_miller_smith(
    frame: pd.DataFrame,
    *,
    cheap_likelihood: str = "nms_cheap",
    expensive_likelihood: str = "nms_expensive",
    calibration: Mapping[int, float] = NMS_CALIBRATION,
    prices: Sequence[float] | None = None,
    too_cheap: str = "too_cheap",
    cheap: str = "cheap",
    expensive: str = "expensive",
    too_expensive: str = "too_expensive",
) -> NmsResult:
    """Newton, Miller & Smith's (1993) trial and revenue curves from a Van Westendorp survey.

    Respondent *i*'s purchase probability at price *p* (as ``pricesensitivitymeter::
    psm_analysis(nms = TRUE)``): 0 at and below their "too cheap" price; ``calibration[cheap
    likelihood]`` at their "cheap" price; ``calibration[expensive likelihood]`` at their
    "expensive" price; 0 at and above their "too expensive" price; linear between these four
    anchors. ``trial(p)`` is the mean over respondents, ``revenue(p) = p × trial(p)``; the
    result's prices are the grid prices (default: every distinct answered price) where each is
    highest (the lowest, on ties). The mean is computed exactly from each respondent's curve
    written as a sum of hinge functions ``w (p − b)+`` at the four anchors.

    Parameters
    ----------
    frame
        One row per respondent: four price answers and two likelihood answers.
    cheap_likelihood, expensive_likelihood
        Columns with the likelihood of buying at the respondent's "cheap" / "expensive" price.
    calibration
        Likelihood answer → purchase probability.
    prices
        Price grid.
    too_cheap, cheap, expensive, too_expensive
        Column names of the four price answers.

    Raises
    ------
    DataError
        As :func:`van_westendorp`; also a likelihood without calibration, or a respondent whose
        four prices do not strictly increase.
    """
    pts = _price_answers(frame, (too_cheap, cheap, expensive, too_expensive))
    rising = (np.diff(pts, axis=1) > 0).all(axis=1)
    if not rising.all():
        i = int(np.argmin(rising))
        raise DataError(
            f"prices at index {frame.index[i]!r} do not strictly increase from too "
            "cheap to too expensive; screen the respondents first",
            row=i + 1,
        )
    p_cheap = _calibrated(frame, cheap_likelihood, calibration)
    p_exp = _calibrated(frame, expensive_likelihood, calibration)
    grid = _grid(prices, pts)
    tc, c, e, te = pts.T
    s1, s2, s3 = p_cheap / (c - tc), (p_exp - p_cheap) / (e - c), -p_exp / (te - e)
    b = np.concatenate([tc, c, e, te])
    w = np.concatenate([s1, s2 - s1, s3 - s2, -s3])  # slope changes; the slope is 0 after te
    order = np.argsort(b, kind="stable")
    cw = np.concatenate([[0.0], np.cumsum(w[order])])
    cwb = np.concatenate([[0.0], np.cumsum(w[order] * b[order])])
    k = np.searchsorted(b[order], grid, side="left")  # hinges with b < p
    trial = np.clip((cw[k] * grid - cwb[k]) / len(pts), 0.0, None)  # clip rounding below 0
    curves = pd.DataFrame(
        {"trial": trial, "revenue": grid * trial}, index=pd.Index(grid, name="price")
    )
    return NmsResult(
        trial_price=float(grid[np.argmax(trial)]),
        revenue_price=float(grid[np.argmax(grid * trial)]),
        n=len(frame),
        curves=curves,
        calibration=MappingProxyType(dict(calibration)),
    )


def _yes_no(values: pd.Series, column: str) -> np.ndarray:
    """1.0 for yes, 0.0 for no, NaN for no answer; refuses anything else."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1)
    table[-1] = np.nan  # code −1: no answer
    for j, v in enumerate(uniques):
        key = v.strip().lower() if isinstance(v, str) else v
        try:
            table[j] = _YES_NO[key]
        except (KeyError, TypeError):
            i = int(np.argmax(codes == j))
            raise DataError(
                f"answer {v!r} at index {values.index[i]!r} is not yes/no; use "
                "booleans, 1/0 or 'yes'/'no'",
                row=i + 1,
                column=column,
            ) from None
    return table[codes]


def _price_in_name(column: Any) -> float:
    found = re.search(r"(\d+(?:\.\d+)?)$", str(column))
    if found is None:
        raise DataError(
            "no price at the end of the column name; pass prices={column: price}",
            column=str(column),
        )
    return float(found.group(1))


def gabor_granger(
    frame: pd.DataFrame, *, prices: dict[str, float] | None = None
) -> GaborGrangerResult:
    """Gabor & Granger's (1966) buy-response demand curve.

    For each asked price: ``share`` = yes / answered (respondents who did not answer that price
    are left out there only), with Wilson's (1927) 95 % score interval; ``revenue`` = price ×
    share, an index of revenue per respondent; ``revenue_price`` is the asked price where it is
    highest (the lowest, on ties). The arc elasticity between consecutive prices (Allen 1934) is
    ``((q2 − q1) / ((q1 + q2) / 2)) / ((p2 − p1) / ((p1 + p2) / 2))``.

    Parameters
    ----------
    frame
        One row per respondent, one column per asked price: booleans, 1/0 or "yes"/"no" (any
        case); missing values mean "not answered".
    prices
        Column → price. Default: every column, its price read from the end of its name
        (``gg_price_149`` → 149).

    Raises
    ------
    DataError
        A column is missing or has no price in its name, two columns share a price, or an answer
        is not yes/no (naming the column and the first offending row).
    """
    if prices is None:
        prices = {c: _price_in_name(c) for c in frame.columns}
    for column in prices:
        if column not in frame.columns:
            raise DataError("no such column for an asked price", column=column)
    asked = sorted(prices.items(), key=lambda item: item[1])
    price = np.array([float(p) for _, p in asked])
    if len(price) == 0 or np.unique(price).size < len(price) or not np.all(price >= 0):
        raise DataError("asked prices must be distinct non-negative numbers, at least one")
    answers = np.column_stack([_yes_no(frame[c], c) for c, _ in asked])
    n = (~np.isnan(answers)).sum(axis=0)
    yes = np.nansum(answers, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = yes / n
        z2n = _Z95**2 / n
        centre = (share + z2n / 2) / (1 + z2n)
        half = _Z95 / (1 + z2n) * np.sqrt(share * (1 - share) / n + z2n / (4 * n))
        q1, q2, p1, p2 = share[:-1], share[1:], price[:-1], price[1:]
        arc = ((q2 - q1) / ((q1 + q2) / 2)) / ((p2 - p1) / ((p1 + p2) / 2))
    demand = pd.DataFrame(
        {"question": [c for c, _ in asked], "n": n, "yes": yes.astype(int), "share": share,
         "lower": centre - half, "upper": centre + half, "revenue": price * share},
        index=pd.Index(price, name="price"),
    )  # fmt: skip
    if not np.isfinite(demand["revenue"]).any():
        raise DataError("no answers at any asked price")
    elasticity = pd.DataFrame({"price_from": p1, "price_to": p2, "elasticity": arc})
    return GaborGrangerResult(
        revenue_price=float(demand["revenue"].idxmax()),
        n=len(frame),
        demand=demand,
        elasticity=elasticity,
    )
