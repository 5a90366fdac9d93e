"""Alipay's error codes, and the table from neutral exceptions to them (docs/protocols/alipay.md#error-codes)."""

from __future__ import annotations

from sandbox import errors

MSG = {
    "20000": "Service Currently Unavailable",
    "40001": "Missing Required Arguments",
    "40002": "Invalid Arguments",
    "40004": "Business Failed",
    "40006": "Insufficient Permissions",
}

# The standard Chinese sub_msg of each sub_code; the sandbox appends an English explanation.
SUB_MSG = {
    "isv.missing-method": "缺少方法名参数",
    "isv.missing-signature": "缺少签名参数",
    "isv.missing-signature-type": "缺少签名类型参数",
    "isv.missing-app-id": "缺少AppID参数",
    "isv.missing-timestamp": "缺少时间戳参数",
    "isv.missing-version": "缺少版本参数",
    "isv.invalid-method": "不存在的方法名",
    "isv.invalid-app-id": "无效的AppID参数",
    "isv.invalid-signature": "验签出错",
    "isv.invalid-signature-type": "无效的签名类型",
    "isv.invalid-timestamp": "非法的时间戳参数",
    "isv.invalid-charset": "字符集错误",
    "isv.invalid-version": "版本号错误",
    "isv.invalid-parameter": "参数无效",
    "isv.invalid-content-length": "请求内容过长",
    "isv.app-cert-not-exist": "应用公钥证书不存在",
    "isv.invalid-alipay-root-cert-sn": "无效支付宝根证书序列号",
    "ACQ.TRADE_NOT_EXIST": "交易不存在",
    "ACQ.TRADE_HAS_SUCCESS": "交易已被支付",
    "ACQ.TRADE_HAS_CLOSE": "交易已经关闭",
    "ACQ.TRADE_STATUS_ERROR": "交易状态不合法",
    "ACQ.INVALID_PARAMETER": "参数无效",
    "ACQ.CONTEXT_INCONSISTENT": "交易信息被篡改",
    "ACQ.REASON_TRADE_REFUND_FEE_ERR": "退款金额无效",
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": "撤销或退款金额与订单金额不一致",
    "ACQ.PAYMENT_AUTH_CODE_INVALID": "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款",
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": "买家余额不足",
    "ACQ.BUYER_ENABLE_STATUS_FORBID": "买家状态非法",
    "ACQ.SYSTEM_ERROR": "系统错误",
    "ACQ.SELLER_BALANCE_NOT_ENOUGH": "卖家余额不足",
    "ACQ.RISK_CONTROL_REJECT": "风控拒绝",
    "ACQ.PAYMENT_FAIL": "支付失败",
    "ACQ.ACCESS_FORBIDDEN": "无权限使用接口",
    "ACQ.EXIST_FORBIDDEN_WORD": "订单信息中包含违禁词",
    "ACQ.TOTAL_FEE_EXCEED": "订单总金额超过限额",
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL_OR_NOT_ALLOW": "退款金额超限",
    "isp.unknow-error": "系统繁忙",
    "isp.bill_not_exist": "账单不存在",
}


# Scenario codes (docs/scenarios.md): how a payment can fail, and what an API call can answer instead.
PAYMENT_FAILURES = {
    code: SUB_MSG[code]
    for code in (
        "ACQ.BUYER_BALANCE_NOT_ENOUGH",
        "ACQ.BUYER_ENABLE_STATUS_FORBID",
        "ACQ.RISK_CONTROL_REJECT",
        "ACQ.PAYMENT_FAIL",
        "ACQ.PAYMENT_AUTH_CODE_INVALID",
    )
}
API_ERRORS = {
    code: SUB_MSG[code]
    for code in (
        "ACQ.SYSTEM_ERROR",
        "isp.unknow-error",
        "ACQ.SELLER_BALANCE_NOT_ENOUGH",
        "ACQ.TRADE_NOT_EXIST",
        "ACQ.TRADE_HAS_SUCCESS",
        "ACQ.TRADE_HAS_CLOSE",
        "ACQ.TRADE_STATUS_ERROR",
        "ACQ.ACCESS_FORBIDDEN",
        "ACQ.EXIST_FORBIDDEN_WORD",
        "ACQ.TOTAL_FEE_EXCEED",
        "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL_OR_NOT_ALLOW",
        *PAYMENT_FAILURES,
    )
}
NEUTRAL_CODES = {
    "declined": "ACQ.PAYMENT_FAIL",
    "balance_not_enough": "ACQ.BUYER_BALANCE_NOT_ENOUGH",
    "merchant_balance_not_enough": "ACQ.SELLER_BALANCE_NOT_ENOUGH",
    "system_error": "ACQ.SYSTEM_ERROR",
    "risk_rejected": "ACQ.RISK_CONTROL_REJECT",
    "card_expired": "ACQ.PAYMENT_FAIL",
}


class AlipayError(Exception):
    """An answer in Alipay's error envelope: code, msg, sub_code and a sub_msg that says what is wrong."""

    def __init__(self, code: str, sub_code: str, detail: str = "", extra: dict | None = None) -> None:
        self.code = code
        self.msg = MSG[code]
        self.sub_code = sub_code
        standard = SUB_MSG.get(sub_code, "")
        self.sub_msg = f"{standard}: {detail}" if standard and detail else (standard or detail)
        self.extra = extra or {}
        super().__init__(f"{code} {sub_code}: {self.sub_msg}")

    def fields(self) -> dict:
        return {
            "code": self.code,
            "msg": self.msg,
            "sub_code": self.sub_code,
            "sub_msg": self.sub_msg,
            **self.extra,
        }


def missing(sub_code: str, detail: str) -> AlipayError:
    return AlipayError("40001", sub_code, detail)


def invalid(sub_code: str, detail: str) -> AlipayError:
    return AlipayError("40002", sub_code, detail)


def business(sub_code: str, detail: str = "", **extra) -> AlipayError:
    return AlipayError("40004", sub_code, detail, extra)


_NEUTRAL = {
    errors.OrderNotFound: "ACQ.TRADE_NOT_EXIST",
    errors.OrderAlreadyPaid: "ACQ.TRADE_HAS_SUCCESS",
    errors.OrderClosed: "ACQ.TRADE_HAS_CLOSE",
    errors.OrderStateConflict: "ACQ.TRADE_STATUS_ERROR",
    errors.OrderMismatch: "ACQ.CONTEXT_INCONSISTENT",
    errors.RefundExceedsPaid: "ACQ.REASON_TRADE_REFUND_FEE_ERR",
    errors.RefundMismatch: "ACQ.INVALID_PARAMETER",
    errors.InvalidParameter: "ACQ.INVALID_PARAMETER",
    errors.MissingParameter: "ACQ.INVALID_PARAMETER",
    errors.BillNotReady: "isp.bill_not_exist",
}


def from_neutral(exc: errors.SandboxError) -> AlipayError:
    """Render a neutral exception as Alipay would; anything unknown is a system error."""
    for kind, sub_code in _NEUTRAL.items():
        if isinstance(exc, kind):
            return business(sub_code, exc.message)
    return AlipayError("20000", "isp.unknow-error", exc.message)
