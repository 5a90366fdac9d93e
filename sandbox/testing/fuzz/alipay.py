"""Fuzzing Alipay's /gateway.do: signed GET queries and POST forms of every method, mutated and mostly re-signed."""

from __future__ import annotations

import json
import random
from datetime import datetime
from urllib.parse import urlencode

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.testing.fuzz import shapes, values
from sandbox.testing.fuzz.base import (
    NOTIFY_URL,
    Answer,
    FuzzRequest,
    GatewayFuzzer,
    Mutation,
    content_type,
    crashed,
    refused_by_http_server,
)

PAY_CODE = "281234567890123456"  # a well-formed payment code that pays at once
MAGIC_CODES = (PAY_CODE, "280000000000000010", "280000000000000020", "1234", "")
HASHES = {"RSA2": "SHA256", "RSA": "SHA1"}
FORM = "application/x-www-form-urlencoded;charset=utf-8"


def order_numbers(prefix: str) -> dict[str, list[str]]:
    """The orders the set-up leaves: paid (the first with three partial refunds) and open."""
    return {"paid": [f"{prefix}PAID1", f"{prefix}PAID2"], "open": [f"{prefix}OPEN1", f"{prefix}OPEN2"]}


def setup_calls(prefix: str) -> list[tuple[str, dict]]:
    """(method, biz_content) of the valid calls that leave the orders of `order_numbers(prefix)`."""
    orders = order_numbers(prefix)
    calls: list[tuple[str, dict]] = [
        ("alipay.trade.pay", _order(no, auth_code=PAY_CODE, scene="bar_code")) for no in orders["paid"]
    ]
    calls += [
        ("alipay.trade.refund", {"out_trade_no": orders["paid"][0], "refund_amount": "1.00", "out_request_no": f"R{i}"})
        for i in range(1, 4)
    ]
    calls.append(("alipay.trade.precreate", _order(orders["open"][0], notify_url=NOTIFY_URL)))
    calls.append(("alipay.trade.create", _order(orders["open"][1], buyer_id="2088000000000009")))
    return calls


def seed_call(rng: random.Random, prefix: str, cashier: bool = True) -> tuple[str, dict]:
    """A valid (method, biz_content) of any method, on a new order or on one the set-up left."""
    orders = order_numbers(prefix)
    known = rng.choice(orders["paid"] + orders["open"])
    new = f"{prefix}{rng.randrange(10**9)}"
    choices = [
        ("alipay.trade.precreate", _order(new, timeout_express=rng.choice(("90m", "1c", "15d", "2h")))),
        ("alipay.trade.create", _order(new, buyer_id="2088000000000009", time_expire="2099-01-01 10:00:00")),
        ("alipay.trade.pay", _order(new, auth_code=rng.choice(MAGIC_CODES), scene="bar_code")),
        ("alipay.trade.query", {"out_trade_no": known, "query_options": ["fund_bill_list"]}),
        ("alipay.trade.refund", {"out_trade_no": known, "refund_amount": "0.01", "out_request_no": new}),
        ("alipay.trade.fastpay.refund.query", {"out_trade_no": orders["paid"][0], "out_request_no": "R2"}),
        ("alipay.trade.close", {"out_trade_no": known}),
        ("alipay.trade.cancel", {"out_trade_no": new}),
        ("alipay.data.dataservice.bill.downloadurl.query", {"bill_type": "trade", "bill_date": "2024-01-01"}),
    ]
    if cashier:
        choices += [
            ("alipay.trade.page.pay", _order(new, product_code="FAST_INSTANT_TRADE_PAY")),
            ("alipay.trade.wap.pay", _order(new, product_code="QUICK_WAP_WAY", quit_url="http://shop.example/")),
        ]
    return rng.choice(choices)


def _order(out_trade_no: str, **extra) -> dict:
    return {"out_trade_no": out_trade_no, "total_amount": "100.00", "subject": "Fuzz tea", **extra}


class AlipayFuzzer(GatewayFuzzer):
    name = "alipay"
    prefix = "FZA"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app_id = self.credentials.alipay["app_id"]
        self.key = crypto.load_private_key(self.credentials.alipay["app_private_key"])

    def setup_requests(self) -> list[FuzzRequest]:
        return [self._request("POST", self._signed(self._common(m, b)), "setup") for m, b in setup_calls(self.prefix)]

    def build(self, mutation: Mutation) -> FuzzRequest:
        rng = mutation.rng
        method, biz = seed_call(rng, self.prefix)
        if mutation.chance(0.7):
            for _ in range(rng.choice((1, 1, 2, 3))):
                biz = values.mutate_object(rng, biz)
            mutation.note("biz fields")
        pairs = self._common(method, biz)
        if mutation.chance(0.15):
            text, what = values.mutate_json_text(rng, dict(pairs)["biz_content"], "biz")
            pairs = [(k, text if k == "biz_content" else v) for k, v in pairs]
            mutation.note(what)
        resign = mutation.chance(self.resign)
        if not resign:
            pairs = self._signed(pairs)
            mutation.note("signed before mutating")
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            pairs, what = shapes.mutate_pairs(rng, pairs)
            mutation.note(what)
        if resign:
            pairs = self._signed(pairs)
        request = self._request(rng.choice(("POST", "POST", "POST", "GET", "SPLIT")), pairs, method)
        if mutation.chance(0.1) and request.body:
            request.body, what = shapes.mutate_bytes(rng, request.body)
            mutation.note(what)
        if mutation.chance(0.1):
            request.headers["Content-Type"] = shapes.mutate_content_type(rng, FORM)
            mutation.note("content-type")
        return request

    def _common(self, method: str, biz: dict) -> list[tuple[str, str]]:
        pairs = [
            ("app_id", self.app_id),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", datetime.now().strftime("%Y-%m-%d %H:%M:%S")),
            ("version", "1.0"),
            ("biz_content", json.dumps(biz, ensure_ascii=False, separators=(",", ":"))),
        ]
        if method.endswith((".pay", ".precreate", ".create")):
            pairs.append(("notify_url", NOTIFY_URL))
        if method in ("alipay.trade.page.pay", "alipay.trade.wap.pay"):
            pairs.append(("return_url", "http://shop.example/return"))
        return pairs

    def _signed(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Signed as the server reads the fields: the last of a repeated key counts; the declared charset's bytes."""
        pairs = [(k, v) for k, v in pairs if k != "sign"]
        params = dict(pairs)
        charset = "gbk" if params.get("charset", "").lower() in ("gbk", "gb2312") else "utf-8"
        content = sorted_query(params, exclude=("sign",)).encode(charset, "replace")
        return [*pairs, ("sign", crypto.sign(self.key, content, HASHES.get(params.get("sign_type", ""), "SHA256")))]

    def _request(self, how: str, pairs: list[tuple[str, str]], label: str) -> FuzzRequest:
        """POST as a form, GET with everything in the query, or SPLIT as the official SDK: biz_content in the body."""
        charset = "gbk" if dict(pairs).get("charset", "").lower() in ("gbk", "gb2312") else "utf-8"

        def encode(items: list[tuple[str, str]]) -> str:
            return urlencode(items, encoding=charset, errors="replace")

        if how == "GET" and len(encode(pairs)) < shapes.MAX_TARGET:
            return FuzzRequest("GET", "/gateway.do?" + encode(pairs), {}, b"", label)
        if len(encode([(k, v) for k, v in pairs if k != "biz_content"])) >= shapes.MAX_TARGET:
            how = "POST"
        body_pairs = pairs if how == "POST" else [(k, v) for k, v in pairs if k == "biz_content"]
        query = "" if how == "POST" else "?" + encode([(k, v) for k, v in pairs if k != "biz_content"])
        headers = {"Content-Type": FORM}
        return FuzzRequest("POST", "/gateway.do" + query, headers, encode(body_pairs).encode("ascii"), label)

    def problem(self, request: FuzzRequest, answer: Answer) -> str | None:
        if problem := crashed(answer):
            return problem
        if answer.status == 302 or refused_by_http_server(answer):
            return None
        if answer.status != 200:
            return f"HTTP {answer.status}, not 200"
        charset = "gbk" if "gbk" in content_type(answer) else "utf-8"
        try:
            document = json.loads(answer.body.decode(charset))
        except ValueError:
            return None if "<html" in answer.text() else "neither a JSON envelope nor the cashier's error page"
        inner = next((v for k, v in document.items() if k.endswith("_response")), None)
        if not isinstance(inner, dict) or "code" not in inner:
            return "no <method>_response or error_response object with a code"
        return None
