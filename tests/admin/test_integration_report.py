"""The integration report of a WeChat Pay merchant, over real HTTP: an honest merchant (the reference client verifies
every notification, follows faults up, retries refunds with their number) passes every check; a careless one (acks
everything, never queries, retries a refund under a new number) fails them; the CLI gates on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.cli import main
from sandbox.merchant.wechatpay import WechatPayClient, WechatPayClientError, WechatPaySignatureError
from sandbox.testing.receiver import Reply

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
PLATFORM = json.loads((FIXTURES / "sandbox/platform.json").read_text())
MCHID = MERCHANT["merchant_id"]
REPORT = f"/_sandbox/merchants/wechatpay/{MCHID}/report"
FORGERIES = ({"signature": "invalid"}, {"tamper": {"amount": 1}}, {"timestamp": "stale"}, {"merchant": "wrong"})


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


@pytest.fixture
def merchant(live, receiver) -> WechatPayClient:
    return WechatPayClient(
        MCHID,
        MERCHANT["appid"],
        MERCHANT["merchant_serial_no"],
        (FIXTURES / "demo/merchant_private_key.pem").read_text(),
        MERCHANT["apiv3_key"],
        live.url,
        platform_public_key=(FIXTURES / "sandbox/pub_key.pem").read_text(),
        public_key_id=PLATFORM["public_key_id"],
        notify_url=f"{receiver.url}/notify",
        timeout=10,
    )


def honest(merchant: WechatPayClient):
    """Verifies every notification: 204 for a genuine one, 401 for anything it cannot trust."""

    def answer(received) -> Reply:
        try:
            merchant.parse_notification(received.headers, received.body)
        except WechatPaySignatureError:
            return Reply(401, '{"code": "FAIL", "message": "signature"}')
        return Reply(204, "")

    return answer


def paid_order(merchant, http, live, out_trade_no: str, amount: int = 1000) -> None:
    merchant.native_prepay(out_trade_no, amount, "report test")
    reply = http.post(f"{live.url}/_sandbox/orders/wechatpay/{MCHID}/{out_trade_no}/pay", json={})
    assert reply.status_code == 200, reply.text
    assert http.post(f"{live.url}/_sandbox/notifications/flush", timeout=30).status_code == 200


def report(http, live, **params) -> dict:
    reply = http.get(f"{live.url}{REPORT}", params=params, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def statuses(answer: dict) -> dict[str, str]:
    return {line["id"]: line["status"] for line in answer["checks"]}


def add_scenario(http, live, rule: dict) -> None:
    reply = http.post(f"{live.url}/_sandbox/scenarios", json=rule)
    assert reply.status_code == 201, reply.text


def exercise_notifications(merchant, http, live, rule) -> None:
    """One order per forgery, one with a probe copy and one duplicated: each rule shapes the next notification."""
    for number, forgery in enumerate((*FORGERIES, {"probe": 1}, {"duplicate": 1})):
        rule(match={"gateway": "wechatpay", "merchant_id": MCHID}, times=1, notify=forgery)
        paid_order(merchant, http, live, f"RPT-N{number}")


def test_a_fresh_merchant_has_every_check_not_exercised_each_with_a_rule_that_can_be_added(live, http):
    answer = report(http, live)
    assert answer["gateway"] == "wechatpay" and answer["merchant_id"] == MCHID
    assert answer["summary"] == {"passed": 0, "failed": 0, "not_exercised": len(answer["checks"])}
    assert answer["generated_at"].endswith("+08:00")
    ids = [line["id"] for line in answer["checks"]]
    assert "refuses_probes" in ids and "fetches_bills" in ids and "refuses_stale_notifications" in ids
    for line in answer["checks"]:
        assert line["title"] and line["how"] and line["evidence"] == []
        if line["scenario"] is not None:
            assert line["scenario"]["match"]["merchant_id"] == MCHID
            add_scenario(http, live, line["scenario"])  # every suggested rule is one the sandbox accepts
    assert http.get(f"{live.url}/_sandbox/scenarios").json()["scenarios"]


def test_an_honest_merchant_passes_every_check(live, http, receiver, merchant, rule):
    receiver.reply(honest(merchant))
    exercise_notifications(merchant, http, live, rule)
    # An answer lost after the order was made: the reference client raises, and the honest merchant queries.
    fault = next(line for line in report(http, live)["checks"] if line["id"] == "follows_up_faults")["scenario"]
    add_scenario(http, live, fault)
    with pytest.raises(WechatPayClientError):
        merchant.native_prepay("RPT-F1", 500, "report test")
    assert merchant.query("RPT-F1")["trade_state"] == "NOTPAY"
    merchant.close("RPT-F1")
    # Refunds: a partial one whose answer is lost, retried with the same out_refund_no, then a second one.
    paid_order(merchant, http, live, "RPT-R1", 1000)
    rule(match={"merchant_id": MCHID, "operation": "refund"}, times=1, api={"status": 504})
    with pytest.raises(WechatPayClientError):
        merchant.refund("RPT-R1-1", 300, 1000, out_trade_no="RPT-R1")
    assert merchant.refund("RPT-R1-1", 300, 1000, out_trade_no="RPT-R1")["status"] == "PROCESSING"
    merchant.refund("RPT-R1-2", 200, 1000, out_trade_no="RPT-R1")
    merchant.trade_bill("2024-01-01")

    answer = report(http, live)

    assert statuses(answer) == {line["id"]: "passed" for line in answer["checks"]}, answer
    assert answer["summary"] == {"passed": len(answer["checks"]), "failed": 0, "not_exercised": 0}
    lines = {line["id"]: line for line in answer["checks"]}
    assert "all 1 probe-signed notifications were refused" in lines["refuses_probes"]["detail"]
    notes = {item["out_trade_no"]: item["note"] for item in lines["follows_up_faults"]["evidence"]}
    assert notes.keys() == {"RPT-F1", "RPT-R1"}
    assert notes["RPT-F1"].endswith("followed by transactions.query")
    assert "refunds.create got HTTP 504" in notes["RPT-R1"]
    assert lines["retries_refunds_idempotently"]["evidence"][0]["out_trade_no"] == "RPT-R1"
    assert all(len(line["evidence"]) <= 5 for line in answer["checks"])


def test_a_careless_merchant_fails_and_the_cli_exit_status_says_so(live, http, receiver, merchant, rule, capsys):
    receiver.reply("ok")  # any 2xx acks a v3 notification, forged or not
    exercise_notifications(merchant, http, live, rule)
    rule(match={"merchant_id": MCHID, "operation": "create"}, times=1, api={"status": 504})
    with pytest.raises(WechatPayClientError):
        merchant.native_prepay("RPT-F2", 500, "report test")  # and never asked about again
    paid_order(merchant, http, live, "RPT-R2", 1000)
    rule(match={"merchant_id": MCHID, "operation": "refund"}, times=1, api={"status": 504})
    with pytest.raises(WechatPayClientError):
        merchant.refund("RPT-R2-1", 300, 1000, out_trade_no="RPT-R2")
    merchant.refund("RPT-R2-2", 300, 1000, out_trade_no="RPT-R2")  # the same refund under a new number: twice

    answer = report(http, live)

    found = statuses(answer)
    for check in ("refuses_invalid_signature", "refuses_tampered_notifications", "refuses_stale_notifications"):
        assert found[check] == "failed", answer
    assert found["refuses_wrong_merchant"] == found["refuses_probes"] == found["follows_up_faults"] == "failed"
    assert found["retries_refunds_idempotently"] == "failed"
    assert found["acknowledges_notifications"] == found["answers_duplicates"] == "passed"
    lines = {line["id"]: line for line in answer["checks"]}
    assert lines["follows_up_faults"]["evidence"][0]["note"].endswith("never followed up")
    assert lines["refuses_tampered_notifications"]["evidence"][0]["notification_id"].startswith("ntf_")
    assert "RPT-R2-2" in lines["retries_refunds_idempotently"]["evidence"][0]["note"]
    assert answer["summary"]["failed"] == 7

    assert main(["merchants", "report", "wechatpay", MCHID, "--url", live.url]) == 1
    printed = capsys.readouterr().out
    assert "failed" in printed and "Refuses notifications changed after signing" in printed
    assert main(["merchants", "report", "wechatpay", MCHID, "--url", live.url, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["summary"] == answer["summary"]


def test_the_cli_exits_0_when_nothing_failed(live, capsys):
    assert main(["merchants", "report", "wechatpay", MCHID, "--url", live.url]) == 0
    assert "not exercised" in capsys.readouterr().out


def test_markdown_by_query_or_accept_header_and_bad_input(live, http):
    by_query = http.get(f"{live.url}{REPORT}?format=markdown", timeout=10)
    by_accept = http.get(f"{live.url}{REPORT}", headers={"Accept": "text/markdown"}, timeout=10)
    for reply in (by_query, by_accept):
        assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/markdown")
        assert reply.text.startswith(f"# Integration report: wechatpay merchant {MCHID}")
        assert '"operation": "notify"' in reply.text  # the rules to add, as JSON blocks
    bad_format = http.get(f"{live.url}{REPORT}?format=pdf", timeout=10)
    assert bad_format.status_code == 400 and bad_format.json()["error"]["code"] == "INVALID_PARAMETER"
    assert "format" in bad_format.json()["error"]["message"]
    unknown = http.get(f"{live.url}/_sandbox/merchants/wechatpay/1999999999/report", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"]
    bad_gateway = http.get(f"{live.url}/_sandbox/merchants/paypal/{MCHID}/report", timeout=10)
    assert bad_gateway.status_code == 400


def test_each_namespace_reports_only_its_own_merchants_and_what_they_did(live, http, receiver, space, rule, merchant):
    receiver.reply("ok")
    rule(match={"merchant_id": MCHID}, times=1, notify={"tamper": {"amount": 1}})
    paid_order(merchant, http, live, "RPT-NS-1")
    team = space("team-report")
    team.register("wechatpay", "1900000901")

    theirs = team.call("GET", "/merchants/wechatpay/1900000901/report").json()
    assert theirs["summary"] == {"passed": 0, "failed": 0, "not_exercised": len(theirs["checks"])}
    assert team.call("GET", REPORT.removeprefix("/_sandbox")).status_code == 404  # the default one's merchant
    assert statuses(report(http, live))["refuses_tampered_notifications"] == "failed"
    reset = http.post(f"{live.url}/_sandbox/reset", json={})
    assert reset.status_code == 200
    assert report(http, live)["summary"]["failed"] == 0  # reset drops what was observed with the orders
