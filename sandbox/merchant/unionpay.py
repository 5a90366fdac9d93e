"""A reference UnionPay online-gateway (ACP 5.1.0) client, written from the published algorithm.

No usable SDK exists (the official Python demo calls pyOpenSSL functions that are gone), so this is what tests and
examples use as "the merchant". It does what docs/protocols/unionpay.md says:

* a request is signed over every field but `signature`, blank values dropped, sorted `k=v` joined with `&`, not
  URL-encoded; RSA signs the *lower-case hex digest* of that string (SHA-256 in both places for 5.1.0, SHA-1 for
  5.0.0). The client sets `version`, `encoding`, `signMethod=01` and `certId` (the decimal serial number of the
  merchant signing certificate, read from the .pfx or the PEM certificate) itself;
* back requests are POSTed form-urlencoded (UTF-8); answers are `k=v&k=v` text, split on `&` outside `{}`/`[]` and on
  the first `=`, never URL-decoded;
* every answer and notification is verified: (a) `signPubKeyCert` chains to the configured middle and root
  certificates and is inside its validity window, (b) its CN names the UnionPay signing role, (c) the signature covers
  the sorted fields. Anything that fails raises UnionPaySignatureError saying which check failed.

Amounts are integer fen (`txnAmt` is a digit string on the wire). `outcome(respCode)` sorts codes the way the
official demos branch: 00/A6 success, 03/04/05 pending (query again), anything else failure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from pathlib import Path

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from sandbox.core.canonical import sorted_query, split_pairs

TEST_BASE_URL = "https://gateway.test.95516.com"
API_PATH = "/gateway/api/"
BEIJING = timezone(timedelta(hours=8))

# version -> (hash over the signing string, hash inside the RSA signature); both the same algorithm.
HASHES: dict[str, tuple[Callable, type[hashes.HashAlgorithm]]] = {
    "5.1.0": (hashlib.sha256, hashes.SHA256),
    "5.0.0": (hashlib.sha1, hashes.SHA1),
}
TEST_CN_ROLE = "00040000:SIGN"
PRODUCTION_CN_ROLE = "中国银联股份有限公司"
SUCCESS_CODES = frozenset({"00", "A6"})
PENDING_CODES = frozenset({"03", "04", "05"})
ORDER_ID = re.compile(r"^[0-9A-Za-z]{8,40}$")


class UnionPayClientError(Exception):
    """Base of everything this client raises (also: a non-200 HTTP answer, an unreadable body)."""


class UnionPaySignatureError(UnionPayClientError):
    """An answer or notification failed verification; `fields` holds what was parsed, for diagnosis only."""

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


# -- the published algorithm ----------------------------------------------------------------------------------


def outcome(resp_code: str) -> str:
    """Sort a respCode: success (00, A6), pending (03, 04, 05: query again later) or failure (anything else)."""
    if resp_code in SUCCESS_CODES:
        return "success"
    if resp_code in PENDING_CODES:
        return "pending"
    return "failure"


def fen(amount: int) -> str:
    """`txnAmt` on the wire: integer fen as a digit string (1000 is 10.00 yuan)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amounts are integer fen, e.g. 1000 for 10.00 yuan")
    if amount <= 0:
        raise ValueError("an amount must be at least 1 fen")
    return str(amount)


def signing_string(fields: Mapping[str, str]) -> str:
    """Every field but `signature`, blank values dropped, sorted by key, `k=v` joined with `&`, raw values."""
    return sorted_query(fields, exclude=("signature",))


def digest_hex(fields: Mapping[str, str], version: str = "5.1.0") -> str:
    """The text RSA signs: the lower-case hex digest of the signing string (SHA-256; SHA-1 for 5.0.0)."""
    return _hash_pair(version)[0](signing_string(fields).encode("utf-8")).hexdigest()


def parse_answer(text: str) -> dict[str, str]:
    """Read a synchronous `k=v&k=v` answer as the SDKs do (docs/protocols/unionpay.md#answers).

    One outer `{...}` wrapping the whole body is stripped (the Java client does), then the text is split on `&`
    outside `{}` and `[]`, each part on its first `=`. Nothing is URL-decoded; PEM newlines are kept.
    """
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return split_pairs(text)


def load_certificate(cert: str | bytes | x509.Certificate) -> x509.Certificate:
    if isinstance(cert, x509.Certificate):
        return cert
    data = cert.encode() if isinstance(cert, str) else cert
    return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)


def _hash_pair(version: str) -> tuple[Callable, type[hashes.HashAlgorithm]]:
    try:
        return HASHES[version]
    except KeyError:
        raise ValueError(f"unsupported version {version!r}: 5.1.0 or 5.0.0") from None


def _cn_of(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


# -- the client -------------------------------------------------------------------------------------------------


class UnionPayClient:
    """One merchant (merId + signing key/certId) talking to one gateway (base_url), trusting one root/middle pair."""

    def __init__(
        self,
        mer_id: str,
        private_key: str | bytes | rsa.RSAPrivateKey,
        cert_id: str,
        *,
        root_cert: str | bytes | x509.Certificate,
        middle_cert: str | bytes | x509.Certificate,
        base_url: str = TEST_BASE_URL,
        version: str = "5.1.0",
        validate_cn_name: bool = False,
        verify_certs: Mapping[str, str | bytes | x509.Certificate] | None = None,
        access_type: str = "0",
        timeout: float = 15.0,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        _hash_pair(version)
        if isinstance(private_key, str | bytes):
            data = private_key.encode() if isinstance(private_key, str) else private_key
            private_key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise TypeError("the merchant signing key must be an RSA private key")
        self.mer_id = mer_id
        self.cert_id = str(cert_id)
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.validate_cn_name = validate_cn_name
        self.access_type = access_type
        self.timeout = timeout
        self._private_key = private_key
        self._root = load_certificate(root_cert)
        self._middle = load_certificate(middle_cert)
        # 5.0.0 answers name their signing cert by certId instead of carrying it (docs/protocols/unionpay.md#answers).
        self._verify_certs = {str(k): load_certificate(v) for k, v in (verify_certs or {}).items()}
        self._clock = clock or (lambda: datetime.now(UTC))
        self._session = session or requests.Session()
        self._session.trust_env = False

    @classmethod
    def from_pkcs12(cls, mer_id: str, pfx: bytes | str | Path, password: str, **options) -> UnionPayClient:
        """The merchant key and certId from the .pfx UnionPay issues (e.g. acp_test_sign.pfx, password 000000)."""
        data = pfx if isinstance(pfx, bytes) else Path(pfx).read_bytes()
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(data, password.encode("utf-8"))
        except ValueError as exc:
            raise UnionPayClientError(f"cannot open the PKCS#12 file (wrong password?): {exc}") from exc
        if key is None or cert is None:
            raise UnionPayClientError("the PKCS#12 file holds no key and certificate")
        return cls(mer_id, key, str(cert.serial_number), **options)

    @classmethod
    def from_pem(cls, mer_id: str, private_key_pem: str | bytes, cert_pem: str | bytes, **options) -> UnionPayClient:
        """The merchant key as PEM (PKCS#1 or PKCS#8) and certId from the PEM signing certificate."""
        return cls(mer_id, private_key_pem, str(load_certificate(cert_pem).serial_number), **options)

    # -- signing -------------------------------------------------------------------------------------------------

    def sign(self, fields: Mapping[str, object]) -> dict[str, str]:
        """The request as sent: common fields set, blanks dropped, values trimmed (as the Java SDK does), signed."""
        merged = {
            **{k: v for k, v in fields.items() if k != "signature"},
            "version": self.version,
            "encoding": "UTF-8",
            "signMethod": "01",
            "certId": self.cert_id,
        }
        request = {k: str(v).strip() for k, v in merged.items() if v is not None and str(v).strip()}
        _, rsa_hash = _hash_pair(self.version)
        raw = self._private_key.sign(digest_hex(request, self.version).encode("ascii"), padding.PKCS1v15(), rsa_hash())
        request["signature"] = base64.b64encode(raw).decode("ascii")
        return request

    def now(self) -> str:
        """`txnTime`: Beijing time, YYYYMMDDhhmmss."""
        return self._clock().astimezone(BEIJING).strftime("%Y%m%d%H%M%S")

    # -- transport -----------------------------------------------------------------------------------------------

    def url(self, endpoint: str) -> str:
        base = self.base_url if self.base_url.endswith("/gateway/api") else self.base_url + API_PATH.rstrip("/")
        return f"{base}/{endpoint}"

    def post(self, endpoint: str, fields: Mapping[str, object]) -> dict[str, str]:
        """Sign, POST form-urlencoded to `endpoint` (backTransReq.do, queryTrans.do, ...), verify the reply."""
        request = self.sign(fields)
        reply = self._session.post(
            self.url(endpoint),
            data=request,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
            timeout=self.timeout,
        )
        if reply.status_code != 200:  # the demos treat anything but 200 as a failure
            raise UnionPayClientError(f"{endpoint} answered HTTP {reply.status_code}: {reply.text[:200]}")
        try:
            body = reply.content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnionPayClientError(f"{endpoint} answered text that is not UTF-8") from exc
        return self.verify_answer(body)

    def verify_answer(self, body: str) -> dict[str, str]:
        """Parse a synchronous `k=v` answer and verify it; answer its fields, or raise."""
        fields = parse_answer(body)
        if not fields:
            raise UnionPayClientError(f"the answer holds no fields: {body[:200]!r}")
        self.verify(fields)
        mer_id = fields.get("merId")
        if mer_id and mer_id != self.mer_id:
            raise UnionPaySignatureError(f"merId check failed: the answer is for {mer_id}, not {self.mer_id}", fields)
        return fields

    # -- verification --------------------------------------------------------------------------------------------

    def verify(self, fields: Mapping[str, str]) -> None:
        """Checks (a) certificate chain and validity, (b) CN role, (c) signature; raise UnionPaySignatureError."""
        fields = {k: v for k, v in fields.items() if v not in (None, "")}
        signature = fields.get("signature", "")
        if not signature:
            raise UnionPaySignatureError("signature check failed: the message carries no signature", fields)
        version = fields.get("version", self.version)
        if version not in HASHES:
            raise UnionPaySignatureError(f"version check failed: cannot verify version {version!r}", fields)
        if fields.get("signMethod", "01") != "01":
            raise UnionPaySignatureError(
                f"signMethod check failed: {fields['signMethod']!r} is not 01 (RSA certificate)", fields
            )
        cert = self._signing_cert(fields, version)
        self._check_chain(cert, fields)
        self._check_cn(cert, fields)
        _, rsa_hash = HASHES[version]
        try:
            raw = base64.b64decode("".join(signature.split()), validate=True)
            cert.public_key().verify(raw, digest_hex(fields, version).encode("ascii"), padding.PKCS1v15(), rsa_hash())
        except (binascii.Error, ValueError, TypeError, InvalidSignature) as exc:
            raise UnionPaySignatureError(
                "signature check failed: the signature does not verify over the sorted fields with signPubKeyCert",
                fields,
            ) from exc

    def _signing_cert(self, fields: Mapping[str, str], version: str) -> x509.Certificate:
        pem = fields.get("signPubKeyCert", "")
        if pem:
            try:
                return load_certificate(pem)
            except ValueError as exc:
                raise UnionPaySignatureError("signPubKeyCert check failed: not a PEM certificate", fields) from exc
        if version == "5.1.0":
            raise UnionPaySignatureError("signPubKeyCert check failed: a 5.1.0 message must carry it", fields)
        cert_id = fields.get("certId", "")
        if cert_id not in self._verify_certs:
            raise UnionPaySignatureError(f"certId check failed: no verification certificate for {cert_id!r}", fields)
        return self._verify_certs[cert_id]

    def _check_chain(self, cert: x509.Certificate, fields: Mapping[str, str]) -> None:
        now = self._clock()
        links = ((cert, self._middle, "middle"), (self._middle, self._root, "root"))
        for child, issuer, label in links:
            try:
                child.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature) as exc:
                what = "signPubKeyCert" if child is cert else "the configured middle certificate"
                raise UnionPaySignatureError(
                    f"certificate chain check failed: {what} is not issued by the configured {label} certificate",
                    fields,
                ) from exc
        for label, item in (("middle", self._middle), ("root", self._root)):
            if not _is_ca(item):
                raise UnionPaySignatureError(f"certificate chain check failed: the {label} is not a CA", fields)
        for label, item in (("signPubKeyCert", cert), ("middle certificate", self._middle), ("root", self._root)):
            if now < item.not_valid_before_utc:
                raise UnionPaySignatureError(f"certificate validity check failed: {label} is not yet valid", fields)
            if now > item.not_valid_after_utc:
                raise UnionPaySignatureError(
                    f"certificate validity check failed: {label} expired on {item.not_valid_after_utc:%Y-%m-%d}",
                    fields,
                )

    def _check_cn(self, cert: x509.Certificate, fields: Mapping[str, str]) -> None:
        cn = _cn_of(cert)
        parts = cn.split("@")
        role = parts[2] if len(parts) >= 3 else ""
        allowed = {PRODUCTION_CN_ROLE} if self.validate_cn_name else {PRODUCTION_CN_ROLE, TEST_CN_ROLE}
        if role not in allowed:
            raise UnionPaySignatureError(
                f"CN check failed: {cn!r} does not name the UnionPay signing role ({' or '.join(sorted(allowed))})",
                fields,
            )

    # -- front (browser) transactions ---------------------------------------------------------------------------

    def consume_params(
        self,
        order_id: str,
        amount: int,
        front_url: str,
        back_url: str,
        *,
        txn_time: str = "",
        channel_type: str = "07",
        **extra: str,
    ) -> dict[str, str]:
        """The signed fields of a front consume (01/01/000201), as the browser form POSTs them."""
        return self.sign(
            {
                **self._common("01", "01", "000201", channel_type, order_id, txn_time),
                "txnAmt": fen(amount),
                "currencyCode": "156",
                "frontUrl": front_url,
                "backUrl": back_url,
                **extra,
            }
        )

    def consume_form(self, order_id: str, amount: int, front_url: str, back_url: str, **options: str) -> str:
        """An auto-submitting HTML form that POSTs the consume to frontTransReq.do (what the official SDK serves)."""
        return self.front_form(self.consume_params(order_id, amount, front_url, back_url, **options))

    def front_form(self, signed: Mapping[str, str]) -> str:
        inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in signed.items())
        return (
            f'<form id="pay_form" name="pay_form" method="post" accept-charset="UTF-8" '
            f'action="{escape(self.url("frontTransReq.do"))}">{inputs}'
            '<noscript><button type="submit">Continue to UnionPay</button></noscript></form>'
            '<script>document.getElementById("pay_form").submit();</script>'
        )

    # -- back transactions ---------------------------------------------------------------------------------------

    def app_consume(
        self, order_id: str, amount: int, back_url: str, *, txn_time: str = "", **extra: str
    ) -> dict[str, str]:
        """App consume (channelType 08): the verified answer carries `tn` for the app's control."""
        fields = {
            **self._common("01", "01", "000201", "08", order_id, txn_time),
            "txnAmt": fen(amount),
            "currencyCode": "156",
            "backUrl": back_url,
            **extra,
        }
        return self.post("appTransReq.do", fields)

    def query(self, order_id: str, txn_time: str, **extra: str) -> dict[str, str]:
        """Single query by the original orderId and txnTime; respCode is the query's, origRespCode the txn's."""
        fields = {
            "txnType": "00",
            "txnSubType": "00",
            "bizType": "000000",
            "accessType": self.access_type,
            "merId": self.mer_id,
            "orderId": order_id,
            "txnTime": txn_time,
            **extra,
        }
        return self.post("queryTrans.do", fields)

    def refund(
        self, orig_query_id: str, order_id: str, amount: int, back_url: str, *, txn_time: str = "", **extra: str
    ) -> dict[str, str]:
        """Refund (04): a new orderId, up to the original amount; respCode 00 means accepted, not refunded."""
        return self._reverse("04", orig_query_id, order_id, amount, back_url, txn_time, extra)

    def undo(
        self, orig_query_id: str, order_id: str, amount: int, back_url: str, *, txn_time: str = "", **extra: str
    ) -> dict[str, str]:
        """Consume undo (31): same day, full amount; the final result arrives by notification or query."""
        return self._reverse("31", orig_query_id, order_id, amount, back_url, txn_time, extra)

    def _reverse(self, txn_type, orig_query_id, order_id, amount, back_url, txn_time, extra) -> dict[str, str]:
        fields = {
            **self._common(txn_type, "00", "000201", "07", order_id, txn_time),
            "txnAmt": fen(amount),
            "currencyCode": "156",
            "origQryId": orig_query_id,
            "backUrl": back_url,
            **extra,
        }
        return self.post("backTransReq.do", fields)

    def _common(self, txn_type, txn_sub_type, biz_type, channel_type, order_id, txn_time) -> dict[str, str]:
        if not ORDER_ID.match(order_id):
            raise ValueError("orderId is 8 to 40 letters and digits (no '-' or '_')")
        return {
            "txnType": txn_type,
            "txnSubType": txn_sub_type,
            "bizType": biz_type,
            "channelType": channel_type,
            "accessType": self.access_type,
            "merId": self.mer_id,
            "orderId": order_id,
            "txnTime": txn_time or self.now(),
        }

    # -- what UnionPay sends to the merchant ---------------------------------------------------------------------

    def verify_notification(self, form: Mapping[str, str]) -> dict[str, str]:
        """Verify a back (or front) notification, already URL-decoded from its form body; answer its fields.

        Empty fields are dropped before verification. A notification for another merId is refused even if it
        verifies: it was not meant for this merchant.
        """
        fields = {k: v for k, v in dict(form).items() if v not in (None, "")}
        self.verify(fields)
        if fields.get("merId") != self.mer_id:
            raise UnionPaySignatureError(
                f"merId check failed: the notification is for {fields.get('merId')!r}, not {self.mer_id}", fields
            )
        return fields
