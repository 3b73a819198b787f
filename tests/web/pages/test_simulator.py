"""The conjoint simulator page: shares from the research run's part-worths, through the real app
(one research run on the sample survey for the whole module)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.web.pages import conftest as H  # noqa: N812 (importlib mode: by dotted path)

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.research.workspace import run_research
from streamwise.web.app import create_app
from streamwise.web.pages.simulator import (
    ConjointModel,
    Profile,
    load_conjoint,
    parse_profiles,
    simulate,
)
from streamwise.workspace import Workspace

PATH = "/app/research/simulator"


@pytest.fixture(scope="module")
def research(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A closed workspace (users, a plan) whose analytics file holds a research run of the
    sample survey; the run's fitted conjoint model."""
    biz = generate(n_customers=800, bad_share=0)
    root = tmp_path_factory.mktemp("simulator") / "ws"
    ws = H._workspace(root)
    con = ws.duckdb()
    con.register("_answers", biz.tables["survey_responses"])
    con.execute("INSERT INTO survey_responses BY NAME SELECT * FROM _answers").fetchall()
    con.unregister("_answers")
    run = run_research(ws, biz.questionnaire_yaml)
    ws.close()
    assert run.conjoint is not None
    return root, run.conjoint


@pytest.fixture(scope="module")
def app_client(research: tuple[Path, Any]) -> Iterator[TestClient]:
    """The app on that workspace (reading the analytics file read-only), signed in as sales."""
    ws = Workspace.open(research[0])
    try:
        with TestClient(create_app(ws), follow_redirects=False) as c:
            assert H.sign_in(c, "sales").status_code == 303
            yield c
    finally:
        ws.close()


@pytest.fixture(scope="module")
def model(research: tuple[Path, Any]) -> ConjointModel:
    ws = Workspace.open(research[0])
    try:
        found = load_conjoint(ws)
    finally:
        ws.close()
    assert found is not None
    return found


def _profile(label: str, price: float = 249.0, **levels: str) -> Profile:
    base = {"brand": "Northwind", "weight": "1.8 kg", "waterproof": "3000 mm",
            "warranty": "3 years"}  # fmt: skip
    return Profile(label, base | levels, price)


def _shares(text: str) -> list[float]:
    return [float(s) / 100 for s in re.findall(r'<td class="num">([0-9.]+)%</td>', text)]


def test_the_stored_part_worths_give_the_models_own_shares(research, model) -> None:
    """Price coefficient and price span are recovered from the table; the shares are what the
    fitted model's simulator gives without the none option."""
    _, fitted = research
    assert model.price_coefficient == pytest.approx(fitted.params_["price"], rel=1e-9)
    low, high = fitted.price_range_
    assert model.price_span == pytest.approx(high - low, rel=1e-9)
    profiles = [
        _profile("A"),
        _profile("B", 199.0, brand="TrailMark", weight="2.5 kg"),
        _profile("C", 299.0, brand="Summit Co", warranty="lifetime", waterproof="5000 mm"),
    ]
    result = simulate(model, profiles)
    assert sum(result.shares) == pytest.approx(1.0)
    frame = pd.DataFrame([{**p.levels, "price": p.price} for p in profiles],
                         index=[p.label for p in profiles])  # fmt: skip
    expected = fitted.simulate(frame, include_none=False)
    assert np.allclose(result.shares, expected.to_numpy(), atol=1e-9)
    assert result.to_frame().loc["B", "share"] == pytest.approx(result.shares[1])


def test_shares_match_an_independent_computation_from_the_table(research, app_client) -> None:
    root, _ = research
    query = {"profiles": "2", "p1.brand": "Alpenglow", "p1.price": "199",
             "p2.warranty": "lifetime", "p2.price": "259"}  # fmt: skip
    page = app_client.get(PATH, params=query)
    assert page.status_code == 200
    with duckdb.connect(str(root / "analytics.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT attribute, level, part_worth, willingness_to_pay FROM research_conjoint"
        ).fetchall()
    worth = {(a, lvl): pw for a, lvl, pw, _ in rows}
    first: dict[str, float] = {}
    for a, _lvl, pw, _ in rows:
        first.setdefault(a, pw)
    pairs = [(worth[(a, lvl)] - first[a], w) for a, lvl, _, w in rows if w]
    beta = -np.mean([d / w for d, w in pairs])
    defaults = [dict(zip(("brand", "weight", "waterproof", "warranty"), lv, strict=True))
                for lv in (("Northwind", "2.5 kg", "1500 mm", "1 year"),
                           ("Summit Co", "1.8 kg", "3000 mm", "3 years"))]  # fmt: skip
    defaults[0]["brand"] = "Alpenglow"
    defaults[1]["warranty"] = "lifetime"
    u = np.array([sum(worth[(a, lvl)] for a, lvl in d.items()) for d in defaults])
    u += beta * np.array([199.0, 259.0])
    expected = np.exp(u) / np.exp(u).sum()
    shown = _shares(page.text)
    assert len(shown) == 2
    assert np.allclose(shown, expected, atol=0.0006)  # shown to 0.1 points
    assert sum(shown) == pytest.approx(1.0, abs=0.002)


def test_a_dominating_product_wins_and_a_higher_price_loses(model) -> None:
    better = _profile("better", brand="Northwind", weight="1.2 kg", waterproof="5000 mm",
                      warranty="lifetime")  # fmt: skip
    worse = _profile("worse", brand="Alpenglow", weight="2.5 kg", waterproof="1500 mm",
                     warranty="1 year")  # fmt: skip
    assert all(model.part_worths[a][better.levels[a]] > model.part_worths[a][worse.levels[a]]
               for a in model.part_worths)  # fmt: skip
    shares = simulate(model, [better, worse, _profile("middle")]).shares
    assert shares[0] > shares[2] > shares[1]
    dearer = Profile("better", better.levels, better.price + 50)  # type: ignore[operator]
    after = simulate(model, [dearer, worse, _profile("middle")]).shares
    assert after[0] < shares[0]
    assert after[1] > shares[1]
    assert after[2] > shares[2]


def test_raising_a_price_on_the_page_lowers_its_share(app_client) -> None:
    base = {"profiles": "3", "p1.price": "249", "p2.price": "249", "p3.price": "249"}
    before = _shares(app_client.get(PATH, params=base).text)
    after = _shares(app_client.get(PATH, params=base | {"p2.price": "299"}).text)
    assert len(before) == len(after) == 3
    assert sum(before) == pytest.approx(1.0, abs=0.002)
    assert after[1] < before[1]
    assert after[0] > before[0]
    assert after[2] > before[2]


def test_the_default_page_has_a_label_for_every_control(app_client) -> None:
    page = app_client.get(PATH)
    assert page.status_code == 200
    text = page.text
    controls = re.findall(r'<(?:select|input) id="([^"]+)"', text)
    assert len(controls) == 1 + 3 * 5  # how many products; 4 attributes and a price each
    for control in controls:
        assert f'<label for="{control}">' in text, control
    assert len(_shares(text)) == 3
    assert "<h2" in text
    assert "Multinomial logit" in text
    assert "IIA" in text
    assert "Willingness to pay" in text
    assert "Content-Security-Policy" in {k.title() for k in page.headers}
    four = app_client.get(PATH, params={"profiles": "4"})
    assert len(_shares(four.text)) == 4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"p1.brand": "Nobody"}, "is not a level of the study"),
        ({"profiles": "9"}, "choose 2 to 4 products"),
        ({"profiles": "x"}, "choose 2 to 4 products"),
        ({"profiles": "²"}, "choose 2 to 4 products"),
        ({"p1234567.brand": "Northwind"}, "products 1 to 4"),
        ({"p0.brand": "Northwind"}, "products 1 to 4"),
        ({"p5.brand": "Northwind"}, "products 1 to 4"),
        ({"p1.colour": "red"}, "no attribute"),
        ({"p2.price": "cheap"}, "not a number"),
        ({"p2.price": "-5"}, "not a number of zero or more"),
        ({"p2.price": "nan"}, "not a number"),
        ({"p1.brand": "<script>alert(1)</script>"}, "is not a level"),
    ],
)
def test_bad_input_is_refused_with_a_message(app_client, query, message) -> None:
    page = app_client.get(PATH, params=query)
    assert page.status_code == 422
    assert 'role="alert"' in page.text
    assert message in page.text
    assert "<script>alert" not in page.text


def test_the_core_refuses_what_the_study_lacks(model) -> None:
    with pytest.raises(DataError, match="put at least one product"):
        simulate(model, [])
    with pytest.raises(DataError, match="has no price"):
        simulate(model, [_profile("A", None)])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="no level of 'brand'"):
        simulate(model, [Profile("A", {"weight": "1.8 kg"}, 100.0)])
    assert len(parse_profiles(model, {})) == 3


def test_the_page_reads_the_file_read_only_and_lets_go(research, app_client) -> None:
    root, _ = research
    assert app_client.get(PATH).status_code == 200
    with duckdb.connect(str(root / "analytics.duckdb")) as writer:  # nothing holds the file
        writer.execute("SELECT count(*) FROM research_conjoint").fetchall()


def test_anonymous_visitors_are_sent_to_sign_in(research) -> None:
    ws = Workspace.open(research[0])
    try:
        with TestClient(create_app(ws), follow_redirects=False) as c:
            response = c.get(PATH, params={"profiles": "2"})
    finally:
        ws.close()
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/app/research/simulator")


def test_without_results_the_page_says_what_to_run(client: TestClient) -> None:
    H.sign_in(client, "product")
    page = client.get(PATH)
    assert page.status_code == 200
    assert "streamwise research run" in page.text
    assert "<select" not in page.text
    research = client.get("/app/research").text
    assert f'href="{PATH}"' in research


def test_a_busy_database_is_said_so(research, app_client) -> None:
    """While another connection holds the file for writing, a changed file cannot be read: the
    page says the database is busy (503), and recovers once it is let go."""
    root, _ = research
    path = root / "analytics.duckdb"
    with duckdb.connect(str(path)) as writer:
        writer.execute("CREATE OR REPLACE TABLE busy_marker AS SELECT 1 AS x").fetchall()
        writer.execute("CHECKPOINT").fetchall()
        busy = app_client.get(PATH)
    assert busy.status_code == 503
    assert "busy" in busy.text
    assert app_client.get(PATH).status_code == 200
