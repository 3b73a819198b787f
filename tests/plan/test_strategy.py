"""Attractiveness, sensitivity and targeting on hand-made profiles with known numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import ConfigError
from streamwise.plan.personas import build_personas
from streamwise.plan.profiles import SegmentProfiles
from streamwise.plan.strategy import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    attractiveness,
    check_weights,
    sensitivity,
    targeting,
    targets_for,
)

# segment → customer_share, clv_mean, market_growth, brands_within, distance_to_competitor,
# distance_to_us, respondents
RAW = {
    "A": (0.40, 100.0, 0.00, 2, 0.5, 0.5, 400),
    "B": (0.30, 300.0, 0.10, 0, 2.0, 2.0, 300),
    "C": (0.20, 200.0, 0.30, 1, 1.0, 1.0, 200),
    "D": (0.10, 500.0, 0.05, 3, 0.2, 3.0, 100),
}
RADIUS = 1.0


def _profiles(raw: dict = RAW, *, customers: bool = True) -> SegmentProfiles:
    rows = []
    for seg, (share, clv, growth, within, d_comp, d_us, n) in raw.items():
        values = {"respondents": n, "respondent_share": n / 1000, "market_growth": growth,
                  "brands_within": within, "distance_to_competitor": d_comp,
                  "distance_to_us": d_us, "map_radius": RADIUS, "white_space": float(within == 0),
                  "nps": 10.0, "nps_lower": 5.0, "nps_upper": 15.0}  # fmt: skip
        if customers:
            values |= {"customers": share * 1000, "customer_share": share, "clv_mean": clv,
                       "clv_total": clv * share * 1000, "p_alive_mean": 0.6}  # fmt: skip
        for metric, value in values.items():
            label = "Rival" if metric == "distance_to_competitor" else None
            rows.append((seg, metric, None, float(value), label, n, "test"))
        if customers:
            rows.append((seg, "media_share", "email", 0.5, None, n, "test"))
        rows.append((seg, "maxdiff", "durable", 0.4, None, n, "test"))
    table = pd.DataFrame(rows, columns=["segment", "metric", "item", "value", "label", "n",
                                        "source"])  # fmt: skip
    clusters = pd.DataFrame(columns=["cluster", "segment", "surveyed", "agreeing", "purity"])
    return SegmentProfiles(tuple(raw), table, clusters)


def test_scores_are_min_max_scaled_and_reversed_where_less_is_better() -> None:
    scores = {s.segment: s for s in attractiveness(_profiles())}
    assert scores["A"].scores["size"] == 1.0
    assert scores["D"].scores["size"] == 0.0
    assert scores["C"].scores["size"] == pytest.approx(1 / 3)
    assert scores["D"].scores["value"] == 1.0
    assert scores["A"].scores["value"] == 0.0
    assert scores["A"].scores["fit"] == 1.0
    assert scores["D"].scores["fit"] == 0.0
    # competition: brands within + exp(−d/r); B has none near → best; D has three → worst
    assert scores["B"].scores["competition"] == 1.0
    assert scores["D"].scores["competition"] == 0.0
    assert scores["A"].raw["competition"] == pytest.approx(2 + np.exp(-0.5))
    for s in scores.values():
        assert s.total == pytest.approx(sum(DEFAULT_WEIGHTS[c] * s.scores[c] for c in CRITERIA))
    ranks = sorted(scores.values(), key=lambda s: s.rank)
    assert [s.total for s in ranks] == sorted((s.total for s in ranks), reverse=True)


def test_one_criterion_alone_ranks_by_that_criterion() -> None:
    for criterion, best in (("size", "A"), ("value", "D"), ("growth", "C"), ("fit", "A"),
                            ("competition", "B")):  # fmt: skip
        top = attractiveness(_profiles(), {criterion: 1.0})[0]
        assert top.segment == best, criterion


def test_weights_are_checked_and_rescaled() -> None:
    assert check_weights({"size": 2, "value": 2}) == {
        "size": 0.5, "value": 0.5, "growth": 0.0, "competition": 0.0, "fit": 0.0,
    }  # fmt: skip
    with pytest.raises(ConfigError, match="unknown criteria"):
        check_weights({"sise": 1.0})
    with pytest.raises(ConfigError, match="≥ 0"):
        check_weights({"size": -1.0, "value": 2.0})


def _moved(weights: dict[str, float], criterion: str, t: float) -> dict[str, float]:
    rest = 1 - weights[criterion]
    out = {c: v * (1 - t) / rest for c, v in weights.items()}
    out[criterion] = t
    return out


@pytest.mark.parametrize("n_targets", [1, 2])
def test_targets_change_exactly_where_the_sensitivity_table_says(n_targets: int) -> None:
    scores = attractiveness(_profiles())
    w = check_weights(DEFAULT_WEIGHTS)
    table = sensitivity(scores, w, n_targets)
    base = targets_for(scores, w, n_targets)
    assert (table["targets"] == ", ".join(base)).all()
    changes = 0
    for row in table.itertuples():
        assert row.stable_from <= row.weight <= row.stable_to
        for t in np.linspace(row.stable_from, row.stable_to, 7)[1:-1]:
            assert targets_for(scores, _moved(w, row.criterion, t), n_targets) == base
        if row.stable_to < 1:
            changes += 1
            after = targets_for(scores, _moved(w, row.criterion, row.stable_to + 1e-6), n_targets)
            assert after != base
            assert ", ".join(after) == row.above
        if row.stable_from > 0:
            changes += 1
            before = targets_for(
                scores, _moved(w, row.criterion, row.stable_from - 1e-6), n_targets
            )
            assert before != base
            assert ", ".join(before) == row.below
    assert changes >= 2  # the fixture is built so that some weights do flip the targets


def test_targeting_gives_reasons_with_evidence() -> None:
    p = _profiles()
    scores = attractiveness(p)
    decisions = targeting(p, scores, DEFAULT_WEIGHTS, n_targets=2, maintain_value_share=0.3)
    chosen = {t.segment for t in decisions if t.decision == "target"}
    assert chosen == set(targets_for(scores, DEFAULT_WEIGHTS, 2))
    by = {t.segment: t for t in decisions}
    # segments not targeted are kept ("maintain") only when they hold ≥ 30 % of customer value
    values = {s: RAW[s][0] * RAW[s][1] for s in RAW}
    for t in decisions:
        assert t.reasons
        assert all(r.evidence for r in t.reasons)
        if t.decision != "target":
            share = values[t.segment] / sum(values.values())
            assert (t.decision == "maintain") == (share >= 0.3), t.segment
    assert any(by[s].decision != "target" for s in RAW)


def test_personas_say_when_evidence_is_thin() -> None:
    cards = build_personas(_profiles(customers=False), min_respondents=250)
    by = {c.segment: c for c in cards}
    assert not by["D"].sufficient_evidence
    assert any("only 100 survey respondents" in m for m in by["D"].missing)
    assert all(any("no customers linked" in m for m in c.missing) for c in cards)
    assert all(c.claims[-1].kind == "caveat" for c in cards)
    full = build_personas(_profiles(), min_respondents=50, min_customers=50)
    assert {c.segment for c in full if c.sufficient_evidence} == {"A", "B", "C", "D"}
    for card in full:
        assert all(c.evidence for c in card.claims if c.kind != "caveat")


def test_every_pair_of_weights_gives_a_consistent_ranking() -> None:
    scores = attractiveness(_profiles())
    for a, b in itertools.combinations(CRITERIA, 2):
        ranked = attractiveness(_profiles(), {a: 0.5, b: 0.5})
        mine = targets_for(scores, {a: 0.5, b: 0.5}, 1)
        assert (ranked[0].segment,) == mine
