"""Streamwise: marketing as one loop, from research upstream to campaigns downstream and back."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("streamwise")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
