"""Cross-check against ChannelAttribution 2.2.5 (Altomare & Loris), the reference implementation
of Markov attribution, on a moderate set of synthetic paths, orders 1 to 3.

ChannelAttribution is GPL and builds from source with a C++ compiler, so it is not a dependency:
it runs in its own virtual environment (``benchmarks/.venvs/channelattribution``, created here
when missing, as ``benchmarks/attribution.py`` does). Its ``removal_effects`` are the share of
simulated conversions whose random walk visits a state containing the channel, not normalised,
the same quantity as our exact ``1 - P(conv | c removed) / P(conv)``. Two settings make it
comparable: ``max_step=1000`` (by default walks longer than the longest observed path count as
neither conversion nor null, a bias when the chain has loops) and ``nsim_start=4e6`` (it reports
the one of its 10 folds nearest the median, 4e5 walks, about 6e4 simulated conversions here: a
standard error of at most 0.5 / sqrt(6e4) = 0.002 on a removal effect). The tolerance 0.015 is
over 6 standard errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from streamwise.measure.attribution import markov_removal_effects

VENV = Path(__file__).resolve().parents[3] / "benchmarks" / ".venvs" / "channelattribution"
PACKAGES = ["channelattribution==2.2.5", "matplotlib", "pandas", "numpy", "pyarrow"]

PEER = r"""
import contextlib, io, json, sys
import pandas as pd
with contextlib.redirect_stdout(io.StringIO()):
    from ChannelAttribution import markov_model
paths = pd.read_csv(sys.argv[1])
out = {}
for k in (1, 2, 3):
    with contextlib.redirect_stdout(io.StringIO()):
        r = markov_model(paths, "path", "conversions", var_null="nulls", order=k, out_more=True,
                         nsim_start=4e6, max_step=1000, verbose=False, flg_pro=False, seed=1)
    re = r["removal_effects"]
    out[k] = dict(zip(re["channel_name"], re.iloc[:, 1].astype(float)))
print(json.dumps(out))
"""


def _python() -> str:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        proc = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PACKAGES],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            pytest.skip(f"channelattribution did not install: {proc.stderr.strip()[-800:]}")
    return str(python)


def _paths(n: int, seed: int) -> pd.DataFrame:
    """Journeys over 5 channels with first-order structure and noisy-OR conversion."""
    rng = np.random.default_rng(seed)
    names = np.array(["display", "email", "search", "social", "video"], dtype=object)
    trans = rng.dirichlet(np.ones(5), size=5)
    effects = np.array([0.03, 0.06, 0.10, 0.04, 0.05])
    length = np.minimum(rng.geometric(0.45, n), 8)
    cur = rng.integers(0, 5, n)
    chans = np.full((n, 8), -1)
    miss = np.ones(n)
    for pos in range(8):
        on = pos < length
        chans[on, pos] = cur[on]
        miss[on] *= 1 - effects[cur[on]]
        cur = np.minimum((rng.random(n)[:, None] > np.cumsum(trans, 1)[cur]).sum(1), 4)
    conv = rng.random(n) < 1 - 0.98 * miss
    text = [" > ".join(names[row[row >= 0]]) for row in chans]
    frame = pd.DataFrame({"path": text, "conv": conv})
    agg = frame.groupby("path").conv.agg(["sum", "count"]).reset_index()
    return pd.DataFrame(
        {"path": agg["path"], "conversions": agg["sum"], "nulls": agg["count"] - agg["sum"]}
    )


@pytest.mark.slow
def test_exact_removal_effects_agree_with_channelattribution(tmp_path: Path) -> None:
    paths = _paths(100_000, seed=11)
    data = tmp_path / "paths.csv"
    paths.to_csv(data, index=False)
    proc = subprocess.run(
        [_python(), "-c", PEER, str(data)], capture_output=True, text=True, check=True
    )
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    for k in (1, 2, 3):
        ours = markov_removal_effects(paths, order=k)
        assert set(ours) == set(theirs[str(k)])
        assert ours == pytest.approx(theirs[str(k)], abs=0.015), k
