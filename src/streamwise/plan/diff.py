"""What changed between two versions of a plan, field by field.

Lists of records are matched by their identifying field (a KPI or goal by ``id``, a target,
score, persona or positioning by ``segment``, a milestone by ``title``) rather than by position, so
inserting a KPI reports one KPI added, not every later KPI changed. Paths name records by that
field: ``kpis[kpi-retained].target``, ``strategy.targets[campers].decision``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from streamwise.plan.document import PlanDocument

__all__ = ["Change", "diff_plans", "format_value", "item_labels"]

#: Fields that identify a record in a list, tried in this order.
KEY_FIELDS = ("id", "segment", "title")
_MISSING = object()


@dataclass(frozen=True)
class Change:
    """One difference: the field ``path``, the ``old`` and ``new`` values.

    ``kind`` is ``"added"`` (``old`` is None), ``"removed"`` (``new`` is None) or ``"changed"``.
    """

    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.path}: added {format_value(self.new)}"
        if self.kind == "removed":
            return f"{self.path}: removed (was {format_value(self.old)})"
        return f"{self.path}: {format_value(self.old)} → {format_value(self.new)}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data: path, kind, old, new."""
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}


def format_value(value: Any, width: int = 80) -> str:
    """A value as people read it: whole floats without ``.0``, long values shortened."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    elif isinstance(value, dict) and any(k in value for k in KEY_FIELDS):
        key = next(k for k in KEY_FIELDS if k in value)
        text = f"{{{key}: {value[key]!r}, …}}"
    else:
        text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def item_labels(items: list[Any]) -> list[str] | None:
    """The identifying value of each record in ``items`` (for paths such as ``kpis[kpi-1]``), or
    None when the items are not records or no key field is present in all and unique."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in KEY_FIELDS:
        values = [item.get(key) for item in items]
        if all(isinstance(v, str) and v for v in values) and len(set(values)) == len(values):
            return [str(v) for v in values]
    return None


def diff_plans(old: PlanDocument, new: PlanDocument) -> list[Change]:
    """The fields that differ between ``old`` and ``new``, in document order.

    Parameters
    ----------
    old, new
        Two versions of a plan (usually consecutive ones of the same plan).

    Returns
    -------
    list[Change]
        One entry per changed leaf value, and one per record or key added or removed (with the
        whole record as its value). Empty when the documents are equal.
    """
    changes: list[Change] = []
    before, after = old.to_dict(), new.to_dict()
    for key, value in after.items():
        if key not in before and isinstance(value, dict):
            # a section new in this version (the first measurement run): list what it adds,
            # field by field and record by record, rather than one opaque "added" value
            before[key] = {k: [] if isinstance(v, list) else _MISSING for k, v in value.items()}
            before[key] = {k: v for k, v in before[key].items() if v is not _MISSING}
    _diff(before, after, "", changes)
    return changes


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            a, b = old.get(key, _MISSING), new.get(key, _MISSING)
            sub = _join(path, str(key))
            if a is _MISSING:
                out.append(Change(sub, "added", None, b))
            elif b is _MISSING:
                out.append(Change(sub, "removed", a, None))
            else:
                _diff(a, b, sub, out)
    elif isinstance(old, list) and isinstance(new, list):
        _diff_list(old, new, path, out)
    elif old != new or type(old) is not type(new):
        out.append(Change(path, "changed", old, new))


def _diff_list(old: list[Any], new: list[Any], path: str, out: list[Change]) -> None:
    old_labels, new_labels = item_labels(old), item_labels(new)
    if not old and new_labels is not None:
        old_labels = []
    if not new and old_labels is not None:
        new_labels = []
    if old_labels is not None and new_labels is not None:
        before = dict(zip(old_labels, old, strict=True))
        after = dict(zip(new_labels, new, strict=True))
        for label in [*old_labels, *(x for x in new_labels if x not in before)]:
            sub = f"{path}[{label}]"
            if label not in after:
                out.append(Change(sub, "removed", before[label], None))
            elif label not in before:
                out.append(Change(sub, "added", None, after[label]))
            else:
                _diff(before[label], after[label], sub, out)
        return
    if not any(isinstance(x, dict | list) for x in [*old, *new]):
        if old != new:  # a list of plain values (goal KPI ids, missing fields): one change
            out.append(Change(path, "changed", old, new))
        return
    for i in range(max(len(old), len(new))):
        sub = f"{path}[{i}]"
        if i >= len(old):
            out.append(Change(sub, "added", None, new[i]))
        elif i >= len(new):
            out.append(Change(sub, "removed", old[i], None))
        else:
            _diff(old[i], new[i], sub, out)
