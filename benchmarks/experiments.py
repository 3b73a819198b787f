"""Benchmark: experiment comparisons against GrowthBook's gbstats 0.8.0.

Goal (issue 9): the same numbers as gbstats to 1e-6 (effect, interval, p-value, chance to win,
risks) on a grid of inputs: proportions, means, ratio metrics and CUPED statistics; frequentist
(``TwoSidedTTest``), Bayesian (``EffectBayesianABTest``, flat and proper priors) and sequential
(``SequentialTwoSidedTTest``); relative and absolute effects; two alphas. gbstats pins
``numpy<2`` and ``pandas<2``, so it runs in its own virtual environment
(``benchmarks/.venvs/gbstats``, created on first use), in its own process, as ours does. Each side
runs the whole grid ``--repeats`` times; the best time is shown. The SRM check is compared too.
Usage: ``python benchmarks/experiments.py [--repeats 5] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run, venv_python

GBSTATS = ["gbstats==0.8.0", "numpy==1.26.4", "pandas==1.5.3", "scipy==1.11.4"]
FIELDS = ("effect", "ci_low", "ci_high", "p_value", "chance_to_win", "risk_control",
          "risk_treatment")  # fmt: skip

OURS = r"""
import json, sys, time
from streamwise.measure.experiments import (
    CupedStat, GaussianPrior, MeanStat, ProportionStat, RatioStat, compare, srm_check)
work = sys.argv[1]
spec = json.load(open(work + "/cases.json"))
repeats = spec["repeats"]

def stat(kind, s):
    if kind == "proportion":
        return ProportionStat(n=s["n"], conversions=s["sum"])
    if kind == "mean":
        return MeanStat(n=s["n"], sum=s["sum"], sum_squares=s["sum_squares"])
    if kind == "ratio":
        return RatioStat(s["n"], s["m_sum"], s["m_sum_squares"], s["d_sum"],
                         s["d_sum_squares"], s["m_d_sum_products"])
    return CupedStat(s["n"], s["post_sum"], s["post_sum_squares"], s["pre_sum"],
                     s["pre_sum_squares"], s["post_pre_sum_products"])

def one(c):
    prior = None if c["prior"] is None else GaussianPrior(*c["prior"])
    r = compare(stat(c["kind"], c["a"]), stat(c["kind"], c["b"]), method=c["method"],
                relative=c["relative"], alpha=c["alpha"],
                sequential_tuning_parameter=c["tuning"], prior=prior)
    return {k: getattr(r, k) for k in __FIELDS__}

best = float("inf")
for _ in range(repeats):
    t = time.perf_counter()
    out = [one(c) for c in spec["cases"]]
    srm = [srm_check(s["users"], s["weights"]).p_value for s in spec["srm"]]
    best = min(best, time.perf_counter() - t)
json.dump({"results": out, "srm": srm}, open(work + "/ours.json", "w"))
print(json.dumps({"seconds": best, "cases": len(out)}))
""".replace("__FIELDS__", repr(FIELDS))

PEER = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")  # gbstats' sequential e-value overflows to inf (p = 0) by design
from gbstats.models.statistics import (ProportionStatistic, SampleMeanStatistic,
    RatioStatistic, RegressionAdjustedStatistic)
from gbstats.frequentist.tests import (FrequentistConfig, SequentialConfig, TwoSidedTTest,
    SequentialTwoSidedTTest)
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.utils import check_srm
work = sys.argv[1]
spec = json.load(open(work + "/cases.json"))
repeats = spec["repeats"]

def stat(kind, s):
    if kind == "proportion":
        return ProportionStatistic(n=s["n"], sum=s["sum"])
    if kind == "mean":
        return SampleMeanStatistic(n=s["n"], sum=s["sum"], sum_squares=s["sum_squares"])
    if kind == "ratio":
        return RatioStatistic(
            n=s["n"],
            m_statistic=SampleMeanStatistic(n=s["n"], sum=s["m_sum"],
                                            sum_squares=s["m_sum_squares"]),
            d_statistic=SampleMeanStatistic(n=s["n"], sum=s["d_sum"],
                                            sum_squares=s["d_sum_squares"]),
            m_d_sum_of_products=s["m_d_sum_products"])
    return RegressionAdjustedStatistic(
        n=s["n"],
        post_statistic=SampleMeanStatistic(n=s["n"], sum=s["post_sum"],
                                           sum_squares=s["post_sum_squares"]),
        pre_statistic=SampleMeanStatistic(n=s["n"], sum=s["pre_sum"],
                                          sum_squares=s["pre_sum_squares"]),
        post_pre_sum_of_products=s["post_pre_sum_products"], theta=0)

def one(c):
    a, b = stat(c["kind"], c["a"]), stat(c["kind"], c["b"])
    diff = "relative" if c["relative"] else "absolute"
    out = dict.fromkeys(__FIELDS__)
    if c["method"] == "frequentist":
        r = TwoSidedTTest(a, b, FrequentistConfig(difference_type=diff, alpha=c["alpha"]))
    elif c["method"] == "sequential":
        r = SequentialTwoSidedTTest(a, b, SequentialConfig(
            difference_type=diff, alpha=c["alpha"], sequential_tuning_parameter=c["tuning"]))
    else:
        prior = (GaussianPrior() if c["prior"] is None
                 else GaussianPrior(mean=c["prior"][0], variance=c["prior"][1], proper=True))
        r = EffectBayesianABTest(a, b, EffectBayesianConfig(
            difference_type=diff, alpha=c["alpha"], prior_effect=prior))
    res = r.compute_result()
    out.update(effect=res.expected, ci_low=res.ci[0], ci_high=res.ci[1])
    if c["method"] == "bayesian":
        out.update(chance_to_win=res.chance_to_win, risk_control=res.risk[0],
                   risk_treatment=res.risk[1])
    else:
        out["p_value"] = res.p_value
    return {k: (None if v is None else float(v)) for k, v in out.items()}

best = float("inf")
for _ in range(repeats):
    t = time.perf_counter()
    out = [one(c) for c in spec["cases"]]
    srm = [float(check_srm(s["users"], s["weights"])) for s in spec["srm"]]
    best = min(best, time.perf_counter() - t)
json.dump({"results": out, "srm": srm}, open(work + "/peer.json", "w"))
print(json.dumps({"seconds": best, "cases": len(out)}))
""".replace("__FIELDS__", repr(FIELDS))


def gbstats_python() -> str:
    """The Python of the gbstats environment, created on first use."""
    return venv_python("gbstats", GBSTATS)


def _sums(rng: np.random.Generator, kind: str, n: int, lift: float, base: dict) -> dict:
    """Summary sums of one simulated arm (so that every input is a possible dataset)."""
    if kind == "proportion":
        return {"n": n, "sum": int(rng.binomial(n, min(base["p"] * (1 + lift), 0.99)))}
    if kind == "mean":
        x = rng.gamma(base["shape"], base["mean"] * (1 + lift) / base["shape"], n)
        return {"n": n, "sum": float(x.sum()), "sum_squares": float(x @ x)}
    if kind == "ratio":
        d = rng.poisson(base["orders"], n).astype(float)
        m = d * rng.gamma(4.0, base["aov"] * (1 + lift) / 4.0, n)
        return {"n": n, "m_sum": float(m.sum()), "m_sum_squares": float(m @ m),
                "d_sum": float(d.sum()), "d_sum_squares": float(d @ d),
                "m_d_sum_products": float(m @ d)}  # fmt: skip
    pre = rng.gamma(2.0, base["mean"] / 2.0, n)
    post = base["rho"] * pre + (1 - base["rho"]) * rng.gamma(2.0, base["mean"] / 2.0, n)
    post = post * (1 + lift)
    return {"n": n, "post_sum": float(post.sum()), "post_sum_squares": float(post @ post),
            "pre_sum": float(pre.sum()), "pre_sum_squares": float(pre @ pre),
            "post_pre_sum_products": float(post @ pre)}  # fmt: skip


def cases(seed: int = 0, size: str = "full") -> dict:
    """The grid: every statistic kind x method x relative/absolute x alpha (x prior, tuning)."""
    rng = np.random.default_rng(seed)
    sizes = [200, 2_000, 20_000] if size == "full" else [500, 5_000]
    lifts = [-0.1, 0.0, 0.03, 0.2] if size == "full" else [-0.1, 0.05]
    bases = {
        "proportion": [{"p": 0.02}, {"p": 0.1}, {"p": 0.5}],
        "mean": [{"mean": 40.0, "shape": 0.5}, {"mean": 5.0, "shape": 3.0}],
        "ratio": [{"orders": 1.5, "aov": 60.0}],
        "cuped": [{"mean": 30.0, "rho": 0.7}, {"mean": 8.0, "rho": 0.3}],
    }
    methods = [
        ("frequentist", None, 5000.0),
        ("sequential", None, 5000.0),
        ("sequential", None, 500.0),
        ("bayesian", None, 5000.0),
        ("bayesian", (0.0, 0.1**2), 5000.0),
    ]
    grid = []
    for kind, base_list in bases.items():
        for base in base_list:
            for n in sizes:
                for lift in lifts:
                    a = _sums(rng, kind, n, 0.0, base)
                    b = _sums(rng, kind, int(n * 1.07), lift, base)
                    for method, prior, tuning in methods:
                        for relative in (True, False):
                            for alpha in (0.05, 0.1):
                                grid.append({"kind": kind, "a": a, "b": b, "method": method,
                                             "relative": relative, "alpha": alpha,
                                             "tuning": tuning, "prior": prior})  # fmt: skip
    srm = [{"users": [int(x) for x in rng.integers(900, 1100, k)],
            "weights": list(rng.dirichlet(np.ones(k)) if k > 2 else [0.5, 0.5])}
           for k in (2, 2, 3, 4, 5)]  # fmt: skip
    srm.append({"users": [10_000, 10_300], "weights": [0.5, 0.5]})
    return {"cases": grid, "srm": srm}


def compare_with_gbstats(repeats: int = 5, seed: int = 0, size: str = "full") -> dict:
    """Run both sides on the grid; the largest absolute difference per method and the timings.

    Returns
    -------
    dict
        ``max_abs_diff`` (method -> largest difference over all fields and cases; ``"srm"`` for
        the SRM p-values), ``missing`` (cases where one side gave a number and the other not),
        ``cases``, ``ours`` and ``gbstats`` (``seconds``, ``peak_mib``).
    """
    work = Path(tempfile.mkdtemp(prefix="sw-bench-experiments-"))
    spec = cases(seed, size) | {"repeats": repeats}
    (work / "cases.json").write_text(json.dumps(spec))
    ours = run(sys.executable, OURS, work)
    peer = run(gbstats_python(), PEER, work)
    a = json.loads((work / "ours.json").read_text())
    b = json.loads((work / "peer.json").read_text())
    diffs: dict[str, float] = {}
    missing = 0
    for case, x, y in zip(spec["cases"], a["results"], b["results"], strict=True):
        key = f"{case['method']} {'relative' if case['relative'] else 'absolute'}"
        for f in FIELDS:
            if (x[f] is None) != (y[f] is None):
                missing += 1
                continue
            if x[f] is None:
                continue
            d = abs(x[f] - y[f]) if not (math.isinf(x[f]) and x[f] == y[f]) else 0.0
            diffs[key] = max(diffs.get(key, 0.0), d)
            diffs[case["kind"]] = max(diffs.get(case["kind"], 0.0), d)
    diffs["srm"] = max(abs(p - q) for p, q in zip(a["srm"], b["srm"], strict=True))
    return {"max_abs_diff": diffs, "missing": missing, "cases": len(spec["cases"]),
            "ours": ours, "gbstats": peer}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    r = compare_with_gbstats(args.repeats, args.seed)
    print(f"experiment comparisons: {r['cases']:,} cases (+ SRM checks) against gbstats 0.8.0")
    for key, d in sorted(r["max_abs_diff"].items()):
        print(f"  max |ours - gbstats|  {key:22} {d:.2e}")
    print(f"  values present on one side only: {r['missing']}")
    for name in ("ours", "gbstats"):
        s = r[name]
        per = s["seconds"] / r["cases"] * 1e6
        print(f"  {name:9}{s['seconds']:8.3f} s ({per:6.1f} us per comparison) "
              f"{s['peak_mib']:6,.0f} MiB")  # fmt: skip
    print(f"  speed ratio (gbstats / ours): {r['gbstats']['seconds'] / r['ours']['seconds']:.1f}x")
    worst = max(r["max_abs_diff"].values())
    print(f"  goal: max difference <= 1e-6: {'met' if worst <= 1e-6 else 'NOT met'} ({worst:.1e})")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
