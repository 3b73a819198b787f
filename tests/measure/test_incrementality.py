"""Incrementality from a campaign's holdout: lift, incremental revenue and iROAS with intervals,
overall and per group, checked against statsmodels and scipy on planted data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlalchemy import Engine, insert
from statsmodels.stats.proportion import confint_proportions_2indep

from streamwise.downstream.tracking.engagement import WINDOW
from streamwise.errors import ConfigError
from streamwise.measure.incrementality import campaign_lift, recipient_outcomes
from streamwise.store import Campaign, CampaignSend, Engagement, make_engine, migrate

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    migrate(eng)
    yield eng
    eng.dispose()


def plant(
    engine: Engine,
    campaign_id: int,
    *,
    n: int,
    holdout: float,
    p_treated: float,
    p_holdout: float,
    seed: int = 1,
    persona: str | None = "Weekend Wendy",
) -> pd.DataFrame:
    """A campaign whose treated recipients convert with ``p_treated``, held-out ones with
    ``p_holdout``; revenue per conversion is log-normal. Returns the planted recipients."""
    rng = np.random.default_rng(seed)
    held = rng.random(n) < holdout
    arm = np.where(held, "holdout", np.where(rng.random(n) < 0.5, "A", "B"))
    converted = rng.random(n) < np.where(held, p_holdout, p_treated)
    revenue = np.where(converted, np.round(rng.lognormal(4.0, 0.5, n), 2), 0.0)
    ids = [f"c{campaign_id}-{i}" for i in range(n)]
    with engine.begin() as con:
        con.execute(
            insert(Campaign.__table__).values(
                id=campaign_id,
                name=f"spring-{campaign_id}",
                channel="email",
                state="done",
                audience="email_consent",
                seed="s",
                created_at=T0,
                updated_at=T0,
                settings={},
                persona=persona,
            )
        )
        con.execute(
            insert(CampaignSend.__table__),
            [
                {
                    "campaign_id": campaign_id,
                    "customer_id": cid,
                    "address": f"{cid}@example.com",
                    "arm": a,
                    "message_id": f"<{cid}@x>",
                    "status": "held_out" if h else "sent",
                    "attempts": 0 if h else 1,
                    "sent_at": None if h else T0,
                    "detail": "",
                    "context": {},
                }
                for cid, a, h in zip(ids, arm, held, strict=True)
            ],
        )
        rows = [
            {
                "kind": "conversion",
                "campaign_id": campaign_id,
                "variant": a,
                "customer_id": cid,
                "ts": T0 + timedelta(days=1),
                "rule": WINDOW,
                "machine": False,
                "revenue": float(r),
                "event_message_id": f"o-{cid}",
            }
            for cid, a, c, r in zip(ids, arm, converted, revenue, strict=True)
            if c
        ]
        con.execute(insert(Engagement.__table__), rows)
        # a last-click conversion row (rule None) must not be counted twice
        con.execute(
            insert(Engagement.__table__).values(
                kind="conversion",
                campaign_id=campaign_id,
                variant="A",
                customer_id=ids[0],
                ts=T0,
                rule=None,
                url="https://shop.example",
                machine=False,
                revenue=999.0,
            )
        )
    return pd.DataFrame(
        {"customer_id": ids, "arm": arm, "converted": converted, "revenue": revenue}
    )


def test_recipient_outcomes_count_window_conversions_once(engine: Engine) -> None:
    truth = plant(engine, 1, n=500, holdout=0.2, p_treated=0.3, p_holdout=0.1)
    out = recipient_outcomes(engine, 1).set_index("customer_id").loc[truth["customer_id"]]
    assert out["converted"].to_numpy().tolist() == truth["converted"].astype(int).tolist()
    assert out["revenue"].to_numpy() == pytest.approx(truth["revenue"].to_numpy())
    assert (out["sent"] == (truth["arm"] != "holdout").astype(int).to_numpy()).all()


def test_lift_matches_statsmodels_and_welch(engine: Engine) -> None:
    truth = plant(engine, 1, n=20_000, holdout=0.2, p_treated=0.08, p_holdout=0.05)
    overall = campaign_lift(engine, 1, cost_per_send=0.01)[0]
    t, h = truth[truth["arm"] != "holdout"], truth[truth["arm"] == "holdout"]
    assert (overall.treated, overall.holdout) == (len(t), len(h))
    assert overall.treated_conversions == int(t["converted"].sum())
    p_t, p_h = t["converted"].mean(), h["converted"].mean()
    assert overall.conversion_lift == pytest.approx(p_t - p_h, abs=1e-12)
    lo, hi = confint_proportions_2indep(
        int(t["converted"].sum()),
        len(t),
        int(h["converted"].sum()),
        len(h),
        method="wald",
        compare="diff",
    )
    assert (overall.conversion_lift_low, overall.conversion_lift_high) == (
        pytest.approx(lo, abs=1e-5),
        pytest.approx(hi, abs=1e-5),
    )
    assert overall.conversion_lift_low <= 0.03 <= overall.conversion_lift_high  # planted lift
    assert overall.significant
    assert overall.incremental_conversions == pytest.approx((p_t - p_h) * len(t))
    welch = stats.ttest_ind(t["revenue"], h["revenue"], equal_var=False)
    assert overall.revenue_per_send == pytest.approx(t["revenue"].mean() - h["revenue"].mean())
    assert overall.revenue_p_value == pytest.approx(welch.pvalue, rel=1e-6)
    ci = welch.confidence_interval(0.95)
    assert overall.revenue_per_send_low == pytest.approx(ci.low, rel=1e-4)
    assert overall.incremental_revenue == pytest.approx(overall.revenue_per_send * len(t))
    cost = len(t) * 0.01
    assert overall.cost == pytest.approx(cost)
    assert overall.iroas == pytest.approx(overall.incremental_revenue / cost)
    assert overall.iroas_low < overall.iroas < overall.iroas_high


def test_no_effect_gives_an_interval_around_zero(engine: Engine) -> None:
    plant(engine, 1, n=10_000, holdout=0.5, p_treated=0.05, p_holdout=0.05, seed=3)
    e = campaign_lift(engine, 1)[0]
    assert e.conversion_lift_low < 0 < e.conversion_lift_high
    assert not e.significant
    assert e.iroas is None  # no cost given


def test_groups_add_up_to_the_whole(engine: Engine) -> None:
    truth = plant(engine, 1, n=6_000, holdout=0.25, p_treated=0.2, p_holdout=0.1)
    groups = pd.DataFrame(
        {
            "customer_id": truth["customer_id"],
            "group": np.where(np.arange(len(truth)) % 3 == 0, "campers", "hikers"),
        }
    )
    estimates = campaign_lift(engine, 1, by=groups)
    assert [e.group for e in estimates] == ["all", "campers", "hikers"]
    whole, parts = estimates[0], estimates[1:]
    for name in ("treated", "holdout", "treated_conversions", "holdout_conversions", "sent"):
        assert getattr(whole, name) == sum(getattr(p, name) for p in parts), name
    assert whole.treated_revenue == pytest.approx(sum(p.treated_revenue for p in parts))
    assert all(p.persona == "Weekend Wendy" for p in estimates)


def test_a_campaign_without_holdout_says_what_to_do(engine: Engine) -> None:
    plant(engine, 1, n=100, holdout=0.0, p_treated=0.1, p_holdout=0.1)
    with pytest.raises(ConfigError, match="holdout"):
        campaign_lift(engine, 1)
    with pytest.raises(ConfigError, match="no campaign with id 9"):
        campaign_lift(engine, 9)


def test_a_holdout_without_conversions_still_gets_an_interval(engine: Engine) -> None:
    truth = plant(engine, 1, n=600, holdout=0.1, p_treated=0.05, p_holdout=0.0, seed=5)
    e = campaign_lift(engine, 1)[0]
    assert e.holdout_conversions == 0
    t = truth[truth["arm"] != "holdout"]
    lo, hi = confint_proportions_2indep(
        int(t["converted"].sum()), len(t), 0, e.holdout, method="agresti-caffo", compare="diff"
    )
    assert e.conversion_lift == pytest.approx(t["converted"].mean())
    assert (e.conversion_lift_low, e.conversion_lift_high) == (pytest.approx(lo), pytest.approx(hi))
    assert e.conversion_lift_low < e.conversion_lift < e.conversion_lift_high
    assert e.relative_lift is None  # nothing to be relative to
    assert e.revenue_per_send_low < e.revenue_per_send < e.revenue_per_send_high  # Welch
    welch = stats.ttest_ind(t["revenue"], np.zeros(e.holdout), equal_var=False)
    assert e.revenue_p_value == pytest.approx(welch.pvalue, rel=1e-6)
