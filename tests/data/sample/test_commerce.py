"""Tests of the commerce generator: valid tables, and planted truth that analyses recover."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from streamwise.data.contracts import CONTRACTS
from streamwise.data.sample.commerce import CommerceTruth, generate_commerce
from streamwise.data.sample.config import SampleConfig
from streamwise.data.sample.media import geometric_adstock, hill
from streamwise.data.sample.names import MEDIA_CHANNELS, SEGMENTS
from streamwise.data.sample.segments import TIMEZONES
from streamwise.data.sample.sink import FileSink, MemorySink

CONTRACT_TABLES = (
    "customers",
    "orders",
    "order_lines",
    "products",
    "events",
    "touchpoints",
    "spend",
)
WEEK = pd.Timedelta(days=7)


def _generate(cfg: SampleConfig) -> tuple[CommerceTruth, dict[str, pd.DataFrame]]:
    sink = MemorySink()
    truth = generate_commerce(cfg, sink)
    sink.close()
    return truth, sink.frames()


@pytest.fixture(scope="module")
def default_run() -> tuple[CommerceTruth, dict[str, pd.DataFrame]]:
    """The default size (20,000 customers), generated once for the module."""
    return _generate(SampleConfig())


@pytest.fixture(scope="module")
def chunked_run() -> tuple[CommerceTruth, dict[str, pd.DataFrame], list[int]]:
    """A small run in several chunks, to check that keys stay unique across chunks."""
    seen: list[int] = []
    sink = MemorySink()
    truth = generate_commerce(
        SampleConfig(n_customers=5_000, seed=7, chunk_customers=1_500), sink, seen.append
    )
    return truth, sink.frames(), seen


def _end_ts(cfg: SampleConfig) -> pd.Timestamp:
    return pd.Timestamp(cfg.end) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)


# ---------------------------------------------------------------------------------------------
# contract validity


_KINDS = {
    "VARCHAR": "str",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "BOOLEAN": "bool",
}


def _check_table(kind: str, frame: pd.DataFrame, cfg: SampleConfig) -> None:
    contract = CONTRACTS[kind]
    assert list(frame.columns) == list(contract.names), kind
    assert len(frame) > 0, kind
    start, end = pd.Timestamp(cfg.start), _end_ts(cfg)
    for col in contract.columns:
        values = frame[col.name]
        where = f"{kind}.{col.name}"
        if col.required:
            assert values.notna().all(), f"{where} has nulls"
        present = values.dropna()
        if col.type in ("DATE", "TIMESTAMP"):
            assert pd.api.types.is_datetime64_dtype(values), where
            if where != "products.launched_on":  # products may predate the period
                assert present.min() >= start, where
            assert present.max() <= end, where
            if col.type == "DATE":
                assert (present == present.dt.normalize()).all(), where
        elif col.type == "JSON":
            assert str(values.dtype) in ("str", "object"), f"{where}: {values.dtype}"
            assert present.map(type).eq(str).all(), where
            for text in present.sample(min(len(present), 2_000), random_state=0):
                assert isinstance(json.loads(text), dict), where
        elif col.type == "VARCHAR":  # "str" on pandas 3, object holding str on pandas 2
            assert str(values.dtype) in ("str", "object"), f"{where}: {values.dtype}"
            assert present.map(type).eq(str).all(), where
        else:
            assert str(values.dtype) == _KINDS[col.type], f"{where}: {values.dtype}"
        if col.min is not None:
            if col.exclusive_min:
                assert (present > col.min).all(), where
            else:
                assert (present >= col.min).all(), where
        if col.max is not None:
            assert (present <= col.max).all(), where
        if col.allowed is not None:
            assert set(present.unique()) <= set(col.allowed), where
        if col.pattern is not None:
            assert present.str.fullmatch(col.pattern).all(), where
    assert not frame.duplicated(list(contract.key)).any(), f"{kind} key not unique"


def _check_all(frames: dict[str, pd.DataFrame], cfg: SampleConfig) -> None:
    for kind in CONTRACT_TABLES:
        _check_table(kind, frames[kind], cfg)
    for kind in CONTRACT_TABLES:
        for col in CONTRACTS[kind].columns:
            if col.references:
                ref_kind, ref_col = col.references.split(".")
                values = frames[kind][col.name].dropna()
                assert values.isin(frames[ref_kind][ref_col]).all(), f"{kind}.{col.name}"


def test_tables_follow_the_contracts(default_run: tuple) -> None:
    _, frames = default_run
    _check_all(frames, SampleConfig())


def test_chunked_tables_follow_the_contracts(chunked_run: tuple) -> None:
    truth, frames, seen = chunked_run
    cfg = SampleConfig(n_customers=5_000, seed=7, chunk_customers=1_500)
    _check_all(frames, cfg)
    assert seen == [1_500, 3_000, 4_500, 5_000]
    assert len(frames["customers"]) == 5_000
    assert truth.n_orders == len(frames["orders"])
    assert truth.n_touchpoints == len(frames["touchpoints"])
    assert truth.n_events == len(frames["events"])


def test_row_rules_and_text_conventions(default_run: tuple) -> None:
    truth, frames = default_run
    customers, orders, events = frames["customers"], frames["orders"], frames["events"]
    assert customers["email"].is_unique
    assert customers["email"].str.fullmatch(r"[a-z.0-9]+@example\.(com|org|net)").all()
    assert (orders["currency"] == "USD").all()
    zones = {tz: country for country, tz, *_ in TIMEZONES}
    assert (customers["timezone"].map(zones) == customers["country"]).all()
    us = customers["country"].isin(["US", "CA"])
    assert customers.loc[us, "phone"].str.startswith("+1").all()
    assert (events["user_id"].notna() | events["anonymous_id"].notna()).all()
    assert events.loc[events["type"] == "track", "event"].notna().all()
    assert (events["received_at"] >= events["timestamp"]).all()
    assert set(orders["channel"]) <= {"web", "app", "store", "marketplace", "phone"}
    assert truth.n_products == len(frames["products"])
    assert 150 <= len(frames["products"]) <= 300
    assert frames["products"]["brand"].value_counts(normalize=True)["Northwind"] > 0.7


def test_signup_is_the_first_order(default_run: tuple) -> None:
    _, frames = default_run
    orders = frames["orders"]
    first = orders.groupby("customer_id")["order_date"].min().dt.normalize()
    signup = frames["customers"].set_index("customer_id")["signup_date"]
    assert (first.loc[signup.index] == signup).all()


def test_order_lines_add_up_to_orders(default_run: tuple) -> None:
    _, frames = default_run
    lines, orders = frames["order_lines"], frames["orders"].set_index("order_id")
    sums = lines.groupby("order_id")["amount"].sum()
    assert np.allclose(sums.loc[orders.index], orders["amount"], atol=0.005)
    qty = lines.groupby("order_id")["quantity"].sum()
    assert (qty.loc[orders.index] == orders["quantity"]).all()
    assert lines.groupby("order_id").size().between(1, 4).all()
    # products were on sale when ordered
    launched = lines.merge(frames["products"], on="product_id")[["order_id", "launched_on"]]
    when = orders.loc[launched["order_id"], "order_date"].to_numpy()
    assert (launched["launched_on"].to_numpy() <= when).all()


def test_events_per_order(default_run: tuple) -> None:
    _truth, frames = default_run
    events = frames["events"]
    completed = events[events["event"] == "Order Completed"]
    assert len(completed) == len(frames["orders"])
    props = completed["properties"].head(500).map(json.loads)
    orders = frames["orders"].set_index("order_id")
    for p in props:
        assert p["currency"] == "USD"
        assert p["revenue"] == pytest.approx(orders.loc[p["order_id"], "amount"])
    assert (events["type"] == "identify").sum() == len(frames["customers"])
    emails = frames["touchpoints"]["channel"].eq("email").sum()
    assert events["event"].isin(["Email Opened", "Email Clicked"]).sum() == emails


# ---------------------------------------------------------------------------------------------
# sizes, determinism


def test_default_size(default_run: tuple) -> None:
    truth, frames = default_run
    assert len(frames["customers"]) == 20_000
    assert 160_000 <= len(frames["orders"]) <= 240_000
    assert len(frames["touchpoints"]) < 1_500_000
    assert len(frames["events"]) < 1_500_000
    assert truth.n_order_lines == len(frames["order_lines"])
    assert sum(truth.segment_counts.values()) == 20_000


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    cfg = SampleConfig(n_customers=2_000, seed=3, chunk_customers=700)
    digests = []
    for run in ("a", "b"):
        sink = FileSink(tmp_path / run)
        generate_commerce(cfg, sink)
        sink.close()
        digests.append({p.name: p.read_bytes() for p in sorted((tmp_path / run).iterdir())})
    assert digests[0].keys() == digests[1].keys()
    assert "orders.parquet" in digests[0]
    for name, data in digests[0].items():
        assert data == digests[1][name], name
    other = MemorySink()
    generate_commerce(SampleConfig(n_customers=2_000, seed=4, chunk_customers=700), other)
    first = pd.read_parquet(tmp_path / "a" / "orders.parquet")
    assert not first["amount"].equals(other.frames()["orders"]["amount"])


# ---------------------------------------------------------------------------------------------
# segments


def _customer_features(frames: dict[str, pd.DataFrame], end: pd.Timestamp) -> pd.DataFrame:
    orders = frames["orders"]
    lines = (
        frames["order_lines"]
        .merge(frames["products"][["product_id", "category"]], on="product_id")
        .merge(orders[["order_id", "customer_id"]], on="order_id")
    )
    cat = lines.pivot_table(
        index="customer_id", columns="category", values="amount", aggfunc="sum", fill_value=0
    )
    cat = cat.div(cat.sum(axis=1), axis=0).add_prefix("cat_")
    chan = pd.crosstab(orders["customer_id"], orders["channel"], normalize="index")
    g = orders.groupby("customer_id").agg(
        n=("order_id", "size"), m=("amount", "mean"), last=("order_date", "max")
    )
    rfm = pd.DataFrame(
        {
            "log_frequency": np.log(g["n"]),
            "log_monetary": np.log(g["m"]),
            "recency_days": (end - g["last"]).dt.days,
            "log_clv": np.log(g["n"] * g["m"]),
        }
    )
    return rfm.join(cat).join(chan.add_prefix("ch_")).fillna(0.0)


def test_segments_are_recoverable_by_clustering(default_run: tuple) -> None:
    _, frames = default_run
    features = _customer_features(frames, _end_ts(SampleConfig()))
    truth = frames["truth_customers"].set_index("customer_id")["segment"].loc[features.index]
    z = StandardScaler().fit_transform(features.to_numpy())
    labels = KMeans(n_clusters=5, n_init=10, random_state=0).fit_predict(z)
    assert adjusted_rand_score(truth, labels) >= 0.8


def test_segments_differ_as_planted(default_run: tuple) -> None:
    truth, frames = default_run
    orders = frames["orders"].merge(frames["truth_customers"][["customer_id", "segment"]])
    aov = orders.groupby("segment")["amount"].mean()
    for seg in truth.segments:
        assert aov[seg.name] == pytest.approx(seg.mean_order_value, rel=0.1)
    freq = orders.groupby("segment").size() / pd.Series(truth.segment_counts)
    assert freq["Bargain Hunters"] > freq["Weekend Campers"] > freq["Gift Shoppers"]
    shares = pd.Series(truth.segment_counts) / 20_000
    for seg in truth.segments:
        assert shares[seg.name] == pytest.approx(seg.share, abs=0.015)


def test_active_hours_are_planted(default_run: tuple) -> None:
    truth, frames = default_run
    offsets = {tz: off for _, tz, off, *_ in TIMEZONES}
    cust = frames["customers"][["customer_id", "timezone"]].merge(
        frames["truth_customers"][["customer_id", "segment"]]
    )
    orders = frames["orders"].merge(cust, on="customer_id")
    local = orders["order_date"] + pd.to_timedelta(orders["timezone"].map(offsets), unit="h")
    modal = local.dt.hour.groupby(orders["segment"]).agg(lambda h: h.mode().iloc[0])
    for seg in truth.segments:
        diff = abs(modal[seg.name] - seg.preferred_hour) % 24
        assert min(diff, 24 - diff) <= 1, seg.name


# ---------------------------------------------------------------------------------------------
# BG/NBD and Gamma-Gamma


def _bgnbd_negll(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> float:
    """Negative BG/NBD log-likelihood, Fader, Hardie & Lee (2005), eq. 6."""
    r, alpha, a, b = params
    if min(params) <= 0:
        return np.inf
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
    return -float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def _gg_negll(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    """Negative Gamma-Gamma log-likelihood of mean spend ``m`` over ``x`` transactions."""
    p, q, v = params
    if min(params) <= 0:
        return np.inf
    ll = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )
    return -float(np.sum(ll))


def _fit(fun, start: np.ndarray, args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Maximum likelihood over log-parameters; estimates and standard errors (delta method)."""

    def on_log(theta: np.ndarray) -> float:
        return fun(np.exp(theta), *args)

    res = optimize.minimize(
        on_log,
        np.log(start),
        method="Nelder-Mead",
        options={"maxiter": 20_000, "xatol": 1e-7, "fatol": 1e-7},
    )
    res = optimize.minimize(on_log, res.x, method="BFGS")
    theta = res.x
    k = len(theta)
    h = 1e-4
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
            hess[i, j] = (
                on_log(theta + e_i + e_j)
                - on_log(theta + e_i - e_j)
                - on_log(theta - e_i + e_j)
                + on_log(theta - e_i - e_j)
            ) / (4 * h * h)
    cov = np.linalg.inv(hess)
    est = np.exp(theta)
    return est, est * np.sqrt(np.diag(cov))


@pytest.fixture(scope="module")
def large_run() -> tuple[CommerceTruth, dict[str, pd.DataFrame]]:
    cfg = SampleConfig(n_customers=100_000, seed=11, chunk_customers=40_000)
    sink = MemorySink()
    truth = generate_commerce(cfg, sink)
    frames = sink.frames()
    return truth, {k: frames[k] for k in ("orders", "truth_customers")}


@pytest.mark.slow
@pytest.mark.parametrize("segment", SEGMENTS)
def test_bgnbd_and_gamma_gamma_recover_segment_parameters(large_run: tuple, segment: str) -> None:
    truth, frames = large_run
    spec = truth.segment(segment)
    members = frames["truth_customers"].loc[
        frames["truth_customers"]["segment"] == segment, "customer_id"
    ]
    assert len(members) > 0.8 * spec.share * 100_000
    orders = frames["orders"][frames["orders"]["customer_id"].isin(members)]
    end = _end_ts(SampleConfig()) + pd.Timedelta(seconds=1)
    g = orders.groupby("customer_id").agg(
        n=("order_id", "size"),
        first=("order_date", "min"),
        last=("order_date", "max"),
        m=("amount", "mean"),
    )
    x = (g["n"] - 1).to_numpy(float)
    tx = ((g["last"] - g["first"]) / WEEK).to_numpy(float)
    T = ((end - g["first"]) / WEEK).to_numpy(float)

    est, se = _fit(_bgnbd_negll, np.array([1.0, 5.0, 1.0, 5.0]), (x, tx, T))
    for value, err, planted, label in zip(
        est, se, (spec.r, spec.alpha, spec.a, spec.b), ["r", "alpha", "a", "b"], strict=True
    ):
        assert abs(value - planted) <= max(3 * err, 0.15 * planted), (label, value, err, planted)

    est, se = _fit(
        _gg_negll, np.array([2.0, 3.0, 50.0]), (g["n"].to_numpy(float), g["m"].to_numpy(float))
    )
    for value, err, planted, label in zip(
        est, se, (spec.gg_p, spec.gg_q, spec.gg_v), ["p", "q", "v"], strict=True
    ):
        assert abs(value - planted) <= max(3 * err, 0.15 * planted), (label, value, err, planted)


def test_bgnbd_truth_per_customer(default_run: tuple) -> None:
    """The per-customer truth is consistent with the orders (dead customers stop buying)."""
    _, frames = default_run
    tc = frames["truth_customers"].set_index("customer_id")
    counts = frames["orders"].groupby("customer_id").size()
    assert (counts.loc[tc.index] == tc["n_repeat_orders"] + 1).all()
    last = frames["orders"].groupby("customer_id")["order_date"].max()
    dead = tc[~tc["alive"]]
    assert dead["dropout_ts"].notna().all()
    assert tc.loc[tc["alive"], "dropout_ts"].isna().all()
    assert (last.loc[dead.index] == dead["dropout_ts"]).all()
    lam = tc.groupby("segment")["lam"].mean()
    assert lam["Bargain Hunters"] > lam["Gift Shoppers"]


# ---------------------------------------------------------------------------------------------
# media


def test_media_truth_is_consistent(default_run: tuple) -> None:
    truth, frames = default_run
    media = truth.media
    assert sum(media.expected_acquisitions) == pytest.approx(20_000, rel=1e-9)
    assert sum(media.acquisitions) == 20_000
    media_total = sum(sum(v) for v in media.contributions.values())
    assert media_total / 20_000 == pytest.approx(media.media_share, abs=0.01)
    spend = frames["spend"]
    assert set(spend["channel"]) == set(MEDIA_CHANNELS)
    weeks = len(media.week_start)
    for ch in media.channels:
        assert np.isfinite(ch.roi)
        assert ch.roi > 0
        assert 25 <= ch.cpa <= 120
        series = spend[spend["channel"] == ch.channel].sort_values("period")["amount"].to_numpy()
        assert len(series) == weeks
        assert series.sum() == pytest.approx(ch.total_spend)
        # the planted contribution is beta * Hill(adstock(spend)) of the spend table
        recomputed = ch.beta * hill(geometric_adstock(series, ch.theta, media.max_lag), ch.K, ch.S)
        assert np.allclose(recomputed, media.contributions[ch.channel], rtol=1e-9)
        assert ch.roi == pytest.approx(
            ch.contributed_acquisitions * media.first_order_value / ch.total_spend
        )
    frame = media.to_frame()
    assert len(frame) == weeks
    assert np.allclose(
        frame["baseline"] + frame.filter(like="contribution_").sum(axis=1),
        frame["expected_acquisitions"],
    )


def test_signups_follow_the_media_model(default_run: tuple) -> None:
    truth, frames = default_run
    media = truth.media
    signup = frames["truth_customers"]["signup_week"]
    counts = np.bincount(signup, minlength=len(media.week_start))
    assert (counts == np.asarray(media.acquisitions)).all()
    # acquisition channels in proportion to the channels' expected contributions
    observed = frames["customers"]["acquisition_channel"].value_counts(normalize=True)
    for ch in MEDIA_CHANNELS:
        expected = sum(media.contributions[ch]) / 20_000
        assert observed[ch] == pytest.approx(expected, abs=0.01), ch
    assert observed["organic"] == pytest.approx(1 - media.media_share, abs=0.015)
    # seasonality: summer and December weeks get more signups than February weeks
    start = pd.to_datetime(list(media.week_start))
    base = pd.Series(media.baseline, index=start)
    assert base[base.index.month == 6].mean() > 1.2 * base[base.index.month == 2].mean()
    assert base[base.index.month == 12].mean() > 1.2 * base[base.index.month == 2].mean()


# ---------------------------------------------------------------------------------------------
# journeys


def test_journeys_follow_the_noisy_or_model(default_run: tuple) -> None:
    truth, frames = default_run
    jt = truth.journeys
    touches = frames["touchpoints"]
    journeys = touches.groupby("journey_id").agg(
        customer_id=("customer_id", "first"),
        last=("ts", "max"),
        n=("channel", "size"),
        channel=("channel", "first"),
    )
    assert journeys["n"].between(1, 6).all()
    assert len(journeys) == jt.n_journeys
    # observable conversion: an order of the customer within the window after the last touch
    orders = frames["orders"][["customer_id", "order_date"]].sort_values("order_date")
    j = journeys.reset_index().sort_values("last")
    merged = pd.merge_asof(
        j,
        orders,
        left_on="last",
        right_on="order_date",
        by="customer_id",
        direction="forward",
        allow_exact_matches=True,
    )
    window = pd.Timedelta(hours=jt.conversion_window_hours)
    merged["converted"] = (merged["order_date"] - merged["last"]) <= window
    merged = merged.set_index("journey_id")
    planted = frames["truth_journeys"].set_index("journey_id")["converted"]
    agree = (merged["converted"] == planted.loc[merged.index]).mean()
    assert agree > 0.999
    share = merged["converted"].mean()
    assert share == pytest.approx(jt.marginal_conversion_rate, abs=0.01)
    single = merged[merged["n"] == 1]
    for ch, effect in jt.effects.items():
        rows = single[single["channel"] == ch]["converted"]
        model = 1 - (1 - jt.p0) * (1 - effect)
        se = np.sqrt(model * (1 - model) / len(rows))
        assert abs(rows.mean() - model) <= 4 * se + 0.003, (ch, rows.mean(), model)
    # every first order and about REPEAT_JOURNEY_SHARE of repeat orders have a journey
    converting = frames["truth_journeys"]["order_id"].dropna()
    assert converting.is_unique
    assert len(converting) == jt.n_converting


def test_noisy_or_effects_by_regression(default_run: tuple) -> None:
    """Fitting the noisy-OR model to all journeys recovers p0 and the channel effects."""
    truth, frames = default_run
    jt = truth.journeys
    touches = frames["touchpoints"]
    counts = pd.crosstab(touches["journey_id"], touches["channel"])[list(MEDIA_CHANNELS)]
    y = frames["truth_journeys"].set_index("journey_id")["converted"].loc[counts.index]
    n = counts.to_numpy(float)
    yv = y.to_numpy()

    def negll(theta: np.ndarray) -> float:
        # log(1 - p) = log(1 - p0) + sum_c n_c log(1 - e_c)
        log_miss = -np.exp(theta[0]) - n @ np.exp(theta[1:])
        p = -np.expm1(log_miss)
        return -float(np.sum(np.where(yv, np.log(np.clip(p, 1e-12, 1)), log_miss)))

    res = optimize.minimize(negll, np.full(7, np.log(0.05)), method="L-BFGS-B")
    rates = np.exp(res.x)
    p0 = 1 - np.exp(-rates[0])
    effects = 1 - np.exp(-rates[1:])
    assert p0 == pytest.approx(jt.p0, abs=0.01)
    for ch, e in zip(MEDIA_CHANNELS, effects, strict=True):
        assert e == pytest.approx(jt.effects[ch], abs=0.015), ch


def test_truth_to_dict_is_json(default_run: tuple) -> None:
    truth, _ = default_run
    data = json.loads(json.dumps(truth.to_dict()))
    assert [s["name"] for s in data["segments"]] == list(SEGMENTS)
    assert data["time_unit"] == "weeks"
    assert data["start"] == date(2023, 1, 1).isoformat()
    assert len(truth.to_frame()) == 5
    with pytest.raises(AttributeError):
        truth.n_orders = 1  # type: ignore[misc]
