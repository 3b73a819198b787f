"""Saving, loading and comparing plan versions through a workspace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

from streamwise.errors import ConfigError, WorkspaceError
from streamwise.plan.document import PlanDocument
from streamwise.plan.store import (
    Change,
    content_hash,
    diff_plans,
    load_plan,
    load_plan_version,
    plan_versions,
    save_plan,
)
from streamwise.store import PlanVersion, session_factory
from streamwise.workspace import Workspace

Edit = Callable[..., PlanDocument]


def test_save_and_load_through_a_workspace(workspace: Workspace, plan_doc: PlanDocument) -> None:
    info = save_plan(workspace, plan_doc, author="mo", note="first cut")
    assert (info.name, info.version, info.author, info.note) == ("plan-2027", 1, "mo", "first cut")
    assert info.content_hash == content_hash(plan_doc)
    loaded_info, loaded = load_plan_version(workspace)
    assert loaded == plan_doc
    assert loaded_info == info
    assert load_plan(workspace.operational(), "plan-2027", 1) == plan_doc
    assert info.to_dict()["created_at"] == info.created_at.isoformat()


def test_errors_say_what_exists(
    workspace: Workspace, plan_doc: PlanDocument, with_kpi: Edit
) -> None:
    with pytest.raises(WorkspaceError, match="no plan saved yet; build one with `streamwise plan"):
        load_plan(workspace)
    with pytest.raises(WorkspaceError, match="no plan saved yet"):
        plan_versions(workspace, "plan-2027")
    save_plan(workspace, plan_doc)
    save_plan(workspace, with_kpi(plan_doc, "kpi-retained", target=1600))
    with pytest.raises(WorkspaceError, match="plan 'plan-2027' has no version 7; versions are 1–2"):
        load_plan(workspace, version=7)
    with pytest.raises(WorkspaceError, match="no plan named 'other'; saved plans: plan-2027"):
        load_plan(workspace, "other")


def test_a_stored_plan_that_no_longer_fits_the_schema_is_reported(
    workspace: Workspace, plan_doc: PlanDocument
) -> None:
    save_plan(workspace, plan_doc)
    broken = {k: v for k, v in plan_doc.to_dict().items() if k != "company"}
    with session_factory(workspace.operational())() as session, session.begin():
        session.execute(update(PlanVersion).values(document=broken))
    with pytest.raises(WorkspaceError, match=r"version 1 does not match .* at company"):
        load_plan(workspace)


def test_non_finite_numbers_are_refused_with_their_field(
    workspace: Workspace, plan_doc: PlanDocument, with_kpi: Edit
) -> None:
    bad = with_kpi(plan_doc, "kpi-clv", baseline=float("nan"))
    with pytest.raises(ConfigError, match=r"kpis\[kpi-clv\]\.baseline is nan"):
        save_plan(workspace, bad)


def test_hash_ignores_nothing_but_dict_order(make_plan: Edit) -> None:
    a = make_plan(owners={"product": "Pat", "sales": "Sam"})
    b = make_plan(owners={"sales": "Sam", "product": "Pat"})
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(make_plan(owners={"product": "Pat", "sales": "Sal"}))


def _paths(changes: list[Change]) -> list[tuple[str, str, Any, Any]]:
    return [(c.path, c.kind, c.old, c.new) for c in changes]


def test_diff_lists_exactly_the_changed_fields(plan_doc: PlanDocument, with_kpi: Edit) -> None:
    new = with_kpi(plan_doc, "kpi-retained", target=1600)
    data = new.to_dict()
    data["strategy"]["targets"][1]["decision"] = "deprioritise"
    new_target = {**data["strategy"]["targets"][0], "segment": "families", "rank": 3}
    data["strategy"]["targets"].append(new_target)
    data["timeline"] = data["timeline"][:1]  # "New zipper" dropped
    data["goals"][1]["kpis"] = ["kpi-returns", "kpi-clv"]
    data["owners"]["sales"] = "Sal"
    new = PlanDocument.model_validate(data)

    changes = diff_plans(plan_doc, new)
    added = new.strategy.targets[2].model_dump(mode="json")
    assert _paths(changes) == [
        ("owners.sales", "changed", "Sam", "Sal"),
        ("strategy.targets[hikers].decision", "changed", "maintain", "deprioritise"),
        ("strategy.targets[families]", "added", None, added),
        ("goals[goal-quality].kpis", "changed", ["kpi-returns"], ["kpi-returns", "kpi-clv"]),
        ("kpis[kpi-retained].target", "changed", 1500.0, 1600.0),
        ("timeline[New zipper]", "removed", plan_doc.timeline[1].model_dump(mode="json"), None),
    ]  # fmt: skip
    assert str(changes[4]) == "kpis[kpi-retained].target: 1500 → 1600"
    assert str(changes[0]) == "owners.sales: 'Sam' → 'Sal'"
    assert str(changes[2]).startswith("strategy.targets[families]: added {segment: 'families'")
    assert str(changes[5]).startswith("timeline[New zipper]: removed (was {title: 'New zipper'")
    assert diff_plans(new, plan_doc)[4].to_dict() == {
        "path": "kpis[kpi-retained].target", "kind": "changed", "old": 1600.0, "new": 1500.0,
    }  # fmt: skip


def test_diff_of_equal_plans_is_empty(plan_doc: PlanDocument) -> None:
    same = PlanDocument.from_dict(plan_doc.to_dict())
    assert diff_plans(plan_doc, same) == []


def test_diff_names_records_by_position_when_they_have_no_unique_key(
    make_plan: Edit, plan_doc: PlanDocument
) -> None:
    repeated = (*plan_doc.timeline, plan_doc.timeline[0])  # two milestones share a title
    old = make_plan(timeline=repeated)
    new = make_plan(timeline=(*repeated[:2], repeated[2].model_copy(update={"owner": "sales"})))
    assert _paths(diff_plans(old, new)) == [("timeline[2].owner", "changed", "marketing", "sales")]
