"""Team accounts: users with roles, Argon2id passwords, browser sessions, CSRF, the audit log.

Roles and what each may do (checked on every route of the dashboard, :data:`PERMISSIONS`):

============  =====================================================================
role          may
============  =====================================================================
``product``   read everything, comment, edit the plan, re-run analyses
``sales``     read everything, comment
``marketing`` read everything, comment, edit the plan, re-run analyses, import data,
              create, edit and send campaigns
``admin``     all of the above, manage users and API keys
============  =====================================================================

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
setting); a wrong password, an unknown user and a disabled user take the same time and give the
same answer. Ten failed logins in a row lock the account for 15 minutes.

A session is a random 256-bit token in an ``HttpOnly``, ``SameSite=Lax`` cookie; the database
keeps only its SHA-256 (a stolen database opens no session). The CSRF token of a session is the
HMAC-SHA-256 of the session token under the workspace's secret key (synchroniser token, OWASP):
every form carries it and every state-changing request must send it back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from streamwise.errors import DataError
from streamwise.store.models import AuditEntry, User, WebSession

__all__ = [
    "LOCK_AFTER",
    "LOCK_MINUTES",
    "MIN_PASSWORD",
    "PERMISSIONS",
    "ROLES",
    "SESSION_HOURS",
    "Account",
    "Role",
    "allowed",
    "audit",
    "authenticate",
    "create_user",
    "csrf_token",
    "disable_user",
    "end_session",
    "list_users",
    "session_account",
    "set_password",
    "set_role",
    "start_session",
    "verify_csrf",
]

Role = Literal["product", "sales", "marketing", "admin"]
ROLES: tuple[str, ...] = get_args(Role)

#: permission -> the roles that have it
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "comment": frozenset(ROLES),
    "plan.edit": frozenset({"product", "marketing", "admin"}),
    "analysis.run": frozenset({"product", "marketing", "admin"}),
    "data.import": frozenset({"marketing", "admin"}),
    "campaign.edit": frozenset({"marketing", "admin"}),
    "campaign.send": frozenset({"marketing", "admin"}),
    "users.manage": frozenset({"admin"}),
    "keys.manage": frozenset({"admin"}),
}

MIN_PASSWORD = 10
LOCK_AFTER = 10
LOCK_MINUTES = 15
SESSION_HOURS = 12

_HASHER = PasswordHasher()
# verified against when the user does not exist, so that the answer takes as long
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in (or listed) user: id, user name, display name and role."""

    id: int
    username: str
    display_name: str
    role: str
    disabled: bool = False

    def can(self, permission: str) -> bool:
        """Whether this user's role has ``permission`` (see :data:`PERMISSIONS`)."""
        return allowed(self.role, permission)

    @property
    def name(self) -> str:
        """The display name, or the user name when there is none."""
        return self.display_name or self.username


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission``; an unknown permission is refused to everyone."""
    return role in PERMISSIONS.get(permission, frozenset())


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(when: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes for timezone-aware columns; they were stored in UTC
    if when is not None and when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when


def _account(user: User) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        disabled=user.disabled_at is not None,
    )


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise DataError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    return role


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise DataError(
            f"the password is too short ({len(password)} characters); use at least "
            f"{MIN_PASSWORD}, e.g. a few unrelated words"
        )
    return password


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit(session: Session, actor: str, action: str, target: str = "", **detail: Any) -> None:
    """Add a row to the audit log in ``session`` (committed with the change it records)."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))


def create_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    actor: str = "cli",
) -> Account:
    """Add a user; raises :class:`DataError` for a taken name, a bad role or a short password."""
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise DataError("a user name is 1 to 100 characters without spaces")
    _check_role(role)
    hashed = _HASHER.hash(_check_password(password))
    with Session(engine) as session, session.begin():
        taken = session.scalar(select(User.id).where(User.username == username))
        if taken is not None:
            raise DataError(f"user {username!r} exists already; pick another name")
        user = User(username=username, display_name=display_name, role=role, password_hash=hashed)
        session.add(user)
        session.flush()
        audit(session, actor, "user.create", username, role=role)
        return _account(user)


def list_users(engine: Engine) -> list[Account]:
    """Every user, by user name."""
    with Session(engine) as session:
        return [_account(u) for u in session.scalars(select(User).order_by(User.username))]


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise DataError(f"no user {username!r}; list them with: streamwise users list")
    return user


def set_role(engine: Engine, username: str, role: str, *, actor: str = "cli") -> Account:
    """Change a user's role."""
    _check_role(role)
    with Session(engine) as session, session.begin():
        user = _user(session, username)
        before, user.role = user.role, role
        audit(session, actor, "user.role", username, before=before, after=role)
        return _account(user)


def set_password(engine: Engine, username: str, password: str, *, actor: str = "cli") -> None:
    """Set a new password; ends the user's sessions and clears a lock."""
    hashed = _HASHER.hash(_check_password(password))
    with Session(engine) as session, session.begin():
        user = _user(session, username)
        user.password_hash, user.failed_logins, user.locked_until = hashed, 0, None
        session.execute(
            update(WebSession)
            .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        audit(session, actor, "user.password", username)


def disable_user(engine: Engine, username: str, *, actor: str = "cli") -> None:
    """Disable a user (kept for the audit log) and end their sessions."""
    with Session(engine) as session, session.begin():
        user = _user(session, username)
        user.disabled_at = user.disabled_at or _now()
        session.execute(
            update(WebSession)
            .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        audit(session, actor, "user.disable", username)


def authenticate(engine: Engine, username: str, password: str) -> Account | None:
    """The account for a correct user name and password, else ``None`` (same time either way).

    Failed attempts are counted; after :data:`LOCK_AFTER` in a row the account is locked for
    :data:`LOCK_MINUTES` minutes, during which even the right password is refused.
    """
    with Session(engine) as session, session.begin():
        user = session.scalar(select(User).where(User.username == username.strip()))
        stored = user.password_hash if user is not None else _DUMMY_HASH
        try:
            ok = _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if user is None:
            return None
        now = _now()
        locked = _aware(user.locked_until)
        if user.disabled_at is not None or (locked is not None and locked > now):
            audit(session, username, "login.refused", username, reason="disabled or locked")
            return None
        if not ok:
            user.failed_logins += 1
            if user.failed_logins >= LOCK_AFTER:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
                audit(session, username, "login.locked", username)
            return None
        user.failed_logins, user.locked_until = 0, None
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = _HASHER.hash(password)
        audit(session, username, "login", username)
        return _account(user)


def start_session(engine: Engine, account: Account, *, hours: float = SESSION_HOURS) -> str:
    """A new session for ``account``: returns the token for the cookie (stored only hashed)."""
    token = secrets.token_urlsafe(32)
    with Session(engine) as session, session.begin():
        session.add(
            WebSession(
                token_hash=_hash_token(token),
                user_id=account.id,
                expires_at=_now() + timedelta(hours=hours),
            )
        )
    return token


def session_account(engine: Engine, token: str | None) -> Account | None:
    """The account of a live session token, or ``None`` (unknown, expired, ended, disabled)."""
    if not token:
        return None
    with Session(engine) as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == _hash_token(token))
        ).first()
        if row is None:
            return None
        web, user = row
        expires = _aware(web.expires_at)
        if web.revoked_at is not None or expires is None or expires <= _now():
            return None
        if user.disabled_at is not None:
            return None
        return _account(user)


def end_session(engine: Engine, token: str | None, *, actor: str = "") -> None:
    """End a session (sign out); unknown tokens are ignored."""
    if not token:
        return
    with Session(engine) as session, session.begin():
        session.execute(
            update(WebSession)
            .where(WebSession.token_hash == _hash_token(token), WebSession.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        if actor:
            audit(session, actor, "logout", actor)


def csrf_token(secret: str, session_token: str) -> str:
    """The CSRF token of a session: HMAC-SHA-256 of its token under the workspace secret."""
    mac = hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
    return mac.hexdigest()


def verify_csrf(secret: str, session_token: str | None, sent: str | None) -> bool:
    """Whether ``sent`` is the CSRF token of the session (constant-time comparison)."""
    if not session_token or not sent:
        return False
    return hmac.compare_digest(csrf_token(secret, session_token), sent)
