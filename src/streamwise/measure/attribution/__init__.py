"""Multi-touch attribution: paths from touchpoints, heuristic rules, Markov chains, Shapley values.

- :mod:`~streamwise.measure.attribution.paths` builds compressed paths (``path, conversions,
  value, nulls``) from touchpoints and conversions as one Ibis expression;
- :mod:`~streamwise.measure.attribution.heuristic`: first, last, linear, position, time decay;
- :mod:`~streamwise.measure.attribution.markov`: Markov chains of order 1-3 with exact removal
  effects (Anderl et al. 2016);
- :mod:`~streamwise.measure.attribution.shapley`: exact Shapley values (Zhao et al. 2018);
- :mod:`~streamwise.measure.attribution.registry`: the models by name, ``from_config(dict)``.

Examples
--------
>>> import pandas as pd
>>> from streamwise.measure.attribution import markov_removal_effects, shapley_values, heuristic
>>> paths = pd.DataFrame(
...     {"path": ["a > b", "b"], "conversions": [1, 1], "nulls": [1, 3], "value": [10.0, 5.0]}
... )
>>> sorted(markov_removal_effects(paths, order=1))
['a', 'b']
"""

from streamwise.measure.attribution.heuristic import (
    HEURISTICS,
    HeuristicResult,
    heuristic,
    touch_weights,
)
from streamwise.measure.attribution.markov import (
    MarkovChain,
    MarkovResult,
    markov_chain,
    markov_model,
    markov_removal_effects,
)
from streamwise.measure.attribution.paths import (
    PATH_COLUMNS,
    ParsedPaths,
    build_paths,
    parse_paths,
    paths_expr,
)
from streamwise.measure.attribution.registry import MODELS, from_config, register
from streamwise.measure.attribution.shapley import ShapleyResult, coalition_values, shapley_values

__all__ = [
    "HEURISTICS",
    "MODELS",
    "PATH_COLUMNS",
    "HeuristicResult",
    "MarkovChain",
    "MarkovResult",
    "ParsedPaths",
    "ShapleyResult",
    "build_paths",
    "coalition_values",
    "from_config",
    "heuristic",
    "markov_chain",
    "markov_model",
    "markov_removal_effects",
    "parse_paths",
    "paths_expr",
    "register",
    "shapley_values",
    "touch_weights",
]
