"""Fuzzing WeChat Pay API v2: signed <xml> fields of every endpoint (and under /sandboxnew/), mutated and re-signed."""

from __future__ import annotations

import hashlib
import json
import random
from xml.sax.saxutils import escape

from sandbox.merchant.wechatpay_v2 import v2_sign
from sandbox.testing.fuzz import shapes
from sandbox.testing.fuzz.base import NOTIFY_URL, Answer, FuzzRequest, GatewayFuzzer, Mutation, content_type, crashed
from sandbox.testing.fuzz.wechatpay_v3 import MAGIC_CODES, PAY_CODE

XML = "text/xml; charset=utf-8"
COMMON = ("appid", "mch_id", "nonce_str", "sign_type")
# Whole documents that a parser must refuse without expanding anything.
HOSTILE_DOCUMENTS = (
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><xml><a>&b;</a></xml>',
    b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml/>',
    b'<?xml version="1.0" encoding="GBK"?><xml><body>\xd6\xd0</body></xml>',
    b"<xml><a:b xmlns:a='urn:x'>1</a:b></xml>",
    b"<xml><?pi x?><!-- c --><mch_id>1900000109</mch_id></xml>",
    b"<root><mch_id>1900000109</mch_id></root>",
    b"<xml>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</xml>",
    b"<xml><mch_id attr='1'>1900000109</mch_id><mch_id>1</mch_id></xml>",
    b"not xml at all",
)


def render(pairs: list[tuple[str, str]], rng: random.Random) -> str:
    """<xml> as the SDKs write it (values in CDATA, or bare), element names as given."""
    bare = rng.random() < 0.3
    parts = []
    for name, value in pairs:
        text = escape(value) if bare else "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
        parts.append(f"<{name}>{text}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


class WechatPayV2Fuzzer(GatewayFuzzer):
    name = "wechatpay_v2"
    prefix = "FZW2"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        keys = self.credentials.wechatpay
        self.mch_id, self.appid, self.api_key = keys["mchid"], keys["appid"], keys["api_key"]
        self.sandbox_key = hashlib.md5(f"{self.api_key}sandbox".encode()).hexdigest().upper()
        self.paid = [f"{self.prefix}PAID{i}" for i in (1, 2)]
        self.open = [f"{self.prefix}OPEN{i}" for i in (1, 2)]

    def setup_requests(self) -> list[FuzzRequest]:
        calls = [
            ("/pay/micropay", self._order(no, auth_code=PAY_CODE, spbill_create_ip="127.0.0.1")) for no in self.paid
        ]
        calls += [("/secapi/pay/refund", self._refund(self.paid[0], f"R{i}")) for i in (1, 2, 3)]
        calls += [("/pay/unifiedorder", self._unified(no, "NATIVE", product_id="p1")) for no in self.open]
        return [self._request(path, self._signed(fields, self.api_key), "setup") for path, fields in calls]

    # -- seeds -----------------------------------------------------------------------------------------------------

    def _fields(self, **fields) -> list[tuple[str, str]]:
        return [("appid", self.appid), ("mch_id", self.mch_id), ("nonce_str", "fuzz0123456789ab"), *fields.items()]

    def _order(self, out_trade_no: str, **extra) -> list[tuple[str, str]]:
        return self._fields(body="Fuzz tea", out_trade_no=out_trade_no, total_fee="10000", fee_type="CNY", **extra)

    def _unified(self, out_trade_no: str, trade_type: str, **extra) -> list[tuple[str, str]]:
        return self._order(
            out_trade_no, spbill_create_ip="127.0.0.1", notify_url=NOTIFY_URL, trade_type=trade_type, **extra
        )

    def _refund(self, out_trade_no: str, out_refund_no: str) -> list[tuple[str, str]]:
        return self._fields(out_trade_no=out_trade_no, out_refund_no=out_refund_no, total_fee="10000", refund_fee="100")

    def _seed(self, rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
        known, new = rng.choice(self.paid + self.open), f"{self.prefix}{rng.randrange(10**9)}"
        scene = json.dumps({"h5_info": {"type": "Wap", "wap_url": "http://shop.example", "wap_name": "shop"}})
        seeds = [
            ("/pay/unifiedorder", self._unified(new, "NATIVE", product_id="p1", time_expire="20991231235959")),
            ("/pay/unifiedorder", self._unified(new, "JSAPI", openid="o-fuzz", time_start="20240101000000")),
            ("/pay/unifiedorder", self._unified(new, "MWEB", scene_info=scene)),
            ("/pay/unifiedorder", self._unified(new, "APP", attach="x")),
            ("/pay/micropay", self._order(new, auth_code=rng.choice(MAGIC_CODES), spbill_create_ip="127.0.0.1")),
            ("/pay/orderquery", self._fields(out_trade_no=known)),
            ("/pay/orderquery", self._fields(transaction_id="4200000000202401010000000001")),
            ("/pay/closeorder", self._fields(out_trade_no=known)),
            ("/secapi/pay/reverse", self._fields(out_trade_no=known)),
            ("/secapi/pay/refund", self._refund(known, new)),
            ("/pay/refundquery", self._fields(out_trade_no=self.paid[0], offset=str(rng.randrange(4)))),
            ("/pay/refundquery", self._fields(out_refund_no="R2")),
            ("/pay/downloadbill", self._fields(bill_date="20240101", bill_type="ALL", tar_type="GZIP")),
        ]
        return rng.choice(seeds)

    # -- cases -----------------------------------------------------------------------------------------------------

    def build(self, mutation: Mutation) -> FuzzRequest:
        rng = mutation.rng
        path, pairs = self._seed(rng)
        key = self.api_key
        if mutation.chance(0.15):
            path, key = "/sandboxnew" + path, self.sandbox_key
            if mutation.chance(0.2):
                path, key, pairs = "/sandboxnew/pay/getsignkey", self.api_key, self._fields()[1:]
        if mutation.chance(0.2):
            pairs.append(("sign_type", rng.choice(("HMAC-SHA256", "MD5", "hmac-sha256", "SHA1"))))
        resign = mutation.chance(self.resign)
        if not resign:
            pairs = self._signed(pairs, key)
            mutation.note("signed before mutating")
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            pairs, what = shapes.mutate_pairs(rng, pairs, COMMON)
            mutation.note(what)
        if resign:
            pairs = self._signed(pairs, key)
        request = self._request(path, pairs, path.rsplit("/", 1)[-1], rng)
        if mutation.chance(0.05):
            request.body = rng.choice(HOSTILE_DOCUMENTS)
            mutation.note("hostile document")
        elif mutation.chance(0.1):
            request.body, what = shapes.mutate_bytes(rng, request.body)
            mutation.note(what)
        if mutation.chance(0.05):
            request.method = rng.choice(("GET", "PUT", "DELETE"))
            mutation.note(f"method {request.method}")
        return request

    def _signed(self, pairs: list[tuple[str, str]], key: str) -> list[tuple[str, str]]:
        """Signed over the fields as the server reads them (the last of a repeated name), sign_type's hash."""
        pairs = [(k, v) for k, v in pairs if k != "sign"]
        fields = dict(pairs)
        sign_type = fields.get("sign_type") if fields.get("sign_type") in ("MD5", "HMAC-SHA256") else "MD5"
        return [*pairs, ("sign", v2_sign(fields, key, sign_type))]

    def _request(
        self, path: str, pairs: list[tuple[str, str]], label: str, rng: random.Random | None = None
    ) -> FuzzRequest:
        body = render(pairs, rng or random.Random(0)).encode("utf-8", "surrogatepass")
        return FuzzRequest("POST", path, {"Content-Type": XML}, body, label)

    def problem(self, request: FuzzRequest, answer: Answer) -> str | None:
        if problem := crashed(answer):
            return problem
        if answer.status not in (200, 404, 405):
            return f"HTTP {answer.status}"
        if request.target.endswith("/downloadbill") and not answer.body.startswith(b"<xml>"):
            return None  # the bill itself
        if "xml" not in content_type(answer) or "<return_code>" not in answer.text():
            return "not a v2 XML answer with return_code"
        return None
