"""Neutral exceptions. Raised deep inside; each gateway renders them in its own wire format."""

from __future__ import annotations


class SandboxError(Exception):
    """Root of every error the sandbox raises on purpose."""

    code = "SYSTEM_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RequestError(SandboxError):
    """The request itself is wrong: fix the request, not the state."""


class MissingParameter(RequestError):
    code = "MISSING_PARAMETER"

    def __init__(self, name: str, message: str | None = None) -> None:
        super().__init__(message or f"required parameter '{name}' is missing or empty")
        self.name = name


class InvalidParameter(RequestError):
    code = "INVALID_PARAMETER"

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class BusinessError(SandboxError):
    """The request is well formed but the state of the world refuses it."""

    code = "BUSINESS_ERROR"


class NotFound(BusinessError):
    code = "NOT_FOUND"


class NamespaceNotFound(NotFound):
    code = "NAMESPACE_NOT_FOUND"


class NamespaceExists(BusinessError):
    code = "NAMESPACE_EXISTS"


class DefaultNamespace(RequestError):
    """What cannot be done to the default namespace (delete it), whatever the state: fix the request."""

    code = "DEFAULT_NAMESPACE"


class MerchantInAnotherNamespace(BusinessError):
    code = "MERCHANT_IN_ANOTHER_NAMESPACE"


class MerchantNotFound(NotFound):
    code = "MERCHANT_NOT_FOUND"


class GatewayRefused(BusinessError):
    """The gateway refused an order the control API created for its merchant, for a reason of its own."""

    code = "GATEWAY_REFUSED"


class OrderNotFound(NotFound):
    code = "ORDER_NOT_FOUND"


class RefundNotFound(NotFound):
    code = "REFUND_NOT_FOUND"


class OrderAlreadyPaid(BusinessError):
    code = "ORDER_ALREADY_PAID"


class OrderNotPaid(BusinessError):
    """A refund of an order its buyer has not paid (yet)."""

    code = "ORDER_NOT_PAID"


class UnsupportedByGateway(BusinessError):
    """The gateway has no such operation for this order (UnionPay closes no consume)."""

    code = "UNSUPPORTED_BY_GATEWAY"


class OrderClosed(BusinessError):
    code = "ORDER_CLOSED"


class OrderStateConflict(BusinessError):
    """The order is in a state that does not allow the operation (e.g. closing a paid order)."""

    code = "ORDER_STATE_CONFLICT"


class OrderMismatch(BusinessError):
    """Same out_trade_no sent again with different content (amount, subject...)."""

    code = "ORDER_MISMATCH"


class RefundExceedsPaid(BusinessError):
    code = "REFUND_EXCEEDS_PAID"


class RefundMismatch(BusinessError):
    """Same refund request number sent again with a different amount."""

    code = "REFUND_MISMATCH"


class BillNotReady(BusinessError):
    code = "BILL_NOT_READY"


class NotificationUnreadable(BusinessError):
    """A stored notification the merchant's current keys cannot open (a forgery, or keys registered since)."""

    code = "NOTIFICATION_UNREADABLE"
