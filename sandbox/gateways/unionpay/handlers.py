"""One function per ACP back transaction: app consume (01), query (00), refund (04) and undo (31).

Each takes an authenticated Call and answers the business fields of its sync answer, or raises UnionPayError
(or a neutral error that errors.from_neutral maps). The views add the echoed envelope and sign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.core.clock import BEIJING, merchant_deadline
from sandbox.core.digits import ascii_digits
from sandbox.core.models import CLOSED, FAILED, PAID, PENDING, REFUND_PENDING, REFUND_SUCCESS, REFUNDED, Order, Refund
from sandbox.errors import InvalidParameter, MissingParameter, OrderNotFound
from sandbox.gateways.call import SandboxCall
from sandbox.gateways.unionpay import codec
from sandbox.gateways.unionpay.adapter import GATEWAY
from sandbox.gateways.unionpay.errors import SUCCESS, SUCCESS_MSG, TEXTS, UnionPayError, resp_msg

ORDER_ID = re.compile(r"^[0-9A-Za-z]{8,40}$")
DIGITS_21 = re.compile(r"^[0-9]{21}$")
DEFAULT_PAY_TIMEOUT = timedelta(hours=1)  # an app consume without payTimeout can be paid for this long
REFUND_SECONDS = 5  # a refund or undo is accepted (00), then succeeds this long after, on the sandbox clock
MAX_FEN = 100_000_000_00
CNY = "156"
CONSUME_BIZ_TYPE = "000201"
DEFAULT_CARD = "6216261000000000018"  # the official demos' test debit card (docs/scenarios.md)
PAY_CARD_TYPE, PAY_TYPE = "01", "0001"  # debit card, paid by card authentication


@dataclass
class Call(SandboxCall):
    """An authenticated ACP request: the merchant record and the fields as received (blank values dropped)."""

    merchant: dict
    params: dict
    version: str

    @property
    def mer_id(self) -> str:
        return self.merchant["merchant_id"]


# -- field helpers ------------------------------------------------------------------------------------------


def text(call: Call, name: str, required: bool = True, max_len: int = 256) -> str:
    value = call.params.get(name, "")
    if not value:
        if required:
            raise MissingParameter(name, f"{name} is required")
        return ""
    if len(value) > max_len:
        raise InvalidParameter(name, f"{name} is longer than {max_len} characters")
    return value


def echoed(call: Call, name: str, max_len: int = 1024) -> str:
    """A value the answer and the notification repeat as is: it must survive ACP's unencoded key=value text."""
    value = text(call, name, required=False, max_len=max_len)
    if value and codec.parse(codec.render({name: value})) != {name: value}:
        raise InvalidParameter(
            name,
            f"{name} holds '&' or '=' outside braces, or unbalanced braces: answers are not URL-encoded, so "
            "clients could not read it back. Wrap such text in {...} or encode it yourself",
        )
    return value


def exact(call: Call, name: str, *allowed: str) -> str:
    value = text(call, name)
    if value not in allowed:
        raise InvalidParameter(name, f"{name} must be {' or '.join(allowed)} here, got {value!r}")
    return value


def order_id(call: Call) -> str:
    value = text(call, "orderId", max_len=40)
    if not ORDER_ID.match(value):
        raise InvalidParameter("orderId", f"orderId is 8-40 letters or digits (no - or _), got {value!r}")
    return value


def fen(call: Call, name: str = "txnAmt") -> int:
    value = text(call, name, max_len=12)
    if not ascii_digits(value) or not 0 < int(value) <= MAX_FEN:
        raise InvalidParameter(name, f"{name} is an amount in fen, 1 to {MAX_FEN} digits only, got {value!r}")
    return int(value)


def currency(call: Call) -> None:
    exact(call, "currencyCode", CNY)


def acp_time(call: Call, name: str, required: bool = True) -> datetime | None:
    value = text(call, name, required=required, max_len=14)
    if not value:
        return None
    try:
        if len(value) != 14 or not ascii_digits(value):
            raise ValueError
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise InvalidParameter(name, f"{name} is YYYYMMDDhhmmss in Beijing time, got {value!r}") from None


def url(call: Call, name: str) -> str:
    value = text(call, name, max_len=512)
    if not value.startswith(("http://", "https://")):
        raise InvalidParameter(name, f"{name} must be an http(s) URL, got {value!r}")
    return value


def new_query_id(call: Call) -> str:
    """21 digits, as UnionPay's: the moment (YYYYMMDDhhmmss) and 7 more digits."""
    return call.now().strftime("%Y%m%d%H%M%S") + call.sandbox.ids.digits(7)


def pay_timeout(call: Call) -> datetime:
    now = call.now()
    moment = acp_time(call, "payTimeout", required=False)
    if moment is None:
        return now + DEFAULT_PAY_TIMEOUT
    moment = merchant_deadline(moment, now)
    if moment <= now:
        raise InvalidParameter("payTimeout", f"payTimeout is already past (sandbox clock: {now:%Y%m%d%H%M%S})")
    return moment


# -- shared answers -----------------------------------------------------------------------------------------


def masked(card: str) -> str:
    return card[:6] + "*" * max(0, len(card) - 10) + card[-4:]


def settled_fields(moment: datetime | None, query_id: str, amount: int) -> dict:
    """traceNo, traceTime, settleAmt, settleDate of a completed transaction."""
    if moment is None:
        return {}
    moment = moment.astimezone(BEIJING)
    return {
        "traceNo": query_id[-6:],
        "traceTime": moment.strftime("%m%d%H%M%S"),
        "settleAmt": str(amount),
        "settleCurrencyCode": CNY,
        "settleDate": moment.strftime("%m%d"),
    }


def consume_fields(order: Order) -> dict:
    """The fields of a consume as queries and notifications show it (the original txn, not the query)."""
    card = order.buyer.get("accNo") or order.extra.get("accNo") or DEFAULT_CARD  # extra: a card waiting to settle
    return {
        "queryId": order.trade_no,
        "txnAmt": str(order.amount),
        "currencyCode": CNY,
        "accNo": masked(card) if order.paid_at else None,
        "payCardType": (order.buyer.get("payCardType") or order.extra.get("payCardType") or PAY_CARD_TYPE)
        if order.paid_at
        else None,
        "payType": PAY_TYPE if order.paid_at else None,
        "reqReserved": order.extra.get("reqReserved"),
        **settled_fields(order.paid_at, order.trade_no, order.amount),
    }


def refund_fields(order: Order, refund: Refund) -> dict:
    return {
        "queryId": refund.refund_id,
        "origQryId": order.trade_no,
        "txnAmt": str(refund.amount),
        "currencyCode": CNY,
        "reqReserved": refund.extra.get("reqReserved"),
        **settled_fields(refund.succeeded_at, refund.refund_id, refund.amount),
    }


def consume_outcome(order: Order) -> tuple[str, str]:
    """(origRespCode, origRespMsg) of a consume."""
    if order.status in (PAID, REFUNDED):
        return SUCCESS, SUCCESS_MSG
    if order.status == PENDING and order.settle_at and not order.extra.get("buyerless"):
        code = order.extra.get("pendingCode", "05")  # a pending card: 03 (state unknown) or 05 (accepted)
        return code, resp_msg(code, "the bank is still processing the payment; query again later")
    if order.status == PENDING:
        return "05", resp_msg("05", "the buyer has not paid yet")
    if order.status == CLOSED:
        return "01", resp_msg("01", f"the order was {order.failure.get('reason') or 'closed'} before payment")
    if order.status != FAILED:
        return "01", resp_msg("01", order.status)
    reason = order.failure.get("reason", "")
    # A declined payment fails with its respCode as the reason (a test card, a scenario rule): show that code.
    code = reason if reason in TEXTS and reason not in (SUCCESS, "03", "05") else "01"
    return code, resp_msg(code, _failure_detail(order, code))


def _failure_detail(order: Order, code: str) -> str:
    """Why a consume failed: the cashier's words, else why a payment left pending failed (Payments.settle keeps
    no message), else a plain one. The code's own text is no detail: respMsg already starts with it."""
    message = order.failure.get("message", "")
    if message and message != TEXTS[code]:
        return message
    return order.extra.get("decidedBy") or "the bank declined the payment"


def refund_outcome(refund: Refund) -> tuple[str, str]:
    if refund.status == REFUND_SUCCESS:
        return SUCCESS, SUCCESS_MSG
    if refund.status == REFUND_PENDING:
        return "05", resp_msg("05", "the refund is on its way")
    return "01", resp_msg("01", f"the refund is {refund.status}")


# -- app consume (appTransReq.do, txnType 01) ---------------------------------------------------------------


def app_consume(call: Call) -> dict:
    order = _consume(call, "app", ("08", "07"))
    return {"tn": order.extra["tn"], "txnAmt": str(order.amount), "currencyCode": CNY}


# -- front consume (frontTransReq.do, txnType 01): the browser then goes to the bank cashier -------------------


def front_consume(call: Call) -> Order:
    """Check a browser's consume and answer its order (new, or the same consume again), pending at the cashier."""
    return _consume(call, "front", ("07", "08"))


def _consume(call: Call, product: str, channels: tuple[str, ...]) -> Order:
    """Check a consume (app or front) and answer its order: new, or the same unpaid consume sent again."""
    exact(call, "txnSubType", "01")
    exact(call, "bizType", CONSUME_BIZ_TYPE)
    channel = exact(call, "channelType", *channels)
    number, amount = order_id(call), fen(call)
    currency(call)
    txn_time = text(call, "txnTime")
    acp_time(call, "txnTime")
    front_url = url(call, "frontUrl") if product == "front" else ""
    back_url = url(call, "backUrl")
    expires_at = pay_timeout(call)
    _refuse_refund_order_id(call, number)
    existing = _consume_or_none(call, number)
    if existing is not None:
        return _repeat_consume(existing, product, txn_time, amount)
    extra = {
        "txnTime": txn_time,
        "backUrl": back_url,
        "reqReserved": echoed(call, "reqReserved"),
        "channelType": channel,
        "bizType": CONSUME_BIZ_TYPE,
        "accessType": call.params.get("accessType", "0"),
        "version": call.version,
    }
    if product == "app":
        tn = "7" + call.sandbox.ids.digits(20)
        extra.update(tn=tn, handles=[f"tn:{tn}"])
    else:
        extra.update(frontUrl=front_url, riskRateInfo=text(call, "riskRateInfo", required=False, max_len=1024))
    draft = Order(
        gateway=GATEWAY,
        merchant_id=call.mer_id,
        out_trade_no=number,
        trade_no="",
        amount=amount,
        created_at=call.now(),
        subject=text(call, "orderDesc", required=False, max_len=128),
        product=product,
        notify_url=back_url,
        return_url=front_url,
        expires_at=expires_at,
        extra=extra,
    )
    order, _ = call.payments.create(draft, lambda: new_query_id(call))
    return order


def _repeat_consume(order: Order, product: str, txn_time: str, amount: int) -> Order:
    """The same consume again (same kind, orderId, txnTime, txnAmt, still unpaid): its tn or its cashier again."""
    same = order.product == product and order.extra.get("txnTime") == txn_time and order.amount == amount
    if same and order.status == PENDING:
        return order
    raise UnionPayError(
        "12",
        f"orderId {order.out_trade_no} was already used by merId {order.merchant_id} "
        f"(txnTime {order.extra.get('txnTime')}, txnAmt {order.amount}, {order.status}); use a new orderId",
    )


def _consume_or_none(call: Call, number: str) -> Order | None:
    try:
        return call.payments.find(GATEWAY, call.mer_id, out_trade_no=number)
    except OrderNotFound:
        return None


def _refuse_refund_order_id(call: Call, number: str) -> None:
    holder = call.payments.find_by_refund(GATEWAY, call.mer_id, number)
    if holder is not None:
        kind = holder.find_refund(number).extra.get("txnType", "04")
        raise UnionPayError(
            "12", f"orderId {number} was already used by merId {call.mer_id} for a txnType {kind} transaction"
        )


# -- query (queryTrans.do, txnType 00) ----------------------------------------------------------------------


def query(call: Call) -> dict:
    """By queryId, or by orderId + txnTime of the original; consumes, refunds and undos alike."""
    query_id = text(call, "queryId", required=False, max_len=21)
    if query_id:
        order, refund = _by_query_id(call, query_id)
    else:
        number = order_id(call)
        txn_time = text(call, "txnTime")
        acp_time(call, "txnTime")
        order, refund = _by_order_id(call, number, txn_time)
    if refund is None:
        code, message = consume_outcome(order)
        fields = {"orderId": order.out_trade_no, "txnTime": order.extra.get("txnTime"), **consume_fields(order)}
    else:
        code, message = refund_outcome(refund)
        fields = {
            "orderId": refund.out_refund_no,
            "txnTime": refund.extra.get("txnTime"),
            **refund_fields(order, refund),
        }
    return {"origRespCode": code, "origRespMsg": message, **fields}


def _by_query_id(call: Call, query_id: str) -> tuple[Order, Refund | None]:
    order = call.payments.by_trade_no(GATEWAY, query_id)
    if order is not None and order.merchant_id == call.mer_id:
        return order, None
    order = call.payments.by_handle(GATEWAY, f"qid:{query_id}")
    refund = next((r for r in order.refund_list if r.refund_id == query_id), None) if order else None
    if order is None or refund is None or order.merchant_id != call.mer_id:
        raise UnionPayError("34", f"no transaction with queryId {query_id} for merId {call.mer_id}")
    return order, refund


def _by_order_id(call: Call, number: str, txn_time: str) -> tuple[Order, Refund | None]:
    order = _consume_or_none(call, number)
    refund = None
    if order is None:
        order = call.payments.find_by_refund(GATEWAY, call.mer_id, number)
        refund = order.find_refund(number) if order else None
    if order is None:
        raise UnionPayError("34", f"no transaction with orderId {number} for merId {call.mer_id}")
    sent_at = refund.extra.get("txnTime") if refund else order.extra.get("txnTime")
    if sent_at != txn_time:
        raise UnionPayError(
            "34",
            f"orderId {number} of merId {call.mer_id} was sent with txnTime {sent_at}, not {txn_time} "
            "(a query carries the txnTime of the original transaction)",
        )
    return order, refund


# -- refund (04) and undo (31) (backTransReq.do) ------------------------------------------------------------


def refund(call: Call) -> dict:
    return _back_out(call, "04")


def undo(call: Call) -> dict:
    return _back_out(call, "31")


def _back_out(call: Call, txn_type: str) -> dict:
    exact(call, "txnSubType", "00")
    exact(call, "bizType", CONSUME_BIZ_TYPE, "000000", "000301")
    number, amount = order_id(call), fen(call)
    currency(call)
    txn_time = text(call, "txnTime")
    acp_time(call, "txnTime")
    back_url = url(call, "backUrl")
    orig_qry_id = text(call, "origQryId", max_len=21)
    if not DIGITS_21.match(orig_qry_id):
        raise InvalidParameter("origQryId", f"origQryId is the 21-digit queryId of the consume, got {orig_qry_id!r}")
    if _consume_or_none(call, number) is not None:
        raise UnionPayError("12", f"orderId {number} was already used by merId {call.mer_id} for a consume")
    order = call.payments.by_trade_no(GATEWAY, orig_qry_id)
    if order is None or order.merchant_id != call.mer_id:
        raise UnionPayError("35", f"no consume with queryId {orig_qry_id} for merId {call.mer_id}")
    holder = call.payments.find_by_refund(GATEWAY, call.mer_id, number)
    if holder is not None:
        return _repeat_back_out(call, holder, number, txn_type, orig_qry_id, amount, txn_time)
    _check_refundable(call, order, txn_type, amount)
    query_id = new_query_id(call)
    order, made, _ = call.payments.refund(
        order.key,
        number,
        amount,
        "undo" if txn_type == "31" else "refund",
        refund_id=lambda: query_id,
        settle_after=REFUND_SECONDS,
        extra={
            "txnType": txn_type,
            "txnTime": txn_time,
            "backUrl": back_url,
            "reqReserved": echoed(call, "reqReserved"),
            "version": call.version,
            **call.marks,
        },
    )
    call.payments.annotate(order.key, handles=[*order.extra.get("handles", []), f"qid:{query_id}"])
    return _back_out_answer(order, made)


def _check_refundable(call: Call, order: Order, txn_type: str, amount: int) -> None:
    if order.status not in (PAID, REFUNDED):
        label = "undone" if txn_type == "31" else "refunded"
        raise UnionPayError("35", f"consume {order.out_trade_no} is {order.status}; only a paid consume can be {label}")
    if any(r.extra.get("txnType") == "31" for r in order.refund_list):
        raise UnionPayError("45", f"consume {order.out_trade_no} was already undone")
    if order.refunded_amount >= order.amount:
        raise UnionPayError("45", f"consume {order.out_trade_no} was already refunded in full")
    if txn_type == "31":
        if order.refund_list:
            raise UnionPayError("45", f"consume {order.out_trade_no} was already partly refunded; refund (04) the rest")
        if amount != order.amount:
            raise UnionPayError("36", f"an undo is for the full amount: txnAmt must be {order.amount}, not {amount}")
        paid_day, today = order.paid_at.astimezone(BEIJING).date(), call.now().astimezone(BEIJING).date()
        if paid_day != today:
            raise UnionPayError(
                "35", f"consume {order.out_trade_no} was paid on {paid_day}; an undo is same-day only, refund (04) it"
            )
    left = order.amount - order.refunded_amount
    if amount > left:
        raise UnionPayError(
            "36",
            f"txnAmt {amount} is more than is left to refund on consume {order.out_trade_no}: {left} "
            f"(paid {order.amount}, refunded or refunding {order.refunded_amount})",
        )


def _repeat_back_out(
    call: Call, order: Order, number: str, txn_type: str, orig_qry_id: str, amount: int, txn_time: str
) -> dict:
    """The same refund or undo again (same orderId and data) is answered 00 again; different data is 12."""
    made = order.find_refund(number)
    same = (
        order.trade_no == orig_qry_id
        and made.amount == amount
        and made.extra.get("txnType") == txn_type
        and made.extra.get("txnTime") == txn_time
    )
    if not same:
        raise UnionPayError(
            "12",
            f"orderId {number} was already used by merId {call.mer_id} for a txnType {made.extra.get('txnType')} "
            f"of {made.amount} fen on queryId {order.trade_no} at {made.extra.get('txnTime')}; use a new orderId",
        )
    return _back_out_answer(order, made)


def _back_out_answer(order: Order, made: Refund) -> dict:
    return {
        "txnAmt": str(made.amount),
        "origQryId": order.trade_no,
        "queryId": made.refund_id,
        "reqReserved": made.extra.get("reqReserved"),
    }


# The transactions each endpoint serves, by txnType.
ENDPOINTS = {
    "appTransReq.do": {"01": app_consume},
    "queryTrans.do": {"00": query},
    "backTransReq.do": {"04": refund, "31": undo},
}
