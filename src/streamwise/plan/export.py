"""The plan as YAML (to read and edit), JSON (for other programs) or HTML (to share).

YAML keeps the document's key order and writes dates as plain ``2026-03-31``. Reading YAML uses
PyYAML's safe loader (no ``!!python/...`` tags), refuses duplicate keys, and keeps every scalar
that looks like a date a string until the plan schema parses it, so a document survives
``plan_to_yaml`` → ``plan_from_yaml`` exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from streamwise.errors import ConfigError
from streamwise.plan.diff import item_labels
from streamwise.plan.document import PlanDocument

__all__ = ["PlanFormat", "plan_from_yaml", "plan_to_json", "plan_to_yaml", "write_plan"]

PlanFormat = Literal["yaml", "html", "json"]
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _without_timestamps(resolvers: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {k: [(tag, rx) for tag, rx in v if tag != _TIMESTAMP] for k, v in resolvers.items()}


class _Loader(yaml.SafeLoader):
    """The safe loader, without implicit dates; duplicate keys and aliases are refused."""

    yaml_implicit_resolvers = _without_timestamps(yaml.SafeLoader.yaml_implicit_resolvers)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in a plan",
                self.peek_event().start_mark,
            )
        return super().compose_node(parent, index)  # type: ignore[no-any-return]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Dumper(yaml.SafeDumper):
    """The safe dumper; ISO dates (kept as strings) are written without quotes."""

    yaml_implicit_resolvers = _without_timestamps(yaml.SafeDumper.yaml_implicit_resolvers)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # multi-line text as a block, as people write it
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def plan_to_yaml(document: PlanDocument, *, version: int | None = None) -> str:
    """The plan as YAML, keys in document order, with a header comment naming it.

    Parameters
    ----------
    document
        The plan.
    version
        Its version number in the operational database, for the header (optional).
    """
    label = f"{document.name!r}" + (f", version {version}" if version is not None else "")
    header = (
        f"# Marketing plan {label}: {document.company} / {document.brand}, "
        f"{document.start.isoformat()} to {document.end.isoformat()}.\n"
        "# Edit it and save the result as a new version with\n"
        "#   streamwise plan import THIS_FILE --author NAME --note 'what changed'\n"
    )
    body = yaml.dump(
        document.to_dict(),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return header + body


def plan_from_yaml(text: str, *, source: str | None = None) -> PlanDocument:
    """Read and validate a plan from YAML (as written by :func:`plan_to_yaml`).

    Parameters
    ----------
    text
        The YAML.
    source
        Where it came from (a file name), for error messages.

    Raises
    ------
    ConfigError
        When the YAML is malformed or unsafe (the line and column), or the plan is invalid (each
        field at fault, e.g. ``kpis[kpi-retained].target``, and what is wrong with it).
    """
    where = f"{source}: " if source else ""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a yaml.SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}not a readable plan YAML: {_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{where}a plan YAML is a mapping of fields (name, company, goals, kpis, ...), "
            f"not {type(data).__name__}; export one with `streamwise plan export`"
        )
    try:
        return PlanDocument.from_dict(data)
    except ValidationError as exc:
        problems = [f"{_field(data, err['loc'])}: {err['msg']}" for err in exc.errors()]
        more = f"; … {len(problems) - 10} more" if len(problems) > 10 else ""
        shown = "; ".join(problems[:10]) + more
        raise ConfigError(f"{where}invalid plan: {shown}") from None


def plan_to_json(document: PlanDocument) -> str:
    """The plan as indented JSON (the same data as stored in the operational database)."""
    return json.dumps(document.to_dict(), indent=2, ensure_ascii=False) + "\n"


def write_plan(
    document: PlanDocument,
    path: str | Path,
    fmt: PlanFormat = "yaml",
    *,
    version: int | None = None,
) -> Path:
    """Write the plan to ``path`` as YAML, HTML or JSON.

    Parameters
    ----------
    document
        The plan.
    path
        The file to write; its folder is created if missing.
    fmt
        ``"yaml"``, ``"html"`` (a self-contained report) or ``"json"``.
    version
        The version number, shown in the YAML header and the HTML report.

    Returns
    -------
    Path
        The file written.
    """
    if fmt == "yaml":
        text = plan_to_yaml(document, version=version)
    elif fmt == "json":
        text = plan_to_json(document)
    elif fmt == "html":
        from streamwise.reports.plan import plan_html  # the report pulls in charting libraries

        text = plan_html(document, version=version)
    else:
        raise ConfigError(f"unknown plan format {fmt!r}; use yaml, html or json")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return str(problem)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"


def _field(data: Any, loc: tuple[int | str, ...]) -> str:
    """A validation error's location as a path, records named by their id or segment."""
    path = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            labels = item_labels(node) if isinstance(node, list) else None
            path += f"[{labels[part]}]" if labels and part < len(labels) else f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return path or "the plan"
