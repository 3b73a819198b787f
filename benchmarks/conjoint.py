"""Benchmark: CBC multinomial logit on 10k respondents × 12 tasks × (3 alternatives + none),
against xlogit 0.2.7's ``MultinomialLogit``.

Goal: at least parity in time with ``xlogit.MultinomialLogit`` and the same estimates (max
absolute difference printed for coefficients and standard errors).

The choices are simulated from a multinomial logit with the sample business's planted mean
part-worths (5 attributes, 11 parameters: effects-coded brand, weight, waterproof and warranty,
price per dollar, "none"). Two designs are run:

* ``versions``: 300 design versions (a common CBC default), each respondent assigned one. Tasks
  that show the same choice set are merged by our fit, which a real CBC survey allows.
* ``random``: every respondent gets their own random tasks, so no two choice sets are alike
  and nothing can be merged.

Ours is timed from the choice frame (text levels, checked, coded, fitted, standard errors);
xlogit from the numeric design matrix, which this script codes for it beforehand (xlogit takes
no text levels), with its default numerical Hessian for the standard errors. Each side runs in
its own process, ``--repeat`` times (default 3, alternating); the best time of each is shown, as
the shared machine's other work makes single runs vary by up to 2x.
Usage: ``python benchmarks/conjoint.py [--respondents 10000] [--tasks 12] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from common import best_of

ATTRIBUTES = {
    "brand": ["Northwind", "Summit Co", "TrailMark", "Alpenglow"],
    "weight": ["2.5 kg", "1.8 kg", "1.2 kg"],
    "waterproof": ["1500 mm", "3000 mm", "5000 mm"],
    "warranty": ["1 year", "3 years", "lifetime"],
}
PRICES = np.array([149.0, 199.0, 249.0, 299.0])
TRUE = {
    "brand[Northwind]": 0.4, "brand[Summit Co]": 0.3, "brand[TrailMark]": -0.1,
    "weight[2.5 kg]": -0.6, "weight[1.8 kg]": 0.1, "waterproof[1500 mm]": -0.7,
    "waterproof[3000 mm]": 0.2, "warranty[1 year]": -0.5, "warranty[3 years]": 0.1,
    "price": -0.012, "none": -3.2,
}  # fmt: skip
ALTERNATIVES = 3

OURS = r"""
import json, sys, time
import pandas as pd
from streamwise.upstream.research.conjoint import MultinomialLogit
frame = pd.read_parquet(sys.argv[1])
t = time.perf_counter()
m = MultinomialLogit().fit(frame)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "params": m.params_.to_dict(),
                  "se": m.standard_errors_.to_dict(), "ll": m.log_likelihood_}))
"""

PEER = r"""
import json, sys, time
import numpy as np
from xlogit import MultinomialLogit
d = np.load(sys.argv[2])  # argv[1] is our side's Parquet file
names = [str(n) for n in d["names"]]
t = time.perf_counter()
m = MultinomialLogit()
m.fit(X=d["x"], y=d["y"], varnames=names, alts=d["alts"], ids=d["ids"], verbose=0)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "params": dict(zip(names, m.coeff_.tolist())),
                  "se": dict(zip(names, m.stderr.tolist())), "ll": float(m.loglikelihood),
                  "converged": bool(m.convergence)}))
"""


def simulate(n: int, tasks: int, design: str, seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """Choice frame (ours) and coded arrays (xlogit's) of one simulated CBC study."""
    rng = np.random.default_rng(seed)
    shape = (n, tasks, ALTERNATIVES)
    if design == "versions":
        versions = 300
        v_shape = (versions, tasks, ALTERNATIVES)
        picks = {a: rng.integers(0, len(lv), v_shape) for a, lv in ATTRIBUTES.items()}
        price_idx = rng.integers(0, len(PRICES), v_shape)
        version = rng.permutation(n) % versions
        picks = {a: p[version] for a, p in picks.items()}
        price_idx = price_idx[version]
    else:
        picks = {a: rng.integers(0, len(lv), shape) for a, lv in ATTRIBUTES.items()}
        price_idx = rng.integers(0, len(PRICES), shape)
    blocks = []
    for a, lv in ATTRIBUTES.items():
        effects = np.vstack([np.eye(len(lv) - 1), -np.ones((1, len(lv) - 1))])
        blocks.append(effects[picks[a]])
    price = PRICES[price_idx]
    x = np.concatenate([*blocks, price[..., None], np.zeros((*shape, 1))], axis=3)
    none = np.zeros((n, tasks, 1, x.shape[3]))
    none[..., -1] = 1.0
    x = np.concatenate([none, x], axis=2)  # (n, tasks, 4, K), "none" at position 0
    utility = x @ np.array(list(TRUE.values())) + rng.gumbel(size=x.shape[:3])
    choice = utility.argmax(axis=2)
    j = ALTERNATIVES + 1
    chosen = (np.arange(j) == choice[..., None]).astype(np.int64).ravel()
    frame = pd.DataFrame(
        {
            "respondent_id": np.repeat([f"R{i:06d}" for i in range(n)], tasks * j),
            "task": np.tile(np.repeat(np.arange(1, tasks + 1), j), n),
            "alternative": np.tile(np.arange(j), n * tasks),
        }
    )
    for a, lv in ATTRIBUTES.items():
        codes = np.concatenate([np.full((n, tasks, 1), -1), picks[a]], axis=2).ravel()
        frame[a] = pd.Categorical.from_codes(codes, categories=lv)
    frame["price"] = np.concatenate([np.full((n, tasks, 1), np.nan), price], axis=2).ravel()
    frame["chosen"] = chosen
    arrays = {
        "x": x.reshape(-1, x.shape[3]),
        "y": chosen,
        "alts": frame["alternative"].to_numpy(),
        "ids": np.repeat(np.arange(n * tasks), j),
        "names": np.array(list(TRUE)),
    }
    return frame, arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sw-bench-cbc-"))
    rows = args.respondents * args.tasks * (ALTERNATIVES + 1)
    print(
        f"CBC multinomial logit, {args.respondents:,} respondents x {args.tasks} tasks x "
        f"({ALTERNATIVES} alternatives + none) = {rows:,} rows, 11 parameters"
    )
    for design in ("versions", "random"):
        frame, arrays = simulate(args.respondents, args.tasks, design)
        frame.to_parquet(work / f"{design}.parquet")
        np.savez(work / f"{design}.npz", **arrays)
        best = best_of(
            {"ours": (sys.executable, OURS), "peer": (sys.executable, PEER)},
            args.repeat, work / f"{design}.parquet", work / f"{design}.npz",
        )  # fmt: skip
        ours, peer = best["ours"], best["peer"]
        spread = {k: r["runs"] for k, r in best.items()}
        d_par = max(abs(ours["params"][k] - peer["params"][k]) for k in TRUE)
        d_se = max(abs(ours["se"][k] - peer["se"][k]) for k in TRUE)
        print(f"  design: {design}")
        for name, r, key in (("streamwise", ours, "ours"), ("xlogit", peer, "peer")):
            every = ", ".join(f"{x:.2f}" for x in spread[key])
            print(
                f"    {name:11}{r['seconds']:8.2f} s {r['peak_mib']:8,.0f} MiB   "
                f"LL {r['ll']:,.3f}   (runs: {every} s)"
            )
        print(
            f"    speed ratio (xlogit / ours): {peer['seconds'] / ours['seconds']:.1f}x   "
            "goal >= 1x"
        )
        print(
            f"    largest difference: coefficients {d_par:.1e}, standard errors {d_se:.1e}, "
            f"log-likelihood {abs(ours['ll'] - peer['ll']):.1e}; xlogit converged: "
            f"{peer['converged']}"
        )
        shown = ", ".join(f"{k} {v:.4f}" for k, v in ours["params"].items())
        print(f"    estimates: {shown}")


if __name__ == "__main__":
    main()
