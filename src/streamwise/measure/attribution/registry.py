"""Attribution models by name, built from config (``{"name": "markov", "order": 2}``).

Each model stores its parameters, and ``attribute(paths)`` returns the model's result (every
result has ``to_frame()`` and ``to_dict()``). Register a new model with :func:`register`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol

import pandas as pd

from streamwise.errors import ConfigError
from streamwise.measure.attribution.heuristic import HeuristicResult, heuristic
from streamwise.measure.attribution.markov import MarkovResult, markov_model
from streamwise.measure.attribution.paths import ParsedPaths
from streamwise.measure.attribution.shapley import ShapleyResult, shapley_values

__all__ = [
    "MODELS",
    "AttributionModel",
    "FirstTouch",
    "LastTouch",
    "LinearTouch",
    "MarkovModel",
    "PositionBased",
    "ShapleyModel",
    "TimeDecay",
    "from_config",
    "register",
]

Paths = pd.DataFrame | ParsedPaths


class AttributionModel(Protocol):
    """What every attribution model offers."""

    name: ClassVar[str]

    def attribute(self, paths: Paths) -> Any:
        """Attribute the conversions and value of compressed paths to channels."""
        ...


MODELS: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make a model buildable by its ``name``."""
    MODELS[cls.name] = cls
    return cls


@register
@dataclass(frozen=True)
class FirstTouch:
    """All credit to the first touch."""

    name: ClassVar[str] = "first"

    def attribute(self, paths: Paths) -> HeuristicResult:
        """See :func:`~streamwise.measure.attribution.heuristic.heuristic`."""
        return heuristic(paths, "first")


@register
@dataclass(frozen=True)
class LastTouch:
    """All credit to the last touch."""

    name: ClassVar[str] = "last"

    def attribute(self, paths: Paths) -> HeuristicResult:
        """See :func:`~streamwise.measure.attribution.heuristic.heuristic`."""
        return heuristic(paths, "last")


@register
@dataclass(frozen=True)
class LinearTouch:
    """Equal credit to every touch."""

    name: ClassVar[str] = "linear"

    def attribute(self, paths: Paths) -> HeuristicResult:
        """See :func:`~streamwise.measure.attribution.heuristic.heuristic`."""
        return heuristic(paths, "linear")


@register
@dataclass(frozen=True)
class PositionBased:
    """U-shaped credit: ``first`` and ``last`` shares, the rest to the middle."""

    first: float = 0.4
    last: float = 0.4
    name: ClassVar[str] = "position"

    def attribute(self, paths: Paths) -> HeuristicResult:
        """See :func:`~streamwise.measure.attribution.heuristic.heuristic`."""
        return heuristic(paths, "position", first=self.first, last=self.last)


@register
@dataclass(frozen=True)
class TimeDecay:
    """Credit halving every ``half_life`` touches back from the conversion."""

    half_life: float = 2.0
    name: ClassVar[str] = "time_decay"

    def attribute(self, paths: Paths) -> HeuristicResult:
        """See :func:`~streamwise.measure.attribution.heuristic.heuristic`."""
        return heuristic(paths, "time_decay", half_life=self.half_life)


@register
@dataclass(frozen=True)
class MarkovModel:
    """Markov chain removal effects of order 1 to 3 (exact)."""

    order: int = 1
    name: ClassVar[str] = "markov"

    def attribute(self, paths: Paths) -> MarkovResult:
        """See :func:`~streamwise.measure.attribution.markov.markov_model`."""
        return markov_model(paths, self.order)


@register
@dataclass(frozen=True)
class ShapleyModel:
    """Shapley values over channel coalitions."""

    method: str = "simplified"
    name: ClassVar[str] = "shapley"

    def attribute(self, paths: Paths) -> ShapleyResult:
        """See :func:`~streamwise.measure.attribution.shapley.shapley_values`."""
        return shapley_values(paths, method=self.method)  # type: ignore[arg-type]


def from_config(config: dict[str, Any]) -> AttributionModel:
    """Build a model from ``{"name": ..., **parameters}``.

    Examples
    --------
    >>> from_config({"name": "markov", "order": 2})
    MarkovModel(order=2)
    """
    if "name" not in config:
        raise ConfigError(f"an attribution model config needs a 'name' (one of {sorted(MODELS)})")
    params = {k: v for k, v in config.items() if k != "name"}
    cls = MODELS.get(str(config["name"]))
    if cls is None:
        raise ConfigError(
            f"unknown attribution model {config['name']!r}; use one of {', '.join(sorted(MODELS))}"
        )
    allowed = {f.name for f in fields(cls)}
    extra = sorted(set(params) - allowed)
    if extra:
        raise ConfigError(
            f"attribution model {config['name']!r} takes {sorted(allowed) or 'no parameters'}, "
            f"not {extra}"
        )
    return cls(**params)  # type: ignore[no-any-return]
