"""One function per v3 endpoint: a checked JSON body in, a neutral core call, (status, object) out."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from cryptography import x509

from sandbox.core.clock import merchant_deadline
from sandbox.core.models import PAID, PENDING, REFUNDED, Order
from sandbox.errors import OrderNotFound
from sandbox.gateways.call import SandboxCall
from sandbox.gateways.wechatpay import bills, codes, common, magic
from sandbox.gateways.wechatpay.common import (
    DEFAULT_EXPIRY,
    GATEWAY,
    MAX_EXPIRY,
    OUT_TRADE_NO,
    REFUND_SECONDS,
    new_order,
)
from sandbox.gateways.wechatpay.keys import PUBLIC_KEY_MODE, aead_encrypt
from sandbox.gateways.wechatpay.v3.codec import Caller
from sandbox.gateways.wechatpay.v3.errors import V3Error, param_error
from sandbox.gateways.wechatpay.v3.resources import refund_resource, rfc3339, transaction

USERPAYING = {"code": "USERPAYING", "message": codes.API_ERRORS["USERPAYING"][1]}
# What WeChat answers a merchant that has the public key only (registered since late 2024) at /v3/certificates.
NO_PLATFORM_CERTIFICATE = (
    "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。"
    "可查看指引https://pay.weixin.qq.com/docs/merchant/products/platform-certificate/wxp-pub-key-guide.html"
)
TRADE_TYPES = {"native": "NATIVE", "jsapi": "JSAPI", "app": "APP", "h5": "MWEB", "codepay": "MICROPAY"}


@dataclass
class Call(SandboxCall):
    caller: Caller
    base_url: str

    def order_by_out_trade_no(self, out_trade_no: str) -> Order:
        return self.payments.find(GATEWAY, self.caller.mchid, out_trade_no=out_trade_no)


# -- body helpers -----------------------------------------------------------------------------------


def text(body: dict, name: str, required: bool = True, max_len: int = 256, where: str = "") -> str:
    field = f"{where}{name}"
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise param_error(field, f"{field} is required")
        return ""
    if not isinstance(value, str):
        raise param_error(field, f"{field} must be a string, got {json.dumps(value)}")
    if len(value) > max_len:
        raise param_error(field, f"{field} is longer than {max_len} characters")
    return value


def obj(body: dict, name: str, required: bool = True) -> dict:
    value = body.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise param_error(name, f"{name} must be an object")
    return value


def fen(body: dict, name: str, where: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise param_error(f"{where}{name}", f"{where}{name} must be an integer amount in fen, got {json.dumps(value)}")
    if not 0 < value <= 100_000_000_00:
        raise param_error(f"{where}{name}", f"{where}{name} must be between 1 and 10000000000 fen")
    return value


def mchid_matches(call: Call, mchid: str, location: str = "body") -> None:
    if mchid != call.caller.mchid:
        raise param_error(
            "mchid", f"mchid {mchid} differs from the mchid {call.caller.mchid} that signed the request", location
        )


def expiry(call: Call, value: str) -> datetime:
    now = call.sandbox.clock.now()
    if not value:
        return now + DEFAULT_EXPIRY
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise param_error(
            "time_expire", f"time_expire must be RFC 3339 (2024-06-08T10:34:56+08:00), got {value!r}"
        ) from None
    if moment.tzinfo is None:
        raise param_error("time_expire", "time_expire needs a time zone offset, e.g. +08:00")
    moment = merchant_deadline(moment, now)
    if not now < moment <= now + MAX_EXPIRY:
        raise param_error("time_expire", f"time_expire must be in the next 7 days (sandbox clock: {rfc3339(now)})")
    return moment


# -- payments -----------------------------------------------------------------------------------------


def prepay(call: Call, kind: str, body: dict) -> tuple[int, dict]:
    trade_type = TRADE_TYPES[kind]
    merchant = call.caller.merchant
    appid = text(body, "appid", max_len=32)
    mchid_matches(call, text(body, "mchid", max_len=32))
    if appid != merchant["appid"]:
        raise V3Error(
            400,
            "APPID_MCHID_NOT_MATCH",
            f"appid {appid} is not bound to mchid {call.caller.mchid} (its appid is {merchant['appid']})",
        )
    out_trade_no = text(body, "out_trade_no", max_len=32)
    if not OUT_TRADE_NO.match(out_trade_no):
        raise param_error("out_trade_no", "out_trade_no is 6-32 letters, digits or _-|*")
    description = text(body, "description", max_len=127)
    notify_url = "" if kind == "codepay" else text(body, "notify_url", max_len=256)
    if notify_url and not notify_url.startswith(("http://", "https://")):
        raise param_error("notify_url", "notify_url must be an http(s) URL")
    amount = fen(obj(body, "amount"), "total", "amount.")
    currency = obj(body, "amount").get("currency", "CNY")
    if currency != "CNY":
        raise param_error("amount.currency", f"amount.currency must be CNY, got {currency!r}")
    payer = obj(body, "payer", required=kind in ("jsapi", "codepay"))
    scene = obj(body, "scene_info", required=kind == "h5")
    buyer = {}
    if kind == "jsapi":
        buyer["openid"] = text(payer, "openid", max_len=128, where="payer.")
    if kind == "h5":
        text(scene, "payer_client_ip", max_len=45, where="scene_info.")
        text(obj(scene, "h5_info"), "type", max_len=32, where="scene_info.h5_info.")
    prepay_id = "wx" + call.sandbox.clock.now().strftime("%d%H%M%S") + call.sandbox.ids.hex(24)
    pr = call.sandbox.ids.alnum(16)
    extra = {
        "api": "v3",
        "appid": appid,
        "trade_type": trade_type,
        "attach": text(body, "attach", required=False, max_len=128),
        "signing_mode": call.caller.mode,
        "prepay_id": prepay_id,
        "pr": pr,
        "handles": [prepay_id, f"pr:{pr}"],
    }
    if kind == "h5":
        extra["h5_type"] = scene["h5_info"]["type"]
    if kind == "codepay":
        return codepay(call, body, payer, out_trade_no, amount, description, extra)
    order, _ = new_order(
        call.sandbox,
        call.caller.mchid,
        out_trade_no,
        amount,
        description,
        notify_url,
        expiry(call, text(body, "time_expire", required=False, max_len=64)),
        extra,
        buyer,
    )
    return 200, prepay_answer(call, kind, order)


def prepay_answer(call: Call, kind: str, order: Order) -> dict:
    """An identical repeat gets the same answer: what was handed out the first time."""
    if kind == "native":
        return {"code_url": f"weixin://wxpay/bizpayurl?pr={order.extra['pr']}"}
    if kind == "h5":
        query = urlencode({"prepay_id": order.extra["prepay_id"], "package": order.trade_no[-10:]})
        return {"h5_url": f"{call.base_url}/cashier/wechatpay/h5?{query}"}
    return {"prepay_id": order.extra["prepay_id"]}


def codepay(
    call: Call, body: dict, payer: dict, out_trade_no: str, amount: int, description: str, extra: dict
) -> tuple[int, dict]:
    auth_code = text(payer, "auth_code", max_len=32, where="payer.")
    outcome, detail = magic.codepay_outcome(auth_code)
    if outcome == "invalid":
        raise V3Error(
            400, "INVALID_REQUEST", f"payer.auth_code {auth_code!r} is not a payment code: 18 digits starting 10-15"
        )
    expires = call.sandbox.clock.now() + DEFAULT_EXPIRY
    order, _ = new_order(call.sandbox, call.caller.mchid, out_trade_no, amount, description, "", expires, extra)
    if order.status == PENDING and order.settle_at is not None and not order.extra.get("buyerless"):
        return 202, USERPAYING  # a repeat while the buyer confirms: still waiting, nothing decided again
    decision = call.sandbox.decide_payment(order, "transactions.codepay", magic=magic.decision(outcome, detail))
    order = call.sandbox.apply_payment(order, decision)
    if decision.outcome == "success":
        return 200, transaction(order)
    if decision.outcome == "pending":
        return 202, USERPAYING
    if decision.outcome == "close":
        status, message = codes.API_ERRORS["ORDER_CLOSED"]
        raise V3Error(status, "ORDER_CLOSED", f"{message}: {magic.explain(decision, auth_code)}")
    raise V3Error(
        403,
        decision.code,
        f"{codes.PAYMENT_FAILURES.get(decision.code, decision.code)}: {magic.explain(decision, auth_code)}",
    )


def query_by_transaction_id(call: Call, transaction_id: str, mchid: str) -> tuple[int, dict]:
    mchid_matches(call, mchid, "query")
    order = call.payments.by_trade_no(GATEWAY, transaction_id)
    # Before payment there is no transaction id to speak of: WeChat answers such a query as unknown.
    if order is None or order.merchant_id != call.caller.mchid or order.paid_at is None:
        raise V3Error(404, "ORDER_NOT_EXIST", f"no paid transaction {transaction_id} for mchid {call.caller.mchid}")
    return 200, transaction(order)


def query_by_out_trade_no(call: Call, out_trade_no: str, mchid: str) -> tuple[int, dict]:
    mchid_matches(call, mchid, "query")
    return 200, transaction(call.order_by_out_trade_no(out_trade_no))


def close(call: Call, out_trade_no: str, body: dict) -> tuple[int, None]:
    mchid_matches(call, text(body, "mchid", max_len=32))
    order = call.order_by_out_trade_no(out_trade_no)
    if order.status in (PAID, REFUNDED):
        raise V3Error(403, "ORDERPAID", f"order {out_trade_no} is paid and cannot be closed; refund it instead")
    if order.status == PENDING:
        call.payments.close(order.key, reason="closed by merchant", via=call.via)
    return 204, None


def reverse(call: Call, out_trade_no: str, body: dict) -> tuple[int, dict]:
    """Cancel a payment-code order: unpaid, it is revoked; paid, it is refunded in full and revoked."""
    mchid_matches(call, text(body, "mchid", max_len=32))
    order = call.order_by_out_trade_no(out_trade_no)
    common.reverse(call.sandbox, order)
    return 200, {"appid": order.extra.get("appid", ""), "mchid": order.merchant_id, "out_trade_no": out_trade_no}


# -- refunds ------------------------------------------------------------------------------------------


def refund(call: Call, body: dict) -> tuple[int, dict]:
    out_refund_no = text(body, "out_refund_no", max_len=64)
    transaction_id, out_trade_no = text(body, "transaction_id", False, 32), text(body, "out_trade_no", False, 32)
    if not (transaction_id or out_trade_no):
        raise param_error("out_trade_no", "transaction_id or out_trade_no is required")
    amount = obj(body, "amount")
    refund_fen, total = fen(amount, "refund", "amount."), fen(amount, "total", "amount.")
    try:
        order = call.payments.find(GATEWAY, call.caller.mchid, out_trade_no=out_trade_no, trade_no=transaction_id)
    except OrderNotFound as exc:
        raise V3Error(404, "RESOURCE_NOT_EXISTS", exc.message) from None
    if total != order.amount:
        raise V3Error(400, "INVALID_REQUEST", f"amount.total {total} is not the order's amount ({order.amount} fen)")
    if order.status not in (PAID, REFUNDED):
        raise V3Error(
            400,
            "INVALID_REQUEST",
            f"order {order.out_trade_no} is not paid ({order.status}); only a paid order can be refunded",
        )
    extra = {"notify_url": text(body, "notify_url", False, 256), "funds_account": text(body, "funds_account", False)}
    order, made, _ = call.payments.refund(
        order.key,
        out_refund_no,
        refund_fen,
        text(body, "reason", False, 80),
        refund_id=lambda: "5030" + call.sandbox.ids.digits(25),
        settle_after=REFUND_SECONDS,
        extra={**{k: v for k, v in extra.items() if v}, **call.marks},
    )
    return 200, refund_resource(order, made)


def query_refund(call: Call, out_refund_no: str) -> tuple[int, dict]:
    order = call.payments.find_by_refund(GATEWAY, call.caller.mchid, out_refund_no)
    if order is None:
        raise V3Error(404, "RESOURCE_NOT_EXISTS", f"no refund {out_refund_no} for mchid {call.caller.mchid}")
    return 200, refund_resource(order, order.find_refund(out_refund_no))


# -- bills and certificates ---------------------------------------------------------------------------


def trade_bill(call: Call, args: dict) -> tuple[int, dict]:
    bill_date = args.get("bill_date", "")
    try:
        day = datetime.strptime(bill_date, "%Y-%m-%d")
    except ValueError:
        raise param_error("bill_date", f"bill_date must be yyyy-MM-dd, got {bill_date!r}", "query") from None
    bill_type = bills.parse_bill_type(args.get("bill_type", "ALL"))
    tar_type = args.get("tar_type", "")
    if tar_type not in ("", "GZIP"):
        raise param_error("tar_type", f"tar_type must be GZIP or absent, got {tar_type!r}", "query")
    bills.check_date(day.replace(tzinfo=call.sandbox.clock.now().tzinfo), call.sandbox.clock.now())
    text_ = bill_text(call.sandbox, call.caller.mchid, bill_date, bill_type)
    token = base64.urlsafe_b64encode(f"{call.caller.mchid}|{bill_date}|{bill_type}|{tar_type}".encode()).decode()
    return 200, {
        "hash_type": "SHA1",
        "hash_value": hashlib.sha1(text_.encode("utf-8")).hexdigest(),
        "download_url": f"{call.base_url}/v3/billdownload/file?token={token.rstrip('=')}",
    }


def bill_text(sandbox, mchid: str, bill_date: str, bill_type: str) -> str:
    day = datetime.strptime(bill_date, "%Y-%m-%d")
    return bills.csv_text(sandbox.payments.list(gateway=GATEWAY, merchant_id=mchid), day, bill_type)


def download_bill(call: Call, token: str) -> bytes:
    try:
        mchid, bill_date, bill_type, tar_type = (
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split("|")
        )
        datetime.strptime(bill_date, "%Y-%m-%d")
    except ValueError:
        raise param_error("token", "token is not one the sandbox handed out", "query") from None
    if mchid != call.caller.mchid:
        raise V3Error(403, "NO_AUTH", f"this bill belongs to mchid {mchid}")
    data = bill_text(call.sandbox, mchid, bill_date, bill_type).encode("utf-8")
    return gzip.compress(data, mtime=0) if tar_type == "GZIP" else data


def certificates(call: Call) -> tuple[int, dict]:
    """The platform certificate, encrypted with the caller's APIv3 key so only that merchant can read it; a merchant
    in key_mode public_key has none."""
    keys = call.sandbox.gateways[GATEWAY].keys
    if call.caller.merchant.get("key_mode") == PUBLIC_KEY_MODE:
        raise V3Error(
            404,
            "RESOURCE_NOT_EXISTS",
            f"{NO_PLATFORM_CERTIFICATE} (sandbox: mchid {call.caller.mchid} is registered with key_mode public_key: "
            f"verify with the WeChat Pay public key {keys.public_key_id}, its platform_public_key in "
            f"GET /_sandbox/merchants/wechatpay/{call.caller.mchid})",
        )
    cert = x509.load_pem_x509_certificate(keys.platform_cert_pem.encode())
    nonce = call.sandbox.ids.alnum(12)
    return 200, {
        "data": [
            {
                "serial_no": keys.platform_serial_no,
                "effective_time": rfc3339(cert.not_valid_before_utc),
                "expire_time": rfc3339(cert.not_valid_after_utc),
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM",
                    "nonce": nonce,
                    "associated_data": "certificate",
                    "ciphertext": aead_encrypt(
                        call.caller.merchant["apiv3_key"], nonce, keys.platform_cert_pem, "certificate"
                    ),
                },
            }
        ]
    }
