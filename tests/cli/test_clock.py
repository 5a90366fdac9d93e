"""`paysandbox clock reset` and `paysandbox reset` put the clock on real time; `clock set real` keeps the offset."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.core.clock import BEIJING
from tests.cli.conftest import ok


def offset(now: str) -> timedelta:
    return datetime.fromisoformat(now) - datetime.now(BEIJING)


def test_clock_set_real_keeps_the_offset_and_clock_reset_drops_it(sbx):
    sbx.cli("clock", "advance", "1d")
    assert offset(sbx.cli_json("clock", "set", "real")["now"]) > timedelta(hours=23)
    out = sbx.cli("clock", "reset")
    assert "mode" in out and "real" in out
    clock = sbx.api("GET", "/clock")
    assert (clock["mode"], clock["factor"]) == ("real", 1.0) and abs(offset(clock["now"])) < timedelta(seconds=5)
    answer = sbx.cli_json("clock", "reset")
    assert answer["mode"] == "real" and set(answer) == {"now", "mode", "factor"}


def test_reset_says_the_clock_is_back_on_real_time(sbx):
    sbx.cli("clock", "advance", "2h")
    out = sbx.cli("reset")
    assert out.startswith("reset: orders, refunds, notifications and scenario rules dropped; merchants kept;")
    assert "clock back on real time (" in out
    assert abs(offset(sbx.api("GET", "/clock")["now"])) < timedelta(seconds=5)


def test_the_help_tells_set_real_from_reset():
    help_text = " ".join(ok("clock", "--help").split())
    assert "an offset gained stays: `clock reset` drops it" in help_text
    assert "back on real time" in help_text
