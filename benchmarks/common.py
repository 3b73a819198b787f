"""What the benchmark scripts share: running one side in its own process and measuring it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run", "venv_python"]

VENVS = Path(__file__).resolve().parent / ".venvs"


def venv_python(name: str, packages: list[str]) -> str:
    """The Python of a peer's own virtual environment ``.venvs/NAME``, created with ``packages``
    on first use, so that a peer runs with the versions it is compared at."""
    python = VENVS / name / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENVS / name)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return str(python)


def run(python: str, code: str, *args: Path | str) -> dict:
    """Run ``code`` with ``python -c`` in its own process (``args`` as its arguments); return the
    JSON object on its last output line, with ``peak_mib``, the process's peak resident memory."""
    command = [python, "-c", code, *map(str, args)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"benchmark child ({python}) failed with status {status}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024
    return result
