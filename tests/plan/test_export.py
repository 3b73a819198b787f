"""The plan as YAML, JSON and HTML; reading people's edits back safely."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from streamwise.errors import ConfigError
from streamwise.plan.document import PlanDocument
from streamwise.plan.export import plan_from_yaml, plan_to_json, plan_to_yaml, write_plan


def test_yaml_round_trip_is_exact(plan_doc: PlanDocument) -> None:
    text = plan_to_yaml(plan_doc, version=3)
    back = plan_from_yaml(text)
    assert back == plan_doc
    assert json.dumps(back.to_dict()) == json.dumps(plan_doc.to_dict())  # key order too
    # A string that looks like a date or a boolean in free-form inputs stays a string.
    assert back.inputs["as_of"] == "2026-12-31"
    assert back.inputs["flags"] == ["yes", "no", "1.0", "null"]


def test_yaml_is_readable(plan_doc: PlanDocument) -> None:
    text = plan_to_yaml(plan_doc, version=3)
    lines = text.splitlines()
    assert lines[0].startswith("# Marketing plan 'plan-2027', version 3: Test Co / Testbrand")
    assert any("streamwise plan import" in line for line in lines[:4])
    assert "start: 2027-01-01" in lines  # dates plain, not quoted
    assert "  due: 2027-06-30" in lines
    assert "summary: |-" in lines  # multi-line text as a block
    fields = [f for f in PlanDocument.model_fields if f != "measurement"]  # none measured yet
    assert list(yaml.safe_load(text)) == fields  # document order
    assert "&id" not in text
    assert "*id" not in text  # no anchors or aliases


def test_a_person_can_edit_the_yaml(plan_doc: PlanDocument) -> None:
    text = plan_to_yaml(plan_doc).replace("  target: 1500.0\n", "  target: 1650  # stretch\n")
    edited = plan_from_yaml(text)
    assert next(k for k in edited.kpis if k.id == "kpi-retained").target == 1650.0
    assert edited.model_copy(update={"kpis": plan_doc.kpis}) == plan_doc


def test_hostile_yaml_is_refused(tmp_path: Path, plan_doc: PlanDocument) -> None:
    marker = tmp_path / "pwned"
    hostile = f'!!python/object/apply:os.system ["touch {marker}"]\n'
    with pytest.raises(ConfigError, match=r"not a readable plan YAML: .*python/object"):
        plan_from_yaml(hostile)
    assert not marker.exists()
    nested = plan_to_yaml(plan_doc).replace(
        "summary: |-", f'inputs2: !!python/object/apply:os.system ["touch {marker}"]\nsummary: |-'
    )
    with pytest.raises(ConfigError, match="python/object"):
        plan_from_yaml(nested)
    assert not marker.exists()


def test_aliases_and_duplicate_keys_are_refused(plan_doc: PlanDocument) -> None:
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    with pytest.raises(ConfigError, match=r"aliases \(\*name\) are not allowed .*line 2"):
        plan_from_yaml(bomb)
    twice = plan_to_yaml(plan_doc) + "name: other\n"
    with pytest.raises(ConfigError, match="found the key 'name' twice"):
        plan_from_yaml(twice)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  target: 1500.0\n", "  target: lots\n",
         r"kpis\[kpi-retained\]\.target: Input should be a valid number"),
        ("  target: 1500.0\n", "  targt: 1500.0\n",
         r"kpis\[kpi-retained\]\.target: Field required; "
         r"kpis\[kpi-retained\]\.targt: Extra inputs are not permitted"),
        ("company: Test Co\n", "", r"invalid plan: company: Field required"),
        ("  decision: maintain\n", "  decision: maybe\n",
         r"strategy\.targets\[hikers\]\.decision: Input should be 'target', 'maintain'"),
        ("start: 2027-01-01\n", "start: 2027-13-01\n", r"start: Input should be a valid date"),
        ("  owner: product\n", "  owner: legal\n",
         r"goals\[goal-quality\]\.owner: Input should be 'product', 'sales' or 'marketing'"),
    ],
)  # fmt: skip
def test_a_bad_field_is_named(plan_doc: PlanDocument, old: str, new: str, message: str) -> None:
    text = plan_to_yaml(plan_doc)
    assert old in text
    with pytest.raises(ConfigError, match=message):
        plan_from_yaml(text.replace(old, new, 1), source="plan.yaml")


def test_malformed_yaml_says_where(plan_doc: PlanDocument) -> None:
    with pytest.raises(ConfigError, match=r"plan.yaml: not a readable plan YAML: .*line 2"):
        plan_from_yaml("name: x\n  - oops: [\n", source="plan.yaml")
    with pytest.raises(ConfigError, match=r"a plan YAML is a mapping of fields .* not list"):
        plan_from_yaml("- 1\n- 2\n")


def test_write_yaml_and_json(tmp_path: Path, plan_doc: PlanDocument) -> None:
    yaml_path = write_plan(plan_doc, tmp_path / "out" / "plan.yaml", "yaml", version=2)
    assert plan_from_yaml(yaml_path.read_text()) == plan_doc
    assert "version 2" in yaml_path.read_text().splitlines()[0]
    json_path = write_plan(plan_doc, tmp_path / "plan.json", "json")
    assert json.loads(json_path.read_text()) == plan_doc.to_dict()
    assert json_path.read_text() == plan_to_json(plan_doc)
    assert PlanDocument.from_dict(json.loads(json_path.read_text())) == plan_doc
    with pytest.raises(ConfigError, match="unknown plan format 'pdf'"):
        write_plan(plan_doc, tmp_path / "plan.pdf", "pdf")  # type: ignore[arg-type]


def test_write_html(tmp_path: Path, make_plan: Callable[..., PlanDocument]) -> None:
    if importlib.util.find_spec("streamwise.reports") is None or (
        importlib.util.find_spec("streamwise.reports.plan") is None
    ):
        pytest.skip("streamwise.reports.plan.plan_html is being written in parallel; remove this")
    doc = make_plan(name="html-plan-<2027>")
    path = write_plan(doc, tmp_path / "plan.html", "html", version=4)
    html = path.read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "html-plan-&lt;2027&gt;" in html  # the name, escaped
    assert "html-plan-<2027>" not in html
