"""Ready-made journeys shipped in the package (YAML files under ``templates/``): welcome series,
post-purchase cross-sell, win-back and cart abandonment. Copy one with
``streamwise journey templates --write DIR``, edit its sender and tracking URL, create it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from streamwise.downstream.journeys.definition import JourneyDefinition
from streamwise.downstream.journeys.load import load_journey
from streamwise.errors import ConfigError

__all__ = [
    "TEMPLATE_NAMES",
    "Template",
    "describe_trigger",
    "load_template",
    "template_text",
    "templates",
    "write",
]

#: The shipped templates, in the order they are listed.
TEMPLATE_NAMES = ("welcome", "post_purchase", "win_back", "cart_abandonment")


@dataclass(frozen=True)
class Template:
    """A shipped journey: its name, description, trigger in words and YAML text."""

    name: str
    description: str
    trigger: str
    text: str


def template_text(name: str) -> str:
    """The YAML of the template ``name``.

    Raises
    ------
    ConfigError
        When there is no such template (the message lists them).
    """
    if name not in TEMPLATE_NAMES:
        raise ConfigError(f"no journey template {name!r}; templates: {', '.join(TEMPLATE_NAMES)}")
    folder = resources.files("streamwise.downstream.journeys") / "templates"
    return (folder / f"{name}.yaml").read_text(encoding="utf-8")


def load_template(name: str) -> JourneyDefinition:
    """The template ``name``, checked."""
    return load_journey(template_text(name), f"template {name}")


def describe_trigger(d: JourneyDefinition) -> str:
    """The journey's trigger in a few words (``event 'Signed Up'``, ``state: clv > 500``)."""
    t = d.trigger
    if t.kind == "event":
        where = f" where {t.where}" if t.where else ""
        return f"event {t.event!r}{where}"
    if t.kind == "email":
        return f"e-mail {t.email}"
    if t.kind == "changes":
        return f"{t.changes} changes"
    return f"state: {t.filter}"


def templates() -> list[Template]:
    """Every shipped template."""
    out = []
    for name in TEMPLATE_NAMES:
        d = load_template(name)
        out.append(Template(name, d.description, describe_trigger(d), template_text(name)))
    return out


def write(folder: Path) -> list[Path]:
    """Write every template to ``folder`` as ``NAME.yaml`` (existing files are kept).

    Raises
    ------
    ConfigError
        When a file of that name exists already.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.yaml" for name in TEMPLATE_NAMES]
    taken = [str(p) for p in paths if p.exists()]
    if taken:
        raise ConfigError(f"{', '.join(taken)} exist(s) already; choose another folder")
    for name, path in zip(TEMPLATE_NAMES, paths, strict=True):
        path.write_text(template_text(name), encoding="utf-8")
    return paths
