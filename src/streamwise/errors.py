"""One hierarchy of errors; every message says what was wrong and what to do next."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "DeliveryError",
    "ModelError",
    "StreamwiseError",
    "WorkspaceError",
]


class StreamwiseError(Exception):
    """Base class of every error Streamwise raises on purpose."""


class ConfigError(StreamwiseError):
    """A setting is missing, malformed or unsafe."""


class WorkspaceError(StreamwiseError):
    """The workspace folder is missing, incomplete or not a Streamwise workspace."""


class DataError(StreamwiseError):
    """Input data is unreadable or violates its contract.

    Parameters
    ----------
    message
        What was wrong and what to do about it.
    source
        The file or table the data came from.
    row
        1-based data row (the header is not counted), when one row is at fault.
    column
        The column at fault, when one is.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.source = source
        self.row = row
        self.column = column
        where = ", ".join(
            part
            for part in (
                f"{source}" if source else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message


class ModelError(StreamwiseError):
    """A model could not be fitted or used (non-convergence, too little data, ...)."""


class DeliveryError(StreamwiseError):
    """A message could not be delivered on a channel."""
