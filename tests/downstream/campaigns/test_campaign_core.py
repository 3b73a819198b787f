"""Lifecycle moves, reproducible variant/holdout assignment, send windows, UTM tags."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy import stats

from streamwise.downstream.campaigns.assignment import HOLDOUT, assign, uniform_draws
from streamwise.downstream.campaigns.lifecycle import STATES, TRANSITIONS, check_transition
from streamwise.downstream.campaigns.windows import next_send_time, utm_tag
from streamwise.errors import ConfigError


def test_only_declared_moves_are_allowed() -> None:
    allowed = {(a, b) for a, moves in TRANSITIONS.items() for b in moves}
    for a in STATES:
        for b in STATES:
            if (a, b) in allowed:
                check_transition(a, b)
            else:
                with pytest.raises(ConfigError):
                    check_transition(a, b)
    with pytest.raises(ConfigError, match="it can: resume"):
        check_transition("paused", "done")
    with pytest.raises(ConfigError, match="nothing more"):
        check_transition("done", "sending")


def test_assignment_is_reproducible_and_splits_as_configured() -> None:
    ids = [f"C{i:07d}" for i in range(40_000)]
    arms = assign(ids, seed="camp-1", variants={"A": 1, "B": 1, "C": 2}, holdout=0.1)
    again = assign(list(reversed(ids)), seed="camp-1", variants={"A": 1, "B": 1, "C": 2},
                   holdout=0.1)  # fmt: skip
    assert (arms == again.reindex(arms.index)).all()  # order does not matter
    counts = arms.value_counts()
    expected = {HOLDOUT: 0.1, "A": 0.225, "B": 0.225, "C": 0.45}
    observed = [counts[k] for k in expected]
    chi2 = stats.chisquare(observed, [p * len(ids) for p in expected.values()])
    assert chi2.pvalue > 1e-3
    other = assign(ids, seed="camp-2", variants={"A": 1, "B": 1, "C": 2}, holdout=0.1)
    assert (other != arms).mean() > 0.5  # another campaign draws afresh
    u = uniform_draws("s", ids[:5000])
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert np.all((u >= 0) & (u < 1))


def test_holdout_is_a_prefix_of_the_draw_so_raising_it_only_adds_people() -> None:
    ids = [f"C{i}" for i in range(5_000)]
    small = assign(ids, seed="x", variants={"A": 1}, holdout=0.05)
    large = assign(ids, seed="x", variants={"A": 1}, holdout=0.2)
    assert set(small[small == HOLDOUT].index) <= set(large[large == HOLDOUT].index)


def test_bad_assignment_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="holdout"):
        assign(["a"], seed="s", variants={"A": 1}, holdout=1.0)
    with pytest.raises(ConfigError, match="weights"):
        assign(["a"], seed="s", variants={"A": 0})
    with pytest.raises(ConfigError, match="reserved"):
        assign(["a"], seed="s", variants={HOLDOUT: 1})


def test_send_windows_follow_each_recipients_clock() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 12:00 UTC
    nine_to_five = {"start": time(9), "end": time(17)}
    # New York is at 07:00 → wait until 09:00 local = 14:00 UTC
    assert next_send_time(now, "America/New_York", **nine_to_five) == datetime(
        2026, 3, 2, 14, 0, tzinfo=UTC
    )
    # Berlin is at 13:00 → inside the window → now
    assert next_send_time(now, "Europe/Berlin", **nine_to_five) == now
    # Tokyo is at 21:00 → tomorrow 09:00 Tokyo = 00:00 UTC
    assert next_send_time(now, "Asia/Tokyo", **nine_to_five) == datetime(
        2026, 3, 3, 0, 0, tzinfo=UTC
    )
    # weekdays only: Saturday 10:00 in Paris → Monday 09:00 Paris
    sat = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
    t = next_send_time(sat, "Europe/Paris", **nine_to_five, weekdays=frozenset(range(5)))
    assert t.astimezone(ZoneInfo("Europe/Paris")) == datetime(
        2026, 3, 9, 9, 0, tzinfo=ZoneInfo("Europe/Paris")
    )
    # a window across midnight (22:00–02:00), at 01:00 local, is open
    late = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 01:00 in Berlin
    assert next_send_time(late, "Europe/Berlin", start=time(22), end=time(2)) == late
    # unknown zone falls back to the default
    assert next_send_time(now, "Mars/Olympus", **nine_to_five) == now
    with pytest.raises(ConfigError, match="aware"):
        next_send_time(now.replace(tzinfo=None), "UTC", **nine_to_five)


def test_utm_tags_keep_the_rest_of_the_link() -> None:
    url = utm_tag("https://shop.example/p?id=7&utm_source=old#top", source="email",
                  medium="email", campaign="spring", content="B")  # fmt: skip
    assert url == (
        "https://shop.example/p?id=7&utm_source=email&utm_medium=email&utm_campaign=spring"
        "&utm_content=B#top"
    )
    assert utm_tag("mailto:a@b.c", source="s", medium="m", campaign="c") == "mailto:a@b.c"
