"""Bounded history on the manual sandbox clock: finished orders past retention go with their notifications, and
nothing goes while something is still due for it."""

import pytest

from sandbox.config import Config
from sandbox.core.retention import Retention

APP = "2021000000000001"


@pytest.fixture
def config() -> Config:
    return Config(seed=1234, clock_mode="manual", retention="1h", retention_orders=0)


@pytest.fixture
def paid(client, alipay_call, receiver):
    """Create and pay an order notifying the receiver, and run its first attempt; answer its path."""

    def pay(out_trade_no: str) -> str:
        biz = {"out_trade_no": out_trade_no, "total_amount": "1.00", "subject": "x"}
        assert alipay_call("alipay.trade.precreate", biz, notify_url=receiver.url + "/notify")["code"] == "10000"
        path = f"/_sandbox/orders/alipay/{APP}/{out_trade_no}"
        assert client.post(f"{path}/pay", json={}).status_code == 200
        client.post("/_sandbox/notifications/flush")
        return path

    return pay


def advance(client, seconds: int) -> None:
    assert client.post("/_sandbox/clock/advance", json={"seconds": seconds}).status_code == 200


def notifications(client, out_trade_no: str) -> list:
    return client.get(f"/_sandbox/notifications?out_trade_no={out_trade_no}").get_json()["notifications"]


def test_a_finished_order_past_the_window_goes_with_its_notifications(client, paid, receiver):
    path = paid("RET-1")
    advance(client, 59 * 60)
    assert client.get(path).status_code == 200  # a test's orders are minutes old: kept
    advance(client, 2 * 60)
    assert client.get(path).status_code == 404
    assert notifications(client, "RET-1") == []


def test_an_order_with_a_pending_notification_is_kept_until_it_is_over(client, paid, receiver):
    receiver.reply("not yet")  # the merchant never acknowledges: Alipay retries for about a day
    path = paid("RET-2")
    advance(client, 2 * 3600)
    assert client.get(path).get_json()["notifications"][0]["status"] == "pending"
    advance(client, 30 * 3600)  # the retries are spent: the notification has failed, nothing is due
    assert client.get(path).status_code == 404


def test_a_pending_order_is_never_purged(client, alipay_call):
    biz = {"out_trade_no": "RET-3", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"}
    assert alipay_call("alipay.trade.create", biz)["code"] == "10000"  # pending for 15 days
    advance(client, 3 * 24 * 3600)
    assert client.get(f"/_sandbox/orders/alipay/{APP}/RET-3").get_json()["status"] == "pending"


def test_beyond_the_count_kept_the_least_recently_active_go(client, sandbox, paid):
    sandbox.default.retention = Retention(age=None, orders=2)
    paths = []
    for n in range(3):
        paths.append(paid(f"RET-C{n}"))
        advance(client, 1)
    assert [client.get(path).status_code for path in paths] == [404, 200, 200]


def test_retention_settings_are_checked():
    assert Retention.parse("7d", 5000) == Retention(age=Retention.parse("168h", 0).age, orders=5000)
    assert Retention.parse("off", 0).keeps_everything
    for age, orders in (("a week", 0), ("7d", -1)):
        with pytest.raises(ValueError):
            Retention.parse(age, orders)


def test_orders_finished_after_a_purge_that_kept_everything_still_go_once_past_the_window(client, paid):
    first = paid("RET-S1")
    advance(client, 30 * 60)  # a purge runs (after every advance) and keeps RET-S1: the next may skip the reading
    second = paid("RET-S2")
    advance(client, 31 * 60)
    assert [client.get(path).status_code for path in (first, second)] == [404, 200]
    advance(client, 60)  # nothing can have aged past the window since: this purge reads no order
    assert client.get(second).status_code == 200
    advance(client, 29 * 60)
    assert client.get(second).status_code == 404
