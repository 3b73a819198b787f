"""Benchmark: BG/NBD fit at 1M customers against lifetimes 0.11.3, and at 10M customers alone.

Goals (issue 3): at 1M customers at least 20x faster than ``lifetimes.BetaGeoFitter`` with the same
parameters to 1e-3 relative; at 10M customers under 5 s and under 2 GiB peak memory.

The data are simulated from the BG/NBD process itself (Fader, Hardie & Lee 2005) with the CDNOW
estimates as true parameters, over cohorts acquired during 78 weeks; recency and T are whole days
expressed in weeks, as real summaries are. Each side runs in its own process. lifetimes no longer
works with current pandas, so it runs in its own virtual environment (``benchmarks/.venvs/``,
created on first use with the versions pinned below). At 1M customers the two sides take turns
``--repeat`` times and each one's best time is shown, with every run's.
Usage: ``python benchmarks/bgnbd_fit.py [--customers 1000000] [--large 10000000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import best_of, run, venv_python

LIFETIMES = ["lifetimes==0.11.3", "pandas==1.5.3", "numpy==1.26.4", "scipy==1.11.4"]
TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

OURS = r"""
import json, sys, time
import numpy as np, pandas as pd
from streamwise.upstream.customers import BetaGeo
d = np.load(sys.argv[1])
frame = pd.DataFrame({"frequency": d["x"], "recency": d["t_x"], "T": d["T"]})
t = time.perf_counter()
m = BetaGeo().fit(frame)
print(json.dumps({"seconds": time.perf_counter() - t, "params": m.params_}))
"""

PEER = r"""
import json, sys, time
import numpy as np
from lifetimes import BetaGeoFitter
d = np.load(sys.argv[1])
t = time.perf_counter()
m = BetaGeoFitter().fit(d["x"], d["t_x"], d["T"])
print(json.dumps({"seconds": time.perf_counter() - t, "params": dict(m.params_)}))
"""


def simulate(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """BG/NBD customers: Poisson purchases while alive, dropout after each repeat purchase."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    p = rng.beta(TRUE["a"], TRUE["b"], n)
    T = rng.integers(1, 78 * 7 + 1, n) / 7.0
    repeats_until_death = rng.geometric(p)  # dies right after the k-th repeat purchase
    arrivals = rng.poisson(lam * T)
    x = np.minimum(repeats_until_death, arrivals)
    t_x = np.zeros(n)
    has = x > 0
    t_x[has] = T[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    t_x = np.minimum(np.floor(t_x * 7) / 7, T)  # whole days, as from real order dates
    return {"x": x.astype(float), "t_x": t_x, "T": T}


def lifetimes_python() -> str:
    """The Python of the lifetimes environment, created on first use."""
    return venv_python("lifetimes", LIFETIMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sw-bench-bgnbd-"))
    data = work / "small.npz"
    np.savez(data, **simulate(args.customers))
    best = best_of(
        {"ours": (sys.executable, OURS), "lifetimes": (lifetimes_python(), PEER)}, args.repeat, data
    )
    ours, peer = best["ours"], best["lifetimes"]
    worst = max(abs(ours["params"][k] - peer["params"][k]) / abs(peer["params"][k]) for k in TRUE)
    print(f"BG/NBD fit, {args.customers:,} customers (true {TRUE})")
    for name, r in (("streamwise", ours), ("lifetimes", peer)):
        shown = ", ".join(f"{k} {r['params'][k]:.4f}" for k in TRUE)
        every = ", ".join(f"{x:.2f}" for x in r["runs"])
        print(
            f"  {name:11}{r['seconds']:8.2f} s {r['peak_mib']:8,.0f} MiB   {shown}   "
            f"(runs: {every} s)"
        )
    print(
        f"  speed ratio (lifetimes / ours): {peer['seconds'] / ours['seconds']:.1f}x   goal >= 20x"
    )
    print(f"  largest relative parameter difference: {worst:.1e}   goal <= 1e-3")
    if args.large:
        big = work / "large.npz"
        np.savez(big, **simulate(args.large, seed=2))
        large = run(sys.executable, OURS, big)
        print(
            f"BG/NBD fit, {args.large:,} customers: {large['seconds']:.2f} s, "
            f"{large['peak_mib']:,.0f} MiB peak   goal < 5 s and < 2048 MiB"
        )


if __name__ == "__main__":
    main()
