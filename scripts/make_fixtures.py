"""Regenerate the TEST-ONLY key material in fixtures/ (run once; the output is committed).

Every key written here is public on purpose: it exists so demos and tests work with no set-up.
Never use any of it for real money.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2049, 12, 31, tzinfo=dt.UTC)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pkcs1_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def name(cn: str, ou: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def issue(subject: x509.Name, key, issuer: x509.Name, issuer_key, serial: int, ca: bool) -> str:
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def write(relative: str, text: str) -> None:
    path = FIXTURES / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_alipay() -> None:
    app_key, alipay_key, root_key = new_key(), new_key(), new_key()
    root_name = name("paysandbox Alipay Root CA (TEST ONLY)", "paysandbox", "paysandbox")
    write("alipay/sandbox/alipay_private_key.pem", pkcs1_pem(alipay_key))
    write("alipay/sandbox/alipay_public_key.pem", public_pem(alipay_key))
    write("alipay/sandbox/root_ca_key.pem", pkcs1_pem(root_key))
    write("alipay/sandbox/root_cert.pem", issue(root_name, root_key, root_name, root_key, 1, ca=True))
    alipay_subject = name("paysandbox Alipay (TEST ONLY)", "Alipay Open Platform", "paysandbox")
    write(
        "alipay/sandbox/alipay_public_key_cert.pem",
        issue(alipay_subject, alipay_key, root_name, root_key, 2024000001, ca=False),
    )
    app_id = "2021000000000001"
    write("alipay/demo/app_private_key.pem", pkcs1_pem(app_key))
    write("alipay/demo/app_public_key.pem", public_pem(app_key))
    app_subject = name(app_id, "Alipay Open Platform", "paysandbox demo shop")
    write(
        "alipay/demo/app_public_key_cert.pem",
        issue(app_subject, app_key, root_name, root_key, 2024000002, ca=False),
    )
    merchant = {
        "_comment": "TEST-ONLY demo merchant. Its private key is public; never use it for real money.",
        "gateway": "alipay",
        "merchant_id": app_id,
        "name": "paysandbox demo shop",
        "seller_id": "2088000000000001",
        "app_public_key_file": "app_public_key.pem",
        "app_cert_file": "app_public_key_cert.pem",
        "app_private_key_file": "app_private_key.pem",
    }
    write("alipay/demo/merchant.json", json.dumps(merchant, indent=2, ensure_ascii=False) + "\n")


def pkcs8_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def make_wechatpay() -> None:
    platform_key, pubkey_key, merchant_key = new_key(), new_key(), new_key()
    ca_name = name("paysandbox Tenpay CA (TEST ONLY)", "Tenpay.com CA Center", "Tenpay.com")
    # Serials are what clients match on: the platform's is advertised in Wechatpay-Serial as upper hex.
    platform_serial = 0x5157F09EFDC096DE15EBE81A47057A7232F1B8E1
    platform_subject = name("Tenpay.com sign (TEST ONLY)", "Tenpay.com CA Center", "Tenpay.com")
    write("wechatpay/sandbox/platform_private_key.pem", pkcs8_pem(platform_key))
    write(
        "wechatpay/sandbox/platform_cert.pem",
        issue(platform_subject, platform_key, ca_name, platform_key, platform_serial, ca=False),
    )
    write("wechatpay/sandbox/pub_key_private_key.pem", pkcs8_pem(pubkey_key))
    write("wechatpay/sandbox/pub_key.pem", public_pem(pubkey_key))
    mchid, serial = "1900000109", 0x444F4864EA9B34415BD1F5E5D01F7B2C1A3E5C7D
    merchant_subject = name(mchid, "paysandbox demo shop", "WeChat Pay merchant (TEST ONLY)")
    write("wechatpay/demo/merchant_private_key.pem", pkcs8_pem(merchant_key))
    merchant_cert = issue(merchant_subject, merchant_key, ca_name, platform_key, serial, ca=False)
    write("wechatpay/demo/merchant_cert.pem", merchant_cert)
    merchant = {
        "_comment": "TEST-ONLY demo merchant. Its keys are public; never use them for real money.",
        "gateway": "wechatpay",
        "merchant_id": mchid,
        "appid": "wxd930ea5d5a258f4f",
        "name": "paysandbox demo shop",
        "merchant_serial_no": f"{serial:X}",
        "merchant_private_key_file": "merchant_private_key.pem",
        "merchant_certificate_file": "merchant_cert.pem",
        "apiv3_key": "paysandboxTESTONLYapiv3key000001",
        "api_key": "paysandboxTESTONLYapiv2key000001",
    }
    write("wechatpay/demo/merchant.json", json.dumps(merchant, indent=2, ensure_ascii=False) + "\n")
    sandbox = {
        "_comment": "TEST-ONLY: the sandbox's WeChat Pay platform identity. Public on purpose.",
        "platform_serial_no": f"{platform_serial:X}",
        "public_key_id": "PUB_KEY_ID_0119000000000000000000000000000001",
    }
    write("wechatpay/sandbox/platform.json", json.dumps(sandbox, indent=2) + "\n")


def make_unionpay() -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    root_key, middle_key, sign_key, merchant_key = new_key(), new_key(), new_key(), new_key()
    root_name = name("paysandbox UnionPay Test Root (TEST ONLY)", "paysandbox", "paysandbox")
    middle_name = name("paysandbox UnionPay Test OCA1 (TEST ONLY)", "paysandbox", "paysandbox")
    # The CN format clients check (docs/protocols/unionpay.md#certificates): the third @-part names the test
    # signing role.
    sign_name = name("041@Z2024-01-01@00040000:SIGN@00000001", "paysandbox", "paysandbox")
    write("unionpay/sandbox/root.pem", issue(root_name, root_key, root_name, root_key, 1, ca=True))
    write("unionpay/sandbox/middle.pem", issue(middle_name, middle_key, root_name, root_key, 2, ca=True))
    write("unionpay/sandbox/sign.pem", issue(sign_name, sign_key, middle_name, middle_key, 2024000000001, ca=False))
    write("unionpay/sandbox/sign_private_key.pem", pkcs8_pem(sign_key))
    mer_id, cert_id = "777290058110097", 69629715588  # the official demo's test merchant and certId
    merchant_name = name(mer_id, "paysandbox demo shop", "UnionPay merchant (TEST ONLY)")
    merchant_cert_pem = issue(merchant_name, merchant_key, middle_name, middle_key, cert_id, ca=False)
    write("unionpay/demo/merchant_cert.pem", merchant_cert_pem)
    write("unionpay/demo/merchant_private_key.pem", pkcs8_pem(merchant_key))
    bundle = pkcs12.serialize_key_and_certificates(
        b"acp_test_sign",
        merchant_key,
        x509.load_pem_x509_certificate(merchant_cert_pem.encode()),
        None,
        serialization.BestAvailableEncryption(b"000000"),
    )
    (FIXTURES / "unionpay/demo/acp_test_sign.pfx").write_bytes(bundle)
    merchant = {
        "_comment": "TEST-ONLY demo merchant. Its keys are public; never use them for real money.",
        "gateway": "unionpay",
        "merchant_id": mer_id,
        "name": "paysandbox demo shop",
        "cert_id": str(cert_id),
        "merchant_certificate_file": "merchant_cert.pem",
        "merchant_private_key_file": "merchant_private_key.pem",
        "pkcs12_file": "acp_test_sign.pfx",
        "pkcs12_password": "000000",
    }
    write("unionpay/demo/merchant.json", json.dumps(merchant, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    import sys

    makers = {"alipay": make_alipay, "wechatpay": make_wechatpay, "unionpay": make_unionpay}
    for gateway in sys.argv[1:] or makers:
        makers[gateway]()
