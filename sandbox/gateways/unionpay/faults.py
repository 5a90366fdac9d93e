"""UnionPay's side of the API fault filter (gateways/faults.py): what an ACP call is, and its spoiled answers.

| endpoint           | txnType | operation | method     |
|--------------------|---------|-----------|------------|
| frontTransReq.do   | 01      | create    | consume    |
| appTransReq.do     | 01      | create    | consume    |
| queryTrans.do      | 00      | query     | queryTrans |
| backTransReq.do    | 04      | refund    | refund     |
| backTransReq.do    | 31      | cancel    | undo       |

Any other call at these endpoints (another txnType, a body the views would refuse) has no operation, so only
rules that name none match it. `merchant_id` is merId. `out_trade_no` is the consume's orderId: as sent for a
consume; for a refund or undo, the consume its origQryId names; for a query, the consume it asks about (also
when it asks about a refund, by the refund's orderId or queryId). `amount` is a consume's txnAmt in fen.

The card payment itself happens on the bank cashier (operation pay, method consume: pages/unionpay.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Response, current_app, request

from sandbox.core import crypto
from sandbox.core.rules import Context
from sandbox.gateways.unionpay import codec, views
from sandbox.gateways.unionpay.adapter import GATEWAY
from sandbox.gateways.unionpay.errors import UnionPayError

PREFIX = "/gateway/api/"
FRONT = "frontTransReq.do"
CALLS = {
    FRONT: {"01": ("create", "consume")},
    "appTransReq.do": {"01": ("create", "consume")},
    "queryTrans.do": {"00": ("query", "queryTrans")},
    "backTransReq.do": {"04": ("refund", "refund"), "31": ("cancel", "undo")},
}
MAX_FEN_DIGITS = 12  # txnAmt is at most 12 digits; longer is garbage, never converted
DETAIL = "answered by a sandbox scenario rule (GET /_sandbox/scenarios)"


def request_context(req) -> Context | None:
    endpoint = req.path.removeprefix(PREFIX)
    if not req.path.startswith(PREFIX) or endpoint not in CALLS:
        return None
    params = _params(req)
    operation, method = CALLS[endpoint].get(params.get("txnType", ""), ("", ""))
    mer_id = params.get("merId", "")
    amount = _fen(params.get("txnAmt", "")) if operation == "create" else None
    return Context(GATEWAY, operation, method, mer_id, _order_id(operation, params, mer_id), amount)


def error_answer(ctx: Context, code: str) -> Response:
    """The refusal the views give for `code`: signed key=value text, or frontTransReq.do's HTML error page."""
    params = _params(request)
    error = UnionPayError(code, DETAIL)
    if request.path == PREFIX + FRONT:
        return views.error_page(params, error)
    version = params["version"] if params.get("version") in codec.HASHES else views.DEFAULT_VERSION
    return views.refusal(params, version, error)


def altered_answer(response: Response, how: str) -> Response:
    """Remove or spoil the signature of a key=value answer; frontTransReq.do's redirect or page has none."""
    if response.mimetype != "text/plain":
        return response
    fields = codec.parse(response.get_data(as_text=True))
    if "signature" not in fields:
        return response
    if how == "unsigned":
        del fields["signature"]
    else:
        fields["signature"] = crypto.spoil(fields["signature"])
    response.set_data(codec.render(fields).encode("utf-8"))
    return response


def _params(req) -> dict[str, str]:
    """The form as the views read it (blank values dropped); {} for a body refused as too large (it reads empty)."""
    if req.method != "POST":
        return {}
    try:
        text = req.get_data().decode("utf-8")  # cached: the view reads the same bytes
        return dict(parse_qsl(text, encoding="utf-8", errors="strict"))
    except (UnicodeDecodeError, ValueError):
        return {}


def _fen(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= MAX_FEN_DIGITS else None


def _order_id(operation: str, params: dict[str, str], mer_id: str) -> str:
    """The orderId of the consume a call is about (index lookups only), or "" when it cannot be told."""
    payments = current_app.extensions["paysandbox"].namespace_of_merchant(GATEWAY, mer_id).payments
    if operation in ("refund", "cancel"):
        return _consume_of_query_id(payments, params.get("origQryId", ""), mer_id)
    if operation == "query" and params.get("queryId"):
        return _consume_of_query_id(payments, params["queryId"], mer_id, refunds=True)
    number = params.get("orderId", "")
    if operation == "query" and number:
        holder = payments.find_by_refund(GATEWAY, mer_id, number)  # the orderId of a refund or undo
        return holder.out_trade_no if holder is not None else number
    return number


def _consume_of_query_id(payments, query_id: str, mer_id: str, refunds: bool = False) -> str:
    if not query_id:
        return ""
    order = payments.by_trade_no(GATEWAY, query_id)
    if order is None and refunds:
        order = payments.by_handle(GATEWAY, f"qid:{query_id}")
    return order.out_trade_no if order is not None and order.merchant_id == mer_id else ""
