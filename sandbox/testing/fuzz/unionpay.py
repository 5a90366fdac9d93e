"""Fuzzing UnionPay ACP: signed key=value forms to every endpoint and txnType, mutated and mostly re-signed."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from sandbox.core import crypto
from sandbox.core.canonical import split_pairs
from sandbox.merchant.unionpay import digest_hex
from sandbox.testing.fuzz import shapes
from sandbox.testing.fuzz.base import NOTIFY_URL, Answer, FuzzRequest, GatewayFuzzer, Mutation, content_type, crashed

API = "/gateway/api/"
FORM = "application/x-www-form-urlencoded;charset=UTF-8"
COMMON = ("version", "encoding", "signMethod", "certId", "merId", "accessType", "bizType")
HASH_OF = {"5.1.0": "SHA256", "5.0.0": "SHA1"}
BEIJING = timezone(timedelta(hours=8))


class UnionPayFuzzer(GatewayFuzzer):
    name = "unionpay"
    prefix = "FZU"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        keys = self.credentials.unionpay
        self.mer_id = keys["mer_id"]
        key, cert, _ = pkcs12.load_key_and_certificates(keys["pkcs12"], keys["pkcs12_password"].encode())
        self.cert_id = str(cert.serial_number)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.key = crypto.load_private_key(pem.decode())
        self.txn_time = datetime.now(BEIJING).strftime("%Y%m%d%H%M%S")
        self.paid = [f"{self.prefix}PAID{i}" for i in (1, 2)]
        self.open = [f"{self.prefix}OPEN{i}" for i in (1, 2)]
        self.query_ids: list[str] = ["000000000000000000000"]

    def setup(self, send: Callable[[FuzzRequest], Answer]) -> None:
        """App consumes, two of them paid through the control API; their queryIds feed the refund and undo cases."""
        for number in self.paid + self.open:
            send(self._request("appTransReq.do", self._signed(self._consume(number, "08")), "setup"))
        for number in self.paid:
            pay = f"/_sandbox/orders/unionpay/{self.mer_id}/{number}/pay"
            send(FuzzRequest("POST", pay, {"Content-Type": "application/json"}, b"{}", "setup"))
            answer = send(self._request("queryTrans.do", self._signed(self._query(number)), "setup"))
            query_id = split_pairs(answer.text()).get("queryId", "")
            if query_id:
                self.query_ids.append(query_id)

    # -- seeds -----------------------------------------------------------------------------------------------------

    def _common(self, txn_type: str, txn_sub_type: str, biz_type: str, **fields: str) -> list[tuple[str, str]]:
        return [
            ("version", "5.1.0"),
            ("encoding", "UTF-8"),
            ("signMethod", "01"),
            ("certId", self.cert_id),
            ("merId", self.mer_id),
            ("accessType", "0"),
            ("txnType", txn_type),
            ("txnSubType", txn_sub_type),
            ("bizType", biz_type),
            *fields.items(),
        ]

    def _consume(self, order_id: str, channel: str, **extra: str) -> list[tuple[str, str]]:
        fields = {"channelType": channel, "orderId": order_id, "txnTime": self.txn_time, "txnAmt": "10000"}
        return self._common("01", "01", "000201", **fields, currencyCode="156", backUrl=NOTIFY_URL, **extra)

    def _query(self, order_id: str) -> list[tuple[str, str]]:
        return self._common("00", "00", "000000", orderId=order_id, txnTime=self.txn_time)

    def _reverse(self, txn_type: str, order_id: str, query_id: str, amount: str) -> list[tuple[str, str]]:
        fields = {"channelType": "07", "orderId": order_id, "txnTime": self.txn_time, "txnAmt": amount}
        return self._common(
            txn_type, "00", "000201", **fields, currencyCode="156", origQryId=query_id, backUrl=NOTIFY_URL
        )

    def _seed(self, rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
        known, new = rng.choice(self.paid + self.open), f"{self.prefix}{rng.randrange(10**9)}"
        query_id = rng.choice(self.query_ids)
        seeds = [
            ("appTransReq.do", self._consume(new, "08")),
            ("frontTransReq.do", self._consume(new, "07", frontUrl="http://shop.example/return")),
            ("queryTrans.do", self._query(known)),
            ("queryTrans.do", self._common("00", "00", "000000", queryId=query_id)),
            ("backTransReq.do", self._reverse("04", new, query_id, rng.choice(("100", "10000")))),
            ("backTransReq.do", self._reverse("31", new, query_id, "10000")),
        ]
        return rng.choice(seeds)

    # -- cases -----------------------------------------------------------------------------------------------------

    def build(self, mutation: Mutation) -> FuzzRequest:
        rng = mutation.rng
        endpoint, pairs = self._seed(rng)
        if mutation.chance(0.1):
            pairs = [(k, "5.0.0" if k == "version" else v) for k, v in pairs]
            mutation.note("version 5.0.0")
        resign = mutation.chance(self.resign)
        if not resign:
            pairs = self._signed(pairs)
            mutation.note("signed before mutating")
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            pairs, what = shapes.mutate_pairs(rng, pairs, COMMON)
            mutation.note(what)
        if resign:
            pairs = self._signed(pairs)
        request = self._request(endpoint, pairs, endpoint)
        if mutation.chance(0.1):
            request.body, what = shapes.mutate_bytes(rng, request.body)
            mutation.note(what)
        if mutation.chance(0.05):
            request.method = rng.choice(("GET", "PUT", "DELETE"))
            mutation.note(f"method {request.method}")
        return request

    def _signed(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Signed over the fields as the server reads them: blank values dropped, the version's hash twice."""
        pairs = [(k, v) for k, v in pairs if k != "signature"]
        fields = {k: v for k, v in pairs if v != ""}
        version = fields.get("version") if fields.get("version") in HASH_OF else "5.1.0"
        digest = digest_hex(fields, version).encode("ascii")
        return [*pairs, ("signature", crypto.sign(self.key, digest, HASH_OF[version]))]

    def _request(self, endpoint: str, pairs: list[tuple[str, str]], label: str) -> FuzzRequest:
        body = urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")
        return FuzzRequest("POST", API + endpoint, {"Content-Type": FORM}, body, label)

    def problem(self, request: FuzzRequest, answer: Answer) -> str | None:
        if problem := crashed(answer):
            return problem
        if request.target.endswith("frontTransReq.do"):
            if answer.status == 302 or (answer.status == 200 and "text/html" in content_type(answer)):
                return None
            return f"HTTP {answer.status} {content_type(answer)!r}: neither the cashier redirect nor the error page"
        if answer.status != 200:
            return f"HTTP {answer.status}, not 200"
        if "respCode" not in split_pairs(answer.text()):
            return "not a key=value answer with respCode"
        return None
