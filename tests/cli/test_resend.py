"""`paysandbox notifications resend` and `paysandbox orders timeline` against a real sandbox and receiver."""

from __future__ import annotations

import re

from sandbox.cli.resending import typed
from tests.cli.conftest import APP, paysandbox
from tests.cli.test_notifications import TIME, paid_order


def test_resend_sets_unsets_and_signs_as_asked(sbx, receiver):
    notification = paid_order(sbx, receiver, "QA-RS-1")

    out = sbx.cli("notifications", "resend", notification, "--set", "total_amount=0.02", "--unset", "buyer_logon_id")

    first = out.splitlines()[0]
    assert re.fullmatch(rf"resent {notification} as ntf_\w+: HTTP 200, acked", first), first
    assert "edit: total_amount = 0.02, buyer_logon_id removed" in out.splitlines()[1]
    [_, got] = receiver.wait_for(2)
    fields = sbx.alipay.verify_notification(got.form)
    assert fields["total_amount"] == "0.02" and "buyer_logon_id" not in fields

    forged = sbx.cli_json("notifications", "resend", notification, "--signature", "missing")
    assert forged["resent_from"] == notification and forged["edits"]["signature"] == "missing"
    assert "sign" not in receiver.wait_for(3)[2].form


def test_resend_refuses_bad_arguments_and_says_what_the_sandbox_refused(sbx, receiver):
    notification = paid_order(sbx, receiver, "QA-RS-2")
    usage = paysandbox("notifications", "resend", notification, "--set", "no-equals", "--url", sbx.url)
    assert usage.returncode == 2 and "'no-equals' is not KEY=VALUE" in usage.stderr
    both = paysandbox("notifications", "resend", notification, "--set", "a=1", "--unset", "a", "--url", sbx.url)
    assert both.returncode == 2 and "a is both set and unset" in both.stderr
    refused = paysandbox("notifications", "resend", notification, "--set", "sign=x", "--url", sbx.url)
    assert refused.returncode == 1 and "fields.sign is the signature's" in refused.stderr
    missing = paysandbox("notifications", "resend", "ntf_nope", "--url", sbx.url)
    assert missing.returncode == 1 and "ntf_nope" in missing.stderr


def test_orders_timeline_lists_the_events_and_json_is_the_api_answer(sbx, receiver):
    paid_order(sbx, receiver, "QA-TL-1")

    out = sbx.cli("orders", "timeline", "alipay", APP, "QA-TL-1")

    lines = out.splitlines()
    assert lines[0] == f"alipay {APP} QA-TL-1: paid"
    assert lines[1] == "3 events" and lines[2].split() == ["AT", "KIND", "TITLE"]
    assert [line.split()[2] for line in lines[3:]] == ["created", "paid", "notification_attempt"]
    assert re.match(rf"{TIME}  notification_attempt  TRADE_SUCCESS notification, attempt 1 \(schedule\)", lines[5])
    as_json = sbx.cli_json("orders", "timeline", "alipay", APP, "QA-TL-1")
    assert as_json == sbx.api("GET", f"/orders/alipay/{APP}/QA-TL-1/timeline")
    assert as_json["events"][2]["request"]["body"] == receiver.received[0].text


def test_a_value_is_sent_as_a_number_where_the_field_holds_one():
    fields = {"amount": {"total": 990, "currency": "CNY"}, "total_amount": "9.90", "rate": 0.5}
    assert typed(fields, "amount.total", "2") == 2
    assert typed(fields, "rate", "0.25") == 0.25
    assert typed(fields, "amount.total", "two") == "two"  # not a number: sent as written, the sandbox takes text
    assert typed(fields, "total_amount", "0.10") == "0.10"  # a form field stays text, exactly as written
    assert typed(fields, "amount.currency", "1") == "1"
    assert typed(fields, "new.field", "1") == "1"
