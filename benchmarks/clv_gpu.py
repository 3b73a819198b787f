"""Benchmark: the BG/NBD fit on JAX (a GPU where there is one) against the NumPy path.

Goal (issue 11, item 5): the CLV likelihoods run on JAX when a GPU is present; record the
speed-up measured on a GPU machine. Both sides fit the same simulated customers (the BG/NBD
process with the CDNOW estimates, as ``bgnbd_fit.py``), each in its own process, ``--repeat``
times taking turns; each side's best time is shown. The JAX side's time includes importing JAX
(about 1 s) and compiling its program (about 2 s), which a user pays once per fit. On a machine
without a GPU the JAX side runs on the CPU and is slower: the figure that counts is the one from
a GPU machine (``pip install 'jax[cuda12]'`` there). Usage:
``python benchmarks/clv_gpu.py [--customers 10000000] [--repeat 3] [--spread]``;
``--spread`` adds a random part of a day to T, so that more (frequency, recency, T) rows are
distinct and the likelihood, not the compression, is most of the work.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bgnbd_fit import TRUE, simulate
from common import best_of

FIT = r"""
import json, sys, time
import numpy as np, pandas as pd
from streamwise.upstream.customers import BetaGeo
d = np.load(sys.argv[1])
frame = pd.DataFrame({"frequency": d["x"], "recency": d["t_x"], "T": d["T"]})
t = time.perf_counter()
m = BetaGeo(backend=BACKEND).fit(frame)
print(json.dumps({"seconds": time.perf_counter() - t, "params": m.params_, "device": m.device_,
                  "rows": m.n_unique_, "ll": m.log_likelihood_}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spread", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sw-bench-clv-gpu-"))
    data = simulate(args.customers)
    if args.spread:  # T in seconds rather than whole days: almost every row distinct
        rng = np.random.default_rng(3)
        data["T"] = data["T"] + rng.uniform(0, 1 / 7, args.customers)
    np.savez(work / "customers.npz", **data)
    sides = {
        name: (sys.executable, FIT.replace("BACKEND", repr(name))) for name in ("numpy", "jax")
    }
    best = best_of(sides, args.repeat, work / "customers.npz")
    numpy, jax = best["numpy"], best["jax"]
    worst = max(abs(jax["params"][k] - numpy["params"][k]) / abs(numpy["params"][k]) for k in TRUE)
    print(f"BG/NBD fit, {args.customers:,} customers, {numpy['rows']:,} distinct rows")
    for name, r in best.items():
        every = ", ".join(f"{x:.2f}" for x in r["runs"])
        print(
            f"  {name:6} on {r['device']:4}{r['seconds']:8.2f} s {r['peak_mib']:8,.0f} MiB   "
            f"(runs: {every} s)"
        )
    print(f"  speed-up (numpy / jax): {numpy['seconds'] / jax['seconds']:.2f}x")
    print(
        f"  largest relative parameter difference: {worst:.1e}; log-likelihood difference "
        f"{abs(jax['ll'] - numpy['ll']):.1e}"
    )


if __name__ == "__main__":
    main()
