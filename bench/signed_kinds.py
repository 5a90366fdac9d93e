"""For bench/signed_requests.py: the signed calls it replays, each signed before any clock runs (TEST-ONLY keys).

Six kinds: a create of a new order and a query of an existing one, on Alipay gateway.do (form POST), Alipay
OpenAPI v3 (JSON, `authorization` header) and WeChat Pay v3 (JSON, `Authorization` header, Wechatpay-Serial).
A prepared request is one line for bench/signed_requests.lua: method, target, body and header pairs, tab-separated.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from sandbox_process import ROOT, post

from sandbox.merchant import demo
from sandbox.merchant.alipay import AlipayClient
from sandbox.merchant.alipay_v3 import AlipayV3Client
from sandbox.merchant.wechatpay import WechatPayClient

KINDS = (
    "gateway.do precreate",
    "gateway.do query",
    "alipay v3 precreate",
    "alipay v3 query",
    "wechat v3 native",
    "wechat v3 query",
)
CREATES = tuple(kind for kind in KINDS if not kind.endswith("query"))
BUYER = "2088000000000009"
NOTIFY_URL = "http://127.0.0.1:9/notify"  # never contacted: nothing is paid
FORM = "application/x-www-form-urlencoded; charset=utf-8"
SUCCESS = {"gateway.do": '"code":"10000"'}  # gateway.do answers 200 either way; the others' errors are not 200
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Prepared:
    """One request ready to send: nothing is signed or encoded once the clock runs."""

    method: str
    target: str
    body: bytes
    headers: dict[str, str]

    def line(self) -> bytes:
        pairs = [part for item in self.headers.items() for part in item]
        fields = [self.method, self.target, self.body.decode(), *pairs]
        if any("\t" in field or "\n" in field for field in fields):
            raise ValueError(f"a field of {self.target} holds a tab or a newline")
        return "\t".join(fields).encode()


class Merchants:
    """The demo merchant of each protocol, pointed at one server; and an existing order of each to query."""

    def __init__(self, base_url: str, prefix: str) -> None:
        keys = demo.Credentials.demo(ROOT / "fixtures")
        self.base_url = base_url
        self.prefix = prefix
        self.alipay: AlipayClient = demo.alipay_client(keys.alipay, base_url)
        self.alipay_v3: AlipayV3Client = demo.alipay_v3_client(keys.alipay, base_url)
        self.wechat: WechatPayClient = demo.wechatpay_client(keys.wechatpay, base_url, notify_url=NOTIFY_URL)
        self.existing = self._create_existing()

    def _create_existing(self) -> str:
        """One order both Alipay APIs and WeChat Pay know (a query of an unknown one would be an error answer)."""
        number = f"{self.prefix}EXISTING"
        biz = {"out_trade_no": number, "total_amount": "9.90", "subject": "bench", "buyer_id": BUYER}
        status, body = post(
            self.base_url, "/gateway.do", urlencode(self.alipay.signed_params("alipay.trade.create", biz)).encode()
        )
        if status != 200 or SUCCESS["gateway.do"].encode() not in body:
            raise SystemExit(f"could not create the order the queries read: {status} {body[:300]!r}")
        self.wechat.native_prepay(number, 990, "bench")
        return number

    def prepare(self, kind: str, count: int) -> list[Prepared]:
        make = getattr(self, "_" + kind.replace(".", "_").replace(" ", "_"))
        return [make() for _ in range(count)]

    def _new_number(self) -> str:
        return f"{self.prefix}{next(_numbers):08d}"

    def _gateway_do(self, method: str, biz: dict) -> Prepared:
        body = urlencode(self.alipay.signed_params(method, biz, notify_url=NOTIFY_URL)).encode()
        return Prepared("POST", "/gateway.do", body, {"Content-Type": FORM})

    def _gateway_do_precreate(self) -> Prepared:
        biz = {"out_trade_no": self._new_number(), "total_amount": "9.90", "subject": "bench"}
        return self._gateway_do("alipay.trade.precreate", biz)

    def _gateway_do_query(self) -> Prepared:
        return self._gateway_do("alipay.trade.query", {"out_trade_no": self.existing})

    def _v3(self, path: str, biz: dict) -> Prepared:
        signed = self.alipay_v3.sign("POST", path, biz)
        return Prepared("POST", signed.path_and_query, signed.body, signed.headers)

    def _alipay_v3_precreate(self) -> Prepared:
        biz = {"out_trade_no": self._new_number(), "total_amount": "9.90", "subject": "bench", "notify_url": NOTIFY_URL}
        return self._v3("/v3/alipay/trade/precreate", biz)

    def _alipay_v3_query(self) -> Prepared:
        return self._v3("/v3/alipay/trade/query", {"out_trade_no": self.existing})

    def _wechat(self, method: str, target: str, body: dict | None) -> Prepared:
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Accept": "application/json",
            "Authorization": self.wechat.authorization(method, target, text),
            "Wechatpay-Serial": self.wechat.public_key_id,
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        return Prepared(method, target, text.encode(), headers)

    def _wechat_v3_native(self) -> Prepared:
        body = {
            "notify_url": NOTIFY_URL,
            "description": "bench",
            "out_trade_no": self._new_number(),
            "amount": {"total": 990, "currency": "CNY"},
            "appid": self.wechat.appid,
            "mchid": self.wechat.mchid,
        }
        return self._wechat("POST", "/v3/pay/transactions/native", body)

    def _wechat_v3_query(self) -> Prepared:
        target = f"/v3/pay/transactions/out-trade-no/{self.existing}?{urlencode({'mchid': self.wechat.mchid})}"
        return self._wechat("GET", target, None)


def success_marker(kind: str) -> str:
    """Text every successful answer of `kind` holds, beside its 200 status ('' when the status says it all)."""
    return SUCCESS.get(kind.split(" ")[0], "")
