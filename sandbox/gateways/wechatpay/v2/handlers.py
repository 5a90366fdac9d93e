"""One function per v2 endpoint: checked string fields in, a neutral core call, the business fields out."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sandbox.core.clock import BEIJING, merchant_deadline
from sandbox.core.digits import ascii_digits
from sandbox.core.models import PAID, PENDING, REFUNDED, Order
from sandbox.errors import BillNotReady, InvalidParameter, MissingParameter, OrderNotFound, SandboxError
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
from sandbox.gateways.wechatpay.v2.errors import DESCRIPTIONS, RETURN, V2Error, from_neutral
from sandbox.gateways.wechatpay.v2.resources import order_fields, paid_fields, refund_query_fields

UNIFIED_TRADE_TYPES = ("JSAPI", "NATIVE", "APP", "MWEB")
MAX_FEN = 100_000_000_00
MIN_EXPIRY = timedelta(minutes=1)
REFUND_PAGE = 10  # refunds per pay/refundquery answer when the merchant pages with offset


@dataclass
class Call(SandboxCall):
    """An authenticated v2 request: the merchant, its fields, and the key and sign type its answer uses."""

    merchant: dict
    params: dict
    key: str
    key_kind: str  # codec.API_KEY or codec.SANDBOX_KEY
    sign_type: str
    base_url: str

    @property
    def mchid(self) -> str:
        return self.merchant["merchant_id"]


@dataclass
class Raw:
    """An answer that is not XML (a bill file)."""

    body: bytes
    content_type: str


# -- field helpers ------------------------------------------------------------------------------------------


def text(call: Call, name: str, required: bool = True, max_len: int = 256, why: str = "") -> str:
    value = call.params.get(name, "")
    if not value:
        if required:
            raise MissingParameter(name, f"{name} is required{why}")
        return ""
    if len(value) > max_len:
        raise InvalidParameter(name, f"{name} is longer than {max_len} characters")
    return value


def fen(call: Call, name: str) -> int:
    value = text(call, name, max_len=12)
    if not ascii_digits(value):
        raise InvalidParameter(name, f"invalid {name}: {value!r} is not an integer amount in fen")
    amount = int(value)
    if not 0 < amount <= MAX_FEN:
        raise InvalidParameter(name, f"invalid {name}: {amount} is not between 1 and {MAX_FEN} fen")
    return amount


def cny(call: Call, name: str) -> None:
    value = call.params.get(name, "")
    if value and value != "CNY":
        raise InvalidParameter(name, f"{name} must be CNY, got {value!r}")


def out_trade_no(call: Call) -> str:
    value = text(call, "out_trade_no", max_len=32)
    if not OUT_TRADE_NO.match(value):
        raise InvalidParameter("out_trade_no", "out_trade_no is 6-32 letters, digits or _-|*")
    return value


def wechat_time(call: Call, name: str) -> datetime | None:
    value = text(call, name, required=False, max_len=14)
    if not value:
        return None
    try:
        if len(value) != 14 or not ascii_digits(value):
            raise ValueError
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise InvalidParameter(name, f"{name} must be yyyyMMddHHmmss in Beijing time, got {value!r}") from None


def expiry(call: Call) -> datetime:
    now = call.now()
    wechat_time(call, "time_start")
    moment = wechat_time(call, "time_expire")
    if moment is None:
        return now + DEFAULT_EXPIRY
    moment = merchant_deadline(moment, now, MIN_EXPIRY)
    if moment < now + MIN_EXPIRY:
        raise InvalidParameter(
            "time_expire", f"time_expire must be at least 1 minute from now (sandbox clock: {now:%Y%m%d%H%M%S})"
        )
    if moment > now + MAX_EXPIRY:
        raise InvalidParameter("time_expire", f"time_expire must be within 7 days (sandbox clock: {now:%Y%m%d%H%M%S})")
    return moment


def find_order(call: Call, unknown_transaction: str = "ORDERNOTEXIST") -> Order:
    """By transaction_id (which wins, as on WeChat) or out_trade_no; an unpaid order has no transaction_id yet."""
    transaction_id = text(call, "transaction_id", required=False, max_len=32)
    number = text(call, "out_trade_no", required=False, max_len=32)
    if not (transaction_id or number):
        raise MissingParameter("out_trade_no", "transaction_id or out_trade_no is required")
    if not transaction_id:
        return call.payments.find(GATEWAY, call.mchid, out_trade_no=number)
    order = call.payments.by_trade_no(GATEWAY, transaction_id)
    if order is None or order.merchant_id != call.mchid or order.paid_at is None:
        raise V2Error(unknown_transaction, f"no paid transaction {transaction_id} for mch_id {call.mchid}")
    return order


def base_extra(call: Call, trade_type: str) -> dict:
    return {
        "api": "v2",
        "appid": call.params["appid"],
        "trade_type": trade_type,
        "attach": text(call, "attach", required=False, max_len=127),
        "sign_type": call.sign_type,
        "sign_key_kind": call.key_kind,
    }


# -- payments -----------------------------------------------------------------------------------------------


def unifiedorder(call: Call) -> dict:
    trade_type = text(call, "trade_type", max_len=16)
    if trade_type not in UNIFIED_TRADE_TYPES:
        raise InvalidParameter(
            "trade_type",
            f"trade_type must be JSAPI, NATIVE, APP or MWEB, got {trade_type!r} (payment codes use pay/micropay)",
        )
    number = out_trade_no(call)
    body = text(call, "body", max_len=128)
    amount = fen(call, "total_fee")
    cny(call, "fee_type")
    text(call, "spbill_create_ip", max_len=64)
    notify_url = text(call, "notify_url", max_len=256)
    if not notify_url.startswith(("http://", "https://")):
        raise InvalidParameter("notify_url", f"notify_url must be an http(s) URL, got {notify_url!r}")
    buyer = {}
    if trade_type == "JSAPI":
        buyer["openid"] = text(call, "openid", max_len=128, why=" when trade_type is JSAPI")
    if trade_type == "NATIVE":
        text(call, "product_id", max_len=32, why=" when trade_type is NATIVE")
    expires = expiry(call)
    prepay_id = "wx" + call.now().strftime("%d%H%M%S") + call.sandbox.ids.hex(24)
    pr = call.sandbox.ids.alnum(16)
    # The same extra and handles as v3's prepay, so the same hosted pages serve orders of both APIs.
    extra = {**base_extra(call, trade_type), "prepay_id": prepay_id, "pr": pr, "handles": [prepay_id, f"pr:{pr}"]}
    if trade_type == "MWEB":
        extra["h5_type"] = h5_type(call)
    order, created = new_order(call.sandbox, call.mchid, number, amount, body, notify_url, expires, extra, buyer)
    if not created and order.extra.get("trade_type") != trade_type:
        raise V2Error(
            "OUT_TRADE_NO_USED",
            f"out_trade_no {number} is already a {order.extra.get('trade_type')} order; this request says {trade_type}",
        )
    answer = {"trade_type": trade_type, "prepay_id": order.extra["prepay_id"]}
    if trade_type == "NATIVE":
        answer["code_url"] = f"weixin://wxpay/bizpayurl?pr={order.extra['pr']}"
    if trade_type == "MWEB":
        query = urlencode({"prepay_id": order.extra["prepay_id"], "package": order.trade_no[-10:]})
        answer["mweb_url"] = f"{call.base_url}/cashier/wechatpay/h5?{query}"
    return answer


def h5_type(call: Call) -> str:
    """scene_info is a JSON string; H5 payments need it, with h5_info.type (Wap, IOS, Android)."""
    raw = text(call, "scene_info", max_len=1024, why=" when trade_type is MWEB")
    try:
        scene = json.loads(raw)
    except ValueError:
        scene = None
    info = scene.get("h5_info") if isinstance(scene, dict) else None
    if not isinstance(info, dict) or not isinstance(info.get("type"), str) or not info["type"]:
        raise InvalidParameter("scene_info", 'scene_info must be JSON like {"h5_info": {"type": "Wap", ...}}')
    return info["type"]


def orderquery(call: Call) -> dict:
    return order_fields(find_order(call))


def closeorder(call: Call) -> dict:
    order = call.payments.find(GATEWAY, call.mchid, out_trade_no=text(call, "out_trade_no", max_len=32))
    if order.status in (PAID, REFUNDED):
        raise V2Error("ORDERPAID", f"order {order.out_trade_no} is paid and cannot be closed; refund it instead")
    call.payments.close(order.key, reason="closed by merchant")
    return {"result_msg": "OK"}


def micropay(call: Call) -> dict:
    number = out_trade_no(call)
    body = text(call, "body", max_len=128)
    amount = fen(call, "total_fee")
    cny(call, "fee_type")
    text(call, "spbill_create_ip", max_len=64)
    auth_code = text(call, "auth_code", max_len=128)
    outcome, detail = magic.codepay_outcome(auth_code)
    if outcome == "invalid":
        raise V2Error("AUTH_CODE_INVALID", f"auth_code {auth_code!r} is not a payment code: 18 digits starting 10-15")
    expires = call.now() + DEFAULT_EXPIRY
    extra = base_extra(call, "MICROPAY")
    order, created = new_order(call.sandbox, call.mchid, number, amount, body, "", expires, extra)
    if not created and order.extra.get("trade_type") != "MICROPAY":
        raise V2Error("OUT_TRADE_NO_USED", f"out_trade_no {number} is already a {order.extra.get('trade_type')} order")
    if order.status == PENDING and order.settle_at is not None and not order.extra.get("buyerless"):
        raise _userpaying()  # a repeat while the buyer confirms: still waiting, nothing decided again
    decision = call.sandbox.decide_payment(order, "pay/micropay", magic=magic.decision(outcome, detail))
    order = call.sandbox.apply_payment(order, decision)
    if decision.outcome == "success":
        return {**paid_fields(order), "cash_fee_type": "CNY"}
    if decision.outcome == "pending":
        raise _userpaying()
    if decision.outcome == "close":
        raise V2Error("ORDERCLOSED", magic.explain(decision, auth_code))
    code, why = codes.V2_SPELLING.get(decision.code, decision.code), magic.explain(decision, auth_code)
    # V2Error leads with WeChat's description where it has one; otherwise the payment code's own text does.
    raise V2Error(code, why if code in DESCRIPTIONS else f"{codes.PAYMENT_FAILURES.get(decision.code, code)}: {why}")


def _userpaying() -> V2Error:
    return V2Error(
        "USERPAYING",
        "the buyer is entering the password; query pay/orderquery for the outcome (it settles on the sandbox clock)",
    )


def reverse(call: Call) -> dict:
    """Cancel a payment-code order: unpaid, it is revoked; paid, it is refunded in full (as v3's reverse)."""
    common.reverse(call.sandbox, find_order(call))
    return {"recall": "N"}


# -- refunds ------------------------------------------------------------------------------------------------


def refund(call: Call) -> dict:
    out_refund_no = text(call, "out_refund_no", max_len=64)
    total, refund_fee = fen(call, "total_fee"), fen(call, "refund_fee")
    cny(call, "refund_fee_type")
    order = find_order(call, unknown_transaction="INVALID_TRANSACTIONID")
    if total != order.amount:
        raise InvalidParameter("total_fee", f"total_fee {total} is not the amount of {order.out_trade_no}")
    holder = call.payments.find_by_refund(GATEWAY, call.mchid, out_refund_no)
    if holder is not None and holder.key != order.key:
        raise V2Error(
            "INVALID_REQUEST", f"out_refund_no {out_refund_no} is already a refund of order {holder.out_trade_no}"
        )
    extra = {
        "notify_url": text(call, "notify_url", required=False, max_len=256),
        "refund_account": text(call, "refund_account", required=False, max_len=64),
    }
    order, made, _ = call.payments.refund(
        order.key,
        out_refund_no,
        refund_fee,
        text(call, "refund_desc", required=False, max_len=80),
        refund_id=lambda: "5030" + call.sandbox.ids.digits(25),
        settle_after=REFUND_SECONDS,
        extra={k: v for k, v in extra.items() if v},
    )
    return {
        "transaction_id": order.trade_no,
        "out_trade_no": order.out_trade_no,
        "out_refund_no": made.out_refund_no,
        "refund_id": made.refund_id,
        "refund_fee": made.amount,
        "settlement_refund_fee": made.amount,
        "total_fee": order.amount,
        "settlement_total_fee": order.amount,
        "fee_type": order.currency,
        "cash_fee": order.amount,
        "cash_refund_fee": made.amount,
    }


def refundquery(call: Call) -> dict:
    """By refund_id, out_refund_no, transaction_id or out_trade_no, in that order of precedence."""
    refund_id = text(call, "refund_id", required=False, max_len=32)
    out_refund_no = text(call, "out_refund_no", required=False, max_len=64)
    if refund_id:
        order = next((o for o in call.payments.list(GATEWAY, call.mchid) if any_refund_id(o, refund_id)), None)
        if order is None:
            raise V2Error("REFUNDNOTEXIST", f"no refund with refund_id {refund_id} for mch_id {call.mchid}")
        return refund_query_fields(order, [r for r in order.refund_list if r.refund_id == refund_id])
    if out_refund_no:
        order = call.payments.find_by_refund(GATEWAY, call.mchid, out_refund_no)
        if order is None:
            raise V2Error("REFUNDNOTEXIST", f"no refund {out_refund_no} for mch_id {call.mchid}")
        return refund_query_fields(order, [order.find_refund(out_refund_no)])
    try:
        order = find_order(call, unknown_transaction="REFUNDNOTEXIST")
    except OrderNotFound as exc:
        raise V2Error("REFUNDNOTEXIST", exc.message) from None
    refunds = order.refund_list
    if not refunds:
        raise V2Error("REFUNDNOTEXIST", f"order {order.out_trade_no} has no refunds")
    offset_text = text(call, "offset", required=False, max_len=6)
    if not offset_text:
        return refund_query_fields(order, refunds)
    if not ascii_digits(offset_text) or int(offset_text) >= len(refunds):
        raise InvalidParameter("offset", f"offset must be a number below the refund count ({len(refunds)})")
    offset = int(offset_text)
    return {**refund_query_fields(order, refunds[offset : offset + REFUND_PAGE]), "total_refund_count": len(refunds)}


def any_refund_id(order: Order, refund_id: str) -> bool:
    return any(r.refund_id == refund_id for r in order.refund_list)


# -- bills --------------------------------------------------------------------------------------------------


def downloadbill(call: Call) -> Raw:
    """The day's bill as CSV text (gzip with tar_type=GZIP); failures are return-level, as on WeChat."""
    try:
        bill_date = text(call, "bill_date", max_len=32)
        try:
            if len(bill_date) != 8 or not ascii_digits(bill_date):
                raise ValueError
            day = datetime.strptime(bill_date, "%Y%m%d").replace(tzinfo=BEIJING)
        except ValueError:
            raise InvalidParameter("bill_date", f"invalid bill_date: {bill_date!r} is not yyyyMMdd") from None
        bill_type = bills.parse_bill_type(call.params.get("bill_type", "ALL"))
        tar_type = call.params.get("tar_type", "")
        if tar_type not in ("", "GZIP"):
            raise InvalidParameter("tar_type", f"tar_type must be GZIP or absent, got {tar_type!r}")
        bills.check_date(day, call.now())
    except BillNotReady as exc:
        raise V2Error("NO_BILL_EXIST", exc.message, RETURN) from None
    except SandboxError as exc:
        error = from_neutral(exc)
        raise V2Error(error.err_code, error.message, RETURN) from None
    orders = call.payments.list(gateway=GATEWAY, merchant_id=call.mchid)
    data = bills.csv_text(orders, day, bill_type).encode("utf-8")
    if tar_type == "GZIP":
        return Raw(gzip.compress(data, mtime=0), "application/x-gzip")
    return Raw(data, "text/plain; charset=utf-8")


ENDPOINTS = {
    "pay/unifiedorder": unifiedorder,
    "pay/orderquery": orderquery,
    "pay/closeorder": closeorder,
    "pay/micropay": micropay,
    "secapi/pay/reverse": reverse,
    "secapi/pay/refund": refund,
    "pay/refundquery": refundquery,
    "pay/downloadbill": downloadbill,
}
