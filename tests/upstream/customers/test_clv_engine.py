from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.errors import ModelError
from streamwise.upstream.customers.clv import BetaGeo, GammaGamma, ParetoNBD
from streamwise.upstream.customers.clv.value import customer_lifetime_value
from streamwise.upstream.customers.clv_engine import clv_in_engine, distinct_histories
from streamwise.upstream.customers.summaries import summarize, summary_expr


@pytest.fixture(scope="module")
def orders():
    con = ibis.duckdb.connect()
    frame = generate(n_customers=3_000, seed=7, bad_share=0).tables["orders"]
    return con.create_table("orders", frame[["customer_id", "order_date", "amount"]])


@pytest.mark.parametrize("model", [BetaGeo, ParetoNBD])
def test_engine_fit_equals_the_fit_on_every_customer(orders, model) -> None:
    """Distinct histories with counts give the same purchase model, and (all repeat buyers
    being fewer than max_spend_rows) the same spend model and per-customer values."""
    summary = summarize(orders, unit="W")
    purchases, spend = model().fit(summary), GammaGamma().fit(summary)
    expected = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].astype(str),
            "probability_alive": purchases.probability_alive(
                *(summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
            ),
            "clv": customer_lifetime_value(purchases, spend, summary, horizon=39, steps=9),
        }
    )
    fit = clv_in_engine(orders, model(), horizon=39, steps=9)
    # equal up to the optimiser's stopping point: a thousandth of a standard error
    for full, engine in ((purchases, fit.purchase_model), (spend, fit.spend_model)):
        for name, value in full.params_.items():
            assert abs(engine.params_[name] - value) < 1e-3 * full.standard_errors_[name]
    assert fit.spend_rows == fit.repeat_buyers == int((summary["frequency"] > 0).sum())
    assert fit.histories < len(summary)
    got = fit.customers.to_pandas().sort_values("customer_id").reset_index(drop=True)
    assert len(got) == len(summary)
    merged = expected.merge(got, on="customer_id", suffixes=("", "_engine"))
    assert len(merged) == len(summary)
    for col in ("probability_alive", "clv"):
        np.testing.assert_allclose(merged[f"{col}_engine"], merged[col], rtol=2e-4)


def test_histories_count_every_customer_once(orders) -> None:
    summary = summary_expr(orders, unit="D")
    histories = distinct_histories(summary)
    assert histories["weights"].sum() == summary.count().execute()
    assert not histories.duplicated(["frequency", "recency", "T"]).any()
    # whole days: exact join keys
    assert (histories["recency"] == histories["recency"].round()).all()


def test_spend_is_fitted_on_a_sample_beyond_max_spend_rows(orders) -> None:
    full = clv_in_engine(orders, BetaGeo())
    fit = clv_in_engine(orders, BetaGeo(), max_spend_rows=800, seed=3)
    assert fit.repeat_buyers == full.repeat_buyers > 800
    assert 500 < fit.spend_rows < 1_100

    # a sample's estimate of the population's mean spend lies near the full fit's
    def mean_spend(m: GammaGamma) -> float:
        p, q, v = (m.params_[k] for k in ("p", "q", "v"))
        return p * v / (q - 1)

    assert mean_spend(fit.spend_model) == pytest.approx(mean_spend(full.spend_model), rel=0.1)
    # the purchase model does not depend on the spend sample
    assert fit.purchase_model.params_ == full.purchase_model.params_


def test_bad_horizon_is_refused(orders) -> None:
    with pytest.raises(ModelError, match="horizon"):
        clv_in_engine(orders, BetaGeo(), horizon=0)
