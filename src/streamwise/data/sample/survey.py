"""Survey answers of the sample business: respondents, NPS, pricing, conjoint, MaxDiff and Kano.

Every block here returns :class:`Question` objects (a questionnaire entry plus the answers, one per
respondent who answered) and a frozen truth dataclass with the planted parameters. The long
format and the question ids are described in :mod:`streamwise.data.sample.research`.

The planted models, in brief:

* **NPS** (customers only): per segment a distribution of the 0–10 likelihood-to-recommend score,
  built from planted shares of detractors (0–6), passives (7–8) and promoters (9–10).
* **Van Westendorp** for a 2-person backpacking tent: respondent *i* of segment *s* has a log
  reference price ``L ~ N(mu_s, sigma_s²)``; ``log cheap = L − G1``, ``log too_cheap = log cheap
  − G2``, ``log expensive = L + G3``, ``log too_expensive = log expensive + G4`` with independent
  ``Gk ~ Gamma(shape_k, scale)``. Sums of gammas with a common scale are gammas, so each price
  point's distribution is ``exp(N ± Gamma)`` and its CDF is one integral, evaluated by
  generalised Gauss–Laguerre quadrature. The planted PMC, OPP, IPP and PME are the intersections
  of the cumulative curves of these true distributions (definitions in
  :data:`VW_DEFINITIONS`). Newton–Miller–Smith: purchase likelihood (1–5) at the respondent's own
  "cheap" and "expensive" prices, calibrated by :data:`NMS_CALIBRATION`.
* **Gabor–Granger**: willingness to pay ``log w = L + N(0, tau²)`` (the same ``L``), the answer at
  price *p* is "yes" exactly when ``w ≥ p``.
* **CBC**: mixed logit with effects-coded part-worths, a linear price coefficient (per dollar),
  independent normal random coefficients and Gumbel errors, and a "none" option with its own
  (random) utility.
* **MaxDiff**: segment utilities plus individual normal deviations; best = logit over the shown
  items, worst = logit with negated utilities over the remaining ones (sequential best–worst).
* **Kano**: each respondent holds a category per feature drawn from planted probabilities and
  answers a (functional, dysfunctional) pair that the Kano evaluation table maps to it.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from streamwise.data.sample.names import BRAND, COMPETITOR_BRANDS, SEGMENTS
from streamwise.errors import DataError

__all__ = [
    "CBC_ATTRIBUTES",
    "GG_PRICES",
    "KANO_ANSWERS",
    "KANO_TABLE",
    "NMS_CALIBRATION",
    "VW_DEFINITIONS",
    "ConjointTruth",
    "GaborGrangerTruth",
    "KanoTruth",
    "MaxDiffTruth",
    "NpsTruth",
    "Panel",
    "Question",
    "VanWestendorpTruth",
    "build_panel",
    "cbc_code",
    "cbc_parameter_names",
    "generate_conjoint",
    "generate_kano",
    "generate_maxdiff",
    "generate_nps",
    "generate_pricing",
    "generate_segment_question",
    "stream",
    "to_plain",
]

#: Share of non-customer respondents added to the customers passed in (of all respondents).
NON_CUSTOMER_SHARE = 0.20


# --------------------------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------------------------


def stream(seed: int, name: str) -> np.random.Generator:
    """Independent random stream ``name`` of the research generator for ``seed``.

    Parameters
    ----------
    seed
        ``SampleConfig.seed``.
    name
        Name of the part (``"nps"``, ``"market"``, ...); a stable CRC-32 of it picks the stream.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator seeded by ``SeedSequence([seed, 0x5EA2C4, crc32(name)])``.
    """
    return np.random.default_rng(
        np.random.SeedSequence([seed, 0x5EA2C4, zlib.crc32(name.encode())])
    )


def to_plain(obj: Any) -> Any:
    """Turn a truth object into plain Python (dicts, lists, numbers, strings) for JSON or YAML.

    Parameters
    ----------
    obj
        A dataclass, mapping, sequence, data frame, NumPy value or scalar.

    Returns
    -------
    Any
        The same content with data frames as lists of records and dates as ISO strings.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, pd.DataFrame):
        return [to_plain(rec) for rec in obj.to_dict(orient="records")]
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [to_plain(v) for v in obj]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, datetime | date | pd.Timestamp):
        return obj.isoformat()
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if pd.isna(obj):
        return None
    return str(obj)


@dataclass(frozen=True)
class Question:
    """One question of the questionnaire and its answers.

    Attributes
    ----------
    spec
        The questionnaire entry (``id``, ``type``, ``text`` and type-specific fields).
    respondents
        Positions (into :class:`Panel`) of the respondents who answered, one per answer.
    answers
        The answers as strings, aligned with ``respondents``.
    """

    spec: dict[str, Any]
    respondents: np.ndarray
    answers: np.ndarray

    @property
    def id(self) -> str:
        """The question id."""
        return str(self.spec["id"])


@dataclass(frozen=True)
class Panel:
    """The respondents: customers passed in plus sampled non-customers.

    Attributes
    ----------
    respondent_id
        ``R00001``, ... in panel order (customers first, in the order given).
    customer_id
        The customer id, ``None`` for non-customers.
    segment
        Index into :data:`~streamwise.data.sample.names.SEGMENTS`.
    """

    respondent_id: np.ndarray
    customer_id: np.ndarray
    segment: np.ndarray

    @property
    def n(self) -> int:
        """Number of respondents."""
        return len(self.respondent_id)

    @property
    def is_customer(self) -> np.ndarray:
        """Boolean mask of respondents who are customers."""
        return np.array([c is not None for c in self.customer_id], dtype=bool)

    def shares(self, mask: np.ndarray | None = None) -> dict[str, float]:
        """Segment shares among all respondents (or those in ``mask``)."""
        seg = self.segment if mask is None else self.segment[mask]
        counts = np.bincount(seg, minlength=len(SEGMENTS)).astype(float)
        total = counts.sum()
        weights = counts / total if total > 0 else np.full(len(SEGMENTS), 1 / len(SEGMENTS))
        return {s: float(w) for s, w in zip(SEGMENTS, weights, strict=True)}


def build_panel(respondents: pd.DataFrame, rng: np.random.Generator) -> Panel:
    """Add non-customers (20 % of all respondents) to the customers passed in.

    Parameters
    ----------
    respondents
        Columns ``customer_id`` and ``segment`` (a name from ``SEGMENTS``).
    rng
        Random stream for the non-customers' segments.

    Returns
    -------
    Panel
        Customers in the order given, then non-customers whose segments are drawn from the
        customers' segment shares.
    """
    missing = {"customer_id", "segment"} - set(respondents.columns)
    if missing:
        raise DataError(
            f"respondents lack column(s) {sorted(missing)}; pass customer_id and segment",
            source="respondents",
        )
    index = {s: i for i, s in enumerate(SEGMENTS)}
    seg_names = respondents["segment"].astype(str).to_numpy()
    unknown = sorted(set(seg_names) - set(index))
    if unknown:
        raise DataError(
            f"unknown segment(s) {unknown}; use names from SEGMENTS", source="respondents"
        )
    cust_seg = np.array([index[s] for s in seg_names], dtype=np.int64)
    customer_ids = [str(c) for c in respondents["customer_id"].to_numpy()]
    n_cust = len(customer_ids)
    n_non = round(n_cust * NON_CUSTOMER_SHARE / (1 - NON_CUSTOMER_SHARE))
    counts = np.bincount(cust_seg, minlength=len(SEGMENTS)).astype(float)
    p = counts / counts.sum() if n_cust else np.full(len(SEGMENTS), 1 / len(SEGMENTS))
    non_seg = rng.choice(len(SEGMENTS), size=n_non, p=p)
    n = n_cust + n_non
    width = max(5, len(str(n)))
    return Panel(
        respondent_id=np.array([f"R{i:0{width}d}" for i in range(1, n + 1)], dtype=object),
        customer_id=np.array([*customer_ids, *([None] * n_non)], dtype=object),
        segment=np.concatenate([cust_seg, non_seg]).astype(np.int64),
    )


def _str(values: np.ndarray) -> np.ndarray:
    """Integer-valued array as an object array of strings."""
    return np.array([str(v) for v in np.asarray(values).tolist()], dtype=object)


def _choice_by_segment(
    rng: np.random.Generator, segment: np.ndarray, probs: dict[str, tuple[float, ...]]
) -> np.ndarray:
    """Draw one category index per respondent from the probabilities of their segment."""
    out = np.zeros(len(segment), dtype=np.int64)
    for s, name in enumerate(SEGMENTS):
        idx = np.flatnonzero(segment == s)
        p = np.asarray(probs[name], dtype=float)
        out[idx] = rng.choice(len(p), size=len(idx), p=p / p.sum())
    return out


def generate_segment_question(panel: Panel) -> Question:
    """``segment_self``: the respondent's self-description, which is their planted segment."""
    spec = {
        "id": "segment_self",
        "type": "single",
        "text": "Which of these describes you best as an outdoor shopper?",
        "options": list(SEGMENTS),
        "note": "answered truthfully: the answer is the respondent's planted segment",
    }
    answers = np.array([SEGMENTS[s] for s in panel.segment], dtype=object)
    return Question(spec, np.arange(panel.n), answers)


# --------------------------------------------------------------------------------------------
# NPS
# --------------------------------------------------------------------------------------------

#: Planted (detractor, passive, promoter) shares per segment.
_NPS_CLASSES: dict[str, tuple[float, float, float]] = {
    "Trail Enthusiasts": (0.18, 0.32, 0.50),
    "Weekend Campers": (0.25, 0.37, 0.38),
    "Bargain Hunters": (0.48, 0.34, 0.18),
    "Gift Shoppers": (0.32, 0.38, 0.30),
    "Alpine Pros": (0.12, 0.26, 0.62),
}
_DETRACTOR_SHAPE = np.array([1, 1, 1, 2, 3, 5, 7], dtype=float)
_PASSIVE_SHAPE = np.array([0.45, 0.55])
_PROMOTER_SHAPE = np.array([0.55, 0.45])


@dataclass(frozen=True)
class NpsTruth:
    """Planted likelihood-to-recommend distributions.

    Attributes
    ----------
    score_probabilities
        Segment → probabilities of the scores 0, 1, ..., 10.
    nps
        Segment → planted NPS in points (100 × (P(promoter) − P(detractor))).
    overall
        NPS of the customer respondents' segment mix (weights = their segment counts).
    asked_to
        Who was asked (``"customers"``: non-customers have no ``nps`` row).
    """

    score_probabilities: dict[str, tuple[float, ...]]
    nps: dict[str, float]
    overall: float
    asked_to: str = "customers"

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


def generate_nps(panel: Panel, rng: np.random.Generator) -> tuple[list[Question], NpsTruth]:
    """``nps``: likelihood to recommend Northwind (0–10), asked to customers.

    Parameters
    ----------
    panel
        The respondents.
    rng
        Random stream.

    Returns
    -------
    tuple of (list of Question, NpsTruth)
    """
    probs: dict[str, tuple[float, ...]] = {}
    nps: dict[str, float] = {}
    for name, (d, pa, pr) in _NPS_CLASSES.items():
        p = np.concatenate(
            [
                d * _DETRACTOR_SHAPE / _DETRACTOR_SHAPE.sum(),
                pa * _PASSIVE_SHAPE,
                pr * _PROMOTER_SHAPE,
            ]
        )
        probs[name] = tuple(float(x) for x in p)
        nps[name] = 100.0 * (pr - d)
    cust = np.flatnonzero(panel.is_customer)
    scores = _choice_by_segment(rng, panel.segment[cust], probs)
    weights = panel.shares(panel.is_customer)
    overall = sum(weights[s] * nps[s] for s in SEGMENTS)
    spec = {
        "id": "nps",
        "type": "nps",
        "text": f"How likely are you to recommend {BRAND} to a friend or colleague?",
        "scale": [0, 10],
        "asked_to": "customers",
    }
    return [Question(spec, cust, _str(scores))], NpsTruth(probs, nps, float(overall))


# --------------------------------------------------------------------------------------------
# pricing: Van Westendorp (+ NMS) and Gabor-Granger
# --------------------------------------------------------------------------------------------

PRODUCT = "2-person backpacking tent"
#: Median reference price (USD) and standard deviation of the log reference price per segment.
_REFERENCE: dict[str, tuple[float, float]] = {
    "Trail Enthusiasts": (260.0, 0.22),
    "Weekend Campers": (190.0, 0.25),
    "Bargain Hunters": (130.0, 0.25),
    "Gift Shoppers": (200.0, 0.30),
    "Alpine Pros": (360.0, 0.22),
}
#: Gamma shapes of the log-price gaps (common scale :data:`_GAP_SCALE`).
_GAP_SHAPES = {"cheap": 3.0, "too_cheap": 5.0, "expensive": 3.5, "too_expensive": 3.5}
_GAP_SCALE = 0.07
_VW_POINTS = ("too_cheap", "cheap", "expensive", "too_expensive")

#: How the four Van Westendorp price points are defined (the convention of the R package
#: ``pricesensitivitymeter``). F_x is the CDF of the answers to ``vw_x``.
VW_DEFINITIONS: dict[str, str] = {
    "too_cheap_curve": "1 - F_too_cheap(p): share for whom p is too cheap",
    "cheap_curve": "1 - F_cheap(p)",
    "expensive_curve": "F_expensive(p)",
    "too_expensive_curve": "F_too_expensive(p)",
    "pmc": "point of marginal cheapness: too_cheap_curve = F_cheap (not cheap)",
    "opp": "optimal price point: too_cheap_curve = too_expensive_curve",
    "ipp": "indifference price point: cheap_curve = expensive_curve",
    "pme": "point of marginal expensiveness: too_expensive_curve = 1 - F_expensive",
}
#: Newton–Miller–Smith calibration of the 5-point purchase likelihood.
NMS_CALIBRATION: dict[int, float] = {1: 0.0, 2: 0.1, 3: 0.3, 4: 0.5, 5: 0.7}
#: P(answer = 1..5) at the respondent's "cheap" price, per segment.
_NMS_CHEAP: dict[str, tuple[float, ...]] = {
    "Trail Enthusiasts": (0.05, 0.10, 0.25, 0.35, 0.25),
    "Weekend Campers": (0.05, 0.15, 0.30, 0.30, 0.20),
    "Bargain Hunters": (0.10, 0.20, 0.30, 0.25, 0.15),
    "Gift Shoppers": (0.10, 0.15, 0.30, 0.25, 0.20),
    "Alpine Pros": (0.03, 0.07, 0.20, 0.35, 0.35),
}
#: P(answer at "expensive" = answer at "cheap" − 0, 1, 2, 3), floored at 1.
_NMS_DROP = (0.15, 0.45, 0.30, 0.10)
#: Standard deviation of log WTP around the log reference price (Gabor–Granger).
_GG_TAU = 0.15
GG_PRICES = (99, 149, 199, 249, 299, 349, 399)
_LAGUERRE_NODES = 80


@dataclass(frozen=True)
class VanWestendorpTruth:
    """Planted Van Westendorp distributions and their price points.

    Attributes
    ----------
    product
        The product asked about.
    log_reference
        Segment → (mu, sigma) of the log reference price.
    gap_shapes, gap_scale
        Gamma shapes (per gap) and common scale of the log-price gaps.
    points
        Segment or ``"overall"`` → ``pmc``, ``opp``, ``ipp``, ``pme`` (USD), the intersections of
        the true cumulative curves (``"overall"``: the mixture with the respondents' segment
        shares).
    definitions
        The curves and intersections, in words.
    nms_calibration
        Answer (1–5) → purchase probability.
    nms_cheap_probabilities, nms_drop_probabilities
        Answer distribution at "cheap" per segment; distribution of the drop to "expensive".
    nms_trial_price, nms_revenue_price
        Segment or ``"overall"`` → price (whole USD) maximising the expected NMS trial curve and
        price × trial, from 100,000 draws per segment of the planted model (purchase probability
        0 at too cheap and too expensive, calibrated at cheap and expensive, linear between).
    """

    product: str
    log_reference: dict[str, tuple[float, float]]
    gap_shapes: dict[str, float]
    gap_scale: float
    points: dict[str, dict[str, float]]
    definitions: dict[str, str]
    nms_calibration: dict[int, float]
    nms_cheap_probabilities: dict[str, tuple[float, ...]]
    nms_drop_probabilities: tuple[float, ...]
    nms_trial_price: dict[str, float]
    nms_revenue_price: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


@dataclass(frozen=True)
class GaborGrangerTruth:
    """Planted willingness to pay and the demand curve it implies.

    Attributes
    ----------
    prices
        Prices asked (USD), one question ``gg_price_<p>`` each.
    log_wtp
        Segment → (mean, sd) of log WTP (lognormal; sd² = sigma_ref² + tau²).
    demand
        Segment or ``"overall"`` → price → expected share answering "yes".
    revenue_price
        Segment or ``"overall"`` → the asked price with the highest price × demand.
    revenue_price_continuous
        Segment or ``"overall"`` → the price maximising price × demand on the continuous curve.
    """

    prices: tuple[int, ...]
    log_wtp: dict[str, tuple[float, float]]
    demand: dict[str, dict[int, float]]
    revenue_price: dict[str, int]
    revenue_price_continuous: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


def _gap_cdf(
    price: float, mu: float, sigma: float, shape: float, sign: float, nodes: tuple
) -> float:
    """CDF at ``price`` of ``exp(N(mu, sigma²) + sign · Gamma(shape, _GAP_SCALE))``."""
    x, w = nodes
    g = _GAP_SCALE * x
    vals = special.ndtr((np.log(price) - mu - sign * g) / sigma)
    return float(np.dot(w, vals) / special.gamma(shape))


def _vw_cdfs(segment_weights: dict[str, float]) -> dict[str, Any]:
    """CDFs of the four price points for a mixture of segments."""
    shapes = {
        "cheap": (_GAP_SHAPES["cheap"], -1.0),
        "too_cheap": (_GAP_SHAPES["cheap"] + _GAP_SHAPES["too_cheap"], -1.0),
        "expensive": (_GAP_SHAPES["expensive"], 1.0),
        "too_expensive": (_GAP_SHAPES["expensive"] + _GAP_SHAPES["too_expensive"], 1.0),
    }
    nodes = {k: special.roots_genlaguerre(_LAGUERRE_NODES, a - 1) for k, (a, _) in shapes.items()}

    def make(point: str) -> Callable[[float], float]:
        shape, sign = shapes[point]

        def cdf(p: float) -> float:
            return sum(
                w
                * _gap_cdf(p, np.log(_REFERENCE[s][0]), _REFERENCE[s][1], shape, sign, nodes[point])
                for s, w in segment_weights.items()
                if w > 0
            )

        return cdf

    return {point: make(point) for point in _VW_POINTS}


def _vw_points(segment_weights: dict[str, float]) -> dict[str, float]:
    """PMC, OPP, IPP and PME of a mixture of segments (see :data:`VW_DEFINITIONS`)."""
    f = _vw_cdfs(segment_weights)
    eqs = {
        "pmc": lambda p: (1 - f["too_cheap"](p)) - f["cheap"](p),
        "opp": lambda p: (1 - f["too_cheap"](p)) - f["too_expensive"](p),
        "ipp": lambda p: (1 - f["cheap"](p)) - f["expensive"](p),
        "pme": lambda p: (1 - f["expensive"](p)) - f["too_expensive"](p),
    }
    return {k: float(optimize.brentq(eq, 1.0, 20_000.0, xtol=1e-6)) for k, eq in eqs.items()}


def _draw_price_points(
    rng: np.random.Generator, mu: np.ndarray, sigma: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Log reference prices and the four (continuous) price points for given segment params."""
    n = len(mu)
    log_ref = mu + sigma * rng.standard_normal(n)
    gaps = {k: rng.gamma(a, _GAP_SCALE, size=n) for k, a in _GAP_SHAPES.items()}
    log_cheap = log_ref - gaps["cheap"]
    log_exp = log_ref + gaps["expensive"]
    pts = np.exp(
        np.stack(
            [
                log_cheap - gaps["too_cheap"],
                log_cheap,
                log_exp,
                log_exp + gaps["too_expensive"],
            ],
            axis=1,
        )
    )
    return log_ref, pts


def _draw_nms(rng: np.random.Generator, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NMS answers (1–5) at cheap and at expensive; the latter never above the former."""
    cheap = _choice_by_segment(rng, segment, _NMS_CHEAP) + 1
    drop = rng.choice(len(_NMS_DROP), size=len(segment), p=np.asarray(_NMS_DROP))
    return cheap, np.maximum(cheap - drop, 1)


def _nms_curve(
    pts: np.ndarray, ans_cheap: np.ndarray, ans_exp: np.ndarray, grid: np.ndarray
) -> np.ndarray:
    """Mean NMS purchase probability over respondents at each grid price.

    Each respondent's curve is 0 up to too cheap, rises linearly to the calibrated probability at
    cheap, moves linearly to the one at expensive and falls linearly to 0 at too expensive; it is
    a sum of hinge functions ``w (p − b)+``, so the mean is exact from sorted breakpoints.
    """
    cal = np.array([0.0, *NMS_CALIBRATION.values()])
    tc, c, e, te = pts.T
    pc, pe = cal[ans_cheap], cal[ans_exp]
    a1, a2, a3 = pc / (c - tc), (pe - pc) / (e - c), -pe / (te - e)
    b = np.concatenate([tc, c, e, te])
    w = np.concatenate([a1, a2 - a1, a3 - a2, -a3])
    order = np.argsort(b, kind="stable")
    b, w = b[order], w[order]
    cw = np.concatenate([[0.0], np.cumsum(w)])
    cwb = np.concatenate([[0.0], np.cumsum(w * b)])
    k = np.searchsorted(b, grid, side="left")
    return (cw[k] * grid - cwb[k]) / len(pts)


def _nms_truth(
    rng: np.random.Generator, weights: dict[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    """NMS trial- and revenue-maximising prices from 100,000 model draws per segment."""
    grid = np.arange(20.0, 1_501.0)
    curves: dict[str, np.ndarray] = {}
    for s, name in enumerate(SEGMENTS):
        n = 100_000
        seg = np.full(n, s)
        mu, sigma = np.log(_REFERENCE[name][0]), _REFERENCE[name][1]
        _, pts = _draw_price_points(rng, np.full(n, mu), np.full(n, sigma))
        cheap, exp_ = _draw_nms(rng, seg)
        curves[name] = _nms_curve(pts, cheap, exp_, grid)
    curves["overall"] = sum(weights[s] * curves[s] for s in SEGMENTS)
    trial = {k: float(grid[np.argmax(v)]) for k, v in curves.items()}
    revenue = {k: float(grid[np.argmax(grid * v)]) for k, v in curves.items()}
    return trial, revenue


def _gg_demand(price: float, weights: dict[str, float]) -> float:
    """Expected share with WTP ≥ price in a mixture of segments."""
    total = 0.0
    for s, w in weights.items():
        mu, sigma = np.log(_REFERENCE[s][0]), np.hypot(_REFERENCE[s][1], _GG_TAU)
        total += w * float(special.ndtr(-(np.log(price) - mu) / sigma))
    return total


def generate_pricing(
    panel: Panel, rng: np.random.Generator
) -> tuple[list[Question], VanWestendorpTruth, GaborGrangerTruth]:
    """Van Westendorp (``vw_*``), NMS (``nms_cheap``, ``nms_expensive``) and Gabor–Granger.

    Parameters
    ----------
    panel
        The respondents (all are asked).
    rng
        Random stream.

    Returns
    -------
    tuple of (list of Question, VanWestendorpTruth, GaborGrangerTruth)
    """
    n = panel.n
    names = np.array(SEGMENTS, dtype=object)[panel.segment]
    mu = np.array([np.log(_REFERENCE[s][0]) for s in names])
    sigma = np.array([_REFERENCE[s][1] for s in names])
    log_ref, pts = _draw_price_points(rng, mu, sigma)
    # stated prices are whole dollars, strictly increasing
    stated = np.maximum(np.round(pts), 1).astype(np.int64)
    for k in range(1, 4):
        stated[:, k] = np.maximum(stated[:, k], stated[:, k - 1] + 1)
    ans_cheap, ans_exp = _draw_nms(rng, panel.segment)
    log_wtp = log_ref + _GG_TAU * rng.standard_normal(n)

    everyone = np.arange(n)
    questions: list[Question] = []
    vw_text = {
        "too_cheap": "At what price would you consider the tent to be so inexpensive that you "
        "would doubt its quality?",
        "cheap": "At what price would you consider the tent a bargain, a great buy for the money?",
        "expensive": "At what price would the tent start to seem expensive, but you would "
        "still consider buying it?",
        "too_expensive": "At what price would the tent be so expensive that you would not "
        "consider buying it?",
    }
    for k, point in enumerate(_VW_POINTS):
        spec = {
            "id": f"vw_{point}",
            "type": "price_vw",
            "text": vw_text[point],
            "product": PRODUCT,
            "point": point,
            "unit": "USD",
        }
        questions.append(Question(spec, everyone, _str(stated[:, k])))
    for at, ans in (("cheap", ans_cheap), ("expensive", ans_exp)):
        spec = {
            "id": f"nms_{at}",
            "type": "rating",
            "text": f"How likely would you be to buy the tent at the price you called {at}?",
            "scale": [1, 5],
            "role": "nms",
            "at": f"vw_{at}",
            "labels": {
                1: "not at all likely",
                2: "not very likely",
                3: "somewhat likely",
                4: "very likely",
                5: "extremely likely",
            },
            "calibration": dict(NMS_CALIBRATION),
        }
        questions.append(Question(spec, everyone, _str(ans)))
    for price in GG_PRICES:
        spec = {
            "id": f"gg_price_{price}",
            "type": "price_gg",
            "text": f"Would you buy the tent at ${price}?",
            "product": PRODUCT,
            "price": price,
            "options": ["yes", "no"],
        }
        yes = log_wtp >= np.log(price)
        questions.append(Question(spec, everyone, np.where(yes, "yes", "no").astype(object)))

    weights = panel.shares()
    points = {s: _vw_points({s: 1.0}) for s in SEGMENTS}
    points["overall"] = _vw_points(weights)
    trial, revenue = _nms_truth(rng, weights)
    vw = VanWestendorpTruth(
        product=PRODUCT,
        log_reference={s: (float(np.log(m)), sd) for s, (m, sd) in _REFERENCE.items()},
        gap_shapes=dict(_GAP_SHAPES),
        gap_scale=_GAP_SCALE,
        points=points,
        definitions=dict(VW_DEFINITIONS),
        nms_calibration=dict(NMS_CALIBRATION),
        nms_cheap_probabilities=dict(_NMS_CHEAP),
        nms_drop_probabilities=_NMS_DROP,
        nms_trial_price=trial,
        nms_revenue_price=revenue,
    )

    groups: dict[str, dict[str, float]] = {s: {s: 1.0} for s in SEGMENTS}
    groups["overall"] = weights
    demand = {g: {p: _gg_demand(p, w) for p in GG_PRICES} for g, w in groups.items()}
    best = {g: max(GG_PRICES, key=lambda p, d=d: p * d[p]) for g, d in demand.items()}
    cont = {}
    for g, w in groups.items():
        res = optimize.minimize_scalar(
            lambda lp, w=w: -np.exp(lp) * _gg_demand(float(np.exp(lp)), w),
            bounds=(np.log(20.0), np.log(2_000.0)),
            method="bounded",
            options={"xatol": 1e-7},
        )
        cont[g] = float(np.exp(res.x))
    gg = GaborGrangerTruth(
        prices=GG_PRICES,
        log_wtp={
            s: (float(np.log(m)), float(np.hypot(sd, _GG_TAU))) for s, (m, sd) in _REFERENCE.items()
        },
        demand=demand,
        revenue_price=best,
        revenue_price_continuous=cont,
    )
    return questions, vw, gg


# --------------------------------------------------------------------------------------------
# choice-based conjoint
# --------------------------------------------------------------------------------------------

CBC_VERSIONS = 10
CBC_TASKS = 12
CBC_ALTERNATIVES = 3
#: Attributes and levels; ``price`` is numeric (USD) and enters linearly.
CBC_ATTRIBUTES: dict[str, tuple[Any, ...]] = {
    "brand": (BRAND, *COMPETITOR_BRANDS[:3]),
    "price": (149, 199, 249, 299),
    "weight": ("2.5 kg", "1.8 kg", "1.2 kg"),
    "waterproof": ("1500 mm", "3000 mm", "5000 mm"),
    "warranty": ("1 year", "3 years", "lifetime"),
}
#: Planted mean part-worths (effects coded: they sum to zero within an attribute).
_PARTWORTHS: dict[str, tuple[float, ...]] = {
    "brand": (0.4, 0.3, -0.1, -0.6),
    "weight": (-0.6, 0.1, 0.5),
    "waterproof": (-0.7, 0.2, 0.5),
    "warranty": (-0.5, 0.1, 0.4),
}
#: Standard deviation of each free (effects-coded) parameter of an attribute.
_PARTWORTH_SD = {"brand": 0.3, "weight": 0.3, "waterproof": 0.3, "warranty": 0.25}
_PRICE_MEAN, _PRICE_SD = -0.012, 0.002
_NONE_MEAN, _NONE_SD = -3.2, 0.6
#: A market scenario for the simulator: one product per brand, plus "none".
_SCENARIO: tuple[dict[str, Any], ...] = (
    {"brand": BRAND, "price": 249, "weight": "1.8 kg", "waterproof": "3000 mm",
     "warranty": "3 years"},
    {"brand": COMPETITOR_BRANDS[0], "price": 299, "weight": "1.2 kg", "waterproof": "5000 mm",
     "warranty": "lifetime"},
    {"brand": COMPETITOR_BRANDS[1], "price": 199, "weight": "2.5 kg", "waterproof": "3000 mm",
     "warranty": "1 year"},
    {"brand": COMPETITOR_BRANDS[2], "price": 249, "weight": "1.8 kg", "waterproof": "1500 mm",
     "warranty": "3 years"},
)  # fmt: skip


@dataclass(frozen=True)
class ConjointTruth:
    """Planted choice-based conjoint model.

    Attributes
    ----------
    attributes
        Attribute → levels (price levels in USD).
    coding
        ``"effects"``: for an attribute with L levels the free parameters are the first L−1
        levels; the last level's part-worth is minus their sum. Price is linear per dollar.
    parameters
        Names of the free parameters in a fixed order: ``brand[Northwind]``, ..., ``price``,
        ``none`` (the utility of the "none" alternative).
    means, sds
        Parameter → mean and standard deviation of the independent normal random coefficients
        (mixed logit / HB truth).
    partworths
        Attribute → level → mean part-worth, every level (sums to zero per attribute).
    price_coefficient, none_utility
        Means of the price coefficient (per USD) and of the none utility.
    importances
        Attribute → importance from the mean part-worths: range of the part-worths (price:
        |coefficient| × (highest − lowest price)) over the sum of ranges.
    wtp
        Attribute → level → (part-worth − part-worth of the attribute's first level) /
        (−price coefficient), USD, from the means.
    mnl_pseudo_true
        Parameter → the value a plain (pooled) MNL converges to on this design under the planted
        heterogeneity (smaller in size than the means because heterogeneity adds noise).
        Computed by fitting the MNL to the design's mixed-logit choice probabilities (16,384
        scrambled Sobol draws), every task weighted equally.
    scenario
        Products of a market scenario, one per brand.
    scenario_shares
        ``brand`` or ``"none"`` → expected share of choice in the scenario under the mixed logit.
    individual
        One row per respondent: ``respondent_id`` and each parameter's individual value.
    versions, tasks, alternatives
        Design size: versions × tasks per respondent × alternatives per task (plus "none").
    """

    attributes: dict[str, tuple[Any, ...]]
    coding: str
    parameters: tuple[str, ...]
    means: dict[str, float]
    sds: dict[str, float]
    partworths: dict[str, dict[str, float]]
    price_coefficient: float
    none_utility: float
    importances: dict[str, float]
    wtp: dict[str, dict[str, float]]
    mnl_pseudo_true: dict[str, float]
    scenario: tuple[dict[str, Any], ...]
    scenario_shares: dict[str, float]
    individual: pd.DataFrame
    versions: int = CBC_VERSIONS
    tasks: int = CBC_TASKS
    alternatives: int = CBC_ALTERNATIVES

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


def cbc_parameter_names() -> list[str]:
    """Free parameters of the effects-coded CBC model, in order."""
    names = [
        f"{a}[{lvl}]" for a, lvls in CBC_ATTRIBUTES.items() if a != "price" for lvl in lvls[:-1]
    ]
    return [*names, "price", "none"]


def cbc_code(profile: dict[str, Any]) -> np.ndarray:
    """Effects-coded row of one product profile (``none`` column 0)."""
    row: list[float] = []
    for attr, levels in CBC_ATTRIBUTES.items():
        if attr == "price":
            continue
        k = levels.index(profile[attr])
        codes = np.zeros(len(levels) - 1)
        if k == len(levels) - 1:
            codes[:] = -1.0
        else:
            codes[k] = 1.0
        row.extend(codes)
    return np.array([*row, float(profile["price"]), 0.0])


def _none_row() -> np.ndarray:
    row = np.zeros(len(cbc_parameter_names()))
    row[-1] = 1.0
    return row


def _softmax(u: np.ndarray, axis: int) -> np.ndarray:
    u = u - u.max(axis=axis, keepdims=True)
    e = np.exp(u)
    return e / e.sum(axis=axis, keepdims=True)


def _cbc_design(rng: np.random.Generator) -> list[list[list[dict[str, Any]]]]:
    """Versions × tasks × alternatives; within a task no attribute level repeats."""
    design = []
    for _ in range(CBC_VERSIONS):
        tasks = []
        for _ in range(CBC_TASKS):
            picks = {
                a: rng.permutation(len(lv))[:CBC_ALTERNATIVES] for a, lv in CBC_ATTRIBUTES.items()
            }
            tasks.append(
                [
                    {a: CBC_ATTRIBUTES[a][int(picks[a][j])] for a in CBC_ATTRIBUTES}
                    for j in range(CBC_ALTERNATIVES)
                ]
            )
        design.append(tasks)
    return design


def _fit_mnl_to_probabilities(x: np.ndarray, target: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Newton's method for the MNL whose expected score under ``target`` probabilities is 0."""
    beta = start.copy()
    for _ in range(50):
        p = _softmax(x @ beta, axis=1)
        grad = np.einsum("tjk,tj->k", x, target - p)
        xbar = np.einsum("tjk,tj->tk", x, p)
        hess = np.einsum("tjk,tjl,tj->kl", x, x, p) - np.einsum("tk,tl->kl", xbar, xbar)
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return beta


def generate_conjoint(
    panel: Panel, rng: np.random.Generator
) -> tuple[list[Question], ConjointTruth, dict[str, Any]]:
    """CBC: ``cbc_version`` and ``cbc_t01`` ... ``cbc_t12`` (0 = none, 1–3 = alternative).

    Parameters
    ----------
    panel
        The respondents (all are asked).
    rng
        Random stream (design, versions, coefficients, errors, Sobol scrambling).

    Returns
    -------
    tuple of (list of Question, ConjointTruth, dict)
        The questions, the truth and the design block of the questionnaire.
    """
    names = cbc_parameter_names()
    means: dict[str, float] = {}
    sds: dict[str, float] = {}
    for attr, pw in _PARTWORTHS.items():
        for lvl, value in zip(CBC_ATTRIBUTES[attr][:-1], pw[:-1], strict=True):
            means[f"{attr}[{lvl}]"] = value
            sds[f"{attr}[{lvl}]"] = _PARTWORTH_SD[attr]
    means |= {"price": _PRICE_MEAN, "none": _NONE_MEAN}
    sds |= {"price": _PRICE_SD, "none": _NONE_SD}
    mu = np.array([means[k] for k in names])
    sd = np.array([sds[k] for k in names])

    design = _cbc_design(rng)
    # x[v, t, j]: j = 0 is "none", 1..3 the alternatives, as in the answers
    x = np.array(
        [[[_none_row(), *(cbc_code(alt) for alt in task)] for task in tasks] for tasks in design]
    )
    n = panel.n
    version = rng.permutation(n) % CBC_VERSIONS
    beta = mu + sd * rng.standard_normal((n, len(names)))
    util = np.einsum("ntjk,nk->ntj", x[version], beta)
    util += rng.gumbel(size=util.shape)
    choice = util.argmax(axis=2)

    everyone = np.arange(n)
    questions = [
        Question(
            {
                "id": "cbc_version",
                "type": "cbc",
                "role": "version",
                "text": "Design version shown to the respondent (assigned, not asked).",
                "design": "cbc",
            },
            everyone,
            _str(version + 1),
        )
    ]
    for t in range(CBC_TASKS):
        spec = {
            "id": f"cbc_t{t + 1:02d}",
            "type": "cbc",
            "role": "task",
            "task": t + 1,
            "design": "cbc",
            "text": "If these were the only tents available, which would you buy?",
            "options": [0, *range(1, CBC_ALTERNATIVES + 1)],
        }
        questions.append(Question(spec, everyone, _str(choice[:, t])))

    # truth
    partworths = {
        a: {str(lvl): float(v) for lvl, v in zip(CBC_ATTRIBUTES[a], pw, strict=True)}
        for a, pw in _PARTWORTHS.items()
    }
    prices = CBC_ATTRIBUTES["price"]
    ranges = {a: max(v.values()) - min(v.values()) for a, v in partworths.items()}
    ranges["price"] = abs(_PRICE_MEAN) * (max(prices) - min(prices))
    total = sum(ranges.values())
    importances = {a: ranges[a] / total for a in CBC_ATTRIBUTES}
    wtp = {
        a: {lvl: (v - next(iter(pw.values()))) / -_PRICE_MEAN for lvl, v in pw.items()}
        for a, pw in partworths.items()
    }
    sobol = stats.qmc.Sobol(d=len(names), scramble=True, seed=rng)
    z = stats.norm.ppf(np.clip(sobol.random_base2(14), 1e-12, 1 - 1e-12))
    draws = mu + sd * z  # (R, K)
    x_tasks = x.reshape(-1, CBC_ALTERNATIVES + 1, len(names))
    p_mix = np.zeros(x_tasks.shape[:2])
    for lo in range(0, len(draws), 4_096):
        u = np.einsum("tjk,rk->rtj", x_tasks, draws[lo : lo + 4_096])
        p_mix += _softmax(u, axis=2).sum(axis=0)
    p_mix /= len(draws)
    pseudo = _fit_mnl_to_probabilities(x_tasks, p_mix, mu)
    x_scen = np.array([*(cbc_code(p) for p in _SCENARIO), _none_row()])
    shares = _softmax(draws @ x_scen.T, axis=1).mean(axis=0)
    scenario_shares = {p["brand"]: float(s) for p, s in zip(_SCENARIO, shares, strict=False)}
    scenario_shares["none"] = float(shares[-1])
    individual = pd.DataFrame(beta, columns=names)
    individual.insert(0, "respondent_id", panel.respondent_id.astype(str))
    truth = ConjointTruth(
        attributes=dict(CBC_ATTRIBUTES),
        coding="effects",
        parameters=tuple(names),
        means=means,
        sds=sds,
        partworths=partworths,
        price_coefficient=_PRICE_MEAN,
        none_utility=_NONE_MEAN,
        importances=importances,
        wtp=wtp,
        mnl_pseudo_true={k: float(v) for k, v in zip(names, pseudo, strict=True)},
        scenario=_SCENARIO,
        scenario_shares=scenario_shares,
        individual=individual,
    )
    block = {
        "attributes": {a: list(lv) for a, lv in CBC_ATTRIBUTES.items()},
        "price_attribute": "price",
        "alternatives": CBC_ALTERNATIVES,
        "none_option": {"answer": 0, "text": "I would not buy any of these"},
        "answer": "0 = none, 1..3 = the alternative's position in the task",
        "versions": [
            {
                "version": v + 1,
                "tasks": [
                    {"task": t + 1, "alternatives": [dict(alt) for alt in task]}
                    for t, task in enumerate(tasks)
                ],
            }
            for v, tasks in enumerate(design)
        ],
    }
    return questions, truth, block


# --------------------------------------------------------------------------------------------
# MaxDiff
# --------------------------------------------------------------------------------------------

MD_VERSIONS = 10
MD_ITEMS_PER_TASK = 4
MD_APPEARANCES = 3  # times each item is shown per version → 12 × 3 / 4 = 9 tasks
#: Item key → (label, base utility).
_MD_ITEMS: dict[str, tuple[str, float]] = {
    "waterproof": ("Keeps me dry in heavy rain", 1.4),
    "durable": ("Lasts for many seasons", 1.1),
    "lightweight": ("Light to carry", 0.8),
    "low_price": ("Low price", 0.5),
    "comfort": ("Comfortable to use", 0.25),
    "warranty": ("Long warranty", 0.0),
    "packable": ("Packs down small", -0.25),
    "sustainable": ("Made sustainably", -0.5),
    "repairable": ("Easy to repair", -0.75),
    "ventilation": ("Good ventilation", -0.95),
    "style": ("Looks good", -1.15),
    "brand": ("A brand I trust", -1.35),
}
#: Segment-specific shifts of the base utilities.
_MD_SHIFTS: dict[str, dict[str, float]] = {
    "Trail Enthusiasts": {"packable": 0.6, "lightweight": 0.4, "sustainable": 0.4},
    "Weekend Campers": {"comfort": 0.7, "low_price": 0.3},
    "Bargain Hunters": {"low_price": 1.5, "durable": -0.3, "sustainable": -0.4},
    "Gift Shoppers": {"style": 1.2, "brand": 0.8, "lightweight": -0.4},
    "Alpine Pros": {"lightweight": 0.8, "durable": 0.4, "low_price": -0.8, "style": -0.4},
}
_MD_INDIVIDUAL_SD = 0.4


@dataclass(frozen=True)
class MaxDiffTruth:
    """Planted MaxDiff utilities.

    Attributes
    ----------
    items
        Item key (the answer) → label.
    utilities
        Segment or ``"overall"`` → item → utility (centred; ``"overall"`` weights the segments
        by the respondents' segment shares).
    rank
        Items from most to least important by the overall utilities.
    individual_sd
        Standard deviation of each respondent's normal deviation from their segment's utility.
    versions, tasks, items_per_task
        Design size.
    """

    items: dict[str, str]
    utilities: dict[str, dict[str, float]]
    rank: tuple[str, ...]
    individual_sd: float
    versions: int
    tasks: int
    items_per_task: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


def generate_maxdiff(
    panel: Panel, rng: np.random.Generator
) -> tuple[list[Question], MaxDiffTruth, dict[str, Any]]:
    """MaxDiff: ``maxdiff_version``, ``md_tNN_best`` and ``md_tNN_worst`` (answers: item keys).

    Parameters
    ----------
    panel
        The respondents (all are asked).
    rng
        Random stream.

    Returns
    -------
    tuple of (list of Question, MaxDiffTruth, dict)
        The questions, the truth and the design block of the questionnaire.
    """
    keys = list(_MD_ITEMS)
    n_items = len(keys)
    n_tasks = n_items * MD_APPEARANCES // MD_ITEMS_PER_TASK
    design = np.array(
        [
            np.concatenate([rng.permutation(n_items) for _ in range(MD_APPEARANCES)]).reshape(
                n_tasks, MD_ITEMS_PER_TASK
            )
            for _ in range(MD_VERSIONS)
        ]
    )
    base = np.array([u for _, u in _MD_ITEMS.values()])
    seg_util = np.zeros((len(SEGMENTS), n_items))
    for s, name in enumerate(SEGMENTS):
        u = base.copy()
        for item, shift in _MD_SHIFTS[name].items():
            u[keys.index(item)] += shift
        seg_util[s] = u - u.mean()
    n = panel.n
    version = rng.permutation(n) % MD_VERSIONS
    util = seg_util[panel.segment] + _MD_INDIVIDUAL_SD * rng.standard_normal((n, n_items))
    shown = design[version]  # (n, tasks, 4)
    u_shown = np.take_along_axis(util[:, None, :], shown, axis=2)
    best_pos = (u_shown + rng.gumbel(size=u_shown.shape)).argmax(axis=2)
    worst_score = -u_shown + rng.gumbel(size=u_shown.shape)
    np.put_along_axis(worst_score, best_pos[..., None], -np.inf, axis=2)
    worst_pos = worst_score.argmax(axis=2)
    best = np.take_along_axis(shown, best_pos[..., None], axis=2)[..., 0]
    worst = np.take_along_axis(shown, worst_pos[..., None], axis=2)[..., 0]
    key_arr = np.array(keys, dtype=object)

    everyone = np.arange(n)
    questions = [
        Question(
            {
                "id": "maxdiff_version",
                "type": "maxdiff",
                "role": "version",
                "text": "Design version shown to the respondent (assigned, not asked).",
                "design": "maxdiff",
            },
            everyone,
            _str(version + 1),
        )
    ]
    for t in range(n_tasks):
        for side, picked in (("best", best), ("worst", worst)):
            spec = {
                "id": f"md_t{t + 1:02d}_{side}",
                "type": "maxdiff",
                "role": side,
                "task": t + 1,
                "design": "maxdiff",
                "text": f"Of these, which matters {'most' if side == 'best' else 'least'} to you "
                "when buying outdoor gear?",
            }
            questions.append(Question(spec, everyone, key_arr[picked[:, t]]))

    weights = panel.shares()
    overall = sum(weights[s] * seg_util[i] for i, s in enumerate(SEGMENTS))
    utilities = {
        s: {k: float(v) for k, v in zip(keys, seg_util[i], strict=True)}
        for i, s in enumerate(SEGMENTS)
    }
    utilities["overall"] = {k: float(v) for k, v in zip(keys, overall, strict=True)}
    rank = tuple(keys[i] for i in np.argsort(-overall, kind="stable"))
    truth = MaxDiffTruth(
        items={k: lab for k, (lab, _) in _MD_ITEMS.items()},
        utilities=utilities,
        rank=rank,
        individual_sd=_MD_INDIVIDUAL_SD,
        versions=MD_VERSIONS,
        tasks=n_tasks,
        items_per_task=MD_ITEMS_PER_TASK,
    )
    block = {
        "items": {k: lab for k, (lab, _) in _MD_ITEMS.items()},
        "items_per_task": MD_ITEMS_PER_TASK,
        "answer": "the item key chosen as best (md_tNN_best) or worst (md_tNN_worst)",
        "versions": [
            {
                "version": v + 1,
                "tasks": [
                    {"task": t + 1, "items": [keys[i] for i in design[v, t]]}
                    for t in range(n_tasks)
                ],
            }
            for v in range(MD_VERSIONS)
        ],
    }
    return questions, truth, block


# --------------------------------------------------------------------------------------------
# Kano
# --------------------------------------------------------------------------------------------

#: The five standard Kano answers, as written in ``answer``.
KANO_ANSWERS = ("like", "must_be", "neutral", "live_with", "dislike")
_KANO_LABELS = {
    "like": "I like it that way",
    "must_be": "It must be that way",
    "neutral": "I am neutral",
    "live_with": "I can live with it that way",
    "dislike": "I dislike it that way",
}
#: Kano evaluation table: functional answer → dysfunctional answer → category.
KANO_TABLE: dict[str, dict[str, str]] = {
    "like": dict(zip(KANO_ANSWERS, ("Q", "A", "A", "A", "O"), strict=True)),
    "must_be": dict(zip(KANO_ANSWERS, ("R", "I", "I", "I", "M"), strict=True)),
    "neutral": dict(zip(KANO_ANSWERS, ("R", "I", "I", "I", "M"), strict=True)),
    "live_with": dict(zip(KANO_ANSWERS, ("R", "I", "I", "I", "M"), strict=True)),
    "dislike": dict(zip(KANO_ANSWERS, ("R", "R", "R", "R", "Q"), strict=True)),
}
_KANO_NAMES = {
    "M": "must-be",
    "O": "one-dimensional",
    "A": "attractive",
    "I": "indifferent",
    "R": "reverse",
    "Q": "questionable",
}
#: How a respondent of each category answers: (functional, dysfunctional) cells and weights.
_KANO_CELLS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "M": (
        ("must_be", "dislike", 0.5),
        ("neutral", "dislike", 0.35),
        ("live_with", "dislike", 0.15),
    ),
    "O": (("like", "dislike", 1.0),),
    "A": (("like", "neutral", 0.6), ("like", "live_with", 0.25), ("like", "must_be", 0.15)),
    "I": tuple(
        (f, d, 0.5 if (f, d) == ("neutral", "neutral") else 0.5 / 8)
        for f in ("must_be", "neutral", "live_with")
        for d in ("must_be", "neutral", "live_with")
    ),
    "R": (
        ("dislike", "like", 0.5),
        ("neutral", "like", 0.2),
        ("live_with", "like", 0.1),
        ("must_be", "like", 0.05),
        ("dislike", "neutral", 0.1),
        ("dislike", "live_with", 0.05),
    ),
    "Q": (("like", "like", 0.5), ("dislike", "dislike", 0.5)),
}
#: Feature key → (label, planted category, secondary category).
_KANO_FEATURES: dict[str, tuple[str, str, str]] = {
    "waterproof_seams": ("taped, fully waterproof seams", "M", "O"),
    "sturdy_zippers": ("heavy-duty zippers", "M", "I"),
    "ultralight_fabric": ("an ultralight fabric", "O", "A"),
    "extended_warranty": ("a five-year warranty", "O", "M"),
    "free_repairs": ("free repairs for life", "A", "O"),
    "recycled_materials": ("fully recycled materials", "A", "I"),
    "gear_tracker_app": ("a gear-tracking phone app", "I", "A"),
    "mandatory_account": ("an online account required to register the warranty", "R", "I"),
}
_KANO_MAIN, _KANO_SECOND, _KANO_Q = 0.60, 0.18, 0.02


@dataclass(frozen=True)
class KanoTruth:
    """Planted Kano categories.

    Attributes
    ----------
    features
        Feature key → label.
    category
        Feature → planted category (``must-be``, ``one-dimensional``, ``attractive``,
        ``indifferent``, ``reverse``); the most probable category of every respondent.
    probabilities
        Feature → category → probability that a respondent holds it (``questionable`` included).
    answers
        The five answers in the order of the evaluation table.
    table
        Evaluation table: functional answer → dysfunctional answer → category letter
        (M, O, A, I, R, Q).
    category_names
        Letter → category name.
    """

    features: dict[str, str]
    category: dict[str, str]
    probabilities: dict[str, dict[str, float]]
    answers: tuple[str, ...]
    table: dict[str, dict[str, str]]
    category_names: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


def generate_kano(panel: Panel, rng: np.random.Generator) -> tuple[list[Question], KanoTruth]:
    """Kano pairs ``kano_<feature>_functional`` / ``kano_<feature>_dysfunctional``.

    Parameters
    ----------
    panel
        The respondents (all are asked).
    rng
        Random stream.

    Returns
    -------
    tuple of (list of Question, KanoTruth)
    """
    letters = list(_KANO_NAMES)
    n = panel.n
    everyone = np.arange(n)
    questions: list[Question] = []
    probabilities: dict[str, dict[str, float]] = {}
    answers = np.array(KANO_ANSWERS, dtype=object)
    for feat, (label, main, second) in _KANO_FEATURES.items():
        rest = [c for c in letters if c not in (main, second, "Q")]
        p = {main: _KANO_MAIN, second: _KANO_SECOND, "Q": _KANO_Q}
        p |= {c: (1 - _KANO_MAIN - _KANO_SECOND - _KANO_Q) / len(rest) for c in rest}
        probabilities[feat] = {_KANO_NAMES[c]: p[c] for c in letters}
        cats = rng.choice(len(letters), size=n, p=[p[c] for c in letters])
        func = np.empty(n, dtype=np.int64)
        dysf = np.empty(n, dtype=np.int64)
        for ci, c in enumerate(letters):
            idx = np.flatnonzero(cats == ci)
            cells = _KANO_CELLS[c]
            w = np.array([cw for _, _, cw in cells])
            pick = rng.choice(len(cells), size=len(idx), p=w / w.sum())
            func[idx] = [KANO_ANSWERS.index(cells[k][0]) for k in pick]
            dysf[idx] = [KANO_ANSWERS.index(cells[k][1]) for k in pick]
        for side, ans, text in (
            ("functional", func, f"How would you feel if the tent had {label}?"),
            ("dysfunctional", dysf, f"How would you feel if the tent did not have {label}?"),
        ):
            spec = {
                "id": f"kano_{feat}_{side}",
                "type": "kano",
                "feature": feat,
                "side": side,
                "text": text,
                "options": dict(_KANO_LABELS),
            }
            questions.append(Question(spec, everyone, answers[ans]))
    truth = KanoTruth(
        features={f: lab for f, (lab, _, _) in _KANO_FEATURES.items()},
        category={f: _KANO_NAMES[m] for f, (_, m, _) in _KANO_FEATURES.items()},
        probabilities=probabilities,
        answers=KANO_ANSWERS,
        table={f: dict(d) for f, d in KANO_TABLE.items()},
        category_names=dict(_KANO_NAMES),
    )
    return questions, truth
