from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from streamwise.store import (
    Job,
    WorkspaceMeta,
    head_revision,
    make_engine,
    migrate,
    session_factory,
)


def _round_trip(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # a second run is a no-op
    tables = set(inspect(engine).get_table_names())
    assert {"workspace_meta", "jobs", "alembic_version"} <= tables
    with session_factory(engine)() as session:
        session.add(WorkspaceMeta(key="k", value="v"))
        session.add(Job(kind="import", status="done", progress=1.0, message="ok"))
        session.commit()
        assert session.get(WorkspaceMeta, "k").value == "v"
        assert session.query(Job).one().started_at is not None
    with engine.connect() as con:
        assert (
            con.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        )
    engine.dispose()


def test_sqlite_operational_database(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'ops.sqlite'}")


@pytest.mark.postgres
def test_postgresql_operational_database(postgres_url: str) -> None:
    _round_trip(postgres_url)
