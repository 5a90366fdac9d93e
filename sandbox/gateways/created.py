"""What each gateway's create_order and refund_order share: refusals said in the control API's field names, and
the amount of a refund nobody gave one."""

from __future__ import annotations

from sandbox.core.models import Order
from sandbox.core.ports import RefundRequest
from sandbox.errors import InvalidParameter, MissingParameter, RefundExceedsPaid, SandboxError


def field_error(gateway: str, native: str, fields: dict[str, str], message: str) -> InvalidParameter:
    """A refusal of the wire field `native`, named by the request field it came from (`fields`: wire -> neutral)."""
    name = fields.get(native, "body")
    return InvalidParameter(name, f"{gateway} refuses {name}: {message}")


def renamed(gateway: str, error: SandboxError, fields: dict[str, str]) -> SandboxError:
    """A neutral field error of a handler, renamed to the request's field; any other neutral error as it is."""
    if isinstance(error, InvalidParameter | MissingParameter):
        return field_error(gateway, error.name, fields, error.message)
    return error


def refund_amount(order: Order, request: RefundRequest) -> int:
    """The amount asked for; else what is left to refund, or a repeat's own amount (so it is identical)."""
    if request.amount is not None:
        return request.amount
    earlier = order.find_refund(request.out_refund_no)
    if earlier is not None:
        return earlier.amount
    left = order.amount - order.refunded_amount
    if left <= 0:
        raise RefundExceedsPaid(
            f"nothing is left to refund on {order.out_trade_no}: paid {order.amount} fen, all of it refunded or"
            " refunding"
        )
    return left
