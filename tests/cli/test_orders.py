"""`paysandbox orders list | show | pay` and `merchants list | show`: tables for people, the API's JSON for scripts."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import APP, FIXTURES

NOBODY = "http://127.0.0.1:9/notify"  # connections refused: deliveries fail fast and nothing here cares
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def rows(output: str) -> list[list[str]]:
    """The table's lines split on the column gap (two spaces or more), header first."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.splitlines() if line.strip()]


def test_orders_list_is_a_table_with_yuan_short_times_and_long_subjects_cut(sbx):
    sbx.order("QA-1", 990, NOBODY, subject="咖啡 Coffee, a subject long enough to be cut short in a table")
    sbx.order("QA-2", 5, NOBODY)
    out = sbx.cli("orders", "list")
    header, *lines = out.splitlines()[1:]
    assert out.splitlines()[0] == "2 orders"
    assert header.split() == [
        "GATEWAY",
        "MERCHANT",
        "OUT_TRADE_NO",
        "TRADE_NO",
        "AMOUNT",
        "STATUS",
        "SUBJECT",
        "CREATED",
    ]
    [newest] = [line for line in lines if " QA-2 " in line]  # (both made in the same second: either comes first)
    [oldest] = [line for line in lines if " QA-1 " in line]
    assert newest.split()[:2] == ["alipay", APP] and " 0.05 " in newest
    assert " QA-1 " in oldest and " 9.90 " in oldest and "咖啡 Coffee" in oldest and "…" in oldest
    assert TIME.search(oldest) and "T" not in TIME.search(oldest).group() and "+08:00" not in out
    # aligned: every column starts where its title does (the amount is right-aligned under AMOUNT)
    assert newest.index("pending") == header.index("STATUS") == oldest.index("pending")
    # 咖啡 takes four terminal cells in two characters: the times line up on screen, two characters early here
    assert TIME.search(newest).start() == header.index("CREATED") == TIME.search(oldest).start() + 2
    assert newest.index(" 0.05") + len(" 0.05") == header.index("AMOUNT") + len("AMOUNT")


def test_orders_list_filters_and_json_is_the_api_answer(sbx):
    sbx.order("QA-PAID", 100, NOBODY)
    sbx.order("QA-WAIT", 100, NOBODY)
    sbx.api("POST", f"/orders/alipay/{APP}/QA-PAID/pay", json={})
    paid = sbx.cli("orders", "list", "--status", "paid", "--gateway", "alipay", "--merchant", APP)
    assert "QA-PAID" in paid and "QA-WAIT" not in paid
    assert sbx.cli("orders", "list", "--gateway", "wechatpay") == "no orders\n"
    assert sbx.cli_json("orders", "list") == sbx.api("GET", "/orders")
    assert [o["out_trade_no"] for o in sbx.cli_json("orders", "list", "--status", "pending")["orders"]] == ["QA-WAIT"]


def test_orders_pay_then_show_lists_the_order_its_refunds_and_its_notifications(sbx):
    sbx.order("QA-PAY", 12345, NOBODY)
    paid = sbx.cli("orders", "pay", "alipay", APP, "QA-PAY")
    assert re.search(r"^status\s+paid \(trade_status=TRADE_SUCCESS api=gateway.do\)$", paid, re.M)
    assert re.search(r"^amount\s+123\.45 CNY$", paid, re.M)
    assert re.search(r"^paid\s+" + TIME.pattern + "$", paid, re.M)
    shown = sbx.cli("orders", "show", "alipay", APP, "QA-PAY")
    assert "no refunds" in shown
    notifications = shown.split("1 notification\n")[1]
    assert notifications.splitlines()[0].split()[:3] == ["ID", "EVENT", "STATUS"]
    assert "TRADE_SUCCESS" in notifications
    as_json = sbx.cli_json("orders", "show", "alipay", APP, "QA-PAY")
    assert as_json == sbx.api("GET", f"/orders/alipay/{APP}/QA-PAY")
    assert as_json["amount"] == 12345 and as_json["notifications"][0]["event"] == "TRADE_SUCCESS"


def test_orders_show_lists_refunds(sbx):
    sbx.order("QA-REFUND", 990, NOBODY)
    sbx.api("POST", f"/orders/alipay/{APP}/QA-REFUND/pay", json={})
    sbx.alipay.refund("QA-REFUND", 190, out_request_no="QA-REFUND-r1")
    shown = sbx.cli("orders", "show", "alipay", APP, "QA-REFUND")
    assert re.search(r"^refunded\s+1\.90$", shown, re.M)
    refunds = shown.split("1 refund\n")[1].splitlines()
    assert refunds[0].split()[:3] == ["OUT_REFUND_NO", "REFUND_ID", "AMOUNT"]
    assert refunds[1].startswith("QA-REFUND-r1 ") and " 1.90 " in refunds[1]


def test_orders_pay_fail_with_a_reason(sbx):
    sbx.order("QA-DECLINED", 990, NOBODY)
    out = sbx.cli("orders", "pay", "alipay", APP, "QA-DECLINED", "--fail", "--reason", "balance_not_enough")
    assert re.search(r"^status\s+failed\b", out, re.M)
    assert re.search(r"^failure\s+reason=ACQ\.BUYER_BALANCE_NOT_ENOUGH\b", out, re.M)  # the neutral code, translated
    assert sbx.api("GET", f"/orders/alipay/{APP}/QA-DECLINED")["status"] == "failed"


def test_orders_pay_json_is_the_updated_order(sbx):
    sbx.order("QA-PAY-JSON", 100, NOBODY)
    answer = sbx.cli_json("orders", "pay", "alipay", APP, "QA-PAY-JSON")
    assert answer["status"] == "paid" and answer["native"] == {"trade_status": "TRADE_SUCCESS", "api": "gateway.do"}


def test_merchants_list_shows_each_demo_merchant_with_its_serial_and_key_fingerprint(sbx):
    out = sbx.cli("merchants", "list")
    table = rows(out)
    assert table[0] == ["3 merchants"]
    assert table[1] == ["GATEWAY", "MERCHANT ID", "NAME", "SERIAL / CERT ID", "KEY SHA-256"]
    by_gateway = {r[0]: r for r in table[2:]}
    assert by_gateway["alipay"][1] == APP
    assert by_gateway["wechatpay"][:2] == ["wechatpay", "1900000109"]
    assert by_gateway["unionpay"][1:2] == ["777290058110097"]
    merchants = {m["gateway"]: m for m in sbx.cli_json("merchants", "list")["merchants"]}
    assert by_gateway["wechatpay"][3] == merchants["wechatpay"]["merchant_serial_no"]
    assert by_gateway["unionpay"][3] == merchants["unionpay"]["cert_id"]
    assert by_gateway["alipay"][3] == merchants["alipay"]["app_cert_sn"]
    assert all(re.fullmatch(r"([0-9a-f]{2}:){7}[0-9a-f]{2}", r[4]) for r in table[2:])
    assert sbx.cli_json("merchants", "list") == sbx.api("GET", "/merchants")


def test_merchants_show_summarises_pem_material_and_json_has_it_in_full(sbx):
    out = sbx.cli("merchants", "show", "alipay", APP)
    assert re.search(rf"^merchant_id\s+{APP}$", out, re.M)
    assert re.search(r"^app_public_key\s+public key, sha256 ([0-9a-f]{2}:){7}[0-9a-f]{2}$", out, re.M)
    assert "BEGIN" not in out
    answer = sbx.cli_json("merchants", "show", "alipay", APP)
    assert answer == sbx.api("GET", f"/merchants/alipay/{APP}")
    assert answer["alipay_public_key"].startswith("-----BEGIN PUBLIC KEY-----")


def test_merchants_show_says_whether_wechat_secrets_are_set_never_their_values(sbx):
    demo = json.loads((FIXTURES / "wechatpay/demo/merchant.json").read_text())
    out = sbx.cli("merchants", "show", "wechatpay", demo["merchant_id"])
    assert re.search(r"^apiv3_key_set\s+yes$", out, re.M) and re.search(r"^api_key_set\s+yes$", out, re.M)
    shown = out + json.dumps(sbx.cli_json("merchants", "show", "wechatpay", demo["merchant_id"]))
    shown += json.dumps(sbx.cli_json("merchants", "list"))
    assert demo["apiv3_key"] not in shown and demo["api_key"] not in shown
