"""POST /_sandbox/clock/reset and POST /_sandbox/reset put a namespace's clock back on real time, dropping any
offset; POST /_sandbox/clock {"mode": "real"} keeps the offset, as it always did."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.core.clock import BEIJING

DAY = 86400


def offset(answer: dict) -> timedelta:
    """How far the answered clock is from the wall clock."""
    return datetime.fromisoformat(answer["now"]) - datetime.now(BEIJING)


def test_setting_real_keeps_the_offset_and_reset_drops_it(space):
    sandbox = space(None)
    sandbox.api("POST", "/clock", json={"mode": "manual"})
    sandbox.api("POST", "/clock/advance", json={"seconds": DAY})
    kept = sandbox.api("POST", "/clock", json={"mode": "real"})
    assert kept["mode"] == "real" and offset(kept) > timedelta(hours=23)

    reset = sandbox.api("POST", "/clock/reset")
    assert (reset["mode"], reset["factor"]) == ("real", 1.0)
    assert abs(offset(reset)) < timedelta(seconds=5)
    assert sandbox.api("GET", "/clock")["mode"] == "real"


def test_reset_drops_an_accelerated_speed_and_takes_no_body(space):
    sandbox = space(None)
    sandbox.api("POST", "/clock", json={"mode": "accelerated", "factor": 3600})
    reply = sandbox.call("POST", "/clock/reset", data="ignored", headers={"Content-Type": "application/json"})
    assert reply.status_code == 200, reply.text
    assert (reply.json()["mode"], reply.json()["factor"]) == ("real", 1.0)


def test_the_namespace_reset_puts_the_clock_back_too_and_says_so(space):
    sandbox = space(None)
    sandbox.api("POST", "/clock", json={"mode": "manual"})
    sandbox.api("POST", "/clock/advance", json={"seconds": 900})
    answer = sandbox.api("POST", "/reset")
    assert (answer["status"], answer["merchants_reset"]) == ("ok", False)
    assert answer["clock"]["mode"] == "real" and abs(offset(answer["clock"])) < timedelta(seconds=5)
    assert abs(offset(sandbox.api("GET", "/clock"))) < timedelta(seconds=5)


def test_a_reset_moves_only_its_own_namespace_s_clock(space):
    team, default = space("team-a"), space(None)
    for one in (team, default):
        one.api("POST", "/clock", json={"mode": "manual"})
        one.api("POST", "/clock/advance", json={"seconds": DAY})
    team.api("POST", "/clock/reset")
    assert abs(offset(team.api("GET", "/clock"))) < timedelta(seconds=5)
    assert default.api("GET", "/clock")["mode"] == "manual"
    assert offset(default.api("GET", "/clock")) > timedelta(hours=23)
    default.api("POST", "/reset")
    assert team.api("GET", "/clock")["mode"] == "real"


def test_a_reset_can_leave_the_clock_manual_at_the_wall_time_in_one_call(space):
    sandbox = space("before-a-test")
    sandbox.api("POST", "/clock", json={"mode": "accelerated", "factor": 3600})
    sandbox.api("POST", "/clock/advance", json={"seconds": DAY})
    answer = sandbox.api("POST", "/reset", json={"clock": "manual"})
    assert (answer["clock"]["mode"], answer["clock"]["factor"]) == ("manual", 1.0)
    assert abs(offset(answer["clock"])) < timedelta(seconds=5)
    assert sandbox.api("GET", "/clock")["mode"] == "manual"


def test_a_reset_refuses_an_unknown_clock_mode_before_dropping_anything(space):
    sandbox = space("kept")
    sandbox.api("POST", "/scenarios", json={"match": {"operation": "query"}, "api": {"status": 503}})
    reply = sandbox.call("POST", "/reset", json={"clock": "fast"})
    assert reply.status_code == 400 and reply.json()["error"]["field"] == "clock", reply.text
    assert len(sandbox.api("GET", "/scenarios")["scenarios"]) == 1
