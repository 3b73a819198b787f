"""What identifies a hand-off run: its settings and a fingerprint of the data it reads.

A run's id is a digest of both, so the same data and settings give the same id whichever process
computes it, and ``streamwise sales leads`` can return the stored run instead of fitting again.
The fingerprint is exact and independent of the engine's threads: row counts, the latest date of
each input and integer checksums (amounts and CLV in cents, cluster numbers), each one aggregate
over its table. It does not see an edit that keeps every count, date and checksum; pass
``refit=True`` after such an edit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from streamwise import __version__
from streamwise.downstream.sales.features import has_table

__all__ = ["data_fingerprint", "run_digest"]


def _cents(value: Any) -> Any:
    return (value.cast("float64") * 100).round().cast("int64").sum()


def data_fingerprint(backend: Any) -> dict[str, Any]:
    """Counts, latest dates and integer checksums of the tables the hand-off reads."""
    specs: dict[str, Any] = {
        "orders": lambda t: {"n": t.count(), "last": t.order_date.max().cast("string"),
                             "cents": _cents(t.amount)},
        "customers": lambda t: {"n": t.count(), "last": t.signup_date.max().cast("string")},
        "events": lambda t: {"n": t.count(), "last": t.timestamp.max().cast("string")},
        "touchpoints": lambda t: {"n": t.count(), "last": t.ts.max().cast("string")},
        "customer_clv": lambda t: {"n": t.count(), "cents": _cents(t.clv)},
        "customer_segments": lambda t: {"n": t.count(), "sum": t.segment.cast("int64").sum()},
    }  # fmt: skip
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if not has_table(backend, name):
            out[name] = None
            continue
        row = backend.table(name).aggregate(**spec(backend.table(name))).execute().iloc[0]
        out[name] = {k: (None if v is None or v != v else str(v)) for k, v in row.items()}
    if has_table(backend, "segment_clusters"):
        named = backend.table("segment_clusters").select("cluster", "segment").execute()
        out["segment_clusters"] = sorted(f"{c}={s}" for c, s in named.itertuples(index=False))
    return out


def run_digest(settings: Mapping[str, Any], fingerprint: Mapping[str, Any]) -> str:
    """The run id: 16 hex digits of SHA-256 over the settings, the data and this version."""
    content = {"version": __version__, "settings": settings, "data": fingerprint}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
