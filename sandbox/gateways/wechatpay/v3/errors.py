"""WeChat Pay v3 error bodies `{code, message, detail}` with their HTTP statuses, and the neutral mapping."""

from __future__ import annotations

from sandbox import errors


class V3Error(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str = "",
        location: str = "body",
        detail: dict | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.field, self.location = field, location
        self.detail = detail

    def body(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.detail:
            body["detail"] = self.detail
        elif self.field:
            body["detail"] = {"field": self.field, "location": self.location, "issue": self.message}
        return body


def param_error(field: str, message: str, location: str = "body") -> V3Error:
    return V3Error(400, "PARAM_ERROR", message, field, location)


def sign_error(
    wechat_text: str,
    explanation: str,
    field: str,
    issue: str,
    location: str = "authorization",
    sign_information: dict | None = None,
) -> V3Error:
    """A 401 SIGN_ERROR as WeChat answers it: its own words, then the sandbox's, and the detail it gives.

    WeChat's detail is `{detail: {issue}, field, location, sign_information}`, the last only once it could build
    the string it verifies (a missing or garbled Authorization header has none).
    """
    detail: dict = {"detail": {"issue": issue}, "field": field, "location": location}
    if sign_information:
        detail["sign_information"] = sign_information
    return V3Error(401, "SIGN_ERROR", f"{wechat_text.rstrip('。')}: {explanation}", detail=detail)


# Neutral error -> (HTTP status, code). The SDKs do not branch on these; docs/protocols/wechatpay-v3.md#errors
# lists them.
_NEUTRAL = [
    (errors.OrderNotFound, 404, "ORDER_NOT_EXIST"),
    (errors.RefundNotFound, 404, "RESOURCE_NOT_EXISTS"),
    (errors.OrderAlreadyPaid, 403, "ORDERPAID"),
    (errors.OrderClosed, 403, "ORDER_CLOSED"),
    (errors.OrderMismatch, 403, "OUT_TRADE_NO_USED"),
    (errors.RefundExceedsPaid, 403, "NOT_ENOUGH"),
    (errors.RefundMismatch, 400, "INVALID_REQUEST"),
    (errors.OrderStateConflict, 400, "INVALID_REQUEST"),
    (errors.BillNotReady, 400, "NO_STATEMENT_EXIST"),
    (errors.InvalidParameter, 400, "PARAM_ERROR"),
    (errors.MissingParameter, 400, "PARAM_ERROR"),
]


def from_neutral(exc: errors.SandboxError) -> V3Error:
    for kind, status, code in _NEUTRAL:
        if isinstance(exc, kind):
            return V3Error(status, code, exc.message, getattr(exc, "name", ""))
    return V3Error(500, "SYSTEM_ERROR", exc.message)
