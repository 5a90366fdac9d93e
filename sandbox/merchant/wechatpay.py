"""A reference WeChat Pay client: API v3 (JSON, SHA256withRSA, AES-256-GCM) and the API v2 helpers (XML, MD5/HMAC).

It does what merchants get wrong (docs/protocols/wechatpay-v3.md, docs/protocols/wechatpay-v2.md):

* the request body goes out byte for byte as it was signed (`METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`), and the
  signed URL is the path and query exactly as sent;
* every 2xx answer is verified over its exact text with the key its `Wechatpay-Serial` names: the platform public
  key (`PUB_KEY_ID_...`, public-key mode) or a platform certificate (certificate mode), downloaded from
  `/v3/certificates` and decrypted with the APIv3 key when the serial is not known yet; a merchant in migration
  holds both and gets answers and notifications signed by either;
* WeChat's probe traffic (a `Wechatpay-Signature` starting `WECHATPAY/SIGNTEST/`) is refused like any signature
  that does not verify, with an error that says what it is;
* a notification is verified before it is decrypted, its algorithm must be AEAD_AES_256_GCM, and one for another
  mchid is refused even if it verifies.

Amounts are integer fen. Failures raise WechatPayApiError (the v3 `{code, message}` answer with its HTTP status) or
WechatPaySignatureError (anything that did not verify or decrypt).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sandbox.core import crypto

SCHEME = "WECHATPAY2-SHA256-RSA2048"
AEAD = "AEAD_AES_256_GCM"
PUBLIC_KEY_MODE, CERTIFICATE_MODE = "public_key", "certificate"
PREPAY_KINDS = ("native", "jsapi", "app", "h5", "codepay")
MAX_SKEW = 300  # seconds a signed answer or notification may be away from this host's clock
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"  # WeChat's signature probes (签名探测): refuse them, as any bad signature
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
USER_AGENT = "paysandbox-merchant/0.1 (WeChat Pay API v3)"


class WechatPayClientError(Exception):
    """Base of everything this client raises."""


class WechatPaySignatureError(WechatPayClientError):
    """An answer or notification did not verify, did not decrypt, or was not meant for this merchant."""


@dataclass
class WechatPayApiError(WechatPayClientError):
    """WeChat Pay answered a v3 call with a non-2xx status and its `{code, message, detail}` body."""

    status: int
    code: str
    message: str
    detail: dict = field(default_factory=dict)
    body: str = ""

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def _fen(amount: int, name: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"{name} is integer fen, e.g. 1 for 0.01 yuan")
    if amount <= 0:
        raise ValueError(f"{name} must be above zero fen")
    return amount


def _nonce() -> str:
    return secrets.token_hex(16).upper()


def _segment(value: str) -> str:
    """A path segment, percent-encoded; the signed URL and the sent URL are then the same text."""
    if not value:
        raise ValueError("an id in the path cannot be empty")
    return quote(value, safe="")


def _header(headers: Mapping, name: str) -> str:
    """A header from requests/werkzeug headers, a plain or lower-case dict, or a Django META dict."""
    wanted = name.lower()
    for key, value in headers.items():
        normal = str(key).lower()
        if normal.startswith("http_"):
            normal = normal[5:].replace("_", "-")
        if normal == wanted:
            return str(value)
    return ""


@dataclass(frozen=True)
class _PlatformCert:
    serial: int
    key: object  # a pycryptodome RSA public key
    not_after: datetime
    pem: str

    @classmethod
    def load(cls, pem: str) -> _PlatformCert:
        try:
            cert = x509.load_pem_x509_certificate(pem.encode("utf-8"))
            key = crypto.load_public_key(pem)
        except (ValueError, crypto.KeyFormatError) as exc:
            raise WechatPaySignatureError(f"not a PEM X.509 platform certificate: {exc}") from None
        return cls(cert.serial_number, key, cert.not_valid_after_utc, pem)

    @staticmethod
    def valid_now(pem: str) -> bool:
        cert = x509.load_pem_x509_certificate(pem.encode("utf-8"))
        now = datetime.now(UTC)
        return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


class WechatPayClient:
    """A direct merchant's v3 client.

    Public-key mode: pass `platform_public_key` (PEM) and `public_key_id` ("PUB_KEY_ID_..."); every request then
    carries `Wechatpay-Serial: <public_key_id>` and answers are signed with that key. Certificate mode: leave both
    out; platform certificates come from `platform_certificates` (PEMs) or are downloaded on first need.
    A merchant in migration passes both the public key and `platform_certificates`: whatever WeChat signs with,
    the `Wechatpay-Serial` names a key it holds (certificates it lacks are downloaded). A public-key-only client
    never downloads certificates: WeChat has none for such merchants (/v3/certificates is a 404).
    """

    def __init__(
        self,
        mchid: str,
        appid: str,
        merchant_serial_no: str,
        merchant_private_key: str,
        apiv3_key: str,
        base_url: str,
        *,
        platform_public_key: str = "",
        public_key_id: str = "",
        platform_certificates: tuple[str, ...] | list[str] = (),
        notify_url: str = "",
        timeout: float = 15.0,
        max_skew: int = MAX_SKEW,
        session: requests.Session | None = None,
    ) -> None:
        if bool(platform_public_key) != bool(public_key_id):
            raise ValueError("give both platform_public_key and public_key_id (public-key mode), or neither")
        if len(apiv3_key.encode("utf-8")) != 32:
            raise ValueError("apiv3_key must be 32 bytes")
        self.mchid = mchid
        self.appid = appid
        self.merchant_serial_no = merchant_serial_no.upper()
        self.base_url = base_url.rstrip("/")
        self.notify_url = notify_url
        self.timeout = timeout
        self.max_skew = max_skew
        self.public_key_id = public_key_id
        self.mode = PUBLIC_KEY_MODE if public_key_id else CERTIFICATE_MODE
        self._private_key = crypto.load_private_key(merchant_private_key)
        self._apiv3_key = apiv3_key.encode("utf-8")
        self._public_key = crypto.load_public_key(platform_public_key) if platform_public_key else None
        self._certificates: dict[int, _PlatformCert] = {}
        for pem in platform_certificates:
            self._keep(_PlatformCert.load(pem))
        self._downloads_certificates = self.mode == CERTIFICATE_MODE or bool(platform_certificates)
        self._session = session or requests.Session()
        self._session.trust_env = False

    # -- signing requests ------------------------------------------------------------------------

    def authorization(self, method: str, url: str, body: str, timestamp: int | None = None, nonce: str = "") -> str:
        """The Authorization header over `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n` (URL: path and query)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or _nonce()
        message = f"{method}\n{url}\n{stamp}\n{nonce}\n{body}\n"
        signature = crypto.sign(self._private_key, message.encode("utf-8"))
        return (
            f'{SCHEME} mchid="{self.mchid}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{stamp}",serial_no="{self.merchant_serial_no}"'
        )

    def sign_lines(self, *lines: str) -> str:
        """SHA256withRSA over each line followed by a newline: what the JSAPI and APP pay calls check."""
        return crypto.sign(self._private_key, "".join(f"{line}\n" for line in lines).encode("utf-8"))

    # -- transport -------------------------------------------------------------------------------

    def _send(self, method: str, url: str, body: Mapping | None = None, target: str = "") -> requests.Response:
        """Sign and send. `url` is the path and query as signed; `target` (a full URL) overrides where it goes."""
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": self.authorization(method, url, text),
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.mode == PUBLIC_KEY_MODE:
            headers["Wechatpay-Serial"] = self.public_key_id
        return self._session.request(
            method,
            target or self.base_url + url,
            data=text.encode("utf-8") if body is not None else None,
            headers=headers,
            timeout=self.timeout,
            allow_redirects=False,
        )

    def _call(self, method: str, url: str, body: Mapping | None = None) -> tuple[int, str]:
        """(status, text) of a verified 2xx answer; WechatPayApiError for anything else."""
        reply = self._send(method, url, body)
        text = _text(reply)
        if not 200 <= reply.status_code < 300:
            raise _api_error(reply.status_code, text)
        self.verify(reply.headers, text)
        return reply.status_code, text

    def _json(self, method: str, url: str, body: Mapping | None = None) -> dict:
        _, text = self._call(method, url, body)
        return _object(text) if text else {}

    # -- verifying what WeChat Pay sends ----------------------------------------------------------

    def verify(self, headers: Mapping, body: str | bytes) -> None:
        """Check the five Wechatpay-* headers of an answer or notification against its exact body; raise if bad."""
        self._verify(headers, body, None, refresh=True)

    def _verify(self, headers: Mapping, body: str | bytes, extra: dict | None, refresh: bool) -> None:
        if isinstance(body, bytes):
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                raise WechatPaySignatureError("the signed body is not UTF-8") from None
        kind = _header(headers, "Wechatpay-Signature-Type")
        if kind != SCHEME:
            raise WechatPaySignatureError(f"unsupported Wechatpay-Signature-Type {kind!r} (expected {SCHEME})")
        values = {n: _header(headers, f"Wechatpay-{n}") for n in ("Signature", "Timestamp", "Nonce", "Serial")}
        missing = [f"Wechatpay-{n}" for n, v in values.items() if not v]
        if missing:
            raise WechatPaySignatureError(f"the message is not signed: {', '.join(missing)} missing")
        if values["Signature"].startswith(PROBE_PREFIX):
            raise WechatPaySignatureError(
                f"Wechatpay-Signature starts with {PROBE_PREFIX}: WeChat Pay's signature probe (签名探测), sent to "
                "check that merchants verify; it is no signature (refuse such a notification with a non-2xx answer)"
            )
        if not UNIX_SECONDS.fullmatch(values["Timestamp"]):
            raise WechatPaySignatureError(f"Wechatpay-Timestamp {values['Timestamp'][:64]!r} is not unix seconds")
        stamp = int(values["Timestamp"])
        if abs(time.time() - stamp) > self.max_skew:
            raise WechatPaySignatureError(
                f"Wechatpay-Timestamp {stamp} is more than {self.max_skew} s away from this host's clock (a replay?)"
            )
        key = self._platform_key(values["Serial"], extra, refresh)
        message = f"{values['Timestamp']}\n{values['Nonce']}\n{body}\n".encode()
        if not crypto.verify(key, message, values["Signature"]):
            raise WechatPaySignatureError(
                f"the signature does not verify with the platform key {values['Serial']} (SHA256withRSA)"
            )

    def _platform_key(self, serial: str, extra: dict | None, refresh: bool):
        if self._public_key is not None and serial == self.public_key_id:
            return self._public_key
        number = int(serial, 16) if re.fullmatch(r"[0-9A-Fa-f]{1,64}", serial) else None
        found = (extra or {}).get(number) or self._certificates.get(number)
        why = ""
        if found is None and number is not None and refresh and self._downloads_certificates:
            try:
                self.download_certificates()
            except WechatPayClientError as exc:
                why = f"; /v3/certificates did not supply it: {exc}"
            found = self._certificates.get(number)
        if found is None:
            held = [self.public_key_id] if self._public_key is not None else []
            held += [f"{n:X}" for n in self._certificates]
            raise WechatPaySignatureError(
                f"Wechatpay-Serial {serial[:64]} names no key this client holds ({', '.join(held) or 'none'}){why}"
                f"{_migration_hint(serial, self._public_key is not None)}"
            )
        return found.key

    def _keep(self, cert: _PlatformCert) -> None:
        if _PlatformCert.valid_now(cert.pem):
            self._certificates[cert.serial] = cert

    @property
    def platform_serial_nos(self) -> list[str]:
        """Serials (upper hex) of the platform certificates held, newest expiry first."""
        held = sorted(self._certificates.values(), key=lambda c: c.not_after, reverse=True)
        return [f"{c.serial:X}" for c in held]

    def download_certificates(self) -> list[str]:
        """GET /v3/certificates, decrypt each certificate with the APIv3 key, verify the answer, keep the valid ones.

        Certificate mode bootstraps here: the answer is signed with a key it carries, so it is checked against
        the certificates it holds (or, in public-key mode, against the platform public key). Answers the PEMs.
        """
        url = "/v3/certificates"
        reply = self._send("GET", url)
        text = _text(reply)
        if reply.status_code != 200:
            raise _api_error(reply.status_code, text)
        items = _object(text).get("data")
        if not isinstance(items, list) or not items:
            raise WechatPayClientError("the certificate list is empty")
        fresh: dict[int, _PlatformCert] = {}
        for item in items:
            encrypted = item.get("encrypt_certificate") if isinstance(item, dict) else None
            if not isinstance(encrypted, dict):
                raise WechatPayClientError(f"a certificate entry has no encrypt_certificate: {item!r:.200}")
            cert = _PlatformCert.load(self.decrypt_resource(encrypted))
            fresh[cert.serial] = cert
        self._verify(reply.headers, text, fresh, refresh=False)
        for cert in fresh.values():
            self._keep(cert)
        return [cert.pem for cert in fresh.values()]

    def decrypt_resource(self, resource: Mapping) -> str:
        """AEAD_AES_256_GCM with the APIv3 key: the plaintext of a notification resource or a certificate."""
        algorithm = resource.get("algorithm")
        if algorithm != AEAD:
            raise WechatPaySignatureError(f"unknown algorithm {algorithm!r}: only {AEAD} is supported")
        nonce, ciphertext = str(resource.get("nonce") or ""), str(resource.get("ciphertext") or "")
        associated = str(resource.get("associated_data") or "")
        if not (nonce and ciphertext):
            raise WechatPaySignatureError("the encrypted resource lacks nonce or ciphertext")
        try:
            plain = AESGCM(self._apiv3_key).decrypt(
                nonce.encode("utf-8"), base64.b64decode(ciphertext, validate=True), associated.encode("utf-8")
            )
            return plain.decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error):
            raise WechatPaySignatureError(
                "the resource does not decrypt with this APIv3 key (wrong key, or the ciphertext was altered)"
            ) from None

    def parse_notification(self, headers: Mapping, body: str | bytes) -> dict:
        """Verify and decrypt a notification; answer its body with `resource` replaced by the plaintext object.

        Refused (WechatPaySignatureError): a bad or stale signature, an algorithm other than AEAD_AES_256_GCM, a
        resource that does not decrypt, and a resource for another mchid. Acknowledge with HTTP 200 or 204.
        """
        self.verify(headers, body)
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        document = _object(text)
        if document.get("resource_type") != "encrypt-resource":
            raise WechatPaySignatureError(f"unknown resource_type {document.get('resource_type')!r}")
        resource = document.get("resource")
        if not isinstance(resource, dict):
            raise WechatPaySignatureError("the notification has no resource object")
        content = _object(self.decrypt_resource(resource))
        owner = content.get("mchid") or content.get("sp_mchid")
        if owner != self.mchid:
            raise WechatPaySignatureError(f"the notification is for mchid {owner}, not {self.mchid}")
        return {**document, "resource": content}

    # -- client-side pay parameters ----------------------------------------------------------------

    def jsapi_pay_params(self, prepay_id: str, appid: str = "") -> dict[str, str]:
        """What a JSAPI page or mini-program hands to WeixinJSBridge / wx.requestPayment."""
        appid = appid or self.appid
        stamp, nonce, package = str(int(time.time())), _nonce(), f"prepay_id={prepay_id}"
        return {
            "appId": appid,
            "timeStamp": stamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self.sign_lines(appid, stamp, nonce, package),
        }

    def app_pay_params(self, prepay_id: str, appid: str = "") -> dict[str, str]:
        """What an app hands to the WeChat SDK's PayReq."""
        appid = appid or self.appid
        stamp, nonce = str(int(time.time())), _nonce()
        return {
            "appid": appid,
            "partnerid": self.mchid,
            "prepayid": prepay_id,
            "package": "Sign=WXPay",
            "noncestr": nonce,
            "timestamp": stamp,
            "sign": self.sign_lines(appid, stamp, nonce, prepay_id),
        }

    # -- payments -----------------------------------------------------------------------------------

    def prepay(
        self, kind: str, out_trade_no: str, amount: int, description: str, *, notify_url: str = "", **fields
    ) -> dict:
        """POST /v3/pay/transactions/{kind}; `fields` adds payer, scene_info, time_expire, attach, ... as given."""
        if kind not in PREPAY_KINDS:
            raise ValueError(f"kind must be one of {', '.join(PREPAY_KINDS)}")
        body: dict = {}
        if kind != "codepay":
            body["notify_url"] = notify_url or self.notify_url
            if not body["notify_url"]:
                raise ValueError("notify_url is required (here or on the client)")
        body.update(description=description, out_trade_no=out_trade_no, amount={"total": _fen(amount)})
        body["amount"]["currency"] = "CNY"
        body.update({k: v for k, v in fields.items() if v is not None})
        body.update(appid=self.appid, mchid=self.mchid)
        return self._json("POST", f"/v3/pay/transactions/{kind}", body)

    def native_prepay(self, out_trade_no: str, amount: int, description: str, **fields) -> dict:
        """Answers {"code_url": "weixin://wxpay/bizpayurl?pr=..."}: show it as a QR code."""
        return self.prepay("native", out_trade_no, amount, description, **fields)

    def jsapi_prepay(self, out_trade_no: str, amount: int, description: str, openid: str, **fields) -> dict:
        """Answers {"prepay_id": "wx..."}; `jsapi_pay_params(prepay_id)` makes what the page needs."""
        return self.prepay("jsapi", out_trade_no, amount, description, payer={"openid": openid}, **fields)

    def app_prepay(self, out_trade_no: str, amount: int, description: str, **fields) -> dict:
        """Answers {"prepay_id": "wx..."}; `app_pay_params(prepay_id)` makes what the app needs."""
        return self.prepay("app", out_trade_no, amount, description, **fields)

    def h5_prepay(
        self, out_trade_no: str, amount: int, description: str, payer_client_ip: str, *, h5_type: str = "Wap", **fields
    ) -> dict:
        """Answers {"h5_url": ...}: send the mobile browser there."""
        scene = {"payer_client_ip": payer_client_ip, "h5_info": {"type": h5_type}}
        return self.prepay("h5", out_trade_no, amount, description, scene_info=scene, **fields)

    def codepay(self, out_trade_no: str, amount: int, description: str, auth_code: str, **fields) -> dict:
        """Charge a payment code. Answers the transaction; while the buyer confirms (HTTP 202 USERPAYING) it answers
        {"out_trade_no", "trade_state": "USERPAYING", "trade_state_desc"}: poll `query` until it settles."""
        status, text = self._call(
            "POST",
            "/v3/pay/transactions/codepay",
            {
                "description": description,
                "out_trade_no": out_trade_no,
                "amount": {"total": _fen(amount), "currency": "CNY"},
                "payer": {"auth_code": auth_code},
                **{k: v for k, v in fields.items() if v is not None},
                "appid": self.appid,
                "mchid": self.mchid,
            },
        )
        answer = _object(text)
        if status == 202:
            desc = answer.get("message", "")
            return {"out_trade_no": out_trade_no, "trade_state": "USERPAYING", "trade_state_desc": desc}
        return answer

    def query(self, out_trade_no: str = "", transaction_id: str = "") -> dict:
        if bool(out_trade_no) == bool(transaction_id):
            raise ValueError("give out_trade_no or transaction_id (one of them)")
        path = (
            f"/v3/pay/transactions/out-trade-no/{_segment(out_trade_no)}"
            if out_trade_no
            else f"/v3/pay/transactions/id/{_segment(transaction_id)}"
        )
        return self._json("GET", f"{path}?{urlencode({'mchid': self.mchid})}")

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid order (HTTP 204)."""
        self._call("POST", f"/v3/pay/transactions/out-trade-no/{_segment(out_trade_no)}/close", {"mchid": self.mchid})

    def reverse(self, out_trade_no: str) -> dict:
        """Cancel a payment-code order: unpaid it is revoked, paid the money goes back to the buyer."""
        path = f"/v3/pay/transactions/out-trade-no/{_segment(out_trade_no)}/reverse"
        return self._json("POST", path, {"appid": self.appid, "mchid": self.mchid})

    # -- refunds --------------------------------------------------------------------------------------

    def refund(
        self,
        out_refund_no: str,
        amount: int,
        total: int,
        *,
        out_trade_no: str = "",
        transaction_id: str = "",
        reason: str = "",
        notify_url: str = "",
        funds_account: str = "",
    ) -> dict:
        """A (partial) refund of `amount` fen of an order of `total` fen. WeChat answers PROCESSING; the outcome
        comes later in a REFUND.* notification or through `query_refund`."""
        if bool(out_trade_no) == bool(transaction_id):
            raise ValueError("give out_trade_no or transaction_id (one of them)")
        body: dict = {}
        if notify_url or self.notify_url:
            body["notify_url"] = notify_url or self.notify_url
        body["out_refund_no"] = out_refund_no
        body["amount"] = {"refund": _fen(amount), "total": _fen(total, "total"), "currency": "CNY"}
        body.update({"transaction_id": transaction_id} if transaction_id else {"out_trade_no": out_trade_no})
        if reason:
            body["reason"] = reason
        if funds_account:
            body["funds_account"] = funds_account
        return self._json("POST", "/v3/refund/domestic/refunds", body)

    def query_refund(self, out_refund_no: str) -> dict:
        return self._json("GET", f"/v3/refund/domestic/refunds/{_segment(out_refund_no)}")

    # -- bills ----------------------------------------------------------------------------------------

    def trade_bill(self, bill_date: str, bill_type: str = "ALL", tar_type: str = "GZIP") -> dict:
        """Answers {hash_type, hash_value, download_url} for a past day (yyyy-MM-dd)."""
        query = {"bill_date": bill_date, "bill_type": bill_type, **({"tar_type": tar_type} if tar_type else {})}
        return self._json("GET", f"/v3/bill/tradebill?{urlencode(query)}")

    def download_bill(self, download_url: str, hash_value: str = "", hash_type: str = "SHA1") -> bytes:
        """The bill file, gunzipped when compressed, checked against `hash_value` (of the uncompressed file).

        The download request is signed like any call; WeChat does not sign the file it answers.
        """
        parts = urlsplit(download_url)
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        target = download_url if parts.scheme else self.base_url + url
        reply = self._send("GET", url, target=target)
        if reply.status_code != 200:
            raise _api_error(reply.status_code, _text(reply))
        data = reply.content
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise WechatPayClientError(f"the bill is not a valid gzip file: {exc}") from None
        if hash_value:
            digest = hashlib.new(hash_type.lower().replace("-", ""), data).hexdigest()
            if not hmac.compare_digest(digest.encode(), hash_value.lower().encode("utf-8", "surrogatepass")):
                raise WechatPaySignatureError(
                    f"the bill's {hash_type} is {digest}, the trade_bill answer said {hash_value}"
                )
        return data


def _migration_hint(serial: str, holds_public_key: bool) -> str:
    """What a client holding one kind of key should do when WeChat signs with the other (the 2024 migration)."""
    if serial.startswith("PUB_KEY_ID_") and not holds_public_key:
        return (
            ". This merchant signs with the WeChat Pay public key: pass platform_public_key and public_key_id "
            "(and keep platform_certificates while it migrates)"
        )
    if not serial.startswith("PUB_KEY_ID_") and holds_public_key:
        return ". This merchant signs with a platform certificate: pass platform_certificates as well (migration)"
    return ""


def _text(reply: requests.Response) -> str:
    try:
        return reply.content.decode("utf-8")
    except UnicodeDecodeError:
        raise WechatPayClientError(f"HTTP {reply.status_code} answer is not UTF-8") from None


def _object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise WechatPayClientError(f"not JSON: {text[:200]!r}") from None
    if not isinstance(value, dict):
        raise WechatPayClientError(f"not a JSON object: {text[:200]!r}")
    return value


def _api_error(status: int, text: str) -> WechatPayApiError:
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return WechatPayApiError(status, "HTTP_ERROR", text[:200], {}, text)
    detail = body.get("detail") if isinstance(body.get("detail"), dict) else {}
    return WechatPayApiError(status, str(body.get("code", "")), str(body.get("message", "")), detail, text)
