"""Customer journeys as compressed paths, built where the data is (Ibis), and parsed for the models.

A *path* is the sequence of channels that touched a customer before a conversion or before the
journey went quiet, written ``"search > email > display"``. Attribution models work on the
*compressed* form: one row per distinct path with the number of journeys that converted
(``conversions``), their conversion ``value`` and the number that did not (``nulls``), the input
format of ChannelAttribution (Altomare & Loris) and of Anderl et al. (2016).

How journeys are cut (:func:`paths_expr`):

- the touches of a customer are ordered by time (ties by channel, so results are deterministic);
- every conversion (order) of the customer ends the journey in progress; the journey *converts*
  iff the conversion follows its last touch within ``window`` (default 24 hours, the sample
  business's rule, :data:`streamwise.data.sample.journeys.CONVERSION_WINDOW_HOURS`; the boundary
  is inclusive). A touch at the same instant as an order counts as before it;
- a gap of more than ``inactivity`` between two touches starts a new journey; the earlier one stays
  a non-converting path;
- touches after a customer's last conversion form non-converting paths; conversions without a
  touch before them belong to no path;
- with ``journey="journey_id"`` the touchpoints' own journey ids group the touches instead (the
  contract's optional ``journey_id`` column) and a journey converts iff a conversion of the customer
  follows its last touch within ``window``.

Everything up to the distinct paths runs as one Ibis expression (window functions and an ordered
``string_agg``) on the backend, DuckDB by default, so 10M+ journeys are cut and counted in bounded
memory; only one row per distinct path comes back. Backends without ordered aggregates (PySpark)
collect each journey's ``(ts, channel)`` pairs, sort them and join the channels instead (see
:func:`_ordered_path`); the paths are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from streamwise.errors import DataError

__all__ = ["PATH_COLUMNS", "ParsedPaths", "build_paths", "parse_paths", "paths_expr"]

#: Columns of the compressed paths.
PATH_COLUMNS = ("path", "conversions", "value", "nulls")
_SEP = " > "


def _as_table(data: Any) -> ir.Table:
    if isinstance(data, ir.Table):
        return data
    return ibis.memtable(data)


def _need(t: ir.Table, cols: list[str], what: str) -> None:
    for col in cols:
        if col not in t.columns:
            raise DataError(
                f"the {what} have no column {col!r}; their columns are: {', '.join(t.columns)}; "
                "name the right one with the matching argument",
                column=col,
            )


def _seconds(d: timedelta | float | int) -> int:
    return int(d.total_seconds()) if isinstance(d, timedelta) else int(d)


def _ordered_aggregates(tables: tuple[ir.Table, ...], backend: Any) -> bool:
    """Whether the backend that will run the expression has ordered aggregates (``string_agg(x
    ORDER BY y)``): DuckDB, PostgreSQL and most SQL engines do, PySpark does not."""
    for table in tables:
        if backend is not None:
            break
        try:
            backend = table._find_backend()
        except Exception:  # noqa: S112 - in-memory tables name no backend; try the next
            continue
    if backend is None:
        backend = ibis.get_backend()
    # the class's ``AggGen`` (an instance's ``agg`` is an accessor of aggregate functions)
    agg = getattr(type(getattr(backend, "compiler", None)), "agg", None)
    return getattr(agg, "supports_order_by", True) is True


def _ordered_path(touch: ir.Table, separator: str, ordered: bool) -> ir.StringValue:
    """The journey's channels by time (ties by channel), joined by ``separator``."""
    if ordered:
        return touch.channel.group_concat(separator, order_by=[touch.ts, touch.channel])
    # Spark: collect (ts, channel) pairs, sort them (structs compare field by field), join
    pairs = ibis.struct({"ts": touch.ts, "channel": touch.channel}).collect()
    return pairs.sort().map(lambda pair: pair.channel).join(separator)


def paths_expr(
    touchpoints: Any,
    conversions: Any,
    *,
    customer: str = "customer_id",
    ts: str = "ts",
    channel: str = "channel",
    conversion_ts: str | None = None,
    value: str | None = None,
    window: timedelta | float = timedelta(hours=24),
    inactivity: timedelta | float = timedelta(days=7),
    journey: str | None = None,
    collapse_repeats: bool = False,
    max_touches: int | None = None,
    separator: str = _SEP,
    backend: Any = None,
) -> ir.Table:
    """The Ibis expression behind :func:`build_paths` (one row per distinct path).

    Parameters
    ----------
    touchpoints
        Ibis table or data frame with ``customer``, ``ts`` and ``channel`` columns (the
        ``touchpoints`` contract).
    conversions
        Ibis table or data frame of conversions, e.g. the ``orders``: ``customer``, a time column
        (``conversion_ts``; default ``order_date`` when present, else ``ts``) and optionally a
        value column (``value``; default ``amount`` when present).
    window
        A conversion within this time after a journey's last touch is the journey's conversion
        (``timedelta`` or seconds, inclusive).
    inactivity
        A gap of more than this between two touches starts a new journey (ignored with
        ``journey``).
    journey
        Name of a journey id column of the touchpoints to group touches by (e.g.
        ``"journey_id"``), instead of cutting journeys at conversions and gaps; touches without
        an id are left out.
    collapse_repeats
        Collapse runs of the same channel (``a > a > b`` becomes ``a > b``; the last touch of
        a run stays, so the journey's end and its conversion do not change).
    max_touches
        Keep only the last ``max_touches`` touches of each journey.
    separator
        Between channels in the path text.
    backend
        The Ibis backend the expression will run on, when not the tables' own (data frames run
        elsewhere); it decides how the path text is ordered.
    """
    tp = _as_table(touchpoints)
    cv = _as_table(conversions)
    _need(tp, [customer, ts, channel] + ([journey] if journey else []), "touchpoints")
    if conversion_ts is None:
        conversion_ts = "order_date" if "order_date" in cv.columns else ts
    if value is None and "amount" in cv.columns:
        value = "amount"
    _need(cv, [customer, conversion_ts] + ([value] if value else []), "conversions")
    if max_touches is not None and max_touches < 1:
        raise DataError(f"max_touches must be at least 1, not {max_touches}")
    win = ibis.interval(seconds=_seconds(window))
    gap = ibis.interval(seconds=_seconds(inactivity))

    touch = tp.filter(tp[channel].notnull()).select(
        cust=tp[customer].cast("string"),
        ts=tp[ts].cast("timestamp"),
        channel=tp[channel].cast("string"),
        **({"jid": tp[journey].cast("string")} if journey else {}),
    )
    conv = cv.select(
        cust=cv[customer].cast("string"),
        cts=cv[conversion_ts].cast("timestamp"),
        cval=(cv[value].cast("float64") if value else ibis.literal(0.0)).fill_null(0.0),
    )

    if journey:  # touches without a journey id belong to no journey
        touch = touch.filter(touch.jid.notnull()).mutate(jkey=touch.jid)
    else:
        # one stream of touches (kind 0) and conversions (kind 1) per customer; a touch at the
        # same instant as a conversion sorts before it. ``epoch`` = conversions before a touch.
        events = touch.select("cust", "ts", "channel", kind=ibis.literal(0, "int64")).union(
            conv.select(
                "cust", ts=conv.cts, channel=ibis.null("string"), kind=ibis.literal(1, "int64")
            )
        )
        w_ev = ibis.window(group_by="cust", order_by=["ts", "kind", "channel"])
        events = events.mutate(epoch=events.kind.cumsum().over(w_ev) - events.kind)
        touch = events.filter(events.kind == 0).drop("kind")
        w_t = ibis.window(group_by="cust", order_by=["ts", "channel"])
        prev_ts = touch.ts.lag().over(w_t)
        prev_epoch = touch.epoch.lag().over(w_t)
        new = prev_ts.isnull() | (prev_epoch != touch.epoch) | (touch.ts - prev_ts > gap)
        touch = touch.mutate(new=ibis.ifelse(new, 1, 0))  # PostgreSQL casts no bool to bigint
        touch = touch.mutate(jkey=touch.new.cumsum().over(w_t).cast("string")).drop("new")

    # window values are named columns before they are filtered on (PostgreSQL's compiler needs it)
    w_j = ibis.window(group_by=["cust", "jkey"], order_by=["ts", "channel"])
    if collapse_repeats:  # keep the last touch of each run, so the journey's end stays put
        touch = touch.mutate(nxt=touch.channel.lead().over(w_j))
        touch = touch.filter(touch.nxt.isnull() | (touch.nxt != touch.channel)).drop("nxt")
    if max_touches is not None:
        w_back = ibis.window(
            group_by=["cust", "jkey"], order_by=[ibis.desc("ts"), ibis.desc("channel")]
        )
        touch = touch.mutate(back=ibis.row_number().over(w_back))
        touch = touch.filter(touch.back < max_touches).drop("back")

    agg: dict[str, Any] = {
        "path": _ordered_path(touch, separator, _ordered_aggregates((tp, cv), backend)),
        "last_ts": touch.ts.max(),
    }
    if not journey:
        agg["epoch"] = touch.epoch.max()
    journeys = touch.group_by(["cust", "jkey"]).aggregate(**agg)

    if journey:
        hits = journeys.join(
            conv,
            (journeys.cust == conv.cust)
            & (conv.cts >= journeys.last_ts)
            & (conv.cts <= journeys.last_ts + win),
        )
        first = hits.group_by(["cust", "jkey"]).aggregate(cval=hits.cval.argmin(hits.cts))
        done = journeys.left_join(first, ["cust", "jkey"]).select(
            "path", converted=first.cval.notnull(), cval=first.cval
        )
    else:
        # the conversion that ends epoch e is the customer's (e+1)-th; only the last journey of
        # an epoch can reach it
        ranked = conv.mutate(
            epoch=ibis.row_number().over(ibis.window(group_by="cust", order_by="cts"))
        )
        w_e = ibis.window(group_by=["cust", "epoch"])
        journeys = journeys.mutate(is_last=journeys.last_ts == journeys.last_ts.max().over(w_e))
        j = journeys.left_join(ranked, ["cust", "epoch"])
        hit = j.cts.notnull() & j.is_last & (j.cts >= j.last_ts) & (j.cts <= j.last_ts + win)
        done = j.select("path", converted=hit, cval=ibis.ifelse(hit, j.cval, ibis.null("float64")))

    conv_i = ibis.ifelse(done.converted, 1, 0)
    return (
        done.group_by("path")
        .aggregate(
            conversions=conv_i.sum(),
            value=done.cval.sum().fill_null(0.0),
            nulls=(1 - conv_i).sum(),
        )
        .order_by("path")
    )


def build_paths(
    touchpoints: Any,
    conversions: Any,
    *,
    backend: Any = None,
    **options: Any,
) -> pd.DataFrame:
    """Compressed paths (``path, conversions, value, nulls``) from touchpoints and conversions.

    Parameters
    ----------
    touchpoints, conversions
        Ibis tables (on any backend) or data frames; see :func:`paths_expr` for the columns and
        for ``options`` (``window``, ``inactivity``, ``journey``, ``collapse_repeats``,
        ``max_touches``, column names).
    backend
        Ibis backend to run the expression on (default: the tables' own backend, DuckDB for
        data frames).

    Returns
    -------
    pandas.DataFrame
        One row per distinct path, sorted by path.

    Examples
    --------
    >>> from streamwise.data.sample import generate                     # doctest: +SKIP
    >>> biz = generate(n_customers=2_000, seed=1, bad_share=0)          # doctest: +SKIP
    >>> paths = build_paths(biz.tables["touchpoints"], biz.tables["orders"])  # doctest: +SKIP
    """
    expr = paths_expr(touchpoints, conversions, backend=backend, **options)
    out = backend.execute(expr) if backend is not None else expr.execute()
    out = out.astype({"conversions": "int64", "nulls": "int64", "value": "float64"})
    return out.reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class ParsedPaths:
    """Compressed paths as flat integer arrays, the input of the models.

    Attributes
    ----------
    channels
        Channel names, sorted; ``codes`` index into them.
    codes
        The channels of all paths one after another (int32).
    offsets
        Path ``i`` is ``codes[offsets[i]:offsets[i+1]]`` (length ``n_paths + 1``).
    conversions, value, nulls
        Per path (float64).
    """

    channels: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    value: np.ndarray
    nulls: np.ndarray

    @cached_property
    def lengths(self) -> np.ndarray:
        """Number of touches per path."""
        return np.diff(self.offsets)

    @cached_property
    def path_index(self) -> np.ndarray:
        """The path of each entry of ``codes``."""
        return np.repeat(np.arange(len(self.offsets) - 1), self.lengths)

    @cached_property
    def position(self) -> np.ndarray:
        """Position of each entry of ``codes`` within its path (0 = first touch)."""
        return np.arange(len(self.codes)) - np.repeat(self.offsets[:-1], self.lengths)


def _column(paths: pd.DataFrame, name: str, required: bool) -> np.ndarray:
    if name in paths.columns:
        col = pd.to_numeric(paths[name], errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(col).any() or (col < 0).any():
            raise DataError(
                f"the paths' {name!r} must be non-negative numbers; fix or drop those rows",
                column=name,
            )
        return col
    if required:
        raise DataError(
            f"the paths have no column {name!r}; their columns are: {', '.join(paths.columns)}; "
            "build them with build_paths or rename the column",
            column=name,
        )
    return np.zeros(len(paths))


def parse_paths(
    paths: pd.DataFrame | ParsedPaths,
    *,
    path: str = "path",
    conversions: str = "conversions",
    value: str = "value",
    nulls: str = "nulls",
    sep: str = ">",
) -> ParsedPaths:
    """Split the path text into channel codes, vectorised (Arrow), for the models.

    Channel names are stripped of surrounding white space; empty paths are dropped.
    """
    if isinstance(paths, ParsedPaths):
        return paths
    if not isinstance(paths, pd.DataFrame):
        raise DataError("paths must be a pandas DataFrame with path, conversions and nulls")
    if path not in paths.columns:
        raise DataError(
            f"the paths have no column {path!r}; their columns are: {', '.join(paths.columns)}",
            column=path,
        )
    conv = _column(paths, conversions, True)
    val = _column(paths, value, False)
    nul = _column(paths, nulls, False)
    text = pa.array(paths[path].to_numpy(dtype=object), type=pa.large_string())
    lists = pc.split_pattern(text.fill_null(""), sep)
    flat = pc.utf8_trim_whitespace(lists.flatten())
    offsets = lists.offsets.to_numpy().astype(np.int64)
    keep_item = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
    if not keep_item.all():  # empty items ("a >> b", "") are dropped
        item_path = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        counts = np.bincount(item_path[keep_item], minlength=len(offsets) - 1)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        flat = flat.filter(pa.array(keep_item))
    enc = (
        pc.dictionary_encode(flat).combine_chunks()
        if isinstance(flat, pa.ChunkedArray)
        else pc.dictionary_encode(flat)
    )
    names = enc.dictionary.to_pylist()
    order = np.argsort(np.array(names, dtype=object)) if names else np.zeros(0, np.int64)
    rank = np.empty(len(names), dtype=np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    codes = rank[enc.indices.to_numpy(zero_copy_only=False)] if names else np.zeros(0, np.int32)
    lengths = np.diff(offsets)
    keep = lengths > 0
    if not keep.all():
        offsets = np.concatenate([[0], np.cumsum(lengths[keep])])
        conv, val, nul = conv[keep], val[keep], nul[keep]
    return ParsedPaths(
        channels=tuple(names[i] for i in order),
        codes=np.ascontiguousarray(codes, dtype=np.int32),
        offsets=offsets.astype(np.int64),
        conversions=conv,
        value=val,
        nulls=nul,
    )
