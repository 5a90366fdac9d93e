"""The integration report of an Alipay merchant, over real HTTP: each rule a not-exercised line suggests, once added,
makes its check exercised, and an honest merchant (the reference client's verification, a freshness check, the
exact `success`) passes them; a merchant answering `ok` fails the ack check with the answers it gave. On both
stores."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from sandbox.config import Config
from sandbox.merchant.alipay import AlipayApiError, AlipayClientError, AlipaySignatureError
from sandbox.testing.receiver import Reply

APP = "2021000000000001"
REPORT = f"/_sandbox/merchants/alipay/{APP}/report"
FRESH = timedelta(hours=1)


@pytest.fixture
def config(store_data) -> Config:
    return Config(seed=1234, data_path=store_data)


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


def report(http, live) -> dict:
    reply = http.get(f"{live.url}{REPORT}", timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def lines(answer: dict) -> dict[str, dict]:
    return {line["id"]: line for line in answer["checks"]}


def paid_order(alipay_client, http, live, receiver, out_trade_no: str, amount: int = 1000) -> None:
    alipay_client.precreate(out_trade_no, amount, "report test", notify_url=f"{receiver.url}/notify")
    reply = http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/{out_trade_no}/pay", json={})
    assert reply.status_code == 200, reply.text
    assert http.post(f"{live.url}/_sandbox/notifications/flush", timeout=30).status_code == 200


def honest(alipay_client, sandbox):
    def answer(received) -> Reply:
        try:
            fields = alipay_client.verify_notification(received.form)
        except AlipaySignatureError:
            return Reply(200, "fail")
        now = sandbox.clock.now()
        sent = datetime.fromisoformat(fields["notify_time"].replace(" ", "T")).replace(tzinfo=now.tzinfo)
        return Reply(200, "success" if sandbox.clock.now() - sent < FRESH else "fail")

    return answer


def test_every_suggested_rule_makes_its_check_exercised_and_an_honest_merchant_passes(
    live, http, receiver, sandbox, alipay_client
):
    receiver.reply(honest(alipay_client, sandbox))
    fresh = lines(report(http, live))
    assert "refuses_probes" not in fresh  # WeChat Pay's alone
    suggested = {check: line["scenario"] for check, line in fresh.items() if line["scenario"]}
    assert set(suggested) == {
        "refuses_invalid_signature",
        "refuses_tampered_notifications",
        "refuses_stale_notifications",
        "refuses_wrong_merchant",
        "answers_duplicates",
        "follows_up_faults",
        "retries_refunds_idempotently",
    }
    for number, check in enumerate(sorted(suggested)):
        assert http.post(f"{live.url}/_sandbox/scenarios", json=suggested[check]).status_code == 201
        if check == "follows_up_faults":
            with pytest.raises((AlipayClientError, requests.HTTPError)):  # the load balancer's 504 page
                alipay_client.precreate("RPT-A-F", 700, "report test", notify_url=f"{receiver.url}/notify")
            with pytest.raises(AlipayApiError, match=r"ACQ\.TRADE_NOT_EXIST"):  # nobody has scanned it yet
                alipay_client.query("RPT-A-F")
        elif check == "retries_refunds_idempotently":
            paid_order(alipay_client, http, live, receiver, "RPT-A-R")
            with pytest.raises((AlipayClientError, requests.HTTPError)):  # the load balancer's 504 page
                alipay_client.refund("RPT-A-R", 400, "RPT-A-R-1")
            assert alipay_client.refund("RPT-A-R", 400, "RPT-A-R-1")["fund_change"] == "N"  # the same refund
            alipay_client.refund("RPT-A-R", 100, "RPT-A-R-2")
        else:
            paid_order(alipay_client, http, live, receiver, f"RPT-A-{number}")
        assert lines(report(http, live))[check]["status"] == "passed", (check, report(http, live))
    alipay_client.bill_download_url("2024-01-01")
    alipay_client.create("RPT-A-C", 300, "report test", "2088102146225135")
    alipay_client.close("RPT-A-C")

    answer = report(http, live)

    assert answer["summary"] == {"passed": len(answer["checks"]), "failed": 0, "not_exercised": 0}, answer
    assert "refunds_partially" in lines(answer) and "closes_unpaid_orders" in lines(answer)


def test_answering_ok_instead_of_success_fails_the_ack_check_with_the_answers_seen(live, http, receiver, alipay_client):
    receiver.reply("ok")
    paid_order(alipay_client, http, live, receiver, "RPT-A-OK")

    ack = lines(report(http, live))["acknowledges_notifications"]

    assert ack["status"] == "failed"
    assert "HTTP 200 'ok' (1x)" in ack["detail"] and "retries" in ack["detail"]
    assert ack["evidence"][0]["out_trade_no"] == "RPT-A-OK"
    assert ack["evidence"][0]["notification_id"].startswith("ntf_")
    assert "`success`" in ack["how"]


def test_a_refused_query_is_no_follow_up_for_an_order_never_faulted(live, http, alipay_client):
    with pytest.raises(AlipayApiError):
        alipay_client.query("RPT-A-NONE")  # ordinary calls record nothing
    assert lines(report(http, live))["follows_up_faults"]["status"] == "not_exercised"
