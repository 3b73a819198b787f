"""Budget optimiser: known optima (closed form and brute force), the equal-split trap of a local
optimiser (pymc-marketing issues #1624, #1681), constraints, risk, comparison and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from streamwise.errors import ConfigError
from streamwise.measure.budget import (
    BudgetAllocation,
    GroupConstraint,
    optimise_budget,
    segment_key,
)
from streamwise.measure.curves import HillCurve


def total_response(curves: dict[str, HillCurve], x: np.ndarray) -> float:
    return float(sum(c.response([xi])[0] for c, xi in zip(curves.values(), x, strict=True)))


def slsqp_from_equal_split(curves: dict[str, HillCurve], total: float) -> np.ndarray:
    """What pymc-marketing's BudgetOptimizer does: SLSQP from the equal split, in spend units."""
    cs = list(curves.values())
    n = len(cs)
    res = optimize.minimize(
        lambda x: -sum(c.response([xi])[0] for c, xi in zip(cs, x, strict=True)),
        np.full(n, total / n),
        jac=lambda x: -np.array([c.marginal([xi])[0] for c, xi in zip(cs, x, strict=True)]),
        method="SLSQP",
        bounds=[(0, total)] * n,
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - total}],
    )
    return np.asarray(res.x)


def brute_force_two(curves: dict[str, HillCurve], total: float, n: int = 200_001) -> float:
    """Best total response over a fine grid of splits between two curves."""
    a, b = curves.values()
    x = np.linspace(0, total, n)
    return float((a.response(x) + b.response(total - x)).max())


def vals(result: BudgetAllocation) -> np.ndarray:
    return np.array(list(result.allocation.values()))


# --- known optima -------------------------------------------------------------------------------


def test_identical_concave_curves_get_an_equal_split() -> None:
    curves = {k: HillCurve(k, 2.0, 3.0, 0.8) for k in ("tv", "search", "social")}
    result = optimise_budget(curves, 9.0)
    np.testing.assert_allclose(vals(result), 3.0, rtol=1e-6)


def test_hill_s1_matches_the_closed_form_of_equal_marginal_returns() -> None:
    # beta K / (x + K)^2 = mu for all i  =>  x_i = s sqrt(beta_i K_i) - K_i,
    # with s = (T + sum K) / sum sqrt(beta K)
    beta, K, total = np.array([3.0, 2.0, 4.0]), np.array([1.0, 2.0, 1.5]), 6.0
    s = (total + K.sum()) / np.sqrt(beta * K).sum()
    expected = s * np.sqrt(beta * K) - K
    assert np.all(expected > 0)
    curves = {f"c{i}": HillCurve(f"c{i}", beta[i], K[i], 1.0) for i in range(3)}
    result = optimise_budget(curves, total)
    np.testing.assert_allclose(vals(result), expected, rtol=1e-5)
    mroi = np.array(list(result.marginal_roi.values()))
    np.testing.assert_allclose(mroi, mroi[0], rtol=1e-4)  # equal marginal returns


def test_s_shaped_curves_trap_slsqp_at_the_equal_split_but_not_us() -> None:
    # Identical S-shaped curves: the equal split satisfies the first-order conditions (equal
    # marginal returns) but is a minimum along the budget line; the best is all in one channel.
    curves = {k: HillCurve(k, 1.0, 1.0, 4.0) for k in ("a", "b")}
    total = 1.2
    slsqp = slsqp_from_equal_split(curves, total)
    np.testing.assert_allclose(slsqp, [0.6, 0.6], atol=1e-6)
    result = optimise_budget(curves, total)
    best = brute_force_two(curves, total)
    assert sorted(vals(result)) == pytest.approx([0.0, 1.2])
    assert result.objective_value == pytest.approx(best, rel=1e-9)
    assert result.objective_value > total_response(curves, slsqp) + 0.4  # 0.675 versus 0.229


def test_spend_in_large_units_stalls_slsqp_after_one_step() -> None:
    # Issue #1624: "the minimize function stops after just one iteration", the gradient being tiny
    # in currency units; the two channels have very different K.
    curves = {
        "tv": HillCurve("tv", 5000.0, 200_000.0, 3.0),
        "search": HillCurve("search", 2000.0, 20_000.0, 1.5),
    }
    total = 120_000.0
    slsqp = slsqp_from_equal_split(curves, total)
    np.testing.assert_allclose(slsqp, [60_000.0, 60_000.0], rtol=1e-6)
    result = optimise_budget(curves, total)
    assert result.objective_value == pytest.approx(brute_force_two(curves, total), rel=1e-7)
    assert result.objective_value > total_response(curves, slsqp) + 50  # 1872.6 versus 1808.7
    assert result.allocation == pytest.approx({"tv": 0.0, "search": total})


def test_three_s_curves_match_a_brute_force_grid() -> None:
    curves = {k: HillCurve(k, 1.0, 1.0, 3.0) for k in ("a", "b", "c")}
    total = 2.4
    g = np.linspace(0, total, 1201)
    a, b, c = curves.values()
    x, y = g[:, None], g[None, :]
    z = total - x - y
    rest = c.response(np.maximum(z, 0).ravel()).reshape(z.shape)
    grid = a.response(g)[:, None] + b.response(g)[None, :] + rest
    best = float(np.where(z >= -1e-12, grid, -np.inf).max())
    result = optimise_budget(curves, total)
    assert result.objective_value >= best - 1e-9
    assert sorted(vals(result)) == pytest.approx([0.0, 1.2, 1.2], abs=1e-6)
    assert total_response(curves, slsqp_from_equal_split(curves, total)) < best - 0.2


# --- constraints --------------------------------------------------------------------------------


def three_channels() -> dict[str, HillCurve]:
    return {
        "tv": HillCurve("tv", 10.0, 2.0, 1.0),
        "search": HillCurve("search", 4.0, 2.0, 1.0),
        "social": HillCurve("social", 3.0, 2.0, 1.0),
    }


def test_upper_bound_is_active_and_reported() -> None:
    result = optimise_budget(three_channels(), 10.0, bounds={"tv": (0.0, 3.0)})
    assert result.allocation["tv"] == pytest.approx(3.0)
    assert sum(result.allocation.values()) == pytest.approx(10.0, rel=1e-9)
    assert any(a.startswith("tv at its upper bound") for a in result.active)
    # the rest split as the two-channel optimum of the remaining budget
    rest = {k: c for k, c in three_channels().items() if k != "tv"}
    alone = optimise_budget(rest, 7.0)
    for k in rest:
        assert result.allocation[k] == pytest.approx(alone.allocation[k], rel=1e-5)


def test_fixed_channel_keeps_its_spend() -> None:
    result = optimise_budget(three_channels(), 10.0, fixed={"search": 4.0})
    assert result.allocation["search"] == 4.0
    assert any(a.startswith("search held at") for a in result.active)
    assert sum(result.allocation.values()) == pytest.approx(10.0, rel=1e-9)


def test_segment_group_maximum_and_channel_minimum_share() -> None:
    curves = {
        segment_key("search", "campers"): HillCurve("search", 10.0, 2.0, 1.0),
        segment_key("search", "families"): HillCurve("search", 8.0, 2.0, 1.0),
        "tv": HillCurve("tv", 2.0, 2.0, 1.0),
        "social": HillCurve("social", 1.0, 2.0, 1.0),
    }
    groups = [
        GroupConstraint("search", high=4.0, name="search cap"),
        GroupConstraint("social", min_share=0.3),
    ]
    result = optimise_budget(curves, 10.0, groups=groups)
    x = result.allocation
    assert x["search/campers"] + x["search/families"] == pytest.approx(4.0)
    assert x["social"] == pytest.approx(3.0)
    assert "group search cap at its maximum 4.00" in result.active
    assert any(a.startswith("social at its lower bound") for a in result.active)
    assert x["search/campers"] > x["search/families"] > 0
    frame = result.to_frame()
    assert list(frame["channel"]) == ["search", "search", "tv", "social"]
    assert list(frame["segment"][:2]) == ["campers", "families"]


def test_crossing_groups_are_respected() -> None:
    curves = {k: HillCurve(k, b, 1.0, 1.0) for k, b in zip("abc", (5.0, 4.0, 1.0), strict=True)}
    groups = [GroupConstraint(("a", "b"), high=3.0), GroupConstraint(("b", "c"), low=4.0)]
    x = optimise_budget(curves, 6.0, groups=groups).allocation
    assert x["a"] + x["b"] <= 3.0 + 1e-6
    assert x["b"] + x["c"] >= 4.0 - 1e-6
    assert sum(x.values()) == pytest.approx(6.0, rel=1e-9)


def test_max_change_keeps_each_channel_near_current() -> None:
    current = {"tv": 1.0, "search": 5.0, "social": 4.0}
    result = optimise_budget(three_channels(), 10.0, current=current, max_change=0.5)
    for k, v in current.items():
        assert v * 0.5 - 1e-9 <= result.allocation[k] <= v * 1.5 + 1e-9
    assert result.allocation["tv"] == pytest.approx(1.5)  # the best curve, capped by max_change
    assert any("max_change" in a for a in result.active)


# --- risk and comparison ------------------------------------------------------------------------


def equal_means_different_spread() -> dict[str, HillCurve]:
    rng = np.random.default_rng(1)

    def beta(sd: float) -> np.ndarray:  # draws with mean exactly 10
        b = np.exp(sd * rng.standard_normal(1000))
        return 10.0 * b / b.mean()

    return {
        "steady": HillCurve("steady", beta(0.05), 2.0, 1.0),
        "risky": HillCurve("risky", beta(0.5), 2.0, 1.0),
    }


def test_risk_adjusted_prefers_the_less_uncertain_curve() -> None:
    curves = equal_means_different_spread()
    mean = optimise_budget(curves, 6.0)
    assert mean.allocation["steady"] == pytest.approx(3.0, rel=1e-4)
    for objective in ("risk_adjusted", "quantile"):
        risky = optimise_budget(curves, 6.0, objective=objective)
        assert risky.allocation["steady"] > 3.5, objective
        x_eq = np.array([3.0, 3.0])
        obj = risky.objective_value
        draws = sum(c.response_draws([v])[:, 0] for c, v in zip(curves.values(), x_eq, strict=True))
        at_equal = (
            draws.mean() - draws.std() if objective == "risk_adjusted" else np.quantile(draws, 0.1)
        )
        assert obj > at_equal


def test_interval_and_probability_of_beating_current() -> None:
    rng = np.random.default_rng(2)
    curves = {
        "tv": HillCurve("tv", rng.gamma(50, 0.2, 1000), rng.lognormal(np.log(2), 0.1, 1000), 1.0),
        "radio": HillCurve("radio", rng.gamma(50, 0.04, 1000), 2.0, 1.0),
    }
    current = {"tv": 0.5, "radio": 9.5}
    result = optimise_budget(curves, 10.0, current=current)
    lo, hi = result.outcome_interval
    assert lo < result.outcome < hi
    assert result.value_interval[0] < result.value < result.value_interval[1]
    assert 0.5 < result.probability_better <= 1.0
    assert result.uplift > 0
    assert result.uplift_interval[0] > 0
    same = optimise_budget(curves, 10.0, current=result.allocation)
    assert 0.0 <= same.probability_better <= 1.0
    assert same.uplift == pytest.approx(0.0, abs=1e-6)


def test_outputs_frame_dict_and_summary() -> None:
    curves = {k: HillCurve(k, c.beta, c.K, c.S, 2.5) for k, c in three_channels().items()}
    result = optimise_budget(curves, 10.0, current={"tv": 2.0, "search": 4.0, "social": 4.0})
    frame = result.to_frame()
    assert list(frame["key"]) == ["tv", "search", "social"]
    assert frame["share"].sum() == pytest.approx(1.0)
    assert {"spend", "roi", "marginal_roi", "current", "change"} <= set(frame.columns)
    assert frame.set_index("channel").loc["tv", "spend"] == result.allocation["tv"]
    summary = result.summary()
    assert summary["value"] == result.value
    assert 0 <= summary["probability_better"] <= 1
    assert "against the current split" in result.describe_uplift()
    assert result.value == pytest.approx(2.5 * result.outcome)
    d = result.to_dict()
    assert d["allocation"] == result.allocation
    assert d["probability_better"] is not None
    text = str(result)
    assert "Budget 10.00" in text
    assert "better in" in text
    assert "tv" in text


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total": -1.0}, "non-negative"),
        ({"bounds": {"tv": (6.0, 10.0), "search": (5.0, 10.0)}}, "more than the total"),
        ({"bounds": dict.fromkeys(("tv", "search", "social"), (0.0, 3.0))}, "less than the total"),
        ({"bounds": {"radio": (0.0, 1.0)}}, "unknown keys ['radio']"),
        ({"groups": [GroupConstraint("print", high=1.0)]}, "matches no curve key"),
        ({"groups": [GroupConstraint(("tv", "search"), low=12.0)]}, "group 'tv+search'"),
        ({"max_change": 0.2}, "max_change needs current"),
        ({"current": {"tv": 1.0}}, "current has no spend"),
        ({"fixed": {"tv": 4.0}, "bounds": {"tv": (0.0, 2.0)}}, "outside its bounds"),
    ],
)
def test_clear_errors(kwargs: dict, message: str) -> None:
    total = kwargs.pop("total", 10.0)
    with pytest.raises(ConfigError) as err:
        optimise_budget(three_channels(), total, **kwargs)
    assert message in str(err.value)


def test_draw_counts_must_match() -> None:
    curves = {
        "a": HillCurve("a", np.ones(10), 1.0, 1.0),
        "b": HillCurve("b", np.ones(20), 1.0, 1.0),
    }
    with pytest.raises(ConfigError, match="different draw counts"):
        optimise_budget(curves, 1.0)


# --- property -----------------------------------------------------------------------------------


def random_feasible(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, total: float):
    u = rng.uniform(lo, hi)
    if u.sum() >= total:  # shrink towards the lower bounds
        return lo + (u - lo) * (total - lo.sum()) / max((u - lo).sum(), 1e-300)
    return hi - (hi - u) * (hi.sum() - total) / max((hi - u).sum(), 1e-300)


curve_params = st.tuples(
    st.floats(0.5, 10.0), st.floats(0.2, 5.0), st.floats(0.5, 4.0), st.floats(0.0, 0.6)
)


@settings(max_examples=25, deadline=None)
@given(
    params=st.lists(curve_params, min_size=2, max_size=4),
    total=st.floats(0.5, 20.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_beats_random_feasible_allocations(params, total, seed) -> None:
    rng = np.random.default_rng(seed)
    keys = [f"k{i}" for i in range(len(params))]
    curves = {k: HillCurve(k, b, K, S) for k, (b, K, S, _) in zip(keys, params, strict=True)}
    hi = np.array([max(cap * total * 2, total / len(keys) * 1.01) for *_, cap in params])
    hi = np.where(np.array([cap for *_, cap in params]) > 0.3, total, hi)
    lo = np.minimum(rng.uniform(0, 0.2, len(keys)) * total / len(keys), hi)
    bounds = {k: (float(a), float(b)) for k, a, b in zip(keys, lo, hi, strict=True)}
    result = optimise_budget(curves, total, bounds=bounds, grid=500)
    x = vals(result)
    assert math.isclose(x.sum(), total, rel_tol=1e-6)
    assert np.all(x >= lo - 1e-9)
    assert np.all(x <= hi + 1e-9)
    best_random = max(
        total_response(curves, random_feasible(rng, lo, hi, total)) for _ in range(200)
    )
    assert result.objective_value >= best_random - 1e-9 * max(1.0, best_random)


def test_unfunded_s_shaped_channel_has_zero_marginal_roi() -> None:
    # Regression: HillCurve used to clamp exp at 700, leaving a spurious slope at zero spend.
    curves = {
        "tv": HillCurve("tv", 5000.0, 200_000.0, 3.0),
        "search": HillCurve("search", 2000.0, 20_000.0, 1.5),
    }
    result = optimise_budget(curves, 120_000.0)
    assert result.marginal_roi["tv"] == 0.0
    assert result.response["tv"] == 0.0


@pytest.mark.parametrize("kind", ["mean", "risk_adjusted"])
def test_objective_gradient_matches_finite_differences(kind: str) -> None:
    from streamwise.measure.budget_solver import ValueObjective

    curves = equal_means_different_spread()
    curves["third"] = HillCurve("third", 3.0, 1.0, 2.0, value_per_unit=2.0)
    obj = ValueObjective(list(curves.values()), kind, risk_aversion=1.5)  # type: ignore[arg-type]
    x = np.array([1.0, 2.5, 0.7])
    h = 1e-6
    numeric = [
        (obj.value(x + h * np.eye(3)[i]) - obj.value(x - h * np.eye(3)[i])) / (2 * h)
        for i in range(3)
    ]
    np.testing.assert_allclose(obj.gradient(x), numeric, rtol=1e-5)


def test_a_curve_steep_at_zero_gets_its_small_optimal_spend() -> None:
    # S < 1 is infinitely steep at zero: the optimum funds it a little (4e-5 here, far below the
    # grid step of 0.02), which the polish finds from a nudged start.
    curves = {
        "a": HillCurve("a", 1.3268, 3.9743, 0.8626),
        "b": HillCurve("b", 9.6689, 4.4095, 2.1663),
    }
    result = optimise_budget(curves, 2.0924, grid=100)
    assert 0 < result.allocation["a"] < 1e-3
    assert result.objective_value >= brute_force_two(curves, 2.0924, n=400_001) - 1e-12
    assert result.marginal_roi["a"] == pytest.approx(result.marginal_roi["b"], rel=1e-3)


def test_docs_examples_run_and_match() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "budget.md").read_text()
    blocks = [b.split("\n", 1)[1] for b in text.split("```")[1::2] if b.startswith("python")]
    assert len(blocks) == 2
    namespace: dict = {}  # the second example reuses the first one's imports
    exec(blocks[0], namespace)
    assert namespace["result"].allocation == pytest.approx({"tv": 0.0, "search": 120_000.0})
    exec(blocks[1], namespace)
    assert namespace["result"].active == (
        "social at its lower bound 3.00 (social)",
        "group search cap at its maximum 4.00",
    )
