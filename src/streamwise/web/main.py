"""The app factory for uvicorn workers: ``uvicorn --factory streamwise.web.main:app_from_env``.

``streamwise serve --workers N`` starts N worker processes; each builds its own app (its own
database connections, event writer and rate limiter) by calling :func:`app_from_env`, which
reads the workspace folder from ``STREAMWISE_WORKSPACE``.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from streamwise.errors import WorkspaceError
from streamwise.web.app import create_app

__all__ = ["WORKSPACE_ENV", "app_from_env"]

#: The environment variable naming the workspace folder.
WORKSPACE_ENV = "STREAMWISE_WORKSPACE"


def app_from_env() -> FastAPI:
    """The server app of the workspace named by ``STREAMWISE_WORKSPACE``.

    Raises
    ------
    WorkspaceError
        When the variable is unset or does not name a workspace.
    """
    folder = os.environ.get(WORKSPACE_ENV, "").strip()
    if not folder:
        raise WorkspaceError(
            f"{WORKSPACE_ENV} is not set; set it to the workspace folder (streamwise serve "
            "does this for its workers)"
        )
    return create_app(Path(folder), warm_pages=True)
