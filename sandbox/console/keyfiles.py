"""What a merchant's client needs to connect, as files: the keys.zip, its README.txt and merchant.json, and the
SDK configuration snippets the merchants page shows.

Public material comes from the control API's description of the merchant. Private keys come only from fixtures/
(the TEST-ONLY demo merchants) or from a key pair the console has just generated; the sandbox never keeps one.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sandbox.core import crypto
from sandbox.core.models import DEFAULT_NAMESPACE

# The fixtures/<gateway>/demo files a demo merchant's client uses, by the name they take in the zip.
DEMO_PRIVATE = {
    "alipay": {"app_private_key.pem": "app_private_key_file"},
    "wechatpay": {"merchant_private_key.pem": "merchant_private_key_file"},
    "unionpay": {"merchant_private_key.pem": "merchant_private_key_file", "acp_test_sign.pfx": "pkcs12_file"},
}
# The private key file whose public half tells a demo merchant from one registered under the same id.
DEMO_KEY = {"alipay": "app_private_key_file", "wechatpay": "merchant_private_key_file"}
DEMO_KEY["unionpay"] = "merchant_private_key_file"
MERCHANT_KEY = {"alipay": "app_public_key", "wechatpay": "merchant_public_key", "unionpay": "merchant_certificate"}
# The public files, by their name in the zip: (the description's field, what it is).
PUBLIC_FILES = {
    "alipay": {
        "app_public_key.pem": ("app_public_key", "the app's public key, as registered"),
        "app_public_key_cert.pem": ("app_cert", "the app's certificate (cert mode; issued by the sandbox if none)"),
        "alipay_public_key.pem": ("alipay_public_key", "the sandbox's Alipay public key: verifies its answers"),
        "alipay_public_key_cert.pem": ("alipay_public_key_cert", "the Alipay public-key certificate (cert mode)"),
        "alipay_root_cert.pem": ("alipay_root_cert", "the Alipay root certificate (cert mode)"),
    },
    "wechatpay": {
        "merchant_public_key.pem": ("merchant_public_key", "the merchant's public key, as registered"),
        "merchant_cert.pem": ("merchant_certificate", "the merchant's certificate, as registered"),
        "platform_public_key.pem": ("platform_public_key", "public-key mode: verifies answers (with public_key_id)"),
        "platform_cert.pem": ("platform_certificate", "certificate mode: the platform certificate"),
    },
    "unionpay": {
        "merchant_cert.pem": ("merchant_certificate", "the merchant's signing certificate (its serial is the certId)"),
        "root.pem": ("root_certificate", "the sandbox's UnionPay root CA: checks answers"),
        "middle.pem": ("middle_certificate", "the sandbox's UnionPay middle CA: checks answers"),
        "sign.pem": ("signing_certificate", "the sandbox's signing certificate (answers also carry it)"),
    },
}
PRIVATE_NOTES = {
    "app_private_key.pem": "the app's PRIVATE key (PKCS#1, both Alipay SDKs accept it)",
    "merchant_private_key.pem": "the merchant's PRIVATE key (PEM)",
    "acp_test_sign.pfx": "the key and certificate as PKCS#12 (password in merchant.json)",
    "merchant.pfx": "the key and certificate as PKCS#12 (password in merchant.json)",
}


def demo_spec(fixtures_dir: str, gateway: str) -> dict:
    return json.loads((Path(fixtures_dir) / gateway / "demo" / "merchant.json").read_text())


def is_demo(merchant: dict, namespace: str, fixtures_dir: str) -> bool:
    """A demo merchant: the default namespace's, under the fixtures' id, with the fixtures' key (not replaced)."""
    gateway = merchant["gateway"]
    if namespace != DEFAULT_NAMESPACE or gateway not in DEMO_KEY:
        return False
    try:
        spec = demo_spec(fixtures_dir, gateway)
        if spec["merchant_id"] != merchant["merchant_id"]:
            return False
        private = (Path(fixtures_dir) / gateway / "demo" / spec[DEMO_KEY[gateway]]).read_text()
        registered = crypto.load_public_key(merchant[MERCHANT_KEY[gateway]])
    except (OSError, KeyError, ValueError):
        return False
    return crypto.public_pem(crypto.load_private_key(private)) == crypto.public_pem(registered)


def demo_private_files(merchant: dict, fixtures_dir: str) -> tuple[dict[str, bytes], dict]:
    """The demo merchant's private files from fixtures/, and the secrets its merchant.json carries."""
    gateway = merchant["gateway"]
    spec = demo_spec(fixtures_dir, gateway)
    base = Path(fixtures_dir) / gateway / "demo"
    files = {name: (base / spec[key]).read_bytes() for name, key in DEMO_PRIVATE[gateway].items()}
    secrets = {k: spec[k] for k in ("apiv3_key", "api_key", "pkcs12_password") if k in spec}
    return files, secrets


def ids(merchant: dict, base_url: str, secrets: dict | None = None) -> dict:
    """merchant.json: the ids a client is configured with, the sandbox's URLs, and any secret the zip may carry."""
    gateway, m = merchant["gateway"], merchant
    if gateway == "alipay":
        doc = {"app_id": m["merchant_id"], "seller_id": m["seller_id"], "app_cert_sn": m["app_cert_sn"]}
        doc |= {"alipay_cert_sn": m["alipay_cert_sn"], "alipay_root_cert_sn": m["alipay_root_cert_sn"]}
        doc |= {"gateway_url": f"{base_url}/gateway.do", "openapi_v3_endpoint": base_url}
    elif gateway == "wechatpay":
        doc = {"mchid": m["merchant_id"], "appid": m["appid"], "merchant_serial_no": m["merchant_serial_no"]}
        doc |= {"public_key_id": m["public_key_id"], "platform_serial_no": m["platform_serial_no"]}
        doc |= {"key_mode": m.get("key_mode"), "base_url": base_url}
    else:
        doc = {"merId": m["merchant_id"], "certId": m["cert_id"], "base_url": base_url}
    return {"gateway": gateway, "name": m["name"], **doc, **(secrets or {})}


def snippet(merchant: dict, base_url: str, secrets: dict | None = None) -> str:
    """How the gateway's common SDK connects, reading the files of the zip."""
    m, secrets = merchant, secrets or {}
    if m["gateway"] == "alipay":
        return f"""from pathlib import Path
from alipay import AliPay  # python-alipay-sdk

alipay = AliPay(
    appid="{m["merchant_id"]}",
    app_private_key_string=Path("app_private_key.pem").read_text(),
    alipay_public_key_string=Path("alipay_public_key.pem").read_text(),
)
alipay._gateway = "{base_url}/gateway.do"  # the one change from production
"""
    if m["gateway"] == "wechatpay":
        apiv3_key = secrets.get("apiv3_key") or "<the APIv3 key given at registration>"
        return f"""from pathlib import Path
from wechatpayv3 import WeChatPay, WeChatPayType

wx = WeChatPay(
    wechatpay_type=WeChatPayType.NATIVE,
    mchid="{m["merchant_id"]}",
    appid="{m["appid"]}",
    private_key=Path("merchant_private_key.pem").read_text(),
    cert_serial_no="{m["merchant_serial_no"]}",
    apiv3_key="{apiv3_key}",
    notify_url="http://127.0.0.1:5000/wechatpay/notify",
    public_key=Path("platform_public_key.pem").read_text(),
    public_key_id="{m["public_key_id"]}",
)
wx._core._gate_way = "{base_url}"  # no trailing slash
"""
    return f"""from pathlib import Path
from sandbox.merchant.unionpay import UnionPayClient  # the reference client

bank = UnionPayClient.from_pem(
    "{m["merchant_id"]}",
    Path("merchant_private_key.pem").read_text(),
    Path("merchant_cert.pem").read_text(),
    base_url="{base_url}",
    root_cert=Path("root.pem").read_text(),
    middle_cert=Path("middle.pem").read_text(),
)
"""


def readme(merchant: dict, files: dict[str, bytes], private: str, base_url: str, secrets: dict) -> str:
    """README.txt: what the zip is, each file, the ids, and where the private key is (`private`: a sentence)."""
    described = {n: note for n, (_, note) in PUBLIC_FILES[merchant["gateway"]].items()}
    lines = [
        f"paysandbox: {merchant['gateway']} merchant {merchant['merchant_id']} ({merchant['name']})",
        "",
        "TEST-ONLY material for a local payment sandbox. Never use any of these keys for real money.",
        "",
        private,
        "",
        "Files:",
    ]
    notes = {**described, **PRIVATE_NOTES, "merchant.json": "the ids (and the TEST-ONLY secrets, if any) as JSON"}
    for name in sorted(files):
        lines.append(f"  {name:<28}{notes.get(name, '')}")
    lines += ["  README.txt                  this file", "", "Ids:"]
    for key, value in ids(merchant, base_url, secrets).items():
        lines.append(f"  {key:<22}{value}")
    lines += ["", "Connect (run next to these files):", "", snippet(merchant, base_url, secrets)]
    return "\n".join(lines)


def keys_zip(merchant: dict, base_url: str, private_files: dict[str, bytes], secrets: dict, private: str) -> bytes:
    """The zip: the public material, `private_files` (may be none), merchant.json and README.txt."""
    files: dict[str, bytes] = dict(private_files)
    for name, (field, _) in PUBLIC_FILES[merchant["gateway"]].items():
        if merchant.get(field):
            files[name] = merchant[field].encode()
    document = json.dumps(ids(merchant, base_url, secrets), indent=2, ensure_ascii=False)
    files["merchant.json"] = (document + "\n").encode()
    files["README.txt"] = readme(merchant, files, private, base_url, secrets).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()
