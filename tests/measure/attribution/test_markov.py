"""Markov chain attribution: a 3-channel example solved by hand, independent Monte Carlo random
walks for orders 1-3, and properties of the exact solution."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import DataError, ModelError
from streamwise.measure.attribution import markov_chain, markov_model, markov_removal_effects

# a loop c -> a -> b -> c makes the chain more than a tree
PATHS = pd.DataFrame(
    {
        "path": ["a > b > c", "a", "b > c", "c > a"],
        "conversions": [5, 3, 2, 1],
        "value": [50.0, 30.0, 20.0, 10.0],
        "nulls": [10, 4, 6, 7],
    }
)


def test_order_1_solved_by_hand() -> None:
    # Transition counts (38 journeys): start->a 22, start->b 8, start->c 8; a->b 15, a->conv 4,
    # a->null 11 (30); b->c 23; c->conv 7, c->null 16, c->a 8 (31).
    # Conversion probabilities from each state:
    #   x_a = 15/30 x_b + 4/30,  x_b = x_c,  x_c = 7/31 + 8/31 x_a
    #   => x_c = 121/405, x_a = 229/810, P = (22 x_a + 16 x_c) / 38 = 11/38.
    # Remove a (x_a = 0): x_b = x_c = 7/31, P = 16 * 7/31 / 38.
    # Remove b (x_b = 0): x_a = 4/30, x_c = 7/31 + 8/31 * 4/30, P = (22 x_a + 8 x_c) / 38.
    # Remove c (x_b = x_c = 0): x_a = 4/30, P = 22 * 4/30 / 38.
    p = 11 / 38
    without = {
        "a": 16 * 7 / 31 / 38,
        "b": (22 * 4 / 30 + 8 * (7 / 31 + 8 / 31 * 4 / 30)) / 38,
        "c": 22 * 4 / 30 / 38,
    }
    expected = {c: 1 - w / p for c, w in without.items()}
    assert markov_removal_effects(PATHS, order=1) == pytest.approx(expected, abs=1e-12)
    res = markov_model(PATHS, order=1)
    assert res.p_conversion == pytest.approx(p)
    total = sum(expected.values())
    assert res.conversions == pytest.approx(tuple(11 * expected[c] / total for c in "abc"))


def _reference_chain(paths: pd.DataFrame, order: int) -> tuple[list, dict, dict]:
    """ChannelAttribution's order-k states, counted with plain Python dicts."""
    counts: dict = defaultdict(lambda: defaultdict(float))
    for path, conv, null in zip(paths.path, paths.conversions, paths.nulls, strict=True):
        ch = [c.strip() for c in path.split(">")]
        states = [tuple(ch[i : i + order]) for i in range(max(len(ch) - order + 1, 1))]
        seq = ["start"]
        for s in states:  # repeats in a row are self-loops: dropped
            if s != seq[-1]:
                seq.append(s)
        for f, t in pairwise(seq):
            counts[f][t] += conv + null
        counts[seq[-1]]["conv"] += conv
        counts[seq[-1]]["null"] += null
    names = ["start", *sorted(k for k in counts if k != "start"), "conv", "null"]
    return names, counts, {n: i for i, n in enumerate(names)}


def _monte_carlo(paths: pd.DataFrame, order: int, walks: int, seed: int) -> dict[str, float]:
    """Removal effects as ChannelAttribution defines them, by simulating random walks: the share
    of converting walks that visit a state containing the channel."""
    names, counts, index = _reference_chain(paths, order)
    n = len(names)
    prob = np.zeros((n, n))
    for f, row in counts.items():
        tot = sum(row.values())
        for t, c in row.items():
            prob[index[f], index[t]] = c / tot
    conv, null = index["conv"], index["null"]
    prob[conv, conv] = prob[null, null] = 1.0
    cum = np.cumsum(prob, axis=1)
    rng = np.random.default_rng(seed)
    channels = sorted({c.strip() for p in paths.path for c in p.split(">")})
    member = np.zeros((n, len(channels)), dtype=bool)
    for name, i in index.items():
        if isinstance(name, tuple):
            for c in name:
                member[i, channels.index(c)] = True
    state = np.zeros(walks, dtype=np.int64)
    seen = np.zeros((walks, len(channels)), dtype=bool)
    live = np.arange(walks)
    while live.size:  # step the walks that are not absorbed yet
        u = rng.random(live.size)[:, None]
        s = np.minimum((u > cum[state[live]]).sum(axis=1), n - 1)
        state[live] = s
        seen[live] |= member[s]
        live = live[(s != conv) & (s != null)]
    converted = state == conv
    return {c: float(seen[converted, j].mean()) for j, c in enumerate(channels)}


@pytest.mark.parametrize("order", [1, 2, 3])
def test_exact_removal_effects_match_independent_random_walks(order: int) -> None:
    paths = pd.concat(
        [
            PATHS,
            pd.DataFrame(
                {
                    "path": ["b > a > b > a", "c > c > b", "a > c > b > a > c"],
                    "conversions": [4, 2, 3],
                    "value": [1.0, 2.0, 3.0],
                    "nulls": [3, 9, 2],
                }
            ),
        ],
        ignore_index=True,
    )
    simulated = _monte_carlo(paths, order, walks=200_000, seed=order)
    exact = markov_removal_effects(paths, order=order)
    # binomial standard error of a share of ~60k converting walks is below 0.002
    assert exact == pytest.approx(simulated, abs=0.01)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_conversion_probability_equals_the_observed_rate(order: int) -> None:
    # a chain fitted to complete journeys conserves flow, so P(conversion) from the start
    # state is the observed share of converting journeys, at every order
    res = markov_model(PATHS, order=order)
    assert res.p_conversion == pytest.approx(11 / 38)
    assert sum(res.conversions) == pytest.approx(11)
    assert sum(res.value) == pytest.approx(110)


def test_higher_order_states_are_sliding_windows() -> None:
    chain = markov_chain(PATHS, order=2)
    names = chain.state_names()
    assert names[0] == "(start)"
    assert names[-2:] == ["(conversion)", "(null)"]
    # a > b > c gives (a b), (b c); a short path is one state
    assert {"a > b", "b > c", "a", "c > a"} == set(names[1:-2])
    tm = chain.transition_matrix()
    assert set(tm.columns) == {"from", "to", "probability"}
    sums = tm.groupby("from").probability.sum()
    assert np.allclose(sums, 1.0)


def test_result_forms_and_errors() -> None:
    res = markov_model(PATHS, order=1)
    frame = res.to_frame()
    assert list(frame.channel) == ["a", "b", "c"]
    assert res.to_dict()["channels"]["c"]["removal_effect"] == pytest.approx(11 / 15)
    with pytest.raises(ModelError, match="order must be 1, 2 or 3"):
        markov_model(PATHS, order=4)
    with pytest.raises(ModelError, match="no conversions"):
        markov_model(PATHS.assign(conversions=0))
    with pytest.raises(DataError, match="nulls"):
        markov_removal_effects(PATHS.drop(columns="nulls"))
