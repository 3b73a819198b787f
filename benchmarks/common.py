"""What the benchmark scripts share: running one side in its own process and measuring it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

__all__ = ["run"]


def run(python: str, code: str, arg: Path | str) -> dict:
    """Run ``code`` with ``python -c`` in its own process (``arg`` as its argument); return the
    JSON object on its last output line, with ``peak_mib``, the process's peak resident memory."""
    proc = subprocess.Popen([python, "-c", code, str(arg)], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"benchmark child ({python}) failed with status {status}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024
    return result
