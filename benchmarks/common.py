"""What the benchmark scripts share: running one side in its own process and measuring it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["best_of", "run", "venv_python"]

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


def best_of(sides: dict[str, tuple[str, str]], repeat: int, *args: Path | str) -> dict[str, dict]:
    """Run every side (``name: (python, code)``) ``repeat`` times, taking turns, each run in its
    own process; return each side's fastest run, with ``runs`` (every run's seconds) and
    ``peak_mib`` the largest peak of its runs.

    The shared machine's other work makes single runs vary by up to 2x; taking turns lets a
    slow spell fall on both sides, and the best of several runs is what each side can do (as
    ``timeit`` reports).
    """
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    for _ in range(max(repeat, 1)):
        for name, (python, code) in sides.items():
            runs[name].append(run(python, code, *args))
    best = {}
    for name, results in runs.items():
        fastest = dict(min(results, key=lambda r: r["seconds"]))
        fastest["runs"] = [r["seconds"] for r in results]
        fastest["peak_mib"] = max(r["peak_mib"] for r in results)
        best[name] = fastest
    return best
