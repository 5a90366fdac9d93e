"""The integration report: how a merchant's integration behaved, as the sandbox saw it (an acceptance checklist)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.core import report_checks as checks
from sandbox.core.report_checks import FAILED, NOT_EXERCISED, PASSED, Seen, Verdict

ALL = ("alipay", "wechatpay", "unionpay")
ACKS = {
    "alipay": "the body `success`",
    "wechatpay": "HTTP 200 or 204 (API v3), `<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>` (API v2)",
    "unionpay": "HTTP 200",
}


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    judge: Callable[[Seen], Verdict]
    how: str
    scenario: dict | None  # a rule (without its match) that exercises the check; None: the merchant's own doing
    gateways: tuple[str, ...] = ALL  # where the gateway has the concept


def _notify(effect: dict, **match) -> dict:
    return {"match": {"operation": "notify", **match}, "times": 1, "notify": effect}


def _fault(operation: str) -> dict:
    return {"match": {"operation": operation}, "times": 1, "api": {"status": 504}}


FORGED = "the sandbox sends it once a rule forges the next notification; an honest merchant answers anything but an ack"
CHECKS = (
    Check(
        "acknowledges_notifications",
        "Acknowledges notifications with the gateway's exact ack",
        checks.acknowledges,
        "Create an order with a notify_url and pay it; the merchant must answer {ack}.",
        None,
    ),
    Check(
        "refuses_invalid_signature",
        "Refuses notifications whose signature is invalid or missing",
        lambda seen: checks.refuses(seen, "signature", "badly signed"),
        f"Add the scenario and pay an order: {FORGED}.",
        _notify({"signature": "invalid"}),
    ),
    Check(
        "refuses_tampered_notifications",
        "Refuses notifications changed after signing",
        lambda seen: checks.refuses(seen, "tamper", "tampered"),
        f"Add the scenario and pay an order: {FORGED}.",
        _notify({"tamper": {"amount": 1}}),
    ),
    Check(
        "refuses_stale_notifications",
        "Refuses correctly signed but stale notifications",
        lambda seen: checks.refuses(seen, "timestamp", "stale"),
        f"Add the scenario and pay an order (WeChat Pay: an API v3 order): {FORGED}.",
        _notify({"timestamp": "stale"}),
        ("alipay", "wechatpay"),
    ),
    Check(
        "refuses_wrong_merchant",
        "Refuses notifications for another merchant",
        lambda seen: checks.refuses(seen, "merchant", "wrong-merchant"),
        f"Add the scenario and pay an order: {FORGED}.",
        _notify({"merchant": "wrong"}),
    ),
    Check(
        "refuses_probes",
        "Refuses probe-signed notifications (签名探测)",
        lambda seen: checks.refuses(seen, "probe", "probe-signed"),
        "Add the scenario and pay an API v3 order: a probe copy goes out before the genuine notification.",
        _notify({"probe": 1}),
        ("wechatpay",),
    ),
    Check(
        "answers_duplicates",
        "Answers duplicated notifications idempotently",
        checks.answers_duplicates,
        "Add the scenario and pay an order: the notification arrives twice, and both copies must be acknowledged.",
        _notify({"duplicate": 1}),
    ),
    Check(
        "follows_up_faults",
        "Queries an order (or retries the call) after an API fault or timeout",
        checks.follows_up_faults,
        "Add the scenario and create an order: the answer is lost after the order was made (HTTP 504); the"
        " merchant must query it (or retry, or close it) rather than guess.",
        _fault("create"),
    ),
    Check(
        "retries_refunds_idempotently",
        "Retries a refund with the same out_refund_no",
        checks.retries_refunds_idempotently,
        "Add the scenario and refund a paid order: the refund goes through but its answer is lost (HTTP 504); a"
        " retry must reuse the out_refund_no, or the buyer is refunded twice.",
        _fault("refund"),
    ),
    Check(
        "refunds_partially",
        "Refunds part of an order",
        checks.refunds_partially,
        "Refund less than a paid order's amount.",
        None,
    ),
    Check(
        "refunds_repeatedly",
        "Refunds one order more than once",
        checks.refunds_repeatedly,
        "Make two partial refunds (each with its own out_refund_no) on one paid order.",
        None,
    ),
    Check(
        "closes_unpaid_orders",
        "Closes unpaid orders itself",
        checks.closes_unpaid,
        "Close (or cancel) a pending order through the API rather than letting it expire.",
        None,
        ("alipay", "wechatpay"),
    ),
    Check(
        "fetches_bills",
        "Fetches a bill for reconciliation",
        checks.fetches_bills,
        "Ask for a bill: Alipay alipay.data.dataservice.bill.downloadurl.query, WeChat Pay tradebill (v3) or"
        " downloadbill (v2).",
        None,
        ("alipay", "wechatpay"),
    ),
)


def build(namespace, gateway: str, merchant_id: str) -> dict:
    """The report of one merchant of `namespace` (a core Namespace), judged from what its store holds now."""
    faulted, bills = namespace.observations.of_merchant(gateway, merchant_id)
    seen = Seen(
        gateway,
        merchant_id,
        namespace.payments.list(gateway, merchant_id),
        namespace.outbox.list(gateway, merchant_id),
        faulted,
        bills,
    )
    lines = [_line(check, check.judge(seen), gateway, merchant_id) for check in CHECKS if gateway in check.gateways]
    return {
        "gateway": gateway,
        "merchant_id": merchant_id,
        "generated_at": namespace.clock.now().isoformat(timespec="seconds"),
        "summary": {status: sum(1 for line in lines if line["status"] == status) for status in STATUSES},
        "checks": lines,
    }


STATUSES = (PASSED, FAILED, NOT_EXERCISED)


def _line(check: Check, verdict: Verdict, gateway: str, merchant_id: str) -> dict:
    scenario = None
    if check.scenario is not None:
        match = {"gateway": gateway, "merchant_id": merchant_id, **check.scenario["match"]}
        scenario = {"name": f"report: {check.id}", **check.scenario, "match": match}
    return {
        "id": check.id,
        "title": check.title,
        "status": verdict.status,
        "detail": verdict.detail,
        "evidence": verdict.evidence[: checks.MAX_EVIDENCE],
        "how": check.how.format(ack=ACKS[gateway]),
        "scenario": scenario,
    }


MARKS = {PASSED: "✅ passed", FAILED: "❌ failed", NOT_EXERCISED: "➖ not exercised"}


def markdown(report: dict) -> str:
    """The report as Markdown, e.g. for a CI artefact."""
    summary = report["summary"]
    out = [
        f"# Integration report: {report['gateway']} merchant {report['merchant_id']}",
        "",
        f"Generated at {report['generated_at']} (sandbox clock): {summary[PASSED]} passed, {summary[FAILED]} failed,"
        f" {summary[NOT_EXERCISED]} not exercised.",
        "",
        "| status | check | observed |",
        "|---|---|---|",
    ]
    out += [f"| {MARKS[c['status']]} | {c['title']} | {_cell(c['detail'])} |" for c in report["checks"]]
    for line in report["checks"]:
        if line["status"] == PASSED:
            continue
        out += ["", f"## {MARKS[line['status']]}: {line['title']} (`{line['id']}`)", "", line["detail"], ""]
        out += [f"- {_evidence(item)}" for item in line["evidence"]]
        out += ["", f"How to exercise it: {line['how']}"]
        if line["scenario"]:
            out += ["", "```json", json.dumps(line["scenario"], ensure_ascii=False), "```"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _evidence(item: dict) -> str:
    where = ", ".join(
        f"{name} `{item[name]}`" for name in ("out_trade_no", "notification_id") if item.get(name) is not None
    )
    return " ".join(part for part in (item.get("at") or "", where + ":" if where else "", item["note"]) if part)
