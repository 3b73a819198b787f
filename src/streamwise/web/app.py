"""The FastAPI application: tracking endpoints, Segment-style ingestion and the REST API.

``create_app(workspace)`` builds it; ``streamwise serve`` runs it under uvicorn. The app holds
the workspace's operational engine, the group-commit event writer (started and stopped with the
app), the API-key cache and the per-key rate limiter in ``app.state``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from streamwise import __version__
from streamwise.downstream.tracking.privacy import Scrubber
from streamwise.web.auth import RateLimiter, _KeyCache
from streamwise.web.limits import BodyLimit
from streamwise.web.logging import RequestLog
from streamwise.web.pages.routes import install_pages
from streamwise.web.problems import install_problem_handlers

__all__ = ["create_app"]

log = logging.getLogger("streamwise.web")

# Routers, each a module with a ``router`` (APIRouter), included in this order.
_ROUTERS = (
    "streamwise.web.api.email",
    "streamwise.web.api.ingest",
    "streamwise.web.api.campaigns",
    "streamwise.web.api.audiences",
    "streamwise.web.api.plans",
    "streamwise.web.api.results",
)


def create_app(
    workspace: Any, *, writer_options: dict[str, Any] | None = None, warm_pages: bool = False
) -> FastAPI:
    """The server for ``workspace`` (a :class:`~streamwise.workspace.Workspace` or its folder).

    Parameters
    ----------
    workspace
        The workspace whose operational database receives events and whose settings apply.
    writer_options
        Passed to :class:`~streamwise.downstream.tracking.writer.EventWriter` (``max_batch``,
        ``max_wait``).
    warm_pages
        Render the dashboard's slow pages (the plan, the upstream parts) in a background thread
        right away, so that no first visitor waits for their charts (``streamwise serve``).
    """
    import functools
    import importlib

    from streamwise.downstream.tracking.engagement import attribute_conversions
    from streamwise.downstream.tracking.writer import EventWriter
    from streamwise.workspace import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(Path(workspace))
    settings = ws.settings
    engine = ws.operational()
    secret = settings.secret_key.get_secret_value()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Conversions are credited to campaigns in the transaction that stores them.
        credit = functools.partial(
            attribute_conversions,
            conversion_events=settings.conversion_events,
            attribution_days=settings.attribution_days,
        )
        writer = EventWriter(engine, **{"on_batch": credit, **(writer_options or {})})
        writer.start()
        app.state.writer = writer
        try:
            yield
        finally:
            writer.stop()

    app = FastAPI(
        title="Streamwise",
        version=__version__,
        summary="Tracking (opens, clicks, unsubscribes, conversions), event ingestion and the "
        "marketing API of a Streamwise workspace.",
        lifespan=lifespan,
    )
    app.state.workspace = ws
    app.state.settings = settings
    app.state.engine = engine
    app.state.secret = secret
    app.state.scrub = Scrubber(settings.pii, secret)
    app.state.keys = _KeyCache(engine)
    app.state.limiter = RateLimiter(settings.rate_limit)
    install_problem_handlers(app)
    for name in _ROUTERS:
        app.include_router(importlib.import_module(name).router)
    install_pages(app, warm=warm_pages)  # the team dashboard: /login, /app/...

    @app.get("/healthz", tags=["server"], summary="Liveness: answers 200 while the server runs.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # The last added is the outermost: the request log sees every answer (413s included), and
    # CORS headers go on every answer to an allowed origin, so its page can read the problem.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(RequestLog)
    return app
