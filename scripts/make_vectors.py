"""Write fixtures/alipay/vectors.json: known-answer vectors for Alipay signing, computed without the sandbox.

Nothing here imports `sandbox`. The canonical strings are built with plain Python from the rules in
docs/protocols/alipay.md#signing-requests, the signatures with the `cryptography` package (RSASSA-PKCS1-v1_5 is
deterministic, so a signature is a known answer), and the certificate SNs from `cryptography`'s X.509 parser by
dotted OID. The tests in tests/core/test_signing_vectors.py check that the sandbox reproduces every vector exactly.

    python3 scripts/make_vectors.py           # (re)write the file
    python3 scripts/make_vectors.py --check   # exit 1 if the file is not what this script produces

The keys are the TEST-ONLY fixtures; regenerate the vectors whenever scripts/make_fixtures.py changes them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
OUTPUT = FIXTURES / "alipay" / "vectors.json"

APP_PRIVATE_KEY = "alipay/demo/app_private_key.pem"
APP_PUBLIC_KEY = "alipay/demo/app_public_key.pem"
ALIPAY_PRIVATE_KEY = "alipay/sandbox/alipay_private_key.pem"
ALIPAY_PUBLIC_KEY = "alipay/sandbox/alipay_public_key.pem"

APP_ID = "2021000000000001"  # the demo merchant (fixtures/alipay/demo/merchant.json)
SELLER_ID = "2088000000000001"
TIMESTAMP = "2024-05-20 13:14:15"
HASHES = {"RSA2": hashes.SHA256, "RSA": hashes.SHA1}

# The OIDs of the issuer attributes in the SN string, in Alipay's order (X.520: 2.5.4.x).
ISSUER_OIDS = (("CN", "2.5.4.3"), ("OU", "2.5.4.11"), ("O", "2.5.4.10"), ("C", "2.5.4.6"))
RSA_SIGNATURE_OIDS = {
    "1.2.840.113549.1.1.4",  # md5WithRSAEncryption
    "1.2.840.113549.1.1.5",  # sha1WithRSAEncryption
    "1.2.840.113549.1.1.11",  # sha256WithRSAEncryption
    "1.2.840.113549.1.1.12",  # sha384WithRSAEncryption
    "1.2.840.113549.1.1.13",  # sha512WithRSAEncryption
}


# -- the two primitives, written from the spec ------------------------------------------------------


def canonical(params: dict[str, str], exclude: tuple[str, ...]) -> str:
    """Drop the excluded keys and empty values, sort by key (code points), join raw `k=v` with `&`."""
    kept = [(key, value) for key, value in params.items() if key not in exclude and value != ""]
    kept.sort(key=lambda pair: pair[0])
    return "&".join(key + "=" + value for key, value in kept)


def rsa_sign(key_file: str, text: str, sign_type: str) -> str:
    key = serialization.load_pem_private_key((FIXTURES / key_file).read_bytes(), password=None)
    raw = key.sign(text.encode("utf-8"), padding.PKCS1v15(), HASHES[sign_type]())
    return base64.b64encode(raw).decode("ascii")


def fzlee_biz(content: dict) -> str:
    """python-alipay-sdk: insertion order, compact, non-ASCII escaped as \\uXXXX."""
    return json.dumps(content, separators=(",", ":"))


def official_biz(content: dict) -> str:
    """alipay-sdk-python: sorted keys, compact, raw UTF-8."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# -- vectors ---------------------------------------------------------------------------------------


def request_vector(name: str, description: str, params: dict[str, str]) -> dict:
    """A gateway.do request as the SDK sends it, `sign` included; signed with the app key over all but `sign`."""
    sign_type = params["sign_type"]
    text = canonical(params, exclude=("sign",))
    signature = rsa_sign(APP_PRIVATE_KEY, text, sign_type)
    return {
        "name": name,
        "kind": "request",
        "description": description,
        "params": {**params, "sign": signature},
        "exclude": ["sign"],
        "canonical": text,
        "sign_type": sign_type,
        "key_file": APP_PRIVATE_KEY,
        "verify_key_file": APP_PUBLIC_KEY,
        "signature": signature,
    }


def notification_vector(name: str, description: str, fields: dict[str, str], sign_type: str) -> dict:
    """A notification or return_url query as sent: signed with the Alipay key over all but `sign` and `sign_type`."""
    params = {**fields, "sign_type": sign_type}
    text = canonical(params, exclude=("sign", "sign_type"))
    signature = rsa_sign(ALIPAY_PRIVATE_KEY, text, sign_type)
    return {
        "name": name,
        "kind": "notification",
        "description": description,
        "params": {**params, "sign": signature},
        "exclude": ["sign", "sign_type"],
        "canonical": text,
        "sign_type": sign_type,
        "key_file": ALIPAY_PRIVATE_KEY,
        "verify_key_file": ALIPAY_PUBLIC_KEY,
        "signature": signature,
    }


def response_vector(name: str, description: str, method: str, inner: dict, sign_type: str) -> dict:
    """A gateway.do answer: the inner object text is signed byte for byte, and `sign` follows it directly."""
    key = method.replace(".", "_") + "_response"
    text = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
    if "{" in text[1:-1] or "}" in text[1:-1]:
        raise ValueError("keep braces out of response vectors: the sandbox escapes them inside strings")
    signature = rsa_sign(ALIPAY_PRIVATE_KEY, text, sign_type)
    return {
        "name": name,
        "kind": "response",
        "description": description,
        "method": method,
        "response_key": key,
        "params": inner,
        "canonical": text,
        "body": '{"' + key + '":' + text + ',"sign":"' + signature + '"}',
        "sign_type": sign_type,
        "key_file": ALIPAY_PRIVATE_KEY,
        "verify_key_file": ALIPAY_PUBLIC_KEY,
        "signature": signature,
    }


def issuer_string(cert: x509.Certificate) -> str:
    """`CN=..,OU=..,O=..,C=..` of the issuer; an absent attribute is the literal `None` (as python-alipay-sdk)."""
    found: dict[str, str] = {}
    for rdn in cert.issuer.rdns:
        for attribute in rdn:
            found.setdefault(attribute.oid.dotted_string, str(attribute.value))
    return ",".join(f"{label}={found.get(oid, 'None')}" for label, oid in ISSUER_OIDS)


def sn_of(cert: x509.Certificate) -> str:
    return hashlib.md5((issuer_string(cert) + str(cert.serial_number)).encode("utf-8")).hexdigest()


def cert_sn_vector(name: str, description: str, cert_file: str, root_bundle: bool) -> dict:
    text = (FIXTURES / cert_file).read_text()
    if root_bundle:
        # The root bundle rule: split on blank lines, keep RSA-signed certificates, join their SNs with "_".
        blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n") if "BEGIN CERTIFICATE" in block]
        certs = [x509.load_pem_x509_certificate(block.encode()) for block in blocks]
        rsa_certs = [cert for cert in certs if cert.signature_algorithm_oid.dotted_string in RSA_SIGNATURE_OIDS]
        sn = "_".join(sn_of(cert) for cert in rsa_certs)
        first = rsa_certs[0]
    else:
        first = x509.load_pem_x509_certificate(text.encode())
        sn = sn_of(first)
    return {
        "name": name,
        "kind": "cert_sn",
        "description": description,
        "cert_file": cert_file,
        "root_bundle": root_bundle,
        "issuer": issuer_string(first),
        "serial": str(first.serial_number),
        "sn": sn,
    }


def build() -> dict:
    fzlee_page_pay = {
        "app_id": APP_ID,
        "method": "alipay.trade.page.pay",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": TIMESTAMP,
        "version": "1.0",
        "biz_content": fzlee_biz(
            {
                "subject": "测试订单 商品A",
                "out_trade_no": "VEC20240520-0001",
                "total_amount": 0.01,
                "product_code": "FAST_INSTANT_TRADE_PAY",
            }
        ),
        "notify_url": "https://shop.example/alipay/notify",
        "return_url": "https://shop.example/return?order=VEC20240520-0001&lang=zh",
    }
    official_precreate = {
        "app_id": APP_ID,
        "method": "alipay.trade.precreate",
        "format": "json",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": TIMESTAMP,
        "version": "1.0",
        "notify_url": "https://shop.example/alipay/notify",
        "biz_content": official_biz(
            {
                "out_trade_no": "VEC20240520-0002",
                "total_amount": "88.88",
                "subject": "扫码点餐 桌号7",
                "body": "宫保鸡丁 x1",
                "timeout_express": "90m",
            }
        ),
    }
    fzlee_query_sha1 = {
        "app_id": APP_ID,
        "method": "alipay.trade.query",
        "charset": "utf-8",
        "sign_type": "RSA",
        "timestamp": TIMESTAMP,
        "version": "1.0",
        "biz_content": fzlee_biz({"out_trade_no": "VEC20240520-0003"}),
    }
    with_empties = {
        "app_id": APP_ID,
        "method": "alipay.trade.refund",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": TIMESTAMP,
        "version": "1.0",
        "notify_url": "",
        "app_auth_token": "",
        "biz_content": official_biz(
            {"out_trade_no": "VEC20240520-0004", "refund_amount": "1.00", "out_request_no": "R1", "refund_reason": ""}
        ),
    }
    notification = {
        "notify_time": "2024-05-20 13:15:02",
        "notify_type": "trade_status_sync",
        "notify_id": "2024abcdefghijklmnopqrstuvwxyz0123",
        "app_id": APP_ID,
        "auth_app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2024052022000000000000000001",
        "out_trade_no": "VEC20240520-0001",
        "buyer_id": "2088000000000099",
        "buyer_logon_id": "sbx***@sandbox.example",
        "seller_id": SELLER_ID,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "0.01",
        "receipt_amount": "0.01",
        "invoice_amount": "0.01",
        "buyer_pay_amount": "0.01",
        "point_amount": "0.00",
        "subject": "测试订单 商品A",
        "gmt_create": "2024-05-20 13:14:16",
        "gmt_payment": "2024-05-20 13:15:01",
        "fund_bill_list": '[{"amount":"0.01","fundChannel":"ALIPAYACCOUNT"}]',
        "passback_params": "cart=42&coupon=none",
    }
    return_query = {
        "charset": "utf-8",
        "out_trade_no": "VEC20240520-0001",
        "method": "alipay.trade.page.pay.return",
        "total_amount": "0.01",
        "trade_no": "2024052022000000000000000001",
        "auth_app_id": APP_ID,
        "version": "1.0",
        "app_id": APP_ID,
        "seller_id": SELLER_ID,
        "timestamp": "2024-05-20 13:15:03",
    }
    vectors = [
        request_vector(
            "request_fzlee_page_pay_rsa2",
            "python-alipay-sdk page.pay: biz_content in insertion order with \\uXXXX-escaped Chinese and a JSON "
            "number amount; a return_url whose raw value holds '&' and '='; sign excluded, sign_type included",
            fzlee_page_pay,
        ),
        request_vector(
            "request_official_precreate_rsa2",
            "alipay-sdk-python precreate: format=json, biz_content with sorted keys and raw UTF-8 Chinese",
            official_precreate,
        ),
        request_vector(
            "request_fzlee_query_rsa_sha1",
            "sign_type RSA means SHA1withRSA, and the sign_type value itself is part of the signed string",
            fzlee_query_sha1,
        ),
        request_vector(
            "request_empty_values_dropped",
            "notify_url and app_auth_token are empty: they are left out of the signed string (an empty value "
            "inside biz_content is part of the JSON text and stays)",
            with_empties,
        ),
        notification_vector(
            "notification_trade_success_rsa2",
            "async notification: sign and sign_type both excluded; fund_bill_list is signed as the JSON text sent",
            notification,
            "RSA2",
        ),
        notification_vector(
            "return_url_page_pay_rsa_sha1",
            "return_url query after page.pay, signed like a notification with SHA1withRSA",
            return_query,
            "RSA",
        ),
        response_vector(
            "response_precreate_rsa2",
            "success answer: the inner object text is signed as is; '/' is not escaped",
            "alipay.trade.precreate",
            {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": "VEC20240520-0002",
                "qr_code": "https://qr.alipay.com/bax08431ynqq1wfnu2ap0070",
            },
            "RSA2",
        ),
        response_vector(
            "response_trade_not_exist_rsa_sha1",
            "business failure answer, signed too, with raw UTF-8 Chinese in sub_msg, SHA1withRSA",
            "alipay.trade.query",
            {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "ACQ.TRADE_NOT_EXIST",
                "sub_msg": "交易不存在",
                "out_trade_no": "VEC20240520-0003",
                "buyer_pay_amount": "0.00",
            },
            "RSA",
        ),
        cert_sn_vector(
            "app_cert_sn_demo",
            "app_cert_sn of the demo app certificate: md5(issuer CN,OU,O,C + decimal serial)",
            "alipay/demo/app_public_key_cert.pem",
            root_bundle=False,
        ),
        cert_sn_vector(
            "alipay_cert_sn_sandbox",
            "SN of the sandbox's Alipay public-key certificate (alipay_cert_sn in cert-mode answers)",
            "alipay/sandbox/alipay_public_key_cert.pem",
            root_bundle=False,
        ),
        cert_sn_vector(
            "alipay_root_cert_sn_sandbox",
            "alipay_root_cert_sn of the sandbox root bundle: RSA-signed certificates' SNs joined with '_'",
            "alipay/sandbox/root_cert.pem",
            root_bundle=True,
        ),
    ]
    return {
        "_comment": "TEST-ONLY known-answer vectors from scripts/make_vectors.py; do not edit by hand.",
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
            print(f"{OUTPUT.relative_to(ROOT)} is out of date; run scripts/make_vectors.py", file=sys.stderr)
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(build()['vectors'])} vectors to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
