"""Benchmark: media mix model fit, 156 weeks x 8 channels, against pymc-marketing's MMM.

Goal (issue 9): at least 3x faster than pymc-marketing with its NumPyro sampler, same draws, tune
and chains, with channel ROIs that agree with the planted truth (and each other).

The data are simulated with known truth: a baseline with trend and yearly season, eight channels
with flighted spend, geometric adstock (13 weeks) and Hill saturation (Jin et al. 2017), normal
noise. Both sides fit geometric adstock. The like-for-like comparison (the goal) is the same
model on both sides: logistic saturation, pymc-marketing's default and what its users run. We
also time our default, Hill saturation (Jin et al. 2017; four parameters per channel instead of
three, and a harder posterior: NUTS takes ~4x as many leapfrog steps per draw).
Each side runs in its own process and is timed from the call to fit, JIT compilation included;
both get one JAX CPU device per chain (``XLA_FLAGS``), so both run their chains in parallel.
pymc-marketing runs in its own virtual environment (``benchmarks/.venvs/pymc_marketing``).
Usage: ``python benchmarks/mmm.py [--draws 1000] [--tune 1000] [--chains 2] [--weeks 156]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from common import run, venv_python

PYMC_MARKETING = ["pymc-marketing==0.19.2", "numpyro==0.22.0", "jax==0.10.2"]
CHANNELS = [f"ch{i}" for i in range(1, 9)]

OURS = r"""
import json, sys, time
cfg = json.loads(open(sys.argv[1]).read())
if cfg["chain_method"] == "parallel":
    import numpyro
    numpyro.set_host_device_count(cfg["chains"])  # one CPU device per chain, before JAX starts
import pandas as pd
from streamwise.measure.mmm import MediaMix
frame = pd.read_csv(cfg["csv"], parse_dates=["date"]).set_index("date")
t = time.perf_counter()
m = MediaMix(draws=cfg["draws"], tune=cfg["tune"], chains=cfg["chains"], yearly_order=2,
             saturation=sys.argv[2],
             value_per_unit=1.0, convergence="ignore", seed=1,
             target_accept=cfg["target_accept"], chain_method=cfg["chain_method"])
m.fit(frame[cfg["channels"]], frame["y"])
seconds = time.perf_counter() - t
roi = m.results().to_frame()["roi"].to_dict()
print(json.dumps({"seconds": seconds, "roi": roi, "repr": repr(m)}))
"""

PEER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation
cfg = json.loads(open(sys.argv[1]).read())
frame = pd.read_csv(cfg["csv"], parse_dates=["date"])
X = frame[["date", *cfg["channels"], "t"]]
t = time.perf_counter()
mmm = MMM(date_column="date", channel_columns=cfg["channels"], control_columns=["t"],
          adstock=GeometricAdstock(l_max=13), saturation=LogisticSaturation(),
          yearly_seasonality=2)
mmm.fit(X, frame["y"], draws=cfg["draws"], tune=cfg["tune"], chains=cfg["chains"],
        nuts_sampler="numpyro", random_seed=1, progressbar=False,
        target_accept=cfg["target_accept"])
seconds = time.perf_counter() - t
contrib = mmm.compute_channel_contribution_original_scale().sum("date")
spend = frame[cfg["channels"]].sum()
roi = {c: float(contrib.sel(channel=c).mean()) / float(spend[c]) for c in cfg["channels"]}
print(json.dumps({"seconds": seconds, "roi": roi}))
"""


def simulate(weeks: int = 156, seed: int = 11) -> tuple[pd.DataFrame, dict[str, float]]:
    """Weekly outcome from a trend, a yearly season and eight flighted channels; true ROIs."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=weeks, freq="7D")
    doy = (dates + pd.Timedelta(days=3)).dayofyear.to_numpy()
    t = np.arange(weeks) / (weeks - 1)
    baseline = 1000.0 * (1 + 0.3 * t) * (1 + 0.2 * np.sin(2 * np.pi * doy / 365.25))
    frame = pd.DataFrame({"date": dates})
    y = baseline.copy()
    roi = {}
    for i, ch in enumerate(CHANNELS):
        theta, shape, k_rel = rng.uniform(0.1, 0.7), rng.uniform(1.0, 2.5), rng.uniform(0.7, 1.3)
        on = rng.random(weeks) < rng.uniform(0.5, 0.9)
        spend = np.where(on, 1000.0 * (i + 1) * np.exp(rng.normal(0, 0.3, weeks)), 0.0)
        w = theta ** np.arange(13)
        w /= w.sum()
        stock = np.convolve(spend, w)[:weeks]
        k = k_rel * stock.mean()
        sat = stock**shape / (stock**shape + k**shape)
        contrib = rng.uniform(0.04, 0.10) * baseline.sum() * sat / sat.sum()
        y += contrib
        frame[ch] = spend
        roi[ch] = float(contrib.sum() / spend.sum())
    frame["t"] = t
    frame["y"] = y + rng.normal(0, 15.0, weeks)
    return frame, roi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--target-accept", type=float, default=0.8)
    parser.add_argument("--chain-method", default="parallel", help="ours: parallel|vectorized")
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    # both sides get one CPU device per chain, so both run their chains in parallel
    flag = f"--xla_force_host_platform_device_count={args.chains}"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
    work = Path(tempfile.mkdtemp(prefix="sw-bench-mmm-"))
    frame, truth = simulate(args.weeks)
    frame.to_csv(work / "data.csv", index=False)
    cfg = {
        "csv": str(work / "data.csv"),
        "channels": CHANNELS,
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "target_accept": args.target_accept,
        "chain_method": args.chain_method,
    }
    (work / "cfg.json").write_text(json.dumps(cfg))
    results = {
        f"ours ({sat})": run(sys.executable, OURS, work / "cfg.json", sat)
        for sat in ("logistic", "hill")
    }
    if not args.skip_peer:
        results["pymc-marketing"] = run(
            venv_python("pymc_marketing", PYMC_MARKETING), PEER, work / "cfg.json"
        )
    print(
        f"MMM fit, {args.weeks} weeks x {len(CHANNELS)} channels, "
        f"{args.chains} chains x ({args.tune} tune + {args.draws} draws)"
    )
    print(f"  {'channel':10}{'true ROI':>10}" + "".join(f"{k:>18}" for k in results))
    for ch in CHANNELS:
        cells = "".join(
            f"{r['roi'][ch]:12.3f} ({r['roi'][ch] / truth[ch] - 1:+.0%})" for r in results.values()
        )
        print(f"  {ch:10}{truth[ch]:10.3f}{cells}")
    for name, r in results.items():
        err = np.mean([abs(r["roi"][c] / truth[c] - 1) for c in CHANNELS])
        print(
            f"  {name:18}{r['seconds']:8.1f} s {r['peak_mib']:8,.0f} MiB   mean |ROI err| {err:.1%}"
        )
    if "pymc-marketing" in results:
        peer = results["pymc-marketing"]["seconds"]
        same = peer / results["ours (logistic)"]["seconds"]
        hill = peer / results["ours (hill)"]["seconds"]
        print(f"  speed ratio, same model (pymc-marketing / ours, logistic): {same:.1f}x (goal 3x)")
        print(f"  speed ratio, our default (pymc-marketing logistic / ours Hill): {hill:.1f}x")
    for name in ("ours (logistic)", "ours (hill)"):
        print(f"  {results[name]['repr']}")


if __name__ == "__main__":
    main()
