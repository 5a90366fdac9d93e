"""Fuzzing Alipay OpenAPI v3: JSON bodies (and GET queries of the reads) with the Authorization header, re-signed."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote, urlencode

from sandbox.core import crypto
from sandbox.testing.fuzz import shapes, values
from sandbox.testing.fuzz.alipay import seed_call, setup_calls
from sandbox.testing.fuzz.base import (
    Answer,
    FuzzRequest,
    GatewayFuzzer,
    Mutation,
    content_type,
    crashed,
    refused_by_http_server,
)

SCHEME = "ALIPAY-SHA256withRSA"
READS = ("alipay.trade.query", "alipay.trade.fastpay.refund.query", "alipay.data.dataservice.bill.downloadurl.query")
HEADERS = ("alipay-app-auth-token", "alipay-root-cert-sn", "alipay-encrypt-type", "alipay-request-id")


def path_of(method: str) -> str:
    return "/v3/" + method.replace(".", "/")


class AlipayV3Fuzzer(GatewayFuzzer):
    name = "alipay_v3"
    prefix = "FZV"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app_id = self.credentials.alipay["app_id"]
        self.key = crypto.load_private_key(self.credentials.alipay["app_private_key"])

    def setup_requests(self) -> list[FuzzRequest]:
        requests = []
        for method, biz in setup_calls(self.prefix):
            body = json.dumps(biz, ensure_ascii=False).encode()
            requests.append(self._signed("POST", path_of(method), body, self._auth_pairs(), {}, "setup"))
        return requests

    def build(self, mutation: Mutation) -> FuzzRequest:
        rng = mutation.rng
        method, biz = seed_call(rng, self.prefix, cashier=rng.random() < 0.05)
        if mutation.chance(0.7):
            for _ in range(rng.choice((1, 1, 2, 3))):
                biz = values.mutate_object(rng, biz)
            mutation.note("body fields")
        http_method = "GET" if method in READS and mutation.chance(0.3) else "POST"
        if mutation.chance(0.05):
            http_method = rng.choice(("PUT", "DELETE", "PATCH", "HEAD", "GET"))
            mutation.note(f"method {http_method}")
        target, body = self._target_and_body(mutation, method, biz, http_method)
        pairs, headers = self._auth_pairs(), {}
        if mutation.chance(0.2):
            pairs, what = shapes.mutate_pairs(rng, pairs)
            mutation.note(f"auth {what}")
        if mutation.chance(0.15):
            name = rng.choice(HEADERS)
            headers[name] = shapes.latin1(values.text(rng))
            mutation.note(f"header {name}")
        if mutation.chance(self.resign):
            return self._signed(http_method, target, body, pairs, headers, method)
        request = self._signed(http_method, path_of(method), b"{}", pairs, headers, method)  # signed over another body
        request.target, request.body = target, body
        mutation.note("signature over another request")
        return request

    def _target_and_body(self, mutation: Mutation, method: str, biz: dict, http_method: str) -> tuple[str, bytes]:
        rng = mutation.rng
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in biz.items()}
        query = urlencode(flat, quote_via=quote, errors="surrogatepass")
        if http_method == "GET" and len(query) < shapes.MAX_TARGET:
            return path_of(method) + "?" + query, b""
        text = json.dumps(biz, ensure_ascii=False, separators=(",", ":"))
        if mutation.chance(0.15):
            text, what = values.mutate_json_text(rng, text)
            mutation.note(what)
        body = text.encode("utf-8", "surrogatepass")
        if mutation.chance(0.1):
            body, what = shapes.mutate_bytes(rng, body)
            mutation.note(what)
        return path_of(method), body

    def _auth_pairs(self) -> list[tuple[str, str]]:
        return [("app_id", self.app_id), ("nonce", str(uuid.uuid4())), ("timestamp", str(int(time.time() * 1000)))]

    def _signed(
        self, method: str, target: str, body: bytes, pairs: list[tuple[str, str]], headers: dict, label: str
    ) -> FuzzRequest:
        auth = ",".join(f"{k}={v}" for k, v in pairs)
        message = f"{auth}\n{method}\n{target}\n".encode() + body + b"\n"
        token = headers.get("alipay-app-auth-token", "")
        if token:
            message += token.encode("latin-1") + b"\n"
        sign = crypto.sign(self.key, message)
        headers = {
            "Content-Type": "application/json",
            **headers,
            "Authorization": shapes.latin1(f"{SCHEME} {auth},sign={sign}"),
        }
        return FuzzRequest(method, target, headers, body, label)

    def problem(self, request: FuzzRequest, answer: Answer) -> str | None:
        if problem := crashed(answer):
            return problem
        if request.method == "HEAD" or refused_by_http_server(answer):
            return None
        if not content_type(answer).startswith("application/json"):
            return f"content type {content_type(answer)!r}, not JSON"
        try:
            document = json.loads(answer.body)
        except ValueError:
            return "the body is not JSON"
        if answer.status >= 400 and not (isinstance(document, dict) and document.get("code")):
            return "an error without a code"
        return None
