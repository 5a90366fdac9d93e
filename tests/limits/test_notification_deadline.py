"""One deadline per notification attempt (connect, send, the whole reply), and a reply read only so far."""

from __future__ import annotations

import pytest

from sandbox.config import Config
from sandbox.core.dispatcher import MAX_REPLY
from sandbox.core.notify_http import REPLY_LIMIT
from tests.limits.merchants import RawMerchant, flood, timed, trickle

APP = "2021000000000001"


@pytest.fixture
def config() -> Config:
    return Config(seed=1234, notify_timeout=0.5)


@pytest.fixture
def merchants():
    started = []

    def start(answer) -> RawMerchant:
        started.append(RawMerchant(answer))
        return started[-1]

    yield start
    for merchant in started:
        merchant.stop()


def paid_and_flushed(live, http, alipay_client, out_trade_no: str, notify_url: str) -> dict:
    alipay_client.precreate(out_trade_no, 100, "Tea", notify_url=notify_url)
    http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/{out_trade_no}/pay", json={}).raise_for_status()
    http.post(f"{live.url}/_sandbox/notifications/flush").raise_for_status()  # waits for the attempt under way
    [record] = http.get(f"{live.url}/_sandbox/notifications", params={"out_trade_no": out_trade_no}).json()[
        "notifications"
    ]
    return record


def test_a_merchant_trickling_its_answer_is_cut_off_at_the_deadline_of_the_whole_attempt(
    live, http, alipay_client, merchants
):
    merchant = merchants(trickle(every=0.2))  # `success` in 1.4 s, a byte well within any per-read timeout
    took = timed(lambda: paid_and_flushed(live, http, alipay_client, "TRICKLE-1", f"{merchant.url}/notify"))
    record = http.get(f"{live.url}/_sandbox/notifications", params={"out_trade_no": "TRICKLE-1"}).json()
    [attempt] = record["notifications"][0]["attempts"]
    assert attempt["error"].startswith("timed out after 0.5 s with HTTP 200 and ")
    assert "SANDBOX_NOTIFY_TIMEOUT bounds the whole attempt" in attempt["error"]
    assert attempt["http_status"] == 200 and not attempt["acked"]
    assert "success".startswith(attempt["response_body"]) and len(attempt["response_body"]) < 7
    assert took < 1.4


def test_a_merchant_that_never_answers_is_cut_off_at_the_deadline(live, http, alipay_client, merchants):
    merchant = merchants(lambda merchant, conn: merchant.stopping(30))
    record = paid_and_flushed(live, http, alipay_client, "SILENT-1", f"{merchant.url}/notify")
    [attempt] = record["attempts"]
    assert attempt["error"].startswith("timed out after 0.5 s with no answer")
    assert attempt["http_status"] is None and record["status"] == "pending"


def test_a_huge_reply_is_read_only_up_to_the_limit_and_kept_to_max_reply_characters(
    live, http, alipay_client, merchants
):
    merchant = merchants(flood(total=256 * 1024 * 1024))
    record = paid_and_flushed(live, http, alipay_client, "FLOOD-1", f"{merchant.url}/notify")
    [attempt] = record["attempts"]
    assert (attempt["http_status"], attempt["error"], attempt["acked"]) == (200, "", False)
    assert attempt["response_body"] == "x" * MAX_REPLY
    assert merchant.sent < REPLY_LIMIT + 32 * 1024 * 1024  # what socket buffers took, never the whole reply
