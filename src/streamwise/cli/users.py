"""``streamwise users add|list|role|password|disable``: the team accounts of the dashboard."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, stderr
from streamwise.errors import ConfigError
from streamwise.web.pages.accounts import (
    MIN_PASSWORD,
    PERMISSIONS,
    ROLES,
    create_user,
    disable_user,
    list_users,
    set_password,
    set_role,
)

__all__ = ["users_app"]

_ROLE_HELP = (
    "product, sales, marketing or admin. product: read, comment, edit the plan; sales: read, "
    "comment; marketing: also import data and create, edit and send campaigns; admin: "
    "everything, including users and API keys."
)

users_app = typer.Typer(
    help="Team accounts of the dashboard (`streamwise serve`, /app): add users with a role, "
    f"list them, change a role or a password, disable one. Roles: {_ROLE_HELP}",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input (for scripts) instead of asking for it; "
        "STREAMWISE_PASSWORD works too.",
    ),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    env = os.environ.get("STREAMWISE_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise ConfigError(
            "no password given: pass --password-stdin and write it to standard input, or set "
            "STREAMWISE_PASSWORD"
        )
    return str(
        typer.prompt(
            f"Password ({MIN_PASSWORD}+ characters)", hide_input=True, confirmation_prompt=True
        )
    )


@users_app.command("add")
@errors
def add(
    username: Annotated[str, typer.Argument(help="The user name to sign in with (no spaces).")],
    role: Annotated[str, typer.Option("--role", "-r", help=_ROLE_HELP)],
    workspace: WorkspaceOpt = Path("."),
    name: Annotated[str, typer.Option("--name", help="The person's name, as shown.")] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user. The password is asked for (twice) and stored only as an Argon2id hash."""
    password = _password(password_stdin)
    with open_workspace(workspace) as ws:
        account = create_user(ws.operational(), username, password, role, display_name=name)
    console.print(
        f"Added [bold]{escape(account.username)}[/] ({account.role}). They sign in at /login "
        "on `streamwise serve`."
    )


@users_app.command("list")
@errors
def list_(workspace: WorkspaceOpt = Path(".")) -> None:
    """List users, their roles and what each role may do."""
    with open_workspace(workspace) as ws:
        accounts = list_users(ws.operational())
    if not accounts:
        stderr.print("No users yet; add one with `streamwise users add NAME --role admin`.")
        return
    table = Table("user", "name", "role", "status", title="Users")
    for a in accounts:
        table.add_row(a.username, a.display_name, a.role, "disabled" if a.disabled else "active")
    console.print(table)
    rights = Table("role", "may", title="Roles")
    for role in ROLES:
        rights.add_row(role, ", ".join(p for p, roles in PERMISSIONS.items() if role in roles))
    console.print(rights)


@users_app.command("role")
@errors
def role(
    username: Annotated[str, typer.Argument(help="The user.")],
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help=_ROLE_HELP)],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Change a user's role (recorded in the audit log)."""
    with open_workspace(workspace) as ws:
        account = set_role(ws.operational(), username, new_role)
    console.print(f"{escape(account.username)} is now {account.role}.")


@users_app.command("password")
@errors
def password(
    username: Annotated[str, typer.Argument(help="The user.")],
    workspace: WorkspaceOpt = Path("."),
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password; signs the user out everywhere and clears a lock."""
    new = _password(password_stdin)
    with open_workspace(workspace) as ws:
        set_password(ws.operational(), username, new)
    console.print(f"New password set for {escape(username)}; their sessions have ended.")


@users_app.command("disable")
@errors
def disable(
    username: Annotated[str, typer.Argument(help="The user.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Disable a user: they can no longer sign in, their sessions end (the row stays for the
    audit log)."""
    with open_workspace(workspace) as ws:
        disable_user(ws.operational(), username)
    console.print(f"Disabled {escape(username)}.")
