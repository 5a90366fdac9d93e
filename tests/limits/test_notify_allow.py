"""SANDBOX_NOTIFY_ALLOW end to end: a notification to anywhere else is recorded as refused and never sent."""

from __future__ import annotations

import pytest

from sandbox.config import Config

APP = "2021000000000001"


@pytest.fixture
def config(receiver) -> Config:
    return Config(seed=1234, notify_allow=f"localhost:{receiver.url.rsplit(':', 1)[1]}")


def notify(live, http, alipay_client, out_trade_no: str, notify_url: str) -> dict:
    answer = alipay_client.precreate(out_trade_no, 100, "Tea", notify_url=notify_url)
    assert answer["code"] == "10000"  # the gateway call that named the URL is not refused
    http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/{out_trade_no}/pay", json={}).raise_for_status()
    http.post(f"{live.url}/_sandbox/notifications/flush").raise_for_status()
    [record] = http.get(f"{live.url}/_sandbox/notifications", params={"out_trade_no": out_trade_no}).json()[
        "notifications"
    ]
    return record


def test_the_allowed_host_and_port_get_their_notifications_by_any_spelling_of_the_name(
    live, http, alipay_client, receiver
):
    port = receiver.url.rsplit(":", 1)[1]
    for number, host in enumerate(("localhost", "LOCALHOST", "localhost.")):
        record = notify(live, http, alipay_client, f"OK-{number}", f"http://{host}:{port}/ok")
        assert record["status"] == "delivered", record["attempts"]
    assert len(receiver.at("/ok")) == 3


TRICKS = {  # the notify URL's host (and port) -> the host the refusal names
    "127.0.0.1:{port}": "127.0.0.1",
    "2130706433:{port}": "2130706433",
    "0x7f.1:{port}": "0x7f.1",
    "0177.0.0.1:{port}": "0177.0.0.1",
    "127.1:{port}": "127.1",
    "[::ffff:127.0.0.1]:{port}": "::ffff:127.0.0.1",
    "localhost@127.0.0.1:{port}": "127.0.0.1",
    "localhost:{port}@127.0.0.1:{port}": "127.0.0.1",
    "localhost:1": "localhost",
}


@pytest.mark.parametrize("authority", TRICKS)
def test_any_other_destination_is_recorded_as_not_allowed_and_nothing_is_sent(
    live, http, alipay_client, receiver, authority
):
    port = receiver.url.rsplit(":", 1)[1]
    record = notify(live, http, alipay_client, "TRICK-1", f"http://{authority.format(port=port)}/admin")
    [attempt] = record["attempts"]
    assert attempt["error"].startswith(f"destination not allowed: {TRICKS[authority]} (")
    assert attempt["http_status"] is None and record["status"] == "pending"
    replayed = http.post(f"{live.url}/_sandbox/notifications/{record['id']}/replay").json()
    assert replayed["attempts"][-1]["error"] == attempt["error"]
    assert receiver.received == []


def test_the_container_passes_the_allow_list_in_its_environment():
    config = Config.from_env({"SANDBOX_NOTIFY_ALLOW": "shop.internal, 10.0.0.0/8"})
    assert config.notify_allow == "shop.internal, 10.0.0.0/8"
    assert Config.from_env({}).notify_allow is None
