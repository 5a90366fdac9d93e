"""Fuzzing WeChat Pay API v3: JSON bodies, path and query values, the Authorization header; mostly re-signed."""

from __future__ import annotations

import json
import random
import time
import uuid
from urllib.parse import quote, urlencode

from sandbox.core import crypto
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

SCHEME = "WECHATPAY2-SHA256-RSA2048"
PAY_CODE = "134567890123456789"  # a well-formed payment code that pays at once
MAGIC_CODES = (PAY_CODE, "130000000000000010", "130000000000000020", "99", "")
AUTH_FIELDS = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")


class WechatPayV3Fuzzer(GatewayFuzzer):
    name = "wechatpay_v3"
    prefix = "FZW3"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        keys = self.credentials.wechatpay
        self.mchid, self.appid, self.serial = keys["mchid"], keys["appid"], keys["merchant_serial_no"]
        self.public_key_id = keys["public_key_id"]
        self.key = crypto.load_private_key(keys["merchant_private_key"])
        self.paid = [f"{self.prefix}PAID{i}" for i in (1, 2)]
        self.open = [f"{self.prefix}OPEN{i}" for i in (1, 2)]

    def setup_requests(self) -> list[FuzzRequest]:
        calls = [("POST", "/v3/pay/transactions/codepay", self._codepay(no, PAY_CODE)) for no in self.paid]
        calls += [("POST", "/v3/refund/domestic/refunds", self._refund(self.paid[0], f"R{i}")) for i in (1, 2, 3)]
        calls += [("POST", "/v3/pay/transactions/native", self._prepay(no)) for no in self.open]
        return [self._signed(m, t, json.dumps(b).encode(), self._auth_pairs(), "setup") for m, t, b in calls]

    # -- seeds -----------------------------------------------------------------------------------------------------

    def _prepay(self, out_trade_no: str, **extra) -> dict:
        return {
            "appid": self.appid,
            "mchid": self.mchid,
            "description": "Fuzz tea",
            "out_trade_no": out_trade_no,
            "notify_url": NOTIFY_URL,
            "amount": {"total": 10000, "currency": "CNY"},
            **extra,
        }

    def _codepay(self, out_trade_no: str, auth_code: str) -> dict:
        body = self._prepay(out_trade_no, payer={"auth_code": auth_code})
        del body["notify_url"]
        return body

    def _refund(self, out_trade_no: str, out_refund_no: str) -> dict:
        amount = {"refund": 100, "total": 10000, "currency": "CNY"}
        return {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no, "amount": amount, "reason": "fuzz"}

    def _seed(self, rng: random.Random) -> tuple[str, str, dict, dict | None]:
        """(HTTP method, path, query, body or None) of any endpoint, on a new order or one the set-up left."""
        known, new = rng.choice(self.paid + self.open), f"{self.prefix}{rng.randrange(10**9)}"
        mchid = {"mchid": self.mchid}
        h5 = {"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}}
        seeds = [
            ("POST", "/v3/pay/transactions/native", {}, self._prepay(new, time_expire="2099-01-01T10:00:00+08:00")),
            ("POST", "/v3/pay/transactions/jsapi", {}, self._prepay(new, payer={"openid": "o-fuzz"})),
            ("POST", "/v3/pay/transactions/app", {}, self._prepay(new, attach="x")),
            ("POST", "/v3/pay/transactions/h5", {}, self._prepay(new, scene_info=h5)),
            ("POST", "/v3/pay/transactions/codepay", {}, self._codepay(new, rng.choice(MAGIC_CODES))),
            ("GET", f"/v3/pay/transactions/out-trade-no/{known}", mchid, None),
            ("GET", "/v3/pay/transactions/id/4200000000202401010000000001", mchid, None),
            ("POST", f"/v3/pay/transactions/out-trade-no/{known}/close", {}, mchid),
            ("POST", f"/v3/pay/transactions/out-trade-no/{known}/reverse", {}, mchid),
            ("POST", "/v3/refund/domestic/refunds", {}, self._refund(known, new)),
            ("GET", f"/v3/refund/domestic/refunds/R{rng.randrange(1, 4)}", {}, None),
            ("GET", "/v3/bill/tradebill", {"bill_date": "2024-01-01", "bill_type": "ALL", "tar_type": "GZIP"}, None),
            ("GET", "/v3/billdownload/file", {"token": "MTkwMDAwMDEwOXwyMDI0LTAxLTAxfEFMTHxHWklQ"}, None),
            ("GET", "/v3/certificates", {}, None),
        ]
        return rng.choice(seeds)

    # -- cases -----------------------------------------------------------------------------------------------------

    def build(self, mutation: Mutation) -> FuzzRequest:
        rng = mutation.rng
        method, path, query, body = self._seed(rng)
        label = f"{method} {path.removeprefix('/v3/')}"
        if body is not None and mutation.chance(0.7):
            for _ in range(rng.choice((1, 1, 2, 3))):
                body = values.mutate_object(rng, body)
            mutation.note("body fields")
        if query and mutation.chance(0.3):
            name = rng.choice(list(query))
            query = {**query, name: values.mutate_text(rng, query[name])[: shapes.MAX_TARGET // 4]}
            mutation.note(f"query {name}")
        if mutation.chance(0.15):
            path = self._mutate_path(rng, path)
            mutation.note("path segment")
        target = path + ("?" + urlencode(query, quote_via=quote) if query else "")
        raw = self._body(mutation, body)
        pairs = self._auth_pairs()
        if mutation.chance(0.2):
            pairs, what = shapes.mutate_pairs(rng, pairs)
            mutation.note(f"auth {what}")
        resign = mutation.chance(self.resign)
        request = self._signed(method, target if resign else path, raw if resign else b"{}", pairs, label)
        request.target, request.body = target, raw
        if not resign:
            mutation.note("signature over another request")
        if mutation.chance(0.1):
            request.headers["Wechatpay-Serial"] = shapes.latin1(values.text(rng))
            mutation.note("Wechatpay-Serial")
        if mutation.chance(0.05):
            request.headers["Authorization"] = shapes.latin1(self._mangled_authorization(rng))
            mutation.note("Authorization mangled")
        return request

    def _mutate_path(self, rng: random.Random, path: str) -> str:
        head, _, last = path.rpartition("/")
        return f"{head}/{quote(values.mutate_text(rng, last)[: shapes.MAX_TARGET // 10], safe='')}"

    def _body(self, mutation: Mutation, body: dict | None) -> bytes:
        if body is None:
            return b""
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if mutation.chance(0.15):
            text, what = values.mutate_json_text(mutation.rng, text)
            mutation.note(what)
        raw = text.encode("utf-8", "surrogatepass")
        if mutation.chance(0.1):
            raw, what = shapes.mutate_bytes(mutation.rng, raw)
            mutation.note(what)
        return raw

    def _mangled_authorization(self, rng: random.Random) -> str:
        fields = ",".join(f'{name}="{values.text(rng)[:300]}"' for name in AUTH_FIELDS if rng.random() < 0.8)
        return rng.choice((SCHEME, "", "Bearer", SCHEME.lower())) + rng.choice((" ", "  ", "")) + fields

    def _auth_pairs(self) -> list[tuple[str, str]]:
        return [
            ("mchid", self.mchid),
            ("nonce_str", uuid.uuid4().hex),
            ("timestamp", str(int(time.time()))),
            ("serial_no", self.serial),
        ]

    def _signed(self, method: str, target: str, body: bytes, pairs: list[tuple[str, str]], label: str) -> FuzzRequest:
        fields = dict(pairs)
        head = f"{method}\n{target}\n{fields.get('timestamp', '')}\n{fields.get('nonce_str', '')}\n"
        signature = crypto.sign(self.key, head.encode() + body + b"\n")
        auth = ",".join(f'{k}="{v}"' for k, v in [*pairs, ("signature", signature)])
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Wechatpay-Serial": self.public_key_id,
            "Authorization": shapes.latin1(f"{SCHEME} {auth}"),
        }
        return FuzzRequest(method, target, headers, body, label)

    def problem(self, request: FuzzRequest, answer: Answer) -> str | None:
        if problem := crashed(answer):
            return problem
        if answer.status < 400 or refused_by_http_server(answer):
            return None
        if not content_type(answer).startswith("application/json"):
            return f"a {answer.status} of content type {content_type(answer)!r}, not JSON"
        try:
            document = json.loads(answer.body)
        except ValueError:
            return "the error body is not JSON"
        if not (isinstance(document, dict) and document.get("code") and "message" in document):
            return "an error without code and message"
        return None
