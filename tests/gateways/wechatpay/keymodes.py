"""The demo merchant registered again in a key mode, and the two serials that tell which key signed."""

from __future__ import annotations

from tests.conftest import WECHAT, WECHAT_MERCHANT, WECHAT_PUBLIC_KEY_ID

MCHID = WECHAT_MERCHANT["merchant_id"]
PLATFORM_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"  # fixtures/wechatpay/sandbox/platform.json
SERIAL_OF = {"public_key": WECHAT_PUBLIC_KEY_ID, "certificate": PLATFORM_SERIAL}
PLATFORM_CERT = (WECHAT / "sandbox/platform_cert.pem").read_text()
PUB_KEY = (WECHAT / "sandbox/pub_key.pem").read_text()


def registration(key_mode: str | None = None, **more) -> dict:
    """The demo merchant as fixtures/ registers it, plus a key mode (and whatever else is given)."""
    body = {
        "gateway": "wechatpay",
        **{k: WECHAT_MERCHANT[k] for k in ("merchant_id", "appid", "name", "apiv3_key", "api_key")},
        "merchant_certificate": (WECHAT / "demo/merchant_cert.pem").read_text(),
    }
    if key_mode is not None:
        body["key_mode"] = key_mode
    return {**body, **more}
