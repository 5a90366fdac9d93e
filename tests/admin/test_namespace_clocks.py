"""Each namespace has its own clock: advancing, setting or speeding one moves nothing in another, and every
expiry, notification and retry runs on the clock of its own namespace."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

APP_A, APP_B = "2021000000000101", "2021000000000102"
RETRY = 240  # Alipay retries an unacknowledged notification 4 minutes later


@pytest.fixture
def teams(space):
    """team-a and team-b, each with an Alipay app, on manual clocks."""
    made = []
    for name, app_id in (("team-a", APP_A), ("team-b", APP_B)):
        team = space(name)
        team.api("POST", "/clock", json={"mode": "manual"})
        made.append((team, team.alipay(app_id), app_id))
    return made


def notification(team) -> dict:
    [record] = team.api("GET", "/notifications")["notifications"]
    return record


def paid(team, client, app_id: str, notify_url: str) -> None:
    client.create("ORDER-1", 100, "Tea", "2088000000000009", notify_url=notify_url)
    team.api("POST", f"/orders/alipay/{app_id}/ORDER-1/pay", json={})
    team.api("POST", "/notifications/flush")


def test_advancing_one_namespace_s_clock_expires_its_orders_and_nobody_else_s(teams):
    (a, client_a, app_a), (b, client_b, app_b) = teams
    for client in (client_a, client_b):
        client.create("ORDER-1", 100, "Tea", "2088000000000009", timeout_express="10m")
    b_now = b.clock()

    a.api("POST", "/clock/advance", json={"seconds": 3600})

    assert a.api("GET", f"/orders/alipay/{app_a}/ORDER-1")["status"] == "closed"
    assert b.api("GET", f"/orders/alipay/{app_b}/ORDER-1")["status"] == "pending"
    assert b.clock() == b_now


def test_advancing_one_namespace_s_clock_retries_its_notifications_and_nobody_else_s(teams, receiver):
    (a, client_a, app_a), (b, client_b, app_b) = teams
    receiver.reply("busy")  # never an ack: each is retried 4 minutes (on its own clock) after its attempt
    paid(a, client_a, app_a, f"{receiver.url}/a")
    paid(b, client_b, app_b, f"{receiver.url}/b")

    attempted = a.api("POST", "/clock/advance", json={"seconds": RETRY})["attempted"]
    b.api("POST", "/notifications/flush")

    assert [n["id"] for n in attempted] == [notification(a)["id"]]
    assert len(notification(a)["attempts"]) == 2
    assert len(notification(b)["attempts"]) == 1
    assert len(receiver.at("/a")) == 2 and len(receiver.at("/b")) == 1


def test_a_notification_is_stamped_and_scheduled_on_its_own_namespace_s_clock(teams, receiver):
    (a, client_a, app_a), (b, client_b, app_b) = teams
    receiver.reply("busy")
    a.api("POST", "/clock/advance", json={"seconds": 10 * 86400})

    paid(a, client_a, app_a, f"{receiver.url}/a")
    paid(b, client_b, app_b, f"{receiver.url}/b")

    for team, path in ((a, "/a"), (b, "/b")):
        record = notification(team)
        attempted_at = datetime.fromisoformat(record["attempts"][0]["at"])
        assert attempted_at == datetime.fromisoformat(team.clock())
        assert datetime.fromisoformat(record["next_attempt_at"]) == attempted_at + timedelta(seconds=RETRY)
        [sent] = receiver.at(path)
        assert sent.form["notify_time"] == attempted_at.strftime("%Y-%m-%d %H:%M:%S")
    assert datetime.fromisoformat(a.clock()) - datetime.fromisoformat(b.clock()) > timedelta(days=9)


def test_setting_one_namespace_s_clock_leaves_the_others_as_they_were(teams, space):
    (a, _, _), (b, _, _) = teams

    a.api("POST", "/clock", json={"mode": "accelerated", "factor": 60})

    assert (a.api("GET", "/clock")["mode"], a.api("GET", "/clock")["factor"]) == ("accelerated", 60)
    assert b.api("GET", "/clock")["mode"] == "manual"
    assert space().api("GET", "/clock")["mode"] == "real"


def test_the_background_worker_runs_each_namespace_s_retries_on_its_own_clock(teams, receiver):
    (a, client_a, app_a), (b, client_b, app_b) = teams
    answers = itertools.chain(["busy"], itertools.repeat("success"))
    receiver.reply(lambda received: next(answers), path="/a")
    receiver.reply("busy", path="/b")
    paid(b, client_b, app_b, f"{receiver.url}/b")
    a.api("POST", "/clock", json={"mode": "accelerated", "factor": 10_000})  # 4 minutes pass in 24 ms

    paid(a, client_a, app_a, f"{receiver.url}/a")

    receiver.wait_for(2, path="/a")  # the retry, sent by the worker with no advance and no flush
    a.api("POST", "/notifications/flush")  # waits for the attempt on its way to be recorded
    assert notification(a)["status"] == "delivered" and len(notification(a)["attempts"]) == 2
    assert notification(b)["status"] == "pending" and len(notification(b)["attempts"]) == 1
    assert len(receiver.at("/b")) == 1
