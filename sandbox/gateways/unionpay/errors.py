"""UnionPay respCode answers: the code, its Chinese text, and the neutral mapping.

docs/protocols/unionpay.md#response-codes lists them.

Every answer is `respCode` + `respMsg`. Real respMsg reads like `成功[0000000]`: a short Chinese text and a
bracketed detail. The sandbox puts its own explanation of what is wrong inside the brackets (clients split
the key=value answer on `&` outside brackets, so the detail may hold `&` and `=`).
"""

from __future__ import annotations

from sandbox import errors

SUCCESS = "00"
SUCCESS_MSG = "成功[0000000]"

TEXTS = {
    "00": "成功",
    "01": "交易失败",
    "02": "系统未开放或暂时关闭，请稍后再试",
    "03": "交易通讯超时，请发起查询交易",
    "04": "交易状态未明，请查询对账结果",
    "05": "交易已受理，请稍后查询交易结果",
    "06": "系统繁忙，请稍后再试",
    "10": "报文格式错误",
    "11": "验证签名失败",
    "12": "重复交易",
    "13": "报文交易要素缺失",
    "30": "交易未通过，请尝试使用其他银联卡支付或联系95516",
    "31": "商户状态不正确",
    "32": "无此交易权限",
    "33": "交易金额超限",
    "34": "查无此交易",
    "35": "原交易不存在或状态不正确",
    "36": "交易金额超限或与原交易不符",
    "37": "已超过最大查询次数或操作过于频繁",
    "38": "银联风险受限",
    "39": "交易不在受理时间范围内",
    "45": "原交易已被退货或撤销",
    "60": "交易失败，详情请咨询您的发卡行",
    "61": "无效卡号",
    "63": "卡状态不正确",
    "64": "卡上的余额不足",
    "65": "输入的密码、有效期或CVN2有误，交易失败",
    "66": "持卡人身份信息或手机号输入不正确，验证失败",
    "67": "密码输入次数超限",
    "71": "短信验证码错误",
    "73": "卡已过期",
    "99": "通用错误",
}

# Scenario codes (docs/scenarios.md): how a card payment fails at the bank cashier (PAYMENT_FAILURES), and what
# a call can answer instead of its result (API_ERRORS); 03, 04 and 05 tell a client to query again
# (docs/protocols/unionpay.md#response-codes).
PAYMENT_CODES = ("01", "30", "33", "38", "60", "61", "63", "64", "65", "66", "67", "71", "73")
SYSTEM_CODES = ("01", "02", "03", "04", "05", "06", "11", "12", "99")
REFUSAL_CODES = ("31", "32", "33", "34", "35", "36", "37", "38", "39", "45")  # the merchant, the original txn
PAYMENT_FAILURES = {code: TEXTS[code] for code in PAYMENT_CODES}
API_ERRORS = {code: TEXTS[code] for code in (*SYSTEM_CODES, *REFUSAL_CODES)}
NEUTRAL_CODES = {
    "declined": "01",
    "balance_not_enough": "64",
    "merchant_balance_not_enough": "01",  # ACP has no code of its own for a refund the merchant cannot fund
    "system_error": "03",  # the answer every client handles as "state unknown, query again"
    "risk_rejected": "38",
    "card_expired": "73",
}


def resp_msg(code: str, detail: str) -> str:
    return f"{TEXTS.get(code, TEXTS['99'])}[{detail}]"


class UnionPayError(Exception):
    """A refused request: respCode and what exactly the sandbox found wrong."""

    def __init__(self, resp_code: str, detail: str) -> None:
        super().__init__(f"{resp_code}: {detail}")
        self.resp_code, self.detail = resp_code, detail

    @property
    def resp_msg(self) -> str:
        return resp_msg(self.resp_code, self.detail)


# Neutral error -> respCode, as docs/protocols/unionpay.md#response-codes lists them.
_NEUTRAL = [
    (errors.MissingParameter, "13"),
    (errors.InvalidParameter, "10"),
    (errors.OrderNotFound, "34"),
    (errors.RefundNotFound, "34"),
    (errors.OrderMismatch, "12"),
    (errors.OrderAlreadyPaid, "12"),
    (errors.OrderClosed, "12"),
    (errors.RefundMismatch, "12"),
    (errors.RefundExceedsPaid, "36"),
    (errors.OrderStateConflict, "35"),
]


def from_neutral(exc: errors.SandboxError) -> UnionPayError:
    for kind, code in _NEUTRAL:
        if isinstance(exc, kind):
            return UnionPayError(code, exc.message)
    return UnionPayError("99", exc.message)
