"""The OpenAPI description of the integration report (GET /_sandbox/merchants/{gateway}/{merchant_id}/report)."""

from __future__ import annotations

from sandbox.admin.openapi_schemas import obj, ref, text
from sandbox.core.report import CHECKS, STATUSES

PATH = "/_sandbox/merchants/{gateway}/{merchant_id}/report"
MCHID = "1900000109"
COUNT = {"type": "integer", "minimum": 0}
NULLABLE_TEXT = {"type": ["string", "null"]}

EVIDENCE = obj(
    {
        "out_trade_no": NULLABLE_TEXT,
        "notification_id": NULLABLE_TEXT,
        "at": {"type": ["string", "null"], "format": "date-time"},
        "note": text("what was seen"),
    },
    "all",
)
CHECK = obj(
    {
        "id": {"enum": [check.id for check in CHECKS]},
        "title": text(),
        "status": {"enum": list(STATUSES)},
        "detail": text("what was observed, with counts"),
        "evidence": {"type": "array", "items": ref("ReportEvidence"), "maxItems": 5},
        "how": text("how to exercise the check"),
        "scenario": {
            "oneOf": [ref("ScenarioRule"), {"type": "null"}],
            "description": "a rule to POST to /_sandbox/scenarios that makes the check exercisable (scoped to this"
            " merchant); null where the merchant's own calls exercise it",
        },
    },
    "all",
)
REPORT = obj(
    {
        "gateway": ref("Gateway"),
        "merchant_id": text(),
        "generated_at": text("the namespace's sandbox clock", format="date-time"),
        "summary": obj({status: COUNT for status in STATUSES}, "all"),
        "checks": {"type": "array", "items": ref("ReportCheck")},
    },
    "all",
)
EXAMPLE = {
    "gateway": "wechatpay",
    "merchant_id": MCHID,
    "generated_at": "2025-03-01T10:15:00+08:00",
    "summary": {"passed": 1, "failed": 1, "not_exercised": 1},
    "checks": [
        {
            "id": "acknowledges_notifications",
            "title": "Acknowledges notifications with the gateway's exact ack",
            "status": "passed",
            "detail": "all 2 answers to 2 genuine notifications were acks",
            "evidence": [
                {
                    "out_trade_no": "QA-1001",
                    "notification_id": "ntf_0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6",
                    "at": "2025-03-01T10:02:11+08:00",
                    "note": "acknowledged: HTTP 204, empty body",
                }
            ],
            "how": "Create an order with a notify_url and pay it; the merchant must answer HTTP 200 or 204 (API v3).",
            "scenario": None,
        },
        {
            "id": "refuses_tampered_notifications",
            "title": "Refuses notifications changed after signing",
            "status": "failed",
            "detail": "1 of 1 tampered notifications were acknowledged as genuine",
            "evidence": [
                {
                    "out_trade_no": "QA-1002",
                    "notification_id": "ntf_1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
                    "at": "2025-03-01T10:05:40+08:00",
                    "note": "tampered, acknowledged",
                }
            ],
            "how": "Add the scenario and pay an order: the sandbox forges the next notification.",
            "scenario": {
                "name": "report: refuses_tampered_notifications",
                "match": {"gateway": "wechatpay", "merchant_id": MCHID, "operation": "notify"},
                "times": 1,
                "notify": {"tamper": {"amount": 1}},
            },
        },
        {
            "id": "follows_up_faults",
            "title": "Queries an order (or retries the call) after an API fault or timeout",
            "status": "not_exercised",
            "detail": "no create, pay or refund call has met an API fault",
            "evidence": [],
            "how": "Add the scenario and create an order: the answer is lost after the order was made (HTTP 504).",
            "scenario": {
                "name": "report: follows_up_faults",
                "match": {"gateway": "wechatpay", "merchant_id": MCHID, "operation": "create"},
                "times": 1,
                "api": {"status": 504},
            },
        },
    ],
}


def schemas() -> dict:
    return {"IntegrationReport": REPORT, "ReportCheck": CHECK, "ReportEvidence": EVIDENCE}


def path(operation, answer, query) -> dict:
    """The report's path item, made with openapi.py's helpers (passed in: it imports this module)."""
    markdown = {"text/markdown": {"schema": {"type": "string"}}}
    examples = {"wechatpay": {"summary": "a WeChat Pay merchant", "value": EXAMPLE}}
    ok = answer("The report (or Markdown: ?format=markdown, Accept: text/markdown)", ref("IntegrationReport"), examples)
    ok["content"].update(markdown)
    op = operation(
        "merchants",
        "getMerchantReport",
        "The merchant's integration report",
        "How the merchant's integration behaved, as the sandbox saw it: one line per check its gateway has (ack"
        " text, forged notifications refused, duplicates, follow-up after API faults, refunds, closes, bills), each"
        " passed, failed or not exercised, with evidence and, where a scenario rule exercises it, that rule scoped"
        " to this merchant. Judged from the namespace's stored orders, notifications and observed calls. 404 for a"
        " merchant the namespace does not have.",
        {"200": ok},
        errors=(400, 404),
        params=("gateway", "merchant_id"),
    )
    op["parameters"].append(query("format", "json (default) or markdown; anything else is a 400", FORMAT))
    return {PATH: {"get": op}}


FORMAT = {"enum": ["json", "markdown"]}
