"""Alipay OpenAPI v3 errors: a non-2xx status with `{code, message, links}`, and the table from gateway.do codes.

Business errors keep their gateway.do sub_code as `code` (ACQ.TRADE_NOT_EXIST, 400); gateway errors drop the
`isv.`/`isp.` prefix (invalid-signature, 401). docs/protocols/alipay-v3.md#errors lists them.
"""

from __future__ import annotations

from sandbox import errors
from sandbox.gateways.alipay.errors import AlipayError
from sandbox.gateways.alipay.errors import from_neutral as alipay_from_neutral

ERROR_CODES_DOC = "https://opendocs.alipay.com/open-v3/054fcv"
STATUS = {
    "missing-signature": 401,
    "invalid-signature": 401,
    "invalid-signature-type": 401,
    "missing-app-cert-sn": 401,
    "invalid-app-cert-sn": 401,
    "invalid-alipay-root-cert-sn": 401,
    "invalid-method": 404,
    "ACQ.ACCESS_FORBIDDEN": 403,
    "ACQ.SYSTEM_ERROR": 500,
    "unknow-error": 500,
}
# gateway.do sub_codes whose v3 name is not just the sub_code without its prefix.
RENAMED = {"isv.app-cert-not-exist": "invalid-app-cert-sn"}


class V3Error(Exception):
    """An answer in v3's error format; `link` points at the Alipay page that explains the rule broken."""

    def __init__(self, status: int, code: str, message: str, link: str = ERROR_CODES_DOC) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.link = status, code, message, link

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "links": [{"link": self.link, "desc": self.code}]}


def v3_code(sub_code: str) -> str:
    if sub_code in RENAMED:
        return RENAMED[sub_code]
    prefix, dot, rest = sub_code.partition(".")
    return rest if dot and prefix in ("isv", "isp") else sub_code


def status_of(code: str, system: bool = False) -> int:
    return STATUS.get(code, 500 if system else 400)


def from_alipay(error: AlipayError) -> V3Error:
    """A gateway.do error envelope as v3 renders it (handlers raise gateway.do errors for both protocols)."""
    code = v3_code(error.sub_code)
    return V3Error(status_of(code, system=error.code == "20000"), code, error.sub_msg)


def from_neutral(exc: errors.SandboxError) -> V3Error:
    return from_alipay(alipay_from_neutral(exc))
