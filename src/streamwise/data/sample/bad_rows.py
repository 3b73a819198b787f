"""Deliberately invalid rows, added to the sample so that the quarantine has work to do.

Each bad row is an *extra* copy of a real row with one realistic defect (a negative amount, an
unknown customer, a date in the future, a malformed e-mail, ...), given a fresh key so that it
never replaces a real row. The planted truth of the sample is therefore untouched, and the
defects are recorded in :class:`BadRow` objects so tests can check the quarantine catches each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from streamwise.data.sample.sink import TableSink

__all__ = ["BadRow", "BadRowSink"]

FUTURE = datetime(2099, 1, 1, 12, 0, 0)


@dataclass(frozen=True)
class BadRow:
    """One planted defect: the table, the key of the bad row, the column and what is wrong."""

    kind: str
    key: str
    column: str
    defect: str

    def to_dict(self) -> dict[str, str]:
        """Plain dictionary."""
        return asdict(self)


Defect = tuple[str, str, Callable[[pd.DataFrame], None]]


def _set(column: str, value: object) -> Callable[[pd.DataFrame], None]:
    def apply(frame: pd.DataFrame) -> None:
        new = value
        if column in frame:
            kind = frame[column].dtype.kind
            if kind == "M":  # datetime64 columns take timestamps, not dates
                new = pd.Timestamp(value)  # type: ignore[arg-type]
            elif value is not None and kind in "iub":  # room for the bad value
                frame[column] = frame[column].astype("float64")
        frame.loc[:, column] = new

    return apply


def _negate(column: str) -> Callable[[pd.DataFrame], None]:
    def apply(frame: pd.DataFrame) -> None:
        frame.loc[:, column] = -frame[column].abs() - 1.0

    return apply


def _feature_two(frame: pd.DataFrame) -> None:
    frame.loc[:, "kind"] = "feature"
    frame.loc[:, "value"] = 2.0


#: Defects per table: (column, what is wrong, how to make it). Key columns get fresh values first.
DEFECTS: dict[str, list[Defect]] = {
    "customers": [
        ("email", "malformed e-mail", _set("email", "no-at-sign.example.com")),
        ("signup_date", "date in the future", _set("signup_date", FUTURE.date())),
        ("country", "lower-case country", _set("country", "usa")),
    ],
    "orders": [
        ("amount", "negative amount", _negate("amount")),
        ("customer_id", "unknown customer", _set("customer_id", "UNKNOWN-CUSTOMER")),
        ("order_date", "date in the future", _set("order_date", FUTURE)),
        ("currency", "malformed currency", _set("currency", "dollars")),
    ],
    "order_lines": [
        ("order_id", "unknown order", _set("order_id", "UNKNOWN-ORDER")),
        ("product_id", "unknown product", _set("product_id", "UNKNOWN-PRODUCT")),
    ],
    "products": [("price", "negative price", _negate("price"))],
    "events": [
        ("type", "unknown call type", _set("type", "click")),
        ("timestamp", "date in the future", _set("timestamp", FUTURE)),
    ],
    "touchpoints": [
        ("customer_id", "unknown customer", _set("customer_id", "UNKNOWN-CUSTOMER")),
        ("ts", "date in the future", _set("ts", FUTURE)),
    ],
    "spend": [("amount", "negative spend", _negate("amount"))],
    "survey_responses": [
        ("duration_seconds", "negative duration", _set("duration_seconds", -5.0)),
    ],
    "market_series": [("value", "negative demand", _negate("value"))],
    "competitors": [("value", "feature neither 0 nor 1", _feature_two)],
}

#: Which column gets a fresh value so a bad copy never collides with a real row's key.
FRESH_KEY: dict[str, str] = {
    "customers": "customer_id",
    "orders": "order_id",
    "order_lines": "line_number",
    "products": "product_id",
    "events": "message_id",
    "touchpoints": "campaign",
    "spend": "channel",
    "survey_responses": "respondent_id",
    "market_series": "category",
    "competitors": "attribute",
}


class BadRowSink:
    """A sink that adds a share of bad copies to each chunk before passing it on.

    Parameters
    ----------
    inner
        Where the rows go.
    share
        Expected share of bad rows added per table (0 disables).
    seed
        Seed of the choice of rows, defects and positions.
    """

    def __init__(self, inner: TableSink, share: float, seed: int) -> None:
        self.inner = inner
        self.share = share
        self.rng = np.random.default_rng([seed, 0xBAD])
        self.bad_rows: list[BadRow] = []
        self._serial = 0

    def write(self, name: str, frame: pd.DataFrame) -> None:
        defects = DEFECTS.get(name)
        if not defects or self.share <= 0 or frame.empty:
            self.inner.write(name, frame)
            return
        n_bad = int(self.rng.binomial(len(frame), self.share))
        if name in {"products", "spend", "market_series", "competitors"}:
            n_bad = max(n_bad, 1)  # small tables still get one
        if n_bad == 0:
            self.inner.write(name, frame)
            return
        picks = self.rng.integers(0, len(frame), n_bad)
        which = self.rng.integers(0, len(defects), n_bad)
        serials = self._serial + 1 + np.arange(n_bad)
        self._serial += n_bad
        key_col = FRESH_KEY[name]
        copies = frame.iloc[picks].reset_index(drop=True)
        if name == "order_lines":  # an integer key part: a line number no order has
            copies[key_col] = 1_000_000 + serials
        else:
            copies[key_col] = [f"BAD-{name}-{n:07d}" for n in serials]
        copies["_bad_serial"] = serials
        parts = []
        for d, (column, defect, apply) in enumerate(defects):
            part = copies[which == d].copy()
            if part.empty:
                continue
            apply(part)
            if name == "order_lines":
                keys = part["order_id"].astype(str) + "|" + part[key_col].astype(str)
            else:
                keys = part[key_col].astype(str)
            self.bad_rows += [BadRow(name, k, column, defect) for k in keys]
            parts.append(part)
        # Keep the defects in the order they were drawn, whatever the table.
        bad = pd.concat(parts).sort_values("_bad_serial").drop(columns="_bad_serial")
        bad = bad.reset_index(drop=True)
        bad = bad.astype({c: frame[c].dtype for c in frame.columns if c in bad}, errors="ignore")
        # Scatter the bad rows over a few places in the chunk. Writing slices around them
        # avoids copying the chunk (a full reorder costs more than generating it).
        groups = min(n_bad, 16)
        cuts = np.sort(self.rng.integers(0, len(frame) + 1, groups))
        start = 0
        for cut, part in zip(cuts, np.array_split(np.arange(n_bad), groups), strict=True):
            if cut > start:
                self.inner.write(name, frame.iloc[start:cut])
            self.inner.write(name, bad.iloc[part])
            start = int(cut)
        if start < len(frame):
            self.inner.write(name, frame.iloc[start:])

    def close(self) -> None:
        self.inner.close()
