from datetime import datetime, timedelta

import pytest

from sandbox.core.clock import BEIJING, Clock, merchant_deadline
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


def test_reset_to_real_drops_the_offset_and_the_speed(monkeypatch):
    fake_time = [1_800_000_000.0]
    monkeypatch.setattr("sandbox.core.clock.time.time", lambda: fake_time[0])
    clock = Clock("accelerated", 60, start=START)
    fake_time[0] += 10
    clock.set_mode("real")  # keeps the ten accelerated minutes: real time from there on
    assert clock.now() == START + timedelta(minutes=10)
    clock.reset_to_real()
    assert (clock.mode, clock.factor) == ("real", 1.0)
    assert clock.now() == datetime.fromtimestamp(fake_time[0], BEIJING)
    fake_time[0] += 5
    assert clock.now() == datetime.fromtimestamp(fake_time[0], BEIJING)


def test_a_merchant_deadline_counts_from_the_wall_clock_only_when_the_sandbox_clock_has_passed_it():
    wall = datetime.now(BEIJING)
    ahead = wall + timedelta(minutes=15)  # the sandbox clock, moved on by a test
    # On the wall clock 15 minutes are left: the buyer keeps them on the sandbox clock.
    moved = merchant_deadline(wall + timedelta(minutes=15), ahead)
    assert timedelta(minutes=14) < moved - ahead <= timedelta(minutes=15)
    # A moment ahead on the sandbox clock (a manual one, set a moment ago) is still the wall clock's 15 minutes.
    frozen = wall + timedelta(minutes=15) - timedelta(seconds=2)
    assert merchant_deadline(wall + timedelta(minutes=15), frozen) - frozen > timedelta(minutes=14)
    # Well ahead on the sandbox clock (a test writing deadlines on it): as sent.
    assert merchant_deadline(ahead + timedelta(minutes=5), ahead) == ahead + timedelta(minutes=5)
    # Past on both: as sent, for the gateway to refuse.
    assert merchant_deadline(wall - timedelta(minutes=1), ahead) == wall - timedelta(minutes=1)
    # A lead (WeChat v2's minute at least): a deadline inside it on the sandbox clock, valid on the wall clock.
    near = merchant_deadline(ahead + timedelta(seconds=30), ahead, timedelta(minutes=1))
    assert near - ahead > timedelta(minutes=15)
