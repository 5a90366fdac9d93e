"""Scenario codes for WeChat Pay (docs/scenarios.md): how a payment fails, and what an API call can answer.

v3 and v2 name some errors differently (SYSTEM_ERROR / SYSTEMERROR). A rule may use either spelling; a v3
call answers the v3 one (V3_SPELLING) and a v2 call the v2 one (V2_SPELLING).
"""

from __future__ import annotations

# How a payment-code payment (v3 codepay, v2 micropay) or a hosted-page payment fails: err_code -> message.
PAYMENT_FAILURES = {
    "NOTENOUGH": "余额不足",
    "BANKERROR": "银行系统异常",
    "USERPAYING_TIMEOUT": "用户支付超时",
    "PAYERROR": "支付失败",
    "AUTHCODEEXPIRE": "二维码已过期，请用户在微信上刷新后再试",
    "TRADE_ERROR": "交易错误（风控拒绝）",
    "SYSTEM_ERROR": "系统错误",  # v2 micropay answers SYSTEMERROR (V2_SPELLING)
}
# code (v3 spelling) -> (v3 HTTP status, message)
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
V3_SPELLING = {v2: v3 for v3, v2 in V2_SPELLING.items()}
# Every code a rule's api.error may name, in either spelling -> its message (the adapter's api_errors).
API_MESSAGES = {code: message for code, (_, message) in API_ERRORS.items()}
API_MESSAGES.update({V2_SPELLING[code]: message for code, message in list(API_MESSAGES.items())})
NEUTRAL_CODES = {
    "declined": "PAYERROR",
    "balance_not_enough": "NOTENOUGH",
    "merchant_balance_not_enough": "NOT_ENOUGH",
    "system_error": "SYSTEM_ERROR",
    "risk_rejected": "TRADE_ERROR",
    "card_expired": "BANKERROR",
}
