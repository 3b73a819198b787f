"""Winner decisions for campaign A/B tests."""

from __future__ import annotations

import pytest

from streamwise.measure.experiments import (
    Guardrail,
    MeanStat,
    ProportionStat,
    WinnerDecision,
    decide_winner,
)

P = ProportionStat


def test_clear_winner():
    d = decide_winner({"A": P(10_000, 1_000), "B": P(10_000, 1_200)})
    assert isinstance(d, WinnerDecision)
    assert d.status == "winner"
    assert d.winner == "B"
    assert d.chosen == "B"
    assert d.control == "A"
    assert d.results["B"].chance_to_win > 0.95
    assert any("'B' wins" in r for r in d.reasons)


def test_inconclusive_falls_back_to_control_or_the_given_arm():
    arms = {"A": P(1_000, 100), "B": P(1_000, 105)}
    d = decide_winner(arms)
    assert d.status == "inconclusive"
    assert d.winner is None
    assert d.fallback == "A"
    assert d.chosen == "A"
    assert 0.05 < d.results["B"].chance_to_win < 0.95
    assert any("no variant is a clear winner" in r for r in d.reasons)
    d2 = decide_winner(arms, fallback="B")
    assert d2.status == "inconclusive"
    assert d2.chosen == "B"


def test_guardrail_fails_even_when_the_primary_metric_wins():
    arms = {"A": P(10_000, 1_000), "B": P(10_000, 1_200)}
    unsub = Guardrail({"A": P(10_000, 20), "B": P(10_000, 80)}, harmful="increase",
                      tolerance=0.10)  # fmt: skip
    d = decide_winner(arms, guardrails={"unsubscribe rate": unsub})
    assert d.results["B"].chance_to_win > 0.95  # the primary metric alone would pick B
    assert d.status == "guardrail_failed"
    assert d.winner is None
    assert d.chosen == "A"
    assert "B" in d.guardrail_results["unsubscribe rate"]
    assert any("unsubscribe rate" in r and "rose" in r for r in d.reasons)


def test_guardrail_within_tolerance_passes_and_next_candidate_can_win():
    arms = {"A": P(10_000, 1_000), "B": P(10_000, 1_300), "C": P(10_000, 1_200)}
    unsub = Guardrail({"A": P(10_000, 20), "B": P(10_000, 80), "C": P(10_000, 21)},
                      tolerance=0.10)  # fmt: skip
    d = decide_winner(arms, guardrails={"unsubscribes": unsub})
    assert d.status == "winner"
    assert d.winner == "C"  # B has the larger lift but fails the guardrail
    assert set(d.guardrail_results["unsubscribes"]) == {"B", "C"}
    # a guardrail where falling is harmful (revenue per recipient)
    revenue = Guardrail(
        {"A": MeanStat(10_000, 50_000.0, 2_600_000.0), "B": MeanStat(10_000, 40_000.0,
         1_800_000.0), "C": MeanStat(10_000, 50_500.0, 2_650_000.0)},
        harmful="decrease",
    )  # fmt: skip
    d2 = decide_winner(arms, guardrails={"revenue": revenue})
    assert d2.winner == "C"
    assert any("revenue" in r and "fell" in r for r in d2.reasons)


def test_insufficient_data():
    d = decide_winner({"A": P(5_000, 500), "B": P(60, 30)}, min_sample=100)
    assert d.status == "insufficient_data"
    assert d.winner is None
    assert d.chosen == "A"
    assert any("'B' has 60 units" in r for r in d.reasons)
    assert d.results == {}
    # a guardrail arm below the minimum counts too
    g = Guardrail({"A": P(5_000, 10), "B": P(50, 0)})
    d2 = decide_winner({"A": P(5_000, 500), "B": P(5_000, 700)}, guardrails={"g": g})
    assert d2.status == "insufficient_data"


def test_frequentist_method_with_holm_correction():
    arms = {"A": P(10_000, 1_000), "B": P(10_000, 1_200), "C": P(10_000, 1_010)}
    d = decide_winner(arms, method="frequentist")
    assert d.status == "winner"
    assert d.winner == "B"
    assert d.results["B"].correction == "holm"
    assert d.results["C"].adjusted_p_value >= d.results["C"].p_value
    seq = decide_winner(arms, method="sequential")
    assert seq.method == "sequential"
    assert seq.winner == "B"


def test_control_wins_when_every_variant_is_worse():
    d = decide_winner({"A": P(10_000, 1_200), "B": P(10_000, 1_000), "C": P(10_000, 950)})
    assert d.status == "winner"
    assert d.winner == "A"


def test_inverse_primary_metric_prefers_lower_values():
    cost = {"A": MeanStat(2_000, 20_000.0, 260_000.0), "B": MeanStat(2_000, 16_000.0,
            170_000.0)}  # fmt: skip
    assert decide_winner(cost, inverse=True).winner == "B"
    assert decide_winner(cost).winner == "A"


def test_decision_serialises():
    d = decide_winner({"A": P(10_000, 1_000), "B": P(10_000, 1_200)})
    data = d.to_dict()
    assert data["chosen"] == "B"
    assert data["results"]["B"]["method"] == "bayesian"
    frame = d.to_frame()
    assert list(frame["arm"]) == ["B"]
    assert frame.loc[0, "metric"] == "primary"


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"control": "Z"}, "control 'Z' is not one of the arms"),
        ({"fallback": "Z"}, "fallback 'Z'"),
        ({"threshold": 0.3}, "threshold"),
        ({"method": "bayes"}, "method must be"),
        ({"min_sample": -1}, "min_sample"),
        ({"guardrails": {"g": Guardrail({"A": P(500, 5)})}}, "no statistics for arm"),
    ],
)
def test_bad_arguments(kwargs, phrase):
    with pytest.raises(ValueError, match=phrase):
        decide_winner({"A": P(500, 50), "B": P(500, 60)}, **kwargs)
    with pytest.raises(ValueError, match="at least two arms"):
        decide_winner({"A": P(500, 50)})
    with pytest.raises(ValueError, match="harmful"):
        Guardrail({"A": P(500, 5)}, harmful="up")  # type: ignore[arg-type]


def test_guardrail_without_an_estimate_fails_only_when_observed_harm():
    arms = {"A": P(10_000, 1_000), "B": P(10_000, 1_200)}
    # no unsubscribes in the control: the relative change cannot be estimated
    bad = Guardrail({"A": P(10_000, 0), "B": P(10_000, 40)}, tolerance=0.10)
    d = decide_winner(arms, guardrails={"unsubscribes": bad})
    assert d.status == "guardrail_failed"
    assert not d.guardrail_results["unsubscribes"]["B"].ok
    assert any("could not be estimated" in r for r in d.reasons)
    # no unsubscribes anywhere: nothing points to harm, the winner stands and the reason is listed
    none = Guardrail({"A": P(10_000, 0), "B": P(10_000, 0)}, tolerance=0.10)
    d2 = decide_winner(arms, guardrails={"unsubscribes": none})
    assert d2.status == "winner"
    assert d2.winner == "B"
    assert any("could not be checked" in r for r in d2.reasons)
