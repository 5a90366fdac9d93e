"""WeChat Pay v2 error answers: err_code with its Chinese description, the level it is told at, the neutral mapping.

Two levels, as the real gateway answers (docs/protocols/wechatpay-v2.md#answers-and-errors):
* return level: the request could not be read or trusted (body, XML, merchant, signature). The answer is
  `return_code=FAIL` with `return_msg` saying what is wrong, unsigned; the sandbox adds `err_code` as an aid.
* result level: an authenticated request that the state of the world refuses. The answer is
  `return_code=SUCCESS`, signed, with `result_code=FAIL, err_code, err_code_des`.
"""

from __future__ import annotations

from sandbox import errors

RETURN, RESULT = "return", "result"

DESCRIPTIONS = {
    "APPID_MCHID_NOT_MATCH": "appid和mch_id不匹配",
    "APPID_NOT_EXIST": "APPID不存在",
    "AUTHCODEEXPIRE": "二维码已过期，请用户在微信上刷新后再试",
    "AUTH_CODE_INVALID": "授权码检验错误",
    "INVALID_REQUEST": "无效请求",
    "INVALID_TRANSACTIONID": "无效transaction_id",
    "LACK_PARAMS": "缺少参数",
    "MCHID_NOT_EXIST": "MCHID不存在",
    "NO_BILL_EXIST": "No Bill Exist",
    "NOAUTH": "商户无此接口权限",
    "NOT_UTF8": "编码格式错误",
    "NOTENOUGH": "余额不足",
    "ORDERCLOSED": "订单已关闭",
    "ORDERNOTEXIST": "此交易订单号不存在",
    "ORDERPAID": "商户订单已支付",
    "OUT_TRADE_NO_USED": "商户订单号重复",
    "PARAM_ERROR": "参数错误",
    "POST_DATA_EMPTY": "post数据为空",
    "REFUNDNOTEXIST": "退款订单查询失败",
    "REQUIRE_POST_METHOD": "请使用post方法",
    "SIGNERROR": "签名错误",
    "SYSTEMERROR": "系统错误",
    "USERPAYING": "用户支付中，需要输入密码",
    "XML_FORMAT_ERROR": "XML格式错误",
}


# pay/downloadbill failures carry WeChat's numeric error_code next to return_msg.
BILL_ERROR_CODES = {"NO_BILL_EXIST": "20002"}


class V2Error(Exception):
    """An answer with err_code; `level` says whether it is a return_code or a result_code failure."""

    def __init__(self, err_code: str, message: str, level: str = RESULT) -> None:
        super().__init__(f"{err_code}: {message}")
        self.err_code, self.message, self.level = err_code, message, level

    @property
    def description(self) -> str:
        """The Chinese description WeChat gives, then what exactly the sandbox found wrong."""
        return f"{DESCRIPTIONS.get(self.err_code, self.err_code)}: {self.message}"

    def return_fields(self) -> dict:
        fields = {"return_code": "FAIL", "return_msg": self.description, "err_code": self.err_code}
        if self.err_code in BILL_ERROR_CODES:
            fields["error_code"] = BILL_ERROR_CODES[self.err_code]
        return fields

    def result_fields(self) -> dict:
        return {"result_code": "FAIL", "err_code": self.err_code, "err_code_des": self.description}


def refused(err_code: str, message: str) -> V2Error:
    """A return-level failure: the request is not read any further."""
    return V2Error(err_code, message, RETURN)


# Neutral error -> err_code (result level), as docs/protocols/wechatpay-v2.md#answers-and-errors lists them.
_NEUTRAL = [
    (errors.OrderNotFound, "ORDERNOTEXIST"),
    (errors.RefundNotFound, "REFUNDNOTEXIST"),
    (errors.OrderAlreadyPaid, "ORDERPAID"),
    (errors.OrderClosed, "ORDERCLOSED"),
    (errors.OrderMismatch, "OUT_TRADE_NO_USED"),
    (errors.RefundExceedsPaid, "NOTENOUGH"),
    (errors.RefundMismatch, "INVALID_REQUEST"),
    (errors.OrderStateConflict, "INVALID_REQUEST"),
    (errors.MissingParameter, "LACK_PARAMS"),
    (errors.InvalidParameter, "PARAM_ERROR"),
]


def from_neutral(exc: errors.SandboxError) -> V2Error:
    for kind, err_code in _NEUTRAL:
        if isinstance(exc, kind):
            return V2Error(err_code, exc.message)
    return V2Error("SYSTEMERROR", exc.message)
