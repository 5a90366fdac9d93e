"""`paysandbox notifications`, `clock` and `reset` against a real sandbox and a real notification receiver."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.cli.conftest import APP

TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def paid_order(sbx, receiver, out_trade_no: str) -> str:
    """Create and pay an order whose notification goes to the receiver; answers the notification id once sent once."""
    sbx.order(out_trade_no, 990, receiver.url + "/notify")
    sbx.cli("orders", "pay", "alipay", APP, out_trade_no)
    sbx.cli("notifications", "flush")  # the first attempt is due now: made here, or already by the worker
    receiver.wait_for(1)
    [record] = sbx.api("GET", "/notifications", params={"out_trade_no": out_trade_no})["notifications"]
    return record["id"]


def test_orders_pay_then_notifications_list_shows_the_notification(sbx):
    sbx.order("QA-N-1", 990, "http://127.0.0.1:9/notify")
    sbx.cli("orders", "pay", "alipay", APP, "QA-N-1")
    out = sbx.cli("notifications", "list")
    header, row = out.splitlines()[1:]
    assert out.startswith("1 notification\n")
    assert header.split()[:6] == ["ID", "GATEWAY", "MERCHANT", "OUT_TRADE_NO", "EVENT", "STATUS"]
    assert row.startswith("ntf_") and f" alipay   {APP}  QA-N-1 " in row and " TRADE_SUCCESS " in row
    as_json = sbx.cli_json("notifications", "list", "--order", "QA-N-1", "--gateway", "alipay", "--merchant", APP)
    assert as_json == sbx.api("GET", "/notifications")
    assert as_json["notifications"][0]["event"] == "TRADE_SUCCESS"
    assert sbx.cli("notifications", "list", "--order", "QA-OTHER") == "no notifications\n"
    assert sbx.cli("notifications", "list", "--status", "delivered") == "no notifications\n"


def test_notifications_show_lists_every_attempt_and_replay_adds_one(sbx, receiver):
    receiver.reply("busy")  # Alipay wants "success": this is not an acknowledgement
    notification = paid_order(sbx, receiver, "QA-N-SHOW")
    shown = sbx.cli("notifications", "show", notification)
    assert re.search(rf"^id\s+{notification}$", shown, re.M)
    assert re.search(r"^url\s+" + re.escape(receiver.url + "/notify") + "$", shown, re.M)
    assert re.search(r"^body\s+notify_time=", shown, re.M)
    attempts = shown.split("1 attempt\n")[1].splitlines()
    assert attempts[0].split() == ["#", "AT", "TRIGGER", "HTTP", "ACKED", "RESPONSE", "BODY", "ERROR", "RULE", "EFFECT"]
    assert re.fullmatch(rf"1  {TIME}  schedule\s+200  no\s+busy", attempts[1])

    receiver.reply("success")
    replayed = sbx.cli("notifications", "replay", notification)
    assert replayed.startswith(f"replayed {notification}: attempt #2, HTTP 200, acked\n")
    assert re.search(rf"^2  {TIME}  replay\s+200  yes\s+success$", replayed, re.M)
    assert len(receiver.wait_for(2)) == 2
    record = sbx.cli_json("notifications", "show", notification)
    assert [a["trigger"] for a in record["attempts"]] == ["schedule", "replay"]
    assert record == sbx.api("GET", f"/notifications/{notification}")
    again = sbx.cli_json("notifications", "replay", notification)
    assert len(again["attempts"]) == 3


def test_clock_set_manual_and_advance_4m_runs_the_retry(sbx, receiver):
    assert re.fullmatch(
        rf"now   {TIME}\nmode  accelerated \(x60\)\n", sbx.cli("clock", "set", "accelerated", "--factor", "60")
    )
    assert re.fullmatch(rf"now   {TIME}\nmode  manual\n", sbx.cli("clock", "set", "manual"))
    receiver.reply("busy")
    notification = paid_order(sbx, receiver, "QA-N-RETRY")
    receiver.reply("success")
    before = sbx.api("GET", "/clock")["now"]

    out = sbx.cli("clock", "advance", "4m")  # Alipay's first retry comes four minutes after the first attempt
    clock, attempted = out.split("\n\n")
    assert clock == f"now   {_plus(before, 240)}\nmode  manual"
    assert attempted.startswith("1 notification attempted\n")
    header, row = attempted.splitlines()[1:]
    assert header.split()[:4] == ["ID", "EVENT", "STATUS", "ATTEMPTS"]
    assert row.split()[:5] == [notification, "TRADE_SUCCESS", "delivered", "2", "200"]
    assert len(receiver.wait_for(2)) == 2

    answer = sbx.cli_json("clock", "advance", "1h")
    assert answer["mode"] == "manual" and answer["attempted"] == []
    assert "no notification was due" in sbx.cli("clock", "advance", "10")


def _plus(iso: str, seconds: int) -> str:
    return (datetime.fromisoformat(iso) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def test_notifications_flush_reports_what_it_attempted(sbx, receiver):
    sbx.order("QA-N-FLUSH", 990, receiver.url + "/notify")
    sbx.cli("orders", "pay", "alipay", APP, "QA-N-FLUSH")
    flushed = sbx.cli_json("notifications", "flush")  # the worker may have been first: then nothing was due
    assert [n["event"] for n in flushed["attempted"]] in ([], ["TRADE_SUCCESS"])
    receiver.wait_for(1)
    assert sbx.cli("notifications", "flush") == "no notification was due\n"


def test_clock_shows_the_time_and_mode_bare_or_with_show(sbx):
    bare, shown = sbx.cli("clock"), sbx.cli("clock", "show")
    assert re.fullmatch(rf"now   {TIME}\nmode  manual\n", bare)
    assert shown == bare  # a manual clock does not move by itself
    assert sbx.cli_json("clock") == sbx.api("GET", "/clock")
    assert sbx.cli_json("clock", "show")["mode"] == "manual"
    assert sbx.cli_json("clock", "set", "real")["mode"] == "real"


def test_clock_advance_takes_units(sbx):
    start = sbx.api("GET", "/clock")["now"]
    sbx.cli("clock", "advance", "1d")
    sbx.cli("clock", "advance", "2h")
    sbx.cli("clock", "advance", "1h30m")
    answer = sbx.cli_json("clock", "advance", "90s")
    elapsed = datetime.fromisoformat(answer["now"]) - datetime.fromisoformat(start)
    assert elapsed.total_seconds() == 86400 + 7200 + 5400 + 90


def test_reset_drops_orders_and_notifications_and_with_merchants_brings_the_demo_ones_back(sbx):
    sbx.order("QA-RESET", 990, "http://127.0.0.1:9/notify")
    sbx.cli("orders", "pay", "alipay", APP, "QA-RESET")
    sbx.api("POST", "/scenarios", json={"notify": {"duplicate": 1}})
    out = sbx.cli("reset")
    assert out.startswith("reset: orders, refunds, notifications and scenario rules dropped; merchants kept; clock")
    assert sbx.cli("orders", "list") == "no orders\n"
    assert sbx.cli("notifications", "list") == "no notifications\n"
    assert sbx.api("GET", "/scenarios")["scenarios"] == []
    key = sbx.api("GET", f"/merchants/alipay/{APP}")["app_public_key"]
    sbx.api("POST", "/merchants", json={"gateway": "alipay", "merchant_id": "2021000000000099", "app_public_key": key})
    assert "2021000000000099" in sbx.cli("merchants", "list")
    answer = sbx.cli_json("reset", "--merchants")
    assert (answer["status"], answer["merchants_reset"], answer["clock"]["mode"]) == ("ok", True, "real")
    assert "2021000000000099" not in sbx.cli("merchants", "list")
    assert "merchants back to the demo ones" in sbx.cli("reset", "--merchants")


def test_notifications_show_names_the_rule_and_effect_of_each_attempt(sbx, receiver):
    lose_one = {"match": {"out_trade_no": "QA-LOST-*"}, "times": 1, "notify": {"drop": 1}}
    rule_id = sbx.api("POST", "/scenarios", json=lose_one)["scenario"]["id"]
    sbx.order("QA-LOST-1", 990, receiver.url + "/notify")
    sbx.cli("orders", "pay", "alipay", APP, "QA-LOST-1")
    sbx.cli("notifications", "flush")
    advanced = sbx.cli("clock", "advance", "4m")
    assert re.search(rf"TRADE_SUCCESS  delivered\s+2\s+200\s+{rule_id}$", advanced, re.M)
    [record] = sbx.cli_json("notifications", "list", "--order", "QA-LOST-1")["notifications"]
    shown = sbx.cli("notifications", "show", record["id"])
    assert re.search(rf"^scenario\s+rule={rule_id} drop=1$", shown, re.M)
    lost, delivered = shown.split("2 attempts\n")[1].splitlines()[1:]
    assert re.fullmatch(rf"1  {TIME}  schedule\s+no\s+lost on the way .*  {rule_id}  lost", lost)
    assert re.fullmatch(rf"2  {TIME}  schedule\s+200  yes\s+success\s+{rule_id}", delivered)
