"""Accounts: Argon2id hashes, roles and permissions, lockout, sessions, CSRF tokens, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.errors import DataError
from streamwise.store.models import AuditEntry, User
from streamwise.web.pages import accounts as acc
from streamwise.workspace import Workspace


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    ws = Workspace.init(tmp_path / "ws", company="Test Co", brand="Testbrand")
    ws.upgrade()
    yield ws.operational()
    ws.close()


def test_password_is_stored_as_argon2id_only(engine) -> None:  # type: ignore[no-untyped-def]
    acc.create_user(engine, "ann", "a long enough secret", "marketing")
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.username == "ann"))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough secret" not in user.password_hash


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("bob", "short", "sales", "too short"),
        ("bob", "long enough password", "boss", "unknown role"),
        ("two words", "long enough password", "sales", "without spaces"),
    ],
)
def test_bad_users_are_refused_with_the_reason(  # type: ignore[no-untyped-def]
    engine, name: str, password: str, role: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        acc.create_user(engine, name, password, role)
    assert acc.list_users(engine) == []


def test_a_taken_name_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    acc.create_user(engine, "ann", "a long enough secret", "sales")
    with pytest.raises(DataError, match="exists already"):
        acc.create_user(engine, "ann", "another long secret", "admin")


def test_permissions_by_role() -> None:
    assert acc.allowed("marketing", "campaign.send")
    assert acc.allowed("admin", "campaign.send")
    assert not acc.allowed("sales", "campaign.send")
    assert not acc.allowed("product", "campaign.send")
    assert all(acc.allowed(role, "read") and acc.allowed(role, "comment") for role in acc.ROLES)
    assert [r for r in acc.ROLES if acc.allowed(r, "users.manage")] == ["admin"]
    assert all(acc.allowed("admin", p) for p in acc.PERMISSIONS)
    assert not acc.allowed("admin", "no.such.permission")


def test_authenticate_and_lock_out(engine) -> None:  # type: ignore[no-untyped-def]
    acc.create_user(engine, "ann", "a long enough secret", "sales")
    assert acc.authenticate(engine, "ann", "a long enough secret") is not None
    assert acc.authenticate(engine, "ann", "wrong") is None
    assert acc.authenticate(engine, "nobody", "a long enough secret") is None
    for _ in range(acc.LOCK_AFTER - 1):
        assert acc.authenticate(engine, "ann", "wrong") is None
    # the tenth failure in a row locks: now even the right password is refused
    assert acc.authenticate(engine, "ann", "a long enough secret") is None
    acc.set_password(engine, "ann", "a brand new secret")
    assert acc.authenticate(engine, "ann", "a brand new secret") is not None
    with Session(engine) as s:
        actions = s.scalars(select(AuditEntry.action)).all()
    assert "login.locked" in actions
    assert "login.refused" in actions
    assert actions.count("login") == 2
    assert "user.password" in actions


def test_sessions_end_on_logout_expiry_password_and_disable(engine) -> None:  # type: ignore[no-untyped-def]
    account = acc.create_user(engine, "ann", "a long enough secret", "product")
    token = acc.start_session(engine, account)
    assert acc.session_account(engine, token) == account
    assert acc.session_account(engine, token + "x") is None
    acc.end_session(engine, token, actor="ann")
    assert acc.session_account(engine, token) is None
    expired = acc.start_session(engine, account, hours=-1)
    assert acc.session_account(engine, expired) is None
    live = acc.start_session(engine, account)
    acc.set_password(engine, "ann", "another long secret")
    assert acc.session_account(engine, live) is None
    live = acc.start_session(engine, account)
    acc.disable_user(engine, "ann")
    assert acc.session_account(engine, live) is None
    assert acc.authenticate(engine, "ann", "another long secret") is None


def test_session_tokens_are_stored_hashed(engine) -> None:  # type: ignore[no-untyped-def]
    account = acc.create_user(engine, "ann", "a long enough secret", "product")
    token = acc.start_session(engine, account)
    with engine.connect() as con:
        stored = [r[0] for r in con.exec_driver_sql("SELECT token_hash FROM web_sessions")]
    assert stored
    assert token not in stored


def test_csrf_token_is_bound_to_session_and_secret() -> None:
    token = acc.csrf_token("secret", "session-a")
    assert acc.verify_csrf("secret", "session-a", token)
    assert not acc.verify_csrf("secret", "session-b", token)
    assert not acc.verify_csrf("other", "session-a", token)
    assert not acc.verify_csrf("secret", "session-a", None)
    assert not acc.verify_csrf("secret", None, token)


def test_role_change_is_audited(engine) -> None:  # type: ignore[no-untyped-def]
    acc.create_user(engine, "ann", "a long enough secret", "sales")
    assert acc.set_role(engine, "ann", "marketing").role == "marketing"
    with Session(engine) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.role")).one()
    assert entry.detail == {"before": "sales", "after": "marketing"}
    assert entry.target == "ann"
    with pytest.raises(DataError, match="no user"):
        acc.set_role(engine, "nobody", "sales")
