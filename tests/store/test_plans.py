"""The plan tables: migration 0002 (up and down, SQLite and PostgreSQL), versions, concurrency."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, event, inspect, select, text

from streamwise.errors import WorkspaceError
from streamwise.plan.document import PlanDocument
from streamwise.plan.store import load_plan, plan_versions, save_plan
from streamwise.store import Base, PlanVersion, head_revision, make_engine, migrate, session_factory
from streamwise.store.db import MIGRATIONS

PLAN_TABLES = {"plans", "plan_versions"}


def plan(summary: str = "Grow campers.", target: float = 1500.0, name: str = "p") -> PlanDocument:
    """A small valid plan; ``summary`` and ``target`` make variants."""
    return PlanDocument.from_dict(
        {
            "name": name,
            "company": "T",
            "brand": "B",
            "currency": "EUR",
            "start": "2027-01-01",
            "end": "2027-12-31",
            "summary": summary,
            "owners": {"sales": "Sam", "product": "Pat", "marketing": "Mo"},
            "personas": [],
            "strategy": {
                "weights": {"size": 1.0},
                "scores": [],
                "sensitivity": [],
                "targets": [
                    {"segment": "campers", "decision": "target", "score": 0.8, "rank": 1,
                     "reasons": [{"text": "biggest", "evidence": [
                         {"table": "customer_segments", "column": "customers",
                          "key": {"segment": "campers"}, "value": 1200, "n": 1200}]}]},
                ],
                "positioning": [],
            },
            "goals": [{"id": "g1", "title": "Grow", "description": "", "owner": "marketing",
                       "due": "2027-12-31", "kpis": ["k1"]}],
            "kpis": [{"id": "k1", "name": "Retained", "unit": "customers", "baseline": 1200,
                      "target": target, "due": "2027-06-30", "owner": "marketing"}],
            "timeline": [{"title": "Launch", "start": "2027-03-01", "end": "2027-04-01",
                          "owner": "product"}],
            "inputs": {"as_of": "2026-12-31", "z": 1, "a": [1.5, None]},
        }
    )  # fmt: skip


def _alembic(engine: Engine, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as con:
        return con.execute(text("SELECT version_num FROM alembic_version")).scalar()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    """A migrated operational database; emptied afterwards (the PostgreSQL one is shared)."""
    eng = make_engine(url)
    migrate(eng)
    yield eng
    _alembic(eng, "downgrade", "base")
    eng.dispose()


def test_migration_creates_the_plan_tables_and_matches_the_models(engine: Engine) -> None:
    assert _revision(engine) == head_revision()
    insp = inspect(engine)
    assert set(insp.get_table_names()) >= PLAN_TABLES
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("plan_versions")}
    assert ("plan_id", "version") in uniques
    fks = insp.get_foreign_keys("plan_versions")
    assert [(fk["referred_table"], fk["constrained_columns"]) for fk in fks] == [
        ("plans", ["plan_id"])
    ]
    with engine.connect() as con:  # every model change has its migration
        assert compare_metadata(MigrationContext.configure(con), Base.metadata) == []


def test_downgrade_to_0001_and_back(engine: Engine) -> None:
    assert save_plan(engine, plan()).version == 1
    _alembic(engine, "downgrade", "0001")
    assert _revision(engine) == "0001"
    tables = set(inspect(engine).get_table_names())
    assert not PLAN_TABLES & tables
    assert {"workspace_meta", "jobs"} <= tables
    with pytest.raises(WorkspaceError, match="no plan tables"):
        load_plan(engine)
    migrate(engine)
    assert _revision(engine) == head_revision()
    with pytest.raises(WorkspaceError, match="no plan saved yet"):  # empty, recreated tables
        load_plan(engine)
    assert save_plan(engine, plan()).version == 1


def test_versions_increment_and_identical_content_adds_nothing(engine: Engine) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    v1 = save_plan(engine, plan(), author="ana", note="first")
    v2 = save_plan(engine, plan(target=1600.0), author="bo", note="raise target")
    again = save_plan(engine, plan(target=1600.0), author="cy", note="no change")
    assert [v1.version, v2.version] == [1, 2]
    assert again == v2  # the latest version, unchanged: same id, author and note
    assert [(v.version, v.author, v.note) for v in plan_versions(engine, "p")] == [
        (1, "ana", "first"),
        (2, "bo", "raise target"),
    ]
    assert v1.content_hash != v2.content_hash
    assert len(v1.content_hash) == 64
    assert v2.created_at.tzinfo is not None
    assert before <= v1.created_at <= v2.created_at <= datetime.now(UTC)
    # Going back to earlier content is a change, so it is a new version.
    assert save_plan(engine, plan()).version == 3
    with session_factory(engine)() as session:
        assert session.scalar(select(PlanVersion.version).order_by(PlanVersion.id.desc())) == 3


def test_document_round_trips_exactly(engine: Engine) -> None:
    doc = plan(summary="Zelt für Camper — “quoted”\nline two", target=1234.5678)
    save_plan(engine, doc)
    loaded = load_plan(engine, "p", 1)
    assert loaded == doc
    assert json.dumps(loaded.to_dict()) == json.dumps(doc.to_dict())  # key order too


def test_plans_are_separate_and_latest_is_the_default(engine: Engine) -> None:
    save_plan(engine, plan(name="a"))
    save_plan(engine, plan(name="b", target=10.0))
    save_plan(engine, plan(name="a", target=20.0))
    assert load_plan(engine).kpis[0].target == 20.0  # the plan saved most recently: a v2
    assert load_plan(engine, "b").kpis[0].target == 10.0
    assert [v.version for v in plan_versions(engine, "b")] == [1]


def test_concurrent_saves_get_distinct_consecutive_versions(url: str, engine: Engine) -> None:
    threads, per_thread = 4, 5
    barrier = threading.Barrier(threads)
    results: list[Any] = []

    def writer(i: int) -> None:
        own = make_engine(url)  # a connection pool of its own, as another process would have
        try:
            barrier.wait()
            for j in range(per_thread):
                results.append(save_plan(own, plan(summary=f"writer {i} save {j}")))
        except Exception as exc:  # reported below
            results.append(exc)
        finally:
            own.dispose()

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert sorted(r.version for r in results) == list(range(1, threads * per_thread + 1))
    stored = plan_versions(engine, "p")
    assert [v.version for v in stored] == list(range(1, threads * per_thread + 1))
    assert len({v.content_hash for v in stored}) == threads * per_thread


def test_a_lost_race_is_retried_with_the_next_version(tmp_path: Path) -> None:
    """Another writer commits version 2 between our read of the latest version and our insert
    (SQLite, where nothing is locked before the insert): we retry and get version 3."""
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    ours, theirs = make_engine(url), make_engine(url)
    migrate(ours)
    save_plan(ours, plan())
    raced: list[int] = []

    @event.listens_for(ours, "before_cursor_execute")
    def competitor(*args: Any) -> None:
        if not raced and args[2].startswith("INSERT INTO plan_versions"):
            raced.append(save_plan(theirs, plan(summary="theirs")).version)

    mine = save_plan(ours, plan(summary="mine"))
    assert raced == [2]
    assert mine.version == 3
    assert load_plan(ours, "p", 3).summary == "mine"
    ours.dispose()
    theirs.dispose()


def test_unmigrated_database_says_how_to_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bare.sqlite'}")
    with pytest.raises(WorkspaceError, match="streamwise init"):
        save_plan(engine, plan())
    engine.dispose()
