"""Benchmark: forecasting 10,000 weekly category series against prophet 1.5.

Goal (market trends issue): at least 20x faster than ``prophet`` run sequentially, with a mean
MASE no worse, on 10,000 weekly series of 3 years (156 weeks) each.

The series are simulated (seeded) with varied level, growth (sometimes changing midway),
seasonal shape (one to three yearly harmonics, with the exact 52.18-week year), seasonal amplitude,
noise and autocorrelated noise, multiplicatively as demand usually is. Both sides train on the
first 143 weeks and forecast the last 13 (a quarter), with 80 % and 95 % prediction intervals;
MASE is scaled by the in-sample seasonal-naive (52-week) error (Hyndman & Koehler 2006).

Ours is the fast path of ``streamwise.upstream.trends``: ``forecast_series`` with the
``harmonic_theta`` model (Fourier seasonality + Theta on the seasonally adjusted log series;
the seasonal-naive baseline is always forecast beside it), on all cores through statsforecast.
Prophet runs with its defaults (it is how it is used; ``--prophet-mode multiplicative`` tries
its other seasonality mode), one series after another, on a random sample of ``--prophet-series``
series; its time for 10,000 series is extrapolated linearly and printed as such. MASE is compared
on that same sample. Usage: ``python benchmarks/trends.py [--series 10000] [--prophet-series 300]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

WEEKS, HOLDOUT, YEAR = 156, 13, 365.25 / 7


def simulate(n: int, seed: int = 7) -> np.ndarray:
    """``n`` weekly series of ``WEEKS`` values (rows)."""
    rng = np.random.default_rng(seed)
    t = np.arange(WEEKS, dtype=float)
    level = np.exp(rng.uniform(np.log(50), np.log(50_000), n))
    growth = rng.uniform(-0.25, 0.45, n)
    change = np.where(rng.random(n) < 0.3, rng.uniform(-0.25, 0.25, n), 0.0)
    at = rng.uniform(0.4, 0.8, n) * WEEKS
    years = t / YEAR
    log_trend = np.log1p(growth)[:, None] * years + np.log1p(change)[:, None] * np.maximum(
        0, years - (at / YEAR)[:, None]
    )
    amplitude = rng.uniform(0.0, 0.6, n)
    weights = rng.dirichlet([4.0, 1.5, 1.0], n) * (rng.random((n, 3)) < [1.0, 0.6, 0.4])
    phase = rng.uniform(0, 2 * np.pi, (n, 3))
    season = sum(
        weights[:, k, None] * np.cos(2 * np.pi * (k + 1) * t / YEAR - phase[:, k, None])
        for k in range(3)
    )
    season = 1 + amplitude[:, None] * season / np.abs(season).max(axis=1, keepdims=True)
    sd = rng.uniform(0.02, 0.2, n)[:, None]
    phi = rng.uniform(0.0, 0.6, n)[:, None]
    shocks = rng.standard_normal((n, WEEKS)) * sd * np.sqrt(1 - phi**2)
    noise = np.empty_like(shocks)
    noise[:, 0] = shocks[:, 0] / np.sqrt(1 - phi[:, 0] ** 2)
    for k in range(1, WEEKS):
        noise[:, k] = phi[:, 0] * noise[:, k - 1] + shocks[:, k]
    return level[:, None] * np.exp(log_trend) * np.clip(season, 0.05, None) * np.exp(noise)


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Per series (rows): mean |error| over the in-sample 52-week seasonal-naive MAE."""
    scale = np.abs(train[:, 52:] - train[:, :-52]).mean(axis=1)
    return np.abs(actual - forecast).mean(axis=1) / scale


def run_ours(train: np.ndarray, dates: list[date]) -> tuple[float, np.ndarray, dict]:
    """Streamwise's fast path on every series: seconds, point forecasts, interval coverage."""
    from streamwise.upstream.trends import forecast_series

    n = len(train)
    frame = pd.DataFrame(
        {
            "category": np.repeat([f"c{i:05d}" for i in range(n)], train.shape[1]),
            "metric": "demand",
            "period": np.tile(np.array(dates[: train.shape[1]], dtype="datetime64[D]"), n),
            "value": train.ravel(),
        }
    )
    start = time.perf_counter()
    fc = forecast_series(
        frame, horizon=HOLDOUT, models=("harmonic_theta",), baseline=False, n_jobs=-1
    )
    seconds = time.perf_counter() - start
    table = fc.table[fc.table["model"] == "harmonic_theta"].sort_values(["category", "step"])
    shape = (n, HOLDOUT)
    bounds = {c: table[c].to_numpy().reshape(shape) for c in ("lo_80", "hi_80", "lo_95", "hi_95")}
    return seconds, table["forecast"].to_numpy().reshape(shape), bounds


def run_prophet(train: np.ndarray, dates: list[date], mode: str) -> tuple[float, np.ndarray]:
    """Prophet, one series after another: seconds and point forecasts."""
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
        logging.getLogger(name).disabled = True
    from prophet import Prophet

    ds = pd.to_datetime(pd.Series(dates))
    past, future = ds[: train.shape[1]], pd.DataFrame({"ds": ds[train.shape[1] :]})
    out = np.empty((len(train), HOLDOUT))
    start = time.perf_counter()
    for i, y in enumerate(train):
        model = Prophet(seasonality_mode=mode).fit(pd.DataFrame({"ds": past, "y": y}))
        out[i] = model.predict(future)["yhat"].to_numpy()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--prophet-series", type=int, default=300)
    parser.add_argument(
        "--prophet-mode", default="additive", choices=["additive", "multiplicative"]
    )
    args = parser.parse_args()
    data = simulate(args.series)
    first = date(2022, 1, 3)
    dates = [first + timedelta(weeks=k) for k in range(WEEKS)]
    train, test = data[:, :-HOLDOUT], data[:, -HOLDOUT:]
    load = os.getloadavg()

    ours_s, ours_fc, bounds = run_ours(train, dates)
    ours_mase = mase(test, ours_fc, train)
    sample = np.sort(
        np.random.default_rng(11).choice(args.series, args.prophet_series, replace=False)
    )
    peer_s, peer_fc = run_prophet(train[sample], dates, args.prophet_mode)
    peer_mase = mase(test[sample], peer_fc, train[sample])
    per_10k = peer_s / len(sample) * 10_000
    ours_10k = ours_s / args.series * 10_000
    naive = mase(test, train[:, -52 : -52 + HOLDOUT], train)
    cover = {
        lv: np.mean((test >= bounds[f"lo_{lv}"]) & (test <= bounds[f"hi_{lv}"])) for lv in (80, 95)
    }

    print(
        f"Forecasting {args.series:,} weekly series of {WEEKS} weeks, last {HOLDOUT} held out "
        f"({os.cpu_count()} cores; load average before {load[0]:.1f}, after "
        f"{os.getloadavg()[0]:.1f})"
    )
    print(
        f"  streamwise (harmonic_theta, all cores)  {ours_s:8.1f} s for {args.series:,} series"
        f"   ({ours_10k:.1f} s per 10,000)"
    )
    print(
        f"  prophet {args.prophet_mode:<14} (1 core)   {peer_s:8.1f} s measured on "
        f"{len(sample):,} series -> {per_10k:,.0f} s per 10,000 (extrapolated linearly)"
    )
    ratio = per_10k / ours_10k
    print(f"  speed ratio (prophet / ours, per 10,000 series): {ratio:.1f}x   goal >= 20x")
    print(
        f"  MASE on the {len(sample):,} prophet series: streamwise {ours_mase[sample].mean():.3f} "
        f"(median {np.median(ours_mase[sample]):.3f}), prophet {peer_mase.mean():.3f} "
        f"(median {np.median(peer_mase):.3f})   goal: ours <= prophet's"
    )
    print(
        f"  MASE on all {args.series:,} series: streamwise {ours_mase.mean():.3f}, seasonal naive "
        f"{naive.mean():.3f}; interval coverage 80%: {cover[80]:.1%}, 95%: {cover[95]:.1%}"
    )


if __name__ == "__main__":
    main()
