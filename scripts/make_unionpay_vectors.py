"""Write fixtures/unionpay/vectors.json: known-answer vectors for UnionPay ACP signing, computed without the sandbox.

Nothing here imports `sandbox` or the reference client. The signing strings are built with plain Python from the
rules in docs/protocols/unionpay.md#signature, the digests with `hashlib`, the signatures with the `cryptography`
package (RSASSA-PKCS1-v1_5 is deterministic, so a signature is a known answer). The tests in
tests/core/test_unionpay_vectors.py check that the sandbox codec and the reference client reproduce every vector.

    python3 scripts/make_unionpay_vectors.py           # (re)write the file
    python3 scripts/make_unionpay_vectors.py --check   # exit 1 if the file is not what this script produces

The keys are the TEST-ONLY fixtures; regenerate the vectors whenever scripts/make_fixtures.py changes them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
OUTPUT = FIXTURES / "unionpay" / "vectors.json"

MERCHANT_KEY = "unionpay/demo/merchant_private_key.pem"
MERCHANT_CERT = "unionpay/demo/merchant_cert.pem"
SANDBOX_KEY = "unionpay/sandbox/sign_private_key.pem"
SANDBOX_CERT = "unionpay/sandbox/sign.pem"

MERCHANT = json.loads((FIXTURES / "unionpay/demo/merchant.json").read_text(encoding="utf-8"))
MER_ID = MERCHANT["merchant_id"]  # 777290058110097
CERT_ID = MERCHANT["cert_id"]  # decimal serial of the demo merchant's signing certificate
TXN_TIME = "20240520131415"
HASHES = {"5.1.0": (hashlib.sha256, hashes.SHA256), "5.0.0": (hashlib.sha1, hashes.SHA1)}


# -- the primitives, written from the spec ----------------------------------------------------------------------


def signing_string(fields: dict[str, str]) -> str:
    """All fields but `signature`, empty values dropped, sorted by key (code points), raw `k=v` joined with `&`."""
    kept = sorted((key, value) for key, value in fields.items() if key != "signature" and value != "")
    return "&".join(key + "=" + value for key, value in kept)


def sign(key_file: str, fields: dict[str, str], version: str) -> tuple[str, str, str]:
    """(signing string, hex digest, signature): RSA-PKCS1v1.5 with the same hash over the ASCII hex digest."""
    text_hash, rsa_hash = HASHES[version]
    text = signing_string(fields)
    digest = text_hash(text.encode("utf-8")).hexdigest()
    key = serialization.load_pem_private_key((FIXTURES / key_file).read_bytes(), password=None)
    raw = key.sign(digest.encode("ascii"), padding.PKCS1v15(), rsa_hash())
    return text, digest, base64.b64encode(raw).decode("ascii")


def vector(name: str, kind: str, description: str, fields: dict[str, str], key_file: str, cert_file: str) -> dict:
    version = fields["version"]
    text, digest, signature = sign(key_file, fields, version)
    signed = {**fields, "signature": signature}
    out = {
        "name": name,
        "kind": kind,
        "description": description,
        "version": version,
        "fields": signed,
        "signing_string": text,
        "digest_hex": digest,
        "signature": signature,
        "key_file": key_file,
        "cert_file": cert_file,
    }
    if kind == "answer":  # a synchronous answer: raw k=v text, not URL-encoded, blank values left out
        out["body"] = "&".join(f"{k}={v}" for k, v in signed.items() if v != "")
    if kind == "notification":  # a back notification: a form-urlencoded POST body
        out["form_body"] = urlencode({k: v for k, v in signed.items() if v != ""})
    return out


# -- vectors ----------------------------------------------------------------------------------------------------


def build() -> dict:
    sign_cert_pem = (FIXTURES / SANDBOX_CERT).read_text()
    common = {"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "certId": CERT_ID, "accessType": "0"}
    consume = {
        **common,
        "txnType": "01",
        "txnSubType": "01",
        "bizType": "000201",
        "channelType": "07",
        "merId": MER_ID,
        "orderId": "VEC20240520000001",
        "txnTime": TXN_TIME,
        "txnAmt": "1000",
        "currencyCode": "156",
        "frontUrl": "https://shop.example/unionpay/return?order=VEC20240520000001&lang=zh",
        "backUrl": "https://shop.example/unionpay/notify",
        "orderDesc": "测试订单 商品A",
        "riskRateInfo": "{commodityName=测试商品&commodityQty=1}",
        "reqReserved": "",
        "payTimeout": "20240520134415",
    }
    query = {
        **common,
        "txnType": "00",
        "txnSubType": "00",
        "bizType": "000000",
        "merId": MER_ID,
        "orderId": "VEC20240520000001",
        "txnTime": TXN_TIME,
    }
    refund_500 = {
        **common,
        "version": "5.0.0",
        "txnType": "04",
        "txnSubType": "00",
        "bizType": "000201",
        "channelType": "07",
        "merId": MER_ID,
        "orderId": "VEC20240520000002",
        "txnTime": "20240520140000",
        "txnAmt": "500",
        "currencyCode": "156",
        "origQryId": "202405201314150000001",
        "backUrl": "https://shop.example/unionpay/notify",
    }
    query_answer = {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "accessType": "0",
        "bizType": "000201",
        "txnType": "01",
        "txnSubType": "01",
        "merId": MER_ID,
        "orderId": "VEC20240520000001",
        "txnTime": TXN_TIME,
        "respCode": "00",
        "respMsg": "成功[0000000]",
        "origRespCode": "00",
        "origRespMsg": "成功[0000000]",
        "queryId": "202405201314150000001",
        "traceNo": "000001",
        "traceTime": "0520131501",
        "settleAmt": "1000",
        "settleCurrencyCode": "156",
        "settleDate": "0520",
        "txnAmt": "1000",
        "currencyCode": "156",
        "accNo": "6216***********0018",
        "payCardType": "01",
        "payType": "0001",
        "reqReserved": "{cart=42&coupon=a+b/c==}",
        "signPubKeyCert": sign_cert_pem,
    }
    consume_notify = {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "accessType": "0",
        "bizType": "000201",
        "txnType": "01",
        "txnSubType": "01",
        "merId": MER_ID,
        "orderId": "VEC20240520000001",
        "txnTime": TXN_TIME,
        "txnAmt": "1000",
        "currencyCode": "156",
        "accNo": "6216***********0018",
        "queryId": "202405201314150000001",
        "respCode": "00",
        "respMsg": "成功[0000000]",
        "settleAmt": "1000",
        "settleCurrencyCode": "156",
        "settleDate": "0520",
        "traceNo": "000001",
        "traceTime": "0520131501",
        "signPubKeyCert": sign_cert_pem,
    }
    vectors = [
        vector(
            "request_consume_510",
            "request",
            "front consume: Chinese orderDesc, riskRateInfo in braces holding '&' and '=', a frontUrl with a query "
            "string, an empty reqReserved left out; SHA-256 hex digest signed with SHA256withRSA",
            consume,
            MERCHANT_KEY,
            MERCHANT_CERT,
        ),
        vector(
            "request_query_510",
            "request",
            "single query by orderId + txnTime of the original consume",
            query,
            MERCHANT_KEY,
            MERCHANT_CERT,
        ),
        vector(
            "request_refund_500_sha1",
            "request",
            "version 5.0.0: SHA-1 over the signing string and SHA1withRSA over the 40-character hex digest",
            refund_500,
            MERCHANT_KEY,
            MERCHANT_CERT,
        ),
        vector(
            "answer_query_510",
            "answer",
            "sandbox query answer: signPubKeyCert (PEM with its newlines) is part of the signed string; reqReserved "
            "in braces holds '&', '=', '+', '/'; respMsg holds brackets",
            query_answer,
            SANDBOX_KEY,
            SANDBOX_CERT,
        ),
        vector(
            "notification_consume_510",
            "notification",
            "back notification of a successful consume, POSTed form-urlencoded ('+' in base64 becomes %2B)",
            consume_notify,
            SANDBOX_KEY,
            SANDBOX_CERT,
        ),
    ]
    return {
        "_comment": "TEST-ONLY known-answer vectors from scripts/make_unionpay_vectors.py; do not edit by hand.",
        "vectors": vectors,
    }


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date; run scripts/make_unionpay_vectors.py", file=sys.stderr)
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(build()['vectors'])} vectors to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
