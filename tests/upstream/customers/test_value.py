from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import DataError
from streamwise.upstream.customers import (
    BetaGeo,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    holdout_validation,
    summarize,
)

from .test_summaries import cdnow


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return summarize(cdnow(), calibration_end="1997-09-30", observation_end="1998-06-30")


@pytest.mark.parametrize("model", [BetaGeo, ParetoNBD])
def test_holdout_forecast_tracks_the_actual_purchases(cdnow_summary, model) -> None:
    table = holdout_validation(model().fit(cdnow_summary), cdnow_summary)
    assert table["customers"].sum() == 2357
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    actual = (table["actual"] * table["customers"]).sum()
    predicted = (table["predicted"] * table["customers"]).sum()
    assert actual == 1882  # repeat purchase days of the 2,357 customers in weeks 40-78
    assert predicted == pytest.approx(actual, rel=0.15)
    assert table["predicted"].is_monotonic_increasing


def test_clv_is_discounted_and_grows_with_the_horizon(cdnow_summary) -> None:
    m, g = BetaGeo().fit(cdnow_summary), GammaGamma().fit(cdnow_summary)
    year = customer_lifetime_value(m, g, cdnow_summary, horizon=52, steps=12)
    two = customer_lifetime_value(m, g, cdnow_summary, horizon=104, steps=24)
    flat = customer_lifetime_value(m, g, cdnow_summary, horizon=52, steps=12, discount_rate=0)
    assert np.all(year > 0)
    assert np.all(two > year)
    assert np.all(flat >= year)
    # Undiscounted CLV is expected purchases times expected spend.
    x, t_x, T = (cdnow_summary[c] for c in ("frequency", "recency", "T"))
    direct = m.expected_purchases(52, x, t_x, T) * g.expected_spend(
        x, cdnow_summary["monetary_value"]
    )
    assert flat == pytest.approx(direct, rel=1e-9)


def test_validation_needs_a_holdout() -> None:
    with pytest.raises(DataError, match="calibration_end"):
        holdout_validation(BetaGeo(), pd.DataFrame({"frequency": [1], "recency": [1], "T": [2]}))
