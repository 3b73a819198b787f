"""Market scenarios from the competitors data, run through the conjoint simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.research.choices import choice_frame
from streamwise.upstream.research.conjoint import MultinomialLogit
from streamwise.upstream.research.market import competitor_scenario
from streamwise.upstream.research.questionnaire import load_questionnaire
from streamwise.upstream.research.responses import Survey

COMMON = {"weight": "1.8 kg", "waterproof": "3000 mm", "warranty": "3 years"}


@pytest.fixture(scope="module")
def sample() -> tuple[MultinomialLogit, pd.DataFrame]:
    biz = generate(n_customers=2000, bad_share=0)
    survey = Survey.from_answers(
        load_questionnaire(biz.questionnaire_yaml), biz.tables["survey_responses"]
    )
    return MultinomialLogit().fit(choice_frame(survey)), biz.tables["competitors"]


def test_each_brand_meets_the_model_at_its_scanned_price(sample) -> None:
    model, competitors = sample
    brands = ["Northwind", "Summit Co", "TrailMark", "Alpenglow"]
    products = competitor_scenario(
        competitors, price_from="price_tent", fixed=COMMON, brands=brands
    )
    scanned = competitors[competitors["attribute"] == "price_tent"].set_index("brand")["value"]
    assert list(products.index) == brands
    assert np.allclose(products["price"], scanned[brands].astype(float))
    shares = model.simulate(products)
    assert shares.sum() == pytest.approx(1.0)
    assert list(shares.index) == [*brands, "none"]
    # Cutting one brand's price raises its share and lowers every other.
    cheaper = products.copy()
    cheaper.loc["Summit Co", "price"] -= 50
    after = model.simulate(cheaper)
    assert after["Summit Co"] > shares["Summit Co"]
    assert (after.drop("Summit Co") < shares.drop("Summit Co")).all()


def test_per_brand_levels_override_the_common_ones(sample) -> None:
    model, competitors = sample
    products = competitor_scenario(
        competitors,
        price_from="price_tent",
        fixed=COMMON,
        brands=["Northwind", "TrailMark"],
        per_brand={"Northwind": {"warranty": "lifetime"}},
    )
    assert products.loc["Northwind", "warranty"] == "lifetime"
    assert products.loc["TrailMark", "warranty"] == "3 years"
    plain = competitor_scenario(
        competitors, price_from="price_tent", fixed=COMMON, brands=["Northwind", "TrailMark"]
    )
    assert model.simulate(products)["Northwind"] > model.simulate(plain)["Northwind"]


def test_a_brand_without_a_price_is_named() -> None:
    competitors = pd.DataFrame(
        {"brand": ["A", "B"], "attribute": ["price_tent", "durability"], "value": [99.0, 4.0]}
    )
    with pytest.raises(DataError, match="no 'price_tent' in the competitors data for B"):
        competitor_scenario(competitors, price_from="price_tent", fixed={}, brands=["A", "B"])
    with pytest.raises(DataError, match="no brand has a numeric 'price_boots'"):
        competitor_scenario(competitors, price_from="price_boots", fixed={})
