"""One function per Alipay wire method: typed inputs from biz_content, a neutral core call, a dict out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.core.clock import BEIJING, merchant_deadline
from sandbox.core.models import CLOSED, FAILED, PAID, PENDING, REFUNDED, Order
from sandbox.core.money import format_yuan, parse_yuan
from sandbox.errors import OrderNotFound
from sandbox.gateways.alipay import bills, magic
from sandbox.gateways.alipay.errors import business
from sandbox.gateways.alipay.notify import TRADE_STATUS, buyer, exists_at_alipay, wire_time
from sandbox.gateways.call import SandboxCall

GATEWAY = "alipay"
OUT_TRADE_NO = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
DEFAULT_EXPIRY = timedelta(days=15)
PRECREATE_EXPIRY = timedelta(hours=2)
MAX_EXPIRY = timedelta(days=15)


@dataclass
class Call(SandboxCall):
    """One authenticated call, from gateway.do or OpenAPI v3: the handlers never know which envelope carried it."""

    app_id: str
    method: str
    params: dict  # gateway.do's common parameters (v3 passes notify_url and return_url from its body)
    biz: dict  # the business fields: gateway.do's biz_content, v3's JSON body or GET query
    sign_type: str
    base_url: str
    protocol: str = "gateway.do"


# -- biz_content helpers ------------------------------------------------------------------------


def text(call: Call, name: str, required: bool = False, max_len: int = 256) -> str:
    value = call.biz.get(name)
    if value is None or value == "":
        if required:
            raise business("ACQ.INVALID_PARAMETER", f"biz_content.{name} is required by {call.method}")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise business("ACQ.INVALID_PARAMETER", f"biz_content.{name} must be a string, got {value!r}")
    value = str(value)
    if len(value) > max_len:
        raise business("ACQ.INVALID_PARAMETER", f"biz_content.{name} is longer than {max_len} characters")
    return value


def amount(call: Call, name: str, required: bool = True) -> int:
    value = call.biz.get(name)
    if value is None or value == "":
        if required:
            raise business("ACQ.INVALID_PARAMETER", f"biz_content.{name} is required by {call.method}")
        return 0
    try:
        fen = parse_yuan(value, f"biz_content.{name}")
    except Exception as exc:
        raise business("ACQ.INVALID_PARAMETER", str(exc)) from None
    if fen <= 0:
        raise business("ACQ.INVALID_PARAMETER", f"biz_content.{name} must be at least 0.01, got {value!r}")
    return fen


def out_trade_no(call: Call) -> str:
    value = text(call, "out_trade_no", required=True, max_len=64)
    if not OUT_TRADE_NO.match(value):
        raise business(
            "ACQ.INVALID_PARAMETER",
            "biz_content.out_trade_no may hold only letters, digits, '_' and '-' (64 at most)",
        )
    return value


def expiry(call: Call, default: timedelta) -> datetime:
    now = call.now()
    if absolute := text(call, "time_expire", max_len=19):
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                moment = datetime.strptime(absolute, fmt).replace(tzinfo=BEIJING)
                break
            except ValueError:
                continue
        else:
            raise business("ACQ.INVALID_PARAMETER", "biz_content.time_expire must be yyyy-MM-dd HH:mm:ss")
        moment = merchant_deadline(moment, now)
        if moment <= now:
            raise business(
                "ACQ.INVALID_PARAMETER",
                f"biz_content.time_expire {absolute} is not in the future (sandbox clock: {wire_time(now)})",
            )
        return moment
    relative = text(call, "qr_code_timeout_express", max_len=6) or text(call, "timeout_express", max_len=6)
    if not relative:
        return now + default
    if relative == "1c":  # until the end of the current day
        return now.replace(hour=23, minute=59, second=59, microsecond=0)
    match = re.fullmatch(r"([0-9]{1,5})([mhd])", relative)
    if not match:
        raise business("ACQ.INVALID_PARAMETER", f"timeout_express {relative!r} must look like 90m, 2h, 15d or 1c")
    span = timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[match[2]]: int(match[1])})
    if not timedelta(minutes=1) <= span <= MAX_EXPIRY:
        raise business("ACQ.INVALID_PARAMETER", f"timeout_express {relative!r} must be between 1m and 15d")
    return now + span


def new_order(
    call: Call,
    product: str,
    visible: bool,
    default_expiry: timedelta = DEFAULT_EXPIRY,
    extra: dict | None = None,
    buyer: dict | None = None,
) -> Order:
    extra = {
        **(extra or {}),
        "sign_type": call.sign_type,
        "visible": visible,
        "method": call.method,
        "protocol": call.protocol,
        "passback_params": text(call, "passback_params", max_len=512),
        "product_code": text(call, "product_code", max_len=64),
    }
    draft = Order(
        gateway=GATEWAY,
        merchant_id=call.app_id,
        out_trade_no=out_trade_no(call),
        trade_no="",
        amount=amount(call, "total_amount"),
        created_at=call.now(),
        subject=text(call, "subject", required=True),
        body=text(call, "body", max_len=128),
        product=product,
        notify_url=call.params.get("notify_url", ""),
        return_url=call.params.get("return_url", ""),
        expires_at=expiry(call, default_expiry),
        extra=extra,
        buyer=buyer or {},
    )
    order, _ = call.payments.create(draft, lambda: trade_no(call))
    return order


def trade_no(call: Call) -> str:
    return call.now().strftime("%Y%m%d") + "22" + call.sandbox.ids.digits(18)


def find_trade(call: Call) -> Order:
    """The trade named by out_trade_no or trade_no, as Alipay sees it (a cashier nobody opened is no trade)."""
    otn, tno = text(call, "out_trade_no", max_len=64), text(call, "trade_no", max_len=64)
    if not otn and not tno:
        raise business("ACQ.INVALID_PARAMETER", "biz_content needs out_trade_no or trade_no")
    try:
        # By out_trade_no when given, so a trade_no naming another trade gets the message below.
        order = call.payments.find(GATEWAY, call.app_id, out_trade_no=otn, trade_no="" if otn else tno)
    except OrderNotFound as exc:
        raise business("ACQ.TRADE_NOT_EXIST", exc.message) from None
    if tno and order.trade_no != tno:
        raise business("ACQ.TRADE_NOT_EXIST", f"out_trade_no {otn} and trade_no {tno} name different trades")
    if not exists_at_alipay(order):
        raise business(
            "ACQ.TRADE_NOT_EXIST",
            f"the buyer has not opened the cashier or scanned the QR code of {order.out_trade_no} yet; "
            "Alipay creates the trade only then",
        )
    return order


def paid_fields(order: Order) -> dict:
    paid = order.paid_at is not None
    yuan = format_yuan(order.amount)
    fields = {
        "trade_no": order.trade_no,
        "out_trade_no": order.out_trade_no,
        "buyer_logon_id": buyer(order)["buyer_logon_id"],
        "total_amount": yuan,
        "receipt_amount": yuan if paid else "0.00",
        "buyer_pay_amount": yuan if paid else "0.00",
        "point_amount": "0.00",
        "invoice_amount": yuan if paid else "0.00",
    }
    if paid:
        fields["fund_bill_list"] = [{"fund_channel": "ALIPAYACCOUNT", "amount": yuan}]
    fields["buyer_user_id"] = buyer(order)["buyer_user_id"]
    return fields


# -- methods --------------------------------------------------------------------------------------


def trade_page_pay(call: Call) -> Order:
    return _cashier_order(call, "page", ("FAST_INSTANT_TRADE_PAY",))


def trade_wap_pay(call: Call) -> Order:
    # python-alipay-sdk sends QUICK_WAP_PAY, the docs and the official SDK QUICK_WAP_WAY: both work for real.
    return _cashier_order(call, "wap", ("QUICK_WAP_WAY", "QUICK_WAP_PAY"))


def _cashier_order(call: Call, product: str, product_codes: tuple[str, ...]) -> Order:
    code = text(call, "product_code", required=True, max_len=64)
    if code not in product_codes:
        raise business(
            "ACQ.INVALID_PARAMETER",
            f"{call.method} needs product_code {' or '.join(product_codes)}, got {code!r}",
        )
    return new_order(call, product, visible=False, extra={"quit_url": text(call, "quit_url", max_len=400)})


def trade_precreate(call: Call) -> dict:
    order = new_order(call, "precreate", visible=False, default_expiry=PRECREATE_EXPIRY)
    return {
        "out_trade_no": order.out_trade_no,
        "qr_code": f"{call.base_url}/cashier/alipay/qr/{order.trade_no}",
    }


def trade_create(call: Call) -> dict:
    if not (text(call, "buyer_id", max_len=28) or text(call, "buyer_open_id", max_len=128)):
        raise business("ACQ.INVALID_PARAMETER", "alipay.trade.create (JSAPI) needs buyer_id or buyer_open_id")
    buyer_id = text(call, "buyer_id", max_len=28)
    order = new_order(call, "create", visible=True, buyer={"buyer_id": buyer_id} if buyer_id else None)
    return {"out_trade_no": order.out_trade_no, "trade_no": order.trade_no}


def trade_pay(call: Call) -> dict:
    scene = text(call, "scene", required=True, max_len=32)
    if scene not in ("bar_code", "wave_code"):
        raise business("ACQ.INVALID_PARAMETER", f"scene must be bar_code or wave_code, got {scene!r}")
    auth_code = text(call, "auth_code", required=True, max_len=32)
    outcome, detail = magic.barcode_outcome(auth_code)
    if outcome == "invalid":
        raise business(detail, f"auth_code {auth_code!r} is not a payment code: 16-24 digits starting 25-30")
    order = new_order(call, "barcode", visible=True)
    code_says = magic.decision(outcome, detail)
    decision = call.sandbox.decide_payment(order, call.method, magic=code_says)
    order = call.sandbox.apply_payment(order, decision)
    if decision.outcome == "success":
        return {**paid_fields(order), "gmt_payment": wire_time(order.paid_at)}
    if decision.outcome == "pending":
        return {"code": "10003", "msg": "order success pay inprocess", **paid_fields(order)}
    code = decision.code if decision.outcome == "fail" else "ACQ.TRADE_HAS_CLOSE"
    raise business(
        code,
        magic.explain(decision, auth_code),
        out_trade_no=order.out_trade_no,
        trade_no=order.trade_no,
        buyer_user_id=buyer(order)["buyer_user_id"],
    )


def trade_query(call: Call) -> dict:
    order = find_trade(call)
    fields = paid_fields(order)
    fields["trade_status"] = TRADE_STATUS[order.status]
    if order.paid_at:
        fields["send_pay_date"] = wire_time(order.paid_at)
    return fields


def trade_refund(call: Call) -> dict:
    refund_amount = amount(call, "refund_amount")
    request_no = text(call, "out_request_no", max_len=64)
    order = find_trade(call)
    if order.status == PENDING:
        raise business("ACQ.TRADE_STATUS_ERROR", f"trade {order.out_trade_no} is not paid yet")
    if order.status in (CLOSED, FAILED):
        raise business("ACQ.TRADE_HAS_CLOSE", f"trade {order.out_trade_no} was closed without payment")
    if not request_no:
        # Without out_request_no Alipay takes the refund as the full refund of the trade.
        if refund_amount != order.amount:
            raise business(
                "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                f"without out_request_no only a full refund of {format_yuan(order.amount)} is allowed; "
                "send out_request_no for a partial refund",
                out_trade_no=order.out_trade_no,
                refund_fee="0.00",
                send_back_fee="0.00",
            )
        request_no = order.out_trade_no
    order, refund, created = call.payments.refund(
        order.key,
        request_no,
        refund_amount,
        text(call, "refund_reason"),
        refund_id=lambda: call.sandbox.ids.digits(16),
        extra=call.marks,
    )
    return {
        "trade_no": order.trade_no,
        "out_trade_no": order.out_trade_no,
        "buyer_logon_id": buyer(order)["buyer_logon_id"],
        "fund_change": "Y" if created else "N",
        "refund_fee": format_yuan(order.refunded_amount),
        "gmt_refund_pay": wire_time(refund.created_at),
        "buyer_user_id": buyer(order)["buyer_user_id"],
        "send_back_fee": format_yuan(refund.amount),
    }


def trade_fastpay_refund_query(call: Call) -> dict:
    order = find_trade(call)
    request_no = text(call, "out_request_no", required=True, max_len=64)
    fields = {"trade_no": order.trade_no, "out_trade_no": order.out_trade_no, "out_request_no": request_no}
    refund = order.find_refund(request_no)
    if refund is not None:
        fields.update(
            total_amount=format_yuan(order.amount),
            refund_amount=format_yuan(refund.amount),
            refund_status="REFUND_SUCCESS",
            gmt_refund_pay=wire_time(refund.created_at),
        )
        if refund.reason:
            fields["refund_reason"] = refund.reason
    return fields


def trade_close(call: Call) -> dict:
    order = find_trade(call)
    if order.status in (PAID, REFUNDED):
        raise business(
            "ACQ.TRADE_STATUS_ERROR",
            f"trade {order.out_trade_no} is paid; only a WAIT_BUYER_PAY trade can be closed (refund it instead)",
        )
    order = call.payments.close(order.key, reason="closed by merchant", via=call.via)
    return {"trade_no": order.trade_no, "out_trade_no": order.out_trade_no}


def trade_cancel(call: Call) -> dict:
    otn = text(call, "out_trade_no", max_len=64)
    try:
        order = call.payments.find(GATEWAY, call.app_id, out_trade_no=otn, trade_no=text(call, "trade_no", max_len=64))
    except OrderNotFound as exc:
        raise business("ACQ.TRADE_NOT_EXIST", exc.message) from None
    fields = {"trade_no": order.trade_no, "out_trade_no": order.out_trade_no, "retry_flag": "N"}
    if order.status == PENDING:
        call.payments.close(order.key, reason="cancelled by merchant")
        return {**fields, "action": "close"}
    if order.status == PAID:
        order, refund, _ = call.payments.refund(
            order.key,
            order.out_trade_no,
            order.amount - order.refunded_amount,
            "cancelled by merchant",
            refund_id=lambda: call.sandbox.ids.digits(16),
        )
        return {**fields, "action": "refund", "gmt_refund_pay": wire_time(refund.created_at)}
    return {**fields, "action": "refund" if order.status == REFUNDED else "close"}


def data_dataservice_bill_downloadurl_query(call: Call) -> dict:
    bill_type = text(call, "bill_type", required=True, max_len=16)
    bill_date = text(call, "bill_date", required=True, max_len=10)
    bills.check_request(bill_type, bill_date, call.now())
    return {"bill_download_url": bills.download_url(call.base_url, call.app_id, bill_type, bill_date)}


METHODS = {
    "alipay.trade.page.pay": trade_page_pay,
    "alipay.trade.wap.pay": trade_wap_pay,
    "alipay.trade.precreate": trade_precreate,
    "alipay.trade.create": trade_create,
    "alipay.trade.pay": trade_pay,
    "alipay.trade.query": trade_query,
    "alipay.trade.refund": trade_refund,
    "alipay.trade.fastpay.refund.query": trade_fastpay_refund_query,
    "alipay.trade.close": trade_close,
    "alipay.trade.cancel": trade_cancel,
    "alipay.data.dataservice.bill.downloadurl.query": data_dataservice_bill_downloadurl_query,
}
CASHIER_METHODS = ("alipay.trade.page.pay", "alipay.trade.wap.pay")
