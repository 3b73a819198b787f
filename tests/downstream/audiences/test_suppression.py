"""The suppression list on SQLite and PostgreSQL: normalised, idempotent, strongest reason kept,
only manual entries lifted; and the rules read it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from streamwise.downstream.audiences import apply_rules, suppress, suppressed, unsuppress
from streamwise.errors import ConfigError, DataError, WorkspaceError
from streamwise.store import Base, head_revision, make_engine, migrate
from streamwise.store.db import MIGRATIONS
from streamwise.workspace import Workspace


def _alembic(engine: Engine, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated operational database; emptied afterwards (the PostgreSQL one is shared)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    eng = make_engine(url)
    migrate(eng)
    yield eng
    _alembic(eng, "downgrade", "base")
    eng.dispose()


def test_migration_0003_creates_the_table(engine: Engine) -> None:
    assert int(head_revision()) >= 3
    insp = inspect(engine)
    assert "suppressions" in insp.get_table_names()
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("suppressions")}
    assert ("channel", "address") in uniques
    with engine.connect() as con:  # the model and the migration agree
        assert compare_metadata(MigrationContext.configure(con), Base.metadata) == []
    _alembic(engine, "downgrade", "0002")
    assert "suppressions" not in inspect(engine).get_table_names()
    with pytest.raises(WorkspaceError, match="no suppression list"):
        suppressed(engine, "email")
    migrate(engine)
    assert suppressed(engine, "email").empty


def test_suppress_is_normalised_and_idempotent(engine: Engine) -> None:
    before = datetime.now(UTC)
    first = suppress(engine, "Email", "  Ann@Example.COM ", "manual", source="admin")
    again = suppress(engine, "email", "ann@example.com", "manual", customer_id="c1")
    assert first.address == again.address == "ann@example.com"
    assert first.channel == "email"
    assert again.created_at == first.created_at
    assert again.customer_id == "c1"  # filled in, since it was missing
    assert again.source == "admin"
    assert first.created_at.tzinfo is not None
    assert first.created_at >= before.replace(microsecond=0)
    frame = suppressed(engine, "email")
    assert list(frame.columns) == [
        "channel",
        "address",
        "customer_id",
        "reason",
        "source",
        "created_at",
    ]
    assert frame[["address", "customer_id", "reason"]].values.tolist() == [
        ["ann@example.com", "c1", "manual"]
    ]
    assert suppressed(engine, "webhook").empty  # per channel
    assert first.to_dict()["created_at"] == first.created_at.isoformat()


def test_stronger_reason_wins_and_only_manual_is_lifted(engine: Engine) -> None:
    suppress(engine, "email", "bo@example.com", "manual")
    assert suppress(engine, "email", "bo@example.com", "unsubscribe").reason == "unsubscribe"
    assert suppress(engine, "email", "bo@example.com", "manual").reason == "unsubscribe"
    assert suppress(engine, "email", "bo@example.com", "complaint").reason == "complaint"
    with pytest.raises(ConfigError, match="only manual suppressions can be lifted"):
        unsuppress(engine, "email", "BO@example.com")
    suppress(engine, "email", "cy@example.com", "manual")
    assert unsuppress(engine, "email", "cy@example.com") is True
    assert unsuppress(engine, "email", "cy@example.com") is False
    assert list(suppressed(engine, "email")["address"]) == ["bo@example.com"]


def test_bad_input_is_refused(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="unknown suppression reason 'spam'"):
        suppress(engine, "email", "a@example.com", "spam")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="empty"):
        suppress(engine, "email", "   ", "manual")
    with pytest.raises(ConfigError, match="needs a channel"):
        suppress(engine, " ", "a@example.com", "manual")
    evil = "x'); DROP TABLE suppressions; --"
    assert suppress(engine, "email", evil, "manual").address == evil.lower()
    assert list(suppressed(engine, "email")["address"]) == [evil.lower()]


def test_concurrent_suppress_of_one_address_makes_one_row(engine: Engine) -> None:
    errors: list[BaseException] = []

    def add(reason: str) -> None:
        try:
            suppress(engine, "email", "race@example.com", reason)  # type: ignore[arg-type]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=add, args=("manual" if i % 2 else "hard_bounce",)) for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as con:
        rows = con.execute(text("SELECT reason FROM suppressions")).scalars().all()
    assert rows == ["hard_bounce"]


def test_rules_read_the_store(engine: Engine) -> None:
    import pandas as pd

    suppress(engine, "email", "a@example.com", "hard_bounce")
    suppress(engine, "email", "other@example.com", "unsubscribe", customer_id="b")
    members = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "email": ["A@example.com", "b@example.com", "c@example.com"],
            "email_consent": [True, True, True],
        }
    )
    result = apply_rules(
        members, channel="email", suppressed=suppressed(engine, "email"),
        recent_sends=None, cap=None, at=datetime.now(UTC),
    )  # fmt: skip
    assert result.report == {"suppressed: unsubscribed": 1, "suppressed: hard bounce": 1}
    assert list(result.kept["customer_id"]) == ["c"]


def test_workspace_is_accepted(workspace: Workspace) -> None:
    suppress(workspace, "email", "w@example.com", "unsubscribe")
    assert list(suppressed(workspace, "email")["reason"]) == ["unsubscribe"]
