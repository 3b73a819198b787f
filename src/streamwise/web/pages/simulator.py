"""The conjoint market simulator of the dashboard: put two to four products on the market and
see each one's share of preference, from the part-worths the survey's conjoint estimated.

``streamwise research run`` fits a multinomial logit to the choice-based conjoint and saves, in
the table ``research_conjoint``, every attribute level's part-worth (effects coded: they sum to
zero within an attribute), its willingness to pay over the attribute's first level and each
attribute's importance. The price coefficient is not a row of its own; it follows exactly from
those columns, since ``wtp = (pw_level − pw_first) / (−β_price)``
(:meth:`~streamwise.upstream.research.conjoint.MultinomialLogit.willingness_to_pay`). The span of
prices the study showed follows from the importances: the categorical attributes' importances sum
to ``S / (S + |β_price| · span)``, with ``S`` the sum of their part-worth ranges.

A product's utility is the sum of its levels' part-worths plus ``β_price × price``; its share of
preference is the logit share ``exp V_i / Σ_j exp V_j`` over the products shown (Train 2009,
eq. 3.6), what ``MultinomialLogit.simulate(products, include_none=False)`` gives. The table holds
mean part-worths only (no individual draws of a mixed logit), so the shares have the logit's
IIA property. The "none" option of the survey is left out: the shares are among the products.

The part-worths are read through a read-only connection (see
:class:`~streamwise.web.pages.upstream.ReadOnlyWorkspace`) and kept until the analytics file or
its write-ahead log changes.

References
----------
Train, K. E. (2009). Discrete Choice Methods with Simulation, 2nd ed. Cambridge University Press.
Orme, B. K. (2010). Getting Started with Conjoint Analysis, 2nd ed. Research Publishers (ch. 9,
importances; market simulators).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response
from scipy.special import softmax

from streamwise.errors import DataError, StreamwiseError
from streamwise.reports.tables import table_exists
from streamwise.web.pages.render import page
from streamwise.web.pages.security import CanRead
from streamwise.web.pages.upstream import analytics_stamp, read_analytics

__all__ = [
    "DEFAULT_PROFILES",
    "MAX_PROFILES",
    "MIN_PROFILES",
    "ConjointModel",
    "Profile",
    "Simulation",
    "load_conjoint",
    "parse_profiles",
    "router",
    "simulate",
]

MIN_PROFILES, MAX_PROFILES, DEFAULT_PROFILES = 2, 4, 3
PATH = "/app/research/simulator"
_TABLE = "research_conjoint"
_PARAM = re.compile(r"p([0-9]+)\.(.+)", re.DOTALL)
_LONGEST = 200  # characters of a query value repeated in a message
METHOD = (
    "Multinomial logit on the survey's average part-worths (research_conjoint): a logit share has "
    "the IIA property, so a new product draws share from the others in proportion to their "
    "shares, however similar it is to one of them. The workspace holds no individual-level "
    "(mixed logit) estimates to average over. The survey's “none of these” option is left out: "
    "the shares are among the products shown."
)


@dataclass(frozen=True)
class Profile:
    """A product: one level of each attribute and, when the study had one, a price."""

    label: str
    levels: dict[str, str]
    price: float | None = None


@dataclass(frozen=True)
class ConjointModel:
    """The estimated part-worths of a conjoint, as the research run saved them.

    Attributes
    ----------
    part_worths
        Attribute → level → part-worth, in the coding order of the fit.
    wtp
        Attribute → level → willingness to pay over the attribute's first level (empty without a
        price attribute).
    price_coefficient
        Utility per unit of price (negative), or None.
    price_span
        Highest minus lowest price the study showed, or None.
    reference_price
        A price to start from: the Van Westendorp optimal price of the same run, or None.
    screening
        Who was analysed (the research run's screening line).
    """

    part_worths: dict[str, dict[str, float]]
    wtp: dict[str, dict[str, float]]
    price_coefficient: float | None
    price_span: float | None
    reference_price: float | None
    screening: str

    @property
    def levels(self) -> dict[str, list[str]]:
        """Attribute → its levels."""
        return {a: list(worths) for a, worths in self.part_worths.items()}

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, reference_price: float | None = None) -> ConjointModel:
        """The model in a ``research_conjoint`` frame (rows in coding order).

        Raises
        ------
        DataError
            A needed column is missing, or an attribute has fewer than two levels.
        """
        for col in ("attribute", "level", "part_worth"):
            if col not in frame.columns:
                raise DataError(f"the table has no column {col!r}; re-run `streamwise research "
                                "run`", source=_TABLE, column=col)  # fmt: skip
        worths: dict[str, dict[str, float]] = {}
        wtp: dict[str, dict[str, float]] = {}
        has_wtp = "willingness_to_pay" in frame.columns
        for row in frame.itertuples(index=False):
            a, lvl = str(row.attribute), str(row.level)
            worths.setdefault(a, {})[lvl] = float(row.part_worth)
            value = float(row.willingness_to_pay) if has_wtp else math.nan
            if math.isfinite(value):
                wtp.setdefault(a, {})[lvl] = value
        short = [a for a, lv in worths.items() if len(lv) < 2]
        if short:
            raise DataError(f"attribute {short[0]!r} has fewer than two levels", source=_TABLE)
        beta = _price_coefficient(worths, wtp)
        span = None
        if beta is not None and "importance" in frame.columns:
            share = frame.groupby("attribute", sort=False)["importance"].first().sum()
            ranges = sum(max(lv.values()) - min(lv.values()) for lv in worths.values())
            if 0 < share < 1:
                span = ranges * (1 / share - 1) / abs(beta)
        screening = str(frame["screening"].iloc[0]) if "screening" in frame.columns else ""
        return cls(worths, wtp if beta is not None else {}, beta, span, reference_price, screening)

    def default_profiles(self, n: int = DEFAULT_PROFILES) -> tuple[Profile, ...]:
        """``n`` products: product *i* takes the *i*-th level of every attribute (cycling), all
        at the reference price."""
        price = None
        if self.price_coefficient is not None:
            price = float(round(self.reference_price or 100.0))
        return tuple(
            Profile(f"Product {i + 1}", {a: lv[i % len(lv)] for a, lv in self.levels.items()},
                    price)
            for i in range(n)
        )  # fmt: skip

    def utility(self, profile: Profile) -> float:
        """Part-worths of the profile's levels plus ``β_price × price``.

        Raises
        ------
        DataError
            A level the study did not have, a missing attribute, or a missing price.
        """
        total = 0.0
        for attribute, worths in self.part_worths.items():
            level = profile.levels.get(attribute)
            if level is None:
                raise DataError(f"{profile.label} has no level of {attribute!r}")
            if level not in worths:
                raise DataError(
                    f"{profile.label}: {attribute} = {_cut(level)!r} is not a level of the study; "
                    f"use one of {', '.join(worths)}"
                )
            total += worths[level]
        unknown = sorted(set(profile.levels) - set(self.part_worths))
        if unknown:
            raise DataError(f"{profile.label}: the study has no attribute {_cut(unknown[0])!r}")
        if self.price_coefficient is not None:
            if profile.price is None:
                raise DataError(f"{profile.label} has no price")
            total += self.price_coefficient * profile.price
        return total


def _price_coefficient(
    worths: dict[str, dict[str, float]], wtp: dict[str, dict[str, float]]
) -> float | None:
    """β_price from ``wtp = (pw − pw_first) / (−β_price)`` by least squares over the levels
    (exact up to rounding); None when no level has a willingness to pay."""
    num = den = 0.0
    for a, levels in wtp.items():
        first = next(iter(worths[a].values()))
        for lvl, w in levels.items():
            num += (worths[a][lvl] - first) * w
            den += w * w
    if den == 0 or num == 0:
        return None
    return -num / den


@dataclass(frozen=True)
class Simulation:
    """Shares of preference of a market of products."""

    profiles: tuple[Profile, ...]
    utilities: tuple[float, ...]
    shares: tuple[float, ...]
    method: str = METHOD

    def to_frame(self) -> pd.DataFrame:
        """One row per product: its levels, price, utility and share."""
        rows = [
            {"product": p.label, **p.levels, **({} if p.price is None else {"price": p.price}),
             "utility": u, "share": s}
            for p, u, s in zip(self.profiles, self.utilities, self.shares, strict=True)
        ]  # fmt: skip
        return pd.DataFrame(rows).set_index("product")

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return asdict(self)


def simulate(model: ConjointModel, profiles: tuple[Profile, ...] | list[Profile]) -> Simulation:
    """Each product's logit share of preference among ``profiles``.

    Parameters
    ----------
    model
        The part-worths (:func:`load_conjoint`).
    profiles
        The products in the market (at least one).

    Returns
    -------
    Simulation
        Utilities and shares (summing to 1), in the order of ``profiles``.

    Raises
    ------
    DataError
        No product, or a product with a level, attribute or price the model does not know.
    """
    if not profiles:
        raise DataError("put at least one product on the market")
    utilities = [model.utility(p) for p in profiles]
    shares = softmax(utilities)
    return Simulation(tuple(profiles), tuple(utilities), tuple(float(s) for s in shares))


def parse_profiles(model: ConjointModel, query: Mapping[str, str]) -> tuple[Profile, ...]:
    """The products a query asks for: ``profiles`` (how many, 2–4) and ``p<i>.<attribute>`` /
    ``p<i>.price`` for product *i*; what a query leaves out keeps its default.

    Raises
    ------
    DataError
        The number of products is out of range, or a value names a product, attribute or level
        the study does not have, or a price is not a number of zero or more.
    """
    raw = query.get("profiles", "") or str(DEFAULT_PROFILES)
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not MIN_PROFILES <= int(raw) <= MAX_PROFILES:
        raise DataError(f"profiles = {_cut(raw)!r}: choose {MIN_PROFILES} to {MAX_PROFILES} "
                        "products")  # fmt: skip
    n = int(raw)
    defaults = model.default_profiles(n)
    levels = [dict(p.levels) for p in defaults]
    prices = [p.price for p in defaults]
    for key, value in query.items():
        match = _PARAM.fullmatch(key)
        if match is None:
            continue
        number, attribute = match.group(1), match.group(2)
        i = int(number) if len(number) <= 6 else 0
        if not 1 <= i <= MAX_PROFILES:
            raise DataError(f"{_cut(key)!r}: the simulator takes products 1 to {MAX_PROFILES}")
        if i > n:
            continue  # a product left out when the number was lowered
        if attribute == "price" and model.price_coefficient is not None:
            prices[i - 1] = _price(value, i)
        elif attribute in model.part_worths:
            levels[i - 1][attribute] = value  # checked by ConjointModel.utility
        else:
            raise DataError(f"{_cut(key)!r}: the study has no attribute {_cut(attribute)!r}; "
                            f"use one of {', '.join(model.part_worths)}")  # fmt: skip
    profiles = tuple(Profile(d.label, lv, pr) for d, lv, pr in zip(defaults, levels, prices,
                                                                   strict=True))  # fmt: skip
    for p in profiles:
        model.utility(p)
    return profiles


def _price(value: str, i: int) -> float:
    try:
        price = float(value)
    except ValueError:
        price = math.nan
    if not math.isfinite(price) or price < 0:
        raise DataError(f"Product {i}: price {_cut(value)!r} is not a number of zero or more")
    return price


def _number(value: float | None) -> str:
    """A price as typed: ``206``, ``199.5`` (no thousands separators, at most two decimals)."""
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _cut(text: str) -> str:
    return text if len(text) <= _LONGEST else text[:_LONGEST] + "…"


# --------------------------------------------------------------------------------------------
# reading the workspace


def load_conjoint(workspace: Any) -> ConjointModel | None:
    """The part-worths of the workspace's latest research run, or None when it has none.

    Raises
    ------
    DataError
        The table lacks a needed column.
    """
    con = workspace.duckdb()
    if not table_exists(con, _TABLE):
        return None
    frame = con.execute(f'SELECT * FROM "{_TABLE}" ORDER BY rowid').df()  # noqa: S608 - fixed name
    if frame.empty:
        return None
    reference = None
    if table_exists(con, "research_price_points"):
        row = con.execute(
            "SELECT price FROM research_price_points WHERE point = 'opp' LIMIT 1"
        ).fetchone()
        reference = float(row[0]) if row and row[0] is not None else None
    return ConjointModel.from_frame(frame, reference)


class _Models:
    """The loaded model per analytics file, kept until the file or its log changes."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[tuple[int, ...], ConjointModel | None]] = {}
        self._lock = threading.Lock()

    def get(self, workspace: Any) -> ConjointModel | None:
        path = workspace.analytics_path
        stamp = analytics_stamp(workspace)
        with self._lock:
            kept = self._kept.get(str(path))
            if kept is not None and kept[0] == stamp:
                return kept[1]
            model = read_analytics(workspace, load_conjoint)
            self._kept[str(path)] = (stamp, model)
            return model


_MODELS = _Models()

router = APIRouter(include_in_schema=False)


@router.get(PATH)
def simulator(request: Request, viewer: CanRead) -> Response:
    """Shares of preference of two to four products, from the conjoint's part-worths."""
    context: dict[str, Any] = {"title": "Conjoint simulator", "viewer": viewer, "path": PATH,
                               "subtitle": "Put products on the market and see who prefers "
                               "which, from what survey respondents chose."}  # fmt: skip
    try:
        model = _MODELS.get(request.app.state.workspace)
    except StreamwiseError as exc:  # a table without the columns, or not a DuckDB workspace
        return page("simulator.html", notice=f"The conjoint results cannot be read: {exc}",
                    **context)  # fmt: skip
    except duckdb.Error as exc:  # the file is held for writing by an analysis run
        return page("simulator.html", status_code=503, notice="The analytics database is busy "
                    f"({type(exc).__name__}): an analysis is probably running. Reload in a "
                    "moment.", **context)  # fmt: skip
    if model is None:
        return page("simulator.html", notice="The workspace has no conjoint results yet. Import "
                    "survey responses and run `streamwise research run -q QUESTIONNAIRE` (its "
                    "questionnaire needs a choice-based conjoint).", **context)  # fmt: skip
    error, status, result = "", 200, None
    try:
        profiles = parse_profiles(model, request.query_params)
        result = simulate(model, profiles)
    except DataError as exc:
        error, status = f"{str(exc).rstrip('.')}. Showing the default products instead.", 422
        profiles = model.default_profiles()
    rows = [
        {"label": p.label, "levels": p.levels, "price": p.price, "share": s, "utility": u,
         "width": f"{100 * s:.1f}"}
        for p, u, s in zip(profiles, result.utilities, result.shares, strict=True)
    ] if result else []  # fmt: skip
    return page(
        "simulator.html",
        model=model,
        profiles=profiles,
        counts=range(MIN_PROFILES, MAX_PROFILES + 1),
        rows=rows,
        method=METHOD,
        number=_number,
        currency=request.app.state.workspace.settings.currency,
        error=error,
        status_code=status,
        **context,
    )
