"""Example requests and answers for the control API's OpenAPI document (docs/protocols/control-api-contract.md).

Postman turns these into saved requests and example responses; tests check each against its schema.
PEM bodies are shortened: real ones come from fixtures/ or your own keys.
"""

from __future__ import annotations

from sandbox import __version__

APP_ID = "2021000000000001"  # the demo merchants in fixtures/
MCHID = "1900000109"
MER_ID = "777290058110097"
# The sandbox's own address in the document: GET /_sandbox/openapi.json puts the one the client reached instead.
SANDBOX_URL = "http://127.0.0.1:8008"
NOW = "2025-01-15T10:30:00+08:00"
LATER = "2025-01-15T10:34:00+08:00"


def pem(kind: str) -> str:
    return f"-----BEGIN {kind}-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...\n-----END {kind}-----\n"


def example(summary: str, value) -> dict:
    return {"summary": summary, "value": value}


def error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


HEALTHY = {"up": example("Up", {"status": "ok", "version": __version__})}

# -- merchants --------------------------------------------------------------------------------------------

REGISTRATIONS = {
    "alipay": example(
        "Alipay app, public key mode",
        {"gateway": "alipay", "merchant_id": "2021000000000777", "app_public_key": pem("PUBLIC KEY")},
    ),
    "wechatpay": example(
        "WeChat Pay merchant, by public key",
        {
            "gateway": "wechatpay",
            "merchant_id": "1900000777",
            "appid": "wxd930ea5d5a258f4f",
            "merchant_serial_no": "3775B6A45ACD588826D15E583A95F5DD2E1A7A6F",
            "merchant_public_key": pem("PUBLIC KEY"),
            "apiv3_key": "a" * 32,
        },
    ),
    "unionpay": example(
        "UnionPay merchant",
        {"gateway": "unionpay", "merchant_id": "777290058110777", "merchant_certificate": pem("CERTIFICATE")},
    ),
    "wechatpay_migrating": example(
        "WeChat Pay merchant in migration to the public key (a quarter of answers and notifications)",
        {
            "gateway": "wechatpay",
            "merchant_id": "1900000778",
            "appid": "wxd930ea5d5a258f4f",
            "merchant_certificate": pem("CERTIFICATE"),
            "apiv3_key": "a" * 32,
            "key_mode": "migrating",
            "public_key_share": 0.25,
        },
    ),
}

ALIPAY_MERCHANT = {
    "gateway": "alipay",
    "merchant_id": APP_ID,
    "name": "paysandbox demo shop",
    "seller_id": "2088000000000001",
    "app_public_key": pem("PUBLIC KEY"),
    "app_cert": pem("CERTIFICATE"),
    "app_cert_sn": "e5e9062fa9c729d8b937a42c8609de60",
    "alipay_public_key": pem("PUBLIC KEY"),
    "alipay_public_key_cert": pem("CERTIFICATE"),
    "alipay_root_cert": pem("CERTIFICATE"),
    "alipay_cert_sn": "2b1d3e4a0f6c5d7e8f9a0b1c2d3e4f50",
    "alipay_root_cert_sn": "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6",
}
WECHATPAY_MERCHANT = {
    "gateway": "wechatpay",
    "merchant_id": MCHID,
    "name": "paysandbox demo shop",
    "appid": "wxd930ea5d5a258f4f",
    "merchant_serial_no": "3775B6A45ACD588826D15E583A95F5DD2E1A7A6F",
    "merchant_public_key": pem("PUBLIC KEY"),
    "merchant_certificate": pem("CERTIFICATE"),
    "apiv3_key_set": True,
    "api_key_set": True,
    "platform_serial_no": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
    "platform_certificate": pem("CERTIFICATE"),
    "key_mode": None,
    "public_key_share": None,
    "public_key_id": "PUB_KEY_ID_0119000001092025011500000000000001",
    "platform_public_key": pem("PUBLIC KEY"),
}
UNIONPAY_MERCHANT = {
    "gateway": "unionpay",
    "merchant_id": MER_ID,
    "name": "paysandbox demo shop",
    "cert_id": "69629715588",
    "merchant_certificate": pem("CERTIFICATE"),
    "root_certificate": pem("CERTIFICATE"),
    "middle_certificate": pem("CERTIFICATE"),
    "signing_certificate": pem("CERTIFICATE"),
}
MERCHANTS = {
    "alipay": example("Alipay", ALIPAY_MERCHANT),
    "wechatpay": example("WeChat Pay", WECHATPAY_MERCHANT),
    "unionpay": example("UnionPay", UNIONPAY_MERCHANT),
    "wechatpay_migrating": example(
        "WeChat Pay, in migration to the public key",
        {**WECHATPAY_MERCHANT, "merchant_id": "1900000778", "key_mode": "migrating", "public_key_share": 0.25},
    ),
}

# -- orders and notifications -----------------------------------------------------------------------------

SUMMARY = {
    "id": "ntf_f5ee9835dd33fc86b358",
    "event": "TRADE_SUCCESS",
    "status": "pending",
    "attempts": 1,
    "last_http_status": 500,
    "last_error": "",
    "next_attempt_at": LATER,
    "rule": None,
    "probe": None,
}
ORDER = {
    "gateway": "alipay",
    "merchant_id": APP_ID,
    "out_trade_no": "QA-1001",
    "trade_no": "2025011522001400000000000001",
    "amount": 1234,
    "currency": "CNY",
    "subject": "咖啡",
    "status": "paid",
    "product": "precreate",
    "notify_url": "http://127.0.0.1:5000/notify/alipay",
    "return_url": "",
    "created_at": NOW,
    "paid_at": NOW,
    "closed_at": None,
    "expires_at": "2025-01-15T12:30:00+08:00",
    "refunded_amount": 0,
    "refunds": [],
    "failure": None,
    "native": {"trade_status": "TRADE_SUCCESS"},
}
ORDER_WITH_NOTIFICATIONS = {**ORDER, "notifications": [SUMMARY]}
FAILED_ORDER = {
    **ORDER,
    "status": "failed",
    "paid_at": None,
    "closed_at": NOW,
    "failure": {"reason": "ACQ.BUYER_BALANCE_NOT_ENOUGH", "message": "买家余额不足"},
    "native": {"trade_status": "TRADE_CLOSED"},
    "notifications": [],
}
REFUNDED_ORDER = {
    **ORDER,
    "gateway": "wechatpay",
    "merchant_id": MCHID,
    "trade_no": "4200433780202501158105276201",
    "product": "NATIVE",
    "refunded_amount": 300,
    "refunds": [
        {
            "out_refund_no": "QA-1001-R1",
            "refund_id": "50302571163040381547194163163",
            "amount": 300,
            "status": "success",
            "reason": "",
            "created_at": NOW,
            "succeeded_at": LATER,
            "settle_at": None,
            "via": "gateway",
        }
    ],
    "native": {"trade_state": "REFUND", "trade_state_desc": "转入退款", "api": "v3"},
    "notifications": [{**SUMMARY, "event": "REFUND.SUCCESS", "status": "delivered", "last_http_status": 200}],
}
ORDER_LIST = {"one": example("One paid Alipay order", {"orders": [ORDER]})}
SCAN_PAGE = f"{SANDBOX_URL}/cashier/alipay/qr/{ORDER['trade_no']}"  # a precreate order's pay_url and qr_code
ONE_ORDER = {
    "paid": example(
        "Paid, its notification not yet acknowledged",
        {**ORDER_WITH_NOTIFICATIONS, "pay_url": SCAN_PAGE, "qr_code": SCAN_PAGE},
    )
}
PAID_OR_FAILED = {"failed": example("The buyer's payment was declined", FAILED_ORDER)}
SETTLED_ORDER = {"refunded": example("Partly refunded, the refund settled", REFUNDED_ORDER)}
NOTIFICATION = {
    "id": "ntf_f5ee9835dd33fc86b358",
    "gateway": "alipay",
    "merchant_id": APP_ID,
    "out_trade_no": "QA-1001",
    "event": "TRADE_SUCCESS",
    "url": "http://127.0.0.1:5000/notify/alipay",
    "status": "pending",
    "created_at": NOW,
    "next_attempt_at": LATER,
    "refund_no": "",
    "attempts": [
        {
            "at": NOW,
            "http_status": 500,
            "response_body": "oops",
            "error": "",
            "acked": False,
            "trigger": "schedule",
            "rule": None,
            "effect": "",
        }
    ],
    "scenario": None,
    "probe": None,
    "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    "body": "gmt_create=2025-01-15+10%3A30%3A00&notify_type=trade_status_sync&out_trade_no=QA-1001&sign=...",
    "resent_from": None,
    "edits": None,
}

PROBE_NOTIFICATION = {
    **NOTIFICATION,
    "id": "ntf_0c1d9a7e55b24f8e3a61",
    "gateway": "wechatpay",
    "merchant_id": MCHID,
    "event": "TRANSACTION.SUCCESS",
    "url": "http://127.0.0.1:5000/notify/wechatpay",
    "status": "failed",
    "next_attempt_at": None,
    "attempts": [
        {
            "at": NOW,
            "http_status": 401,
            "response_body": '{"code":"FAIL","message":"签名错误"}',
            "error": "",
            "acked": False,
            "trigger": "schedule",
            "rule": "scn_9a4c2e7b1d3f",
            "effect": "probe 1 of 1: Wechatpay-Signature WECHATPAY/SIGNTEST/... (签名探测), to be refused",
        }
    ],
    "scenario": {"rule": "scn_9a4c2e7b1d3f", "notes": ["probe 1 of 1: ..."]},
    "probe": "rightly_refused",
    "headers": {"Content-Type": "application/json", "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"},
    "body": '{"id":"EV-...","event_type":"TRANSACTION.SUCCESS","resource_type":"encrypt-resource","resource":{...}}',
}
ALIPAY_FIELDS = {"notify_type": "trade_status_sync", "out_trade_no": "QA-1001", "total_amount": "12.34"}
ONE_NOTIFICATION = {
    "retrying": example("The merchant answered 500: a retry is scheduled", {**NOTIFICATION, "fields": ALIPAY_FIELDS}),
    "probe": example(
        "A WeChat Pay probe the merchant rightly refused (sent once, never retried)",
        {**PROBE_NOTIFICATION, "fields": {"mchid": MCHID, "out_trade_no": "QA-1001", "amount": {"total": 1234}}},
    ),
}

# -- scenarios ----------------------------------------------------------------------------------------------

RULES = {
    "decline": example(
        "Decline the next Alipay payment: balance not enough",
        {"match": {"gateway": "alipay"}, "times": 1, "payment": {"outcome": "fail", "code": "balance_not_enough"}},
    ),
    "pending": example(
        "QA-* payments wait for the buyer, then succeed 30 s later (sandbox clock)",
        {"match": {"out_trade_no": "QA-*"}, "payment": {"outcome": "pending", "settle_after": 30, "then": "success"}},
    ),
    "lost": example(
        "Lose the first two notification attempts, then send a duplicate",
        {"name": "flaky network", "times": 1, "notify": {"drop": 2, "duplicate": 1}},
    ),
    "forged": example("Notifications claim 0.01 paid (tampered after signing)", {"notify": {"tamper": {"amount": 1}}}),
    "probe": example(
        "WeChat Pay probe traffic: a probe copy beside each notification, and a probe-signed query answer",
        {"match": {"gateway": "wechatpay"}, "times": 1, "notify": {"probe": 1}, "api": {"body": "probe"}},
    ),
    "outage": example(
        "Queries answer 503 from the load balancer",
        {"match": {"operation": "query"}, "times": 3, "api": {"status": 503}},
    ),
    "every_effect": example(
        "A rule with every effect",
        {
            "name": "optional label",
            "match": {
                "gateway": "alipay",
                "merchant_id": APP_ID,
                "out_trade_no": "QA-*",
                "amount": 1234,
                "operation": "query",
            },
            "times": 1,
            "payment": {"outcome": "fail", "code": "ACQ.BUYER_BALANCE_NOT_ENOUGH"},
            "notify": {"delay": 600, "drop": 2, "duplicate": 1, "signature": "invalid", "tamper": {"amount": 1}},
            "api": {"status": 503},
        },
    ),
    "bulk": example(
        "Several rules, all or none",
        {
            "scenarios": [
                {"match": {"amount": {"min": 100, "max": 200}}, "payment": {"outcome": "fail"}},
                {"match": {"gateway": "wechatpay", "operation": "refund"}, "api": {"error": "SYSTEM_ERROR"}},
            ]
        },
    ),
}
STORED_RULE = {
    "id": "scn_83c869c1be7f",
    "match": {"gateway": "alipay"},
    "times": 1,
    "payment": {"outcome": "fail", "code": "balance_not_enough"},
    "remaining": 1,
    "remaining_by_effect": {"payment": 1},
    "source": "api",
}
STANDING_RULE = {
    "id": "scn_5d2f0a9c41b7",
    "match": {"operation": "query"},
    "times": None,
    "api": {"status": 503},
    "remaining": None,
    "source": "api",
}

# -- clock ---------------------------------------------------------------------------------------------------

CLOCK_SETTINGS = {
    "manual": example("Stop the clock: only advance moves it", {"mode": "manual"}),
    "accelerated": example("One real second is a sandbox minute", {"mode": "accelerated", "factor": 60}),
    "real": example("Back to real time", {"mode": "real"}),
}
ADVANCED_CLOCK = {
    "delivered": example(
        "A retry went out and was acknowledged",
        {
            "now": LATER,
            "mode": "manual",
            "factor": 1.0,
            "attempted": [
                {**SUMMARY, "attempts": 2, "last_http_status": 200, "status": "delivered", "next_attempt_at": None}
            ],
        },
    )
}

# -- the answers of the other operations (every operation has a success example: tests/admin/test_openapi.py) --

CLOCK = {"now": NOW, "mode": "real", "factor": 1.0}
REAL_CLOCK = {"real": example("Real time", CLOCK)}
SET_CLOCK = {"manual": example("Stopped: only advance moves it", {**CLOCK, "mode": "manual"})}
RESET = {"kept": example("Merchants kept", {"status": "ok", "merchants_reset": False, "clock": CLOCK})}
NAMESPACE_DELETED = {"deleted": example("Deleted", {"deleted": ["team-payments"]})}
MERCHANT_LIST = {"demo": example("The demo merchants", {"merchants": [ALIPAY_MERCHANT, WECHATPAY_MERCHANT]})}
NOTIFICATION_LIST = {"one": example("One, its retry scheduled", {"notifications": [NOTIFICATION]})}
REPLAY = {"at": LATER, "http_status": 200, "response_body": "success", "error": "", "acked": True, "trigger": "replay"}
REPLAYED = {
    "delivered": example(
        "Acknowledged this time",
        {
            **NOTIFICATION,
            "status": "delivered",
            "next_attempt_at": None,
            "attempts": [*NOTIFICATION["attempts"], {**REPLAY, "rule": None, "effect": ""}],
        },
    )
}
FLUSHED = {
    "delivered": example(
        "A retry went out and was acknowledged",
        {
            "attempted": [
                {**SUMMARY, "attempts": 2, "last_http_status": 200, "status": "delivered", "next_attempt_at": None}
            ]
        },
    ),
    "nothing": example("Nothing was due", {"attempted": []}),
}
RULE_LIST = {"two": example("A one-shot rule, then a standing one", {"scenarios": [STORED_RULE, STANDING_RULE]})}
ONE_RULE = {"one": example("A one-shot rule", {"scenario": STORED_RULE})}
RULES_DELETED = {"one": example("The ids removed", {"deleted": [STORED_RULE["id"]]})}
MAGIC = {
    "two": example(
        "Two of the amounts",
        {
            "amounts": [
                {"amount": 601, "yuan": "6.01", "effect": "the payment is declined: the buyer's balance is not enough"},
                {"amount": 606, "yuan": "6.06", "effect": "each notification arrives twice"},
            ]
        },
    )
}
CA_PEM = {"pem": example("The TEST-ONLY root", pem("CERTIFICATE"))}
DOCUMENT = {"head": example("Its first keys (the whole document is long)", {"openapi": "3.1.0", "paths": {}})}
