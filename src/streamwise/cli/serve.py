"""``streamwise serve`` and ``streamwise keys create|list|revoke``."""

from __future__ import annotations

import copy
import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, stderr
from streamwise.errors import ConfigError
from streamwise.web.auth import SCOPES, create_key, list_keys, revoke_key

__all__ = ["keys_app", "log_config", "register", "serve"]

keys_app = typer.Typer(
    help="API keys of the server: create one (shown once, stored hashed), list them, revoke "
    "one. Scopes: **ingest** (send events), **read** (campaigns, audiences, plans, results), "
    "**admin** (everything, including changes).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
#: How long a worker may take to answer the supervisor's health check before it is restarted.
WORKER_HEALTHCHECK_SECONDS = 60


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only accepts connections from this machine."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus the ``streamwise`` loggers (the request log) at
    ``level``, on uvicorn's console handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["streamwise"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def serve(
    workspace: WorkspaceOpt = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65_535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (each with its own connections).")
    ] = 1,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="Allow a non-loopback --host (e.g. 0.0.0.0). Without TLS in front, API keys "
            "and tracking tokens cross the network in clear.",
        ),
    ] = False,
    log_level: Annotated[
        str, typer.Option(help="Least severe level logged: " + ", ".join(LOG_LEVELS) + ".")
    ] = "info",
) -> None:
    """Run the server: tracking links (opens, clicks, unsubscribes), event ingestion and the
    REST API (see docs/server.md). It listens on 127.0.0.1 unless --public; put a TLS reverse
    proxy (Caddy, nginx) in front of it for the Internet."""
    import uvicorn

    if log_level not in LOG_LEVELS:
        raise ConfigError(f"unknown --log-level {log_level!r}; use one of {', '.join(LOG_LEVELS)}")
    if not is_loopback(host) and not public:
        raise ConfigError(
            f"--host {host} would accept connections from other machines over plain HTTP; "
            "serve on 127.0.0.1 behind a TLS reverse proxy, or pass --public to do it anyway"
        )
    with open_workspace(workspace) as ws:
        root = ws.root
        keys = [k for k in list_keys(ws.operational()) if k.revoked_at is None]
        operational = ws.settings.operational
    if not keys:
        stderr.print(
            "[yellow]No API key yet:[/] only tracking links and /healthz answer. Create one "
            "with `streamwise keys create NAME --scope admin`."
        )
    if workers > 1 and operational.startswith("sqlite"):
        stderr.print(
            f"[yellow]{workers} workers share one SQLite file;[/] writes queue behind each "
            'other. Use PostgreSQL (operational = "postgresql://…") for a busy server.'
        )
    os.environ["STREAMWISE_WORKSPACE"] = str(root)
    scheme = "http"
    stderr.print(
        f"Serving {escape(str(root))} on {scheme}://{escape(host)}:{port} with {workers} "
        f"worker(s); API docs at /docs. Ctrl+C stops it."
    )
    uvicorn.run(
        "streamwise.web.main:app_from_env", factory=True, host=host, port=port,
        workers=workers, access_log=False, log_config=log_config(log_level),
        log_level=log_level, server_header=False, lifespan="on",
        # A new worker first imports this command's module (multiprocessing's spawn), which takes
        # seconds on a busy machine; uvicorn's default 5 s would kill and restart it in a loop.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )  # fmt: skip


@keys_app.command("create")
@errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key (e.g. 'shop backend').")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            "-s",
            help=f"{', '.join(SCOPES)}; repeat for several (admin includes the others).",
        ),
    ],
    workspace: WorkspaceOpt = Path("."),
    rate_limit: Annotated[
        float,
        typer.Option(min=0, help="Requests per second for this key (0: the server's rate_limit)."),
    ] = 0.0,
) -> None:
    """Create an API key and print it once: only its SHA-256 is stored, so copy it now. The
    key alone goes to stdout (`KEY=$(streamwise keys create ...)` works)."""
    if not name.strip() or len(name) > 200:
        raise ConfigError("give the key a name of 1 to 200 characters, e.g. 'shop backend'")
    with open_workspace(workspace) as ws:
        row, key = create_key(ws.operational(), name.strip(), scope, rate_limit=rate_limit)
    typer.echo(key)
    limit = f"{row.rate_limit:g}/s" if row.rate_limit else "the server's default rate"
    stderr.print(
        f"Created key sw_{row.prefix}_… [bold]{escape(row.name)}[/] (scopes {row.scopes}; "
        f"{limit}).\n[bold yellow]Copy it now: it is not stored and cannot be shown again.[/] "
        f"Revoke it with `streamwise keys revoke {row.prefix}`."
    )


@keys_app.command("list")
@errors
def keys_list(workspace: WorkspaceOpt = Path(".")) -> None:
    """Every key with its prefix, name, scopes, rate limit, creation and revocation time (the
    keys themselves are not stored)."""
    with open_workspace(workspace) as ws:
        rows = list_keys(ws.operational())
    if not rows:
        console.print("No API keys. Create one with `streamwise keys create NAME --scope read`.")
        return
    table = Table(title="API keys", title_justify="left")
    for col in ("prefix", "name", "scopes", "rate limit", "created", "revoked"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            f"sw_{r.prefix}_…", escape(r.name), r.scopes,
            f"{r.rate_limit:g}/s" if r.rate_limit else "default",
            f"{r.created_at:%Y-%m-%d %H:%M}",
            f"{r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "",
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
@errors
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (from `keys list`) or the key.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Revoke a key: the server refuses it within a few seconds (its cache); the row stays so
    that logs remain explainable."""
    with open_workspace(workspace) as ws:
        row = revoke_key(ws.operational(), prefix)
    console.print(f"Key sw_{row.prefix}_… [bold]{escape(row.name)}[/] is revoked.")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``keys`` and ``users`` groups to the ``streamwise`` command."""
    from streamwise.cli.users import users_app

    app.command("serve")(errors(serve))
    app.add_typer(keys_app, name="keys")
    app.add_typer(users_app, name="users")
