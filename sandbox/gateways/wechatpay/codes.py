"""Scenario codes for WeChat Pay (README, "Scenarios"): how a payment fails, and what an API call can answer.

v3 and v2 name some errors differently (SYSTEM_ERROR / SYSTEMERROR); rules use the v3 names, and a v2 call
answers the v2 spelling (V2_SPELLING).
"""

from __future__ import annotations

PAYMENT_FAILURES = {
    "NOTENOUGH": "余额不足",
    "BANKERROR": "银行系统异常",
    "USERPAYING_TIMEOUT": "用户支付超时",
    "PAYERROR": "支付失败",
    "AUTHCODEEXPIRE": "二维码已过期，请用户在微信上刷新后再试",
}
# code -> (v3 HTTP status, message)
API_ERRORS = {
    "SYSTEM_ERROR": (500, "系统错误"),
    "BANK_ERROR": (500, "银行系统异常"),
    "FREQUENCY_LIMITED": (429, "频率超限"),
    "NOT_ENOUGH": (403, "基本账户余额不足，请充值后重新发起"),
    "TRADE_ERROR": (403, "交易错误"),
    "ORDER_NOT_EXIST": (404, "订单不存在"),
    "ORDER_CLOSED": (400, "订单已关闭"),
    "ORDERPAID": (403, "订单已支付"),
    "USERPAYING": (202, "用户支付中，需要输入密码"),
    "NO_AUTH": (403, "商户无权限"),
}
API_MESSAGES = {code: message for code, (_, message) in API_ERRORS.items()}
V2_SPELLING = {
    "SYSTEM_ERROR": "SYSTEMERROR",
    "BANK_ERROR": "BANKERROR",
    "FREQUENCY_LIMITED": "FREQUENCY_LIMITED",
    "NOT_ENOUGH": "NOTENOUGH",
    "TRADE_ERROR": "TRADE_ERROR",
    "ORDER_NOT_EXIST": "ORDERNOTEXIST",
    "ORDER_CLOSED": "ORDERCLOSED",
    "ORDERPAID": "ORDERPAID",
    "USERPAYING": "USERPAYING",
    "NO_AUTH": "NOAUTH",
}
NEUTRAL_CODES = {
    "declined": "PAYERROR",
    "balance_not_enough": "NOTENOUGH",
    "merchant_balance_not_enough": "NOT_ENOUGH",
    "system_error": "SYSTEM_ERROR",
    "risk_rejected": "TRADE_ERROR",
    "card_expired": "BANKERROR",
}
