"""A reference Alipay OpenAPI v3 client (no official Python SDK speaks v3): signs, sends, verifies every answer.

It does what a v3 integration must: the Authorization header over `authString\\nMETHOD\\npath?query\\nbody\\n`
with the exact body bytes sent, every 2xx answer's `alipay-signature` verified over the exact body bytes
received (and `alipay-sn` checked in certificate mode), errors read as `{code, message, links}`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import requests

from sandbox.core import crypto
from sandbox.merchant.alipay import AlipayClientError, AlipaySignatureError

SCHEME = "ALIPAY-SHA256withRSA"


@dataclass
class AlipayV3ApiError(AlipayClientError):
    """A non-2xx answer: `code` is Alipay's (ACQ.TRADE_NOT_EXIST, invalid-signature, ...)."""

    status: int
    code: str
    message: str
    links: list = field(default_factory=list)

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.code}: {self.message}"


@dataclass(frozen=True)
class SignedRequest:
    """Everything to send, signed: for callers with their own HTTP client (or a benchmark's pre-signing)."""

    method: str
    path_and_query: str
    headers: dict
    body: bytes


@dataclass(frozen=True)
class V3Answer:
    status: int  # 200, or 202 for a barcode payment still waiting for the buyer
    data: dict


class AlipayV3Client:
    def __init__(
        self,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        base_url: str,
        *,
        app_cert_sn: str = "",
        alipay_root_cert_sn: str = "",
        alipay_cert_sn: str = "",
        timeout: float = 15.0,
        session: requests.Session | None = None,
    ) -> None:
        """Certificate mode: give app_cert_sn, alipay_root_cert_sn and alipay_cert_sn (the SNs of the three
        certificates); answers must then carry `alipay-sn` equal to alipay_cert_sn."""
        self.app_id = app_id
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.app_cert_sn = app_cert_sn
        self.alipay_root_cert_sn = alipay_root_cert_sn
        self.alipay_cert_sn = alipay_cert_sn
        self._private_key = crypto.load_private_key(app_private_key)
        self._alipay_key = crypto.load_public_key(alipay_public_key)
        self._session = session or requests.Session()
        self._session.trust_env = False

    # -- signing -------------------------------------------------------------------------------

    def sign(
        self,
        method: str,
        path: str,
        body: Mapping | None = None,
        query: Mapping | None = None,
        *,
        app_auth_token: str = "",
        timestamp_ms: int | None = None,
    ) -> SignedRequest:
        path_and_query = path + ("?" + urlencode(query, quote_via=quote) if query else "")
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        auth = f"app_id={self.app_id}"
        if self.app_cert_sn:
            auth += f",app_cert_sn={self.app_cert_sn}"
        stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        auth += f",nonce={uuid.uuid4()},timestamp={stamp}"
        message = f"{auth}\n{method}\n{path_and_query}\n".encode() + raw + b"\n"
        headers = {"alipay-request-id": uuid.uuid4().hex, "accept": "application/json"}
        if app_auth_token:
            message += app_auth_token.encode("utf-8") + b"\n"
            headers["alipay-app-auth-token"] = app_auth_token
        if body is not None:
            headers["content-type"] = "application/json"
        if self.alipay_root_cert_sn:
            headers["alipay-root-cert-sn"] = self.alipay_root_cert_sn
        headers["authorization"] = f"{SCHEME} {auth},sign={crypto.sign(self._private_key, message)}"
        return SignedRequest(method, path_and_query, headers, raw)

    # -- transport -----------------------------------------------------------------------------

    def call(
        self, method: str, path: str, body: Mapping | None = None, query: Mapping | None = None, **options
    ) -> V3Answer:
        """Send a v3 call; a verified 2xx answer, or AlipayV3ApiError / AlipaySignatureError."""
        signed = self.sign(method, path, body, query, **options)
        reply = self._session.request(
            method,
            self.base_url + signed.path_and_query,
            data=signed.body or None,
            headers=signed.headers,
            timeout=self.timeout,
        )
        return self.read_answer(reply.status_code, reply.headers, reply.content)

    def read_answer(self, status: int, headers: Mapping, body: bytes) -> V3Answer:
        if status >= 300:
            raise _api_error(status, body)
        self.verify_answer(headers, body)
        return V3Answer(status, json.loads(body) if body else {})

    def verify_answer(self, headers: Mapping, body: bytes) -> None:
        """The answer's signature, over the exact bytes received; in certificate mode its `alipay-sn` too."""
        stamp, nonce, signature = (headers.get(h) for h in ("alipay-timestamp", "alipay-nonce", "alipay-signature"))
        if not (stamp and nonce and signature):
            raise AlipaySignatureError("the answer lacks alipay-timestamp, alipay-nonce or alipay-signature")
        if self.alipay_cert_sn and headers.get("alipay-sn") != self.alipay_cert_sn:
            raise AlipaySignatureError(
                f"the answer is signed by certificate {headers.get('alipay-sn')!r}, not {self.alipay_cert_sn}"
            )
        message = f"{stamp}\n{nonce}\n".encode() + body + b"\n"
        if not crypto.verify(self._alipay_key, message, signature):
            raise AlipaySignatureError("the answer's alipay-signature does not verify with the Alipay public key")


def _api_error(status: int, body: bytes) -> AlipayV3ApiError | AlipayClientError:
    try:
        document = json.loads(body)
    except ValueError:
        return AlipayClientError(f"HTTP {status} with a body that is not JSON: {body[:200]!r}")
    if not isinstance(document, dict):
        return AlipayClientError(f"HTTP {status} with an unexpected body: {body[:200]!r}")
    return AlipayV3ApiError(
        status, str(document.get("code", "")), str(document.get("message", "")), document.get("links") or []
    )
