"""What each gateway's create_order and refund_order share: the adapter methods that reach them, refusals said in the
control API's field names, and the amount of a refund nobody gave one."""

from __future__ import annotations

import importlib

from sandbox.core.models import Order, Refund
from sandbox.core.ports import CreatedOrder, OrderRequest, RefundRequest
from sandbox.errors import InvalidParameter, MissingParameter, RefundExceedsPaid, SandboxError


class ActsAsMerchant:
    """An adapter's create_order, refund_order, close_order and pay_links: its gateway's `create` and `actions`
    modules in `merchant_package`, imported when first used (they reach the handlers, which import the adapter)."""

    merchant_package: str  # e.g. "sandbox.gateways.alipay"
    sandbox: object

    def _part(self, name: str):
        return importlib.import_module(f"{self.merchant_package}.{name}")

    def create_order(self, request: OrderRequest) -> CreatedOrder:
        return self._part("create").create_order(self.sandbox, request)

    def refund_order(self, request: RefundRequest) -> tuple[Order, Refund]:
        return self._part("actions").refund_order(self.sandbox, request)

    def close_order(self, merchant_id: str, out_trade_no: str, base_url: str) -> Order:
        return self._part("actions").close_order(self.sandbox, merchant_id, out_trade_no, base_url)

    def pay_links(self, order: Order, base_url: str) -> tuple[str | None, str | None]:
        return self._part("create").pay_links(order, base_url)


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
