"""The sample market and one trends analysis of it, shared by the tests of this folder."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.upstream.trends import TrendsRun, analyse_trends


@pytest.fixture(scope="session")
def sample_market() -> tuple[pd.DataFrame, Any]:
    """The sample business's ``market_series`` (8 categories, 157 Mondays) and its truth."""
    biz = generate(n_customers=2000, bad_share=0)
    assert biz.tables is not None
    return biz.tables["market_series"], biz.truth.research.market


@pytest.fixture(scope="session")
def sample_run(sample_market: tuple[pd.DataFrame, Any]) -> TrendsRun:
    """``analyse_trends`` on the sample market with the default settings."""
    return analyse_trends(sample_market[0])
