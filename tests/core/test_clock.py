from datetime import datetime, timedelta

import pytest

from sandbox.core.clock import BEIJING, Clock
from sandbox.errors import InvalidParameter

START = datetime(2026, 1, 1, 12, 0, tzinfo=BEIJING)


def test_manual_clock_stands_still_until_advanced():
    clock = Clock("manual", start=START)
    assert clock.now() == START
    clock.advance_to(START + timedelta(minutes=5))
    assert clock.now() == START + timedelta(minutes=5)


def test_advance_to_the_past_does_nothing():
    clock = Clock("manual", start=START)
    clock.advance_to(START - timedelta(days=1))
    assert clock.now() == START


def test_accelerated_clock_runs_faster_than_real_time(monkeypatch):
    fake_time = [1000.0]
    monkeypatch.setattr("sandbox.core.clock.time.time", lambda: fake_time[0])
    clock = Clock("accelerated", 60, start=START)
    fake_time[0] += 2
    assert clock.now() == START + timedelta(minutes=2)
    assert clock.real_seconds_until(START + timedelta(minutes=3)) == pytest.approx(1.0)


def test_switching_mode_keeps_the_current_virtual_time(monkeypatch):
    fake_time = [1000.0]
    monkeypatch.setattr("sandbox.core.clock.time.time", lambda: fake_time[0])
    clock = Clock("accelerated", 10, start=START)
    fake_time[0] += 6
    clock.set_mode("manual")
    fake_time[0] += 100
    assert clock.now() == START + timedelta(minutes=1)
    assert clock.real_seconds_until(START + timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("mode", "factor"),
    [("warp", None), ("accelerated", 0), ("accelerated", -1), ("accelerated", "fast"), ("accelerated", True)],
)
def test_bad_mode_or_factor_is_refused(mode, factor):
    with pytest.raises(InvalidParameter):
        Clock().set_mode(mode, factor)


def test_describe_reports_beijing_time():
    clock = Clock("manual", start=START)
    assert clock.describe() == {"now": "2026-01-01T12:00:00+08:00", "mode": "manual", "factor": 1.0}
