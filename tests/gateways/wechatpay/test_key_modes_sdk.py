"""Key modes as wechatpayv3 2.0.4 (unmodified but its gateway) lives them against a live sandbox: the migration
pitfalls of 2024-2026 reproduced, and the configuration that survives each.

* public_key (a merchant since late 2024): an SDK in public-key mode works; one in certificate mode cannot even
  start (its constructor's /v3/certificates is a 404), and one that kept old certificates crashes on the first
  answer with `ValueError: invalid literal for int() with base 16: '0xPUB_KEY_ID_...'` (wechatpayv3#76, #78-#80).
* certificate (legacy): answers carry the certificate serial even to an SDK that asks for the public key;
  wechatpayv3 then downloads /v3/certificates and verifies with it.
* migrating: an SDK holding both keys verifies everything; one holding only certificates fails on the answers and
  notifications signed by the public key, the same ones on every run under the same seed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import wechatpayv3.core
from wechatpayv3 import WeChatPay, WeChatPayType

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.testing.server import ThreadedServer
from tests.conftest import WECHAT, WECHAT_MERCHANT, WECHAT_PUBLIC_KEY_ID
from tests.gateways.wechatpay.keymodes import MCHID, PLATFORM_CERT, PLATFORM_SERIAL, PUB_KEY, registration

PUB_KEY_ID_CRASH = "invalid literal for int() with base 16: '0xPUB_KEY_ID_"
ORIGINAL_INIT_CERTIFICATES = wechatpayv3.core.Core._init_certificates


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


@pytest.fixture
def cached_certificates(tmp_path) -> Path:
    """A cert_dir holding the platform certificate, as an integration that downloaded it once keeps it."""
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / f"{PLATFORM_SERIAL}.pem").write_text(PLATFORM_CERT)
    return folder


def sdk(base_url: str, notify_url: str, *, public_key: bool = True, cert_dir: Path | None = None) -> WeChatPay:
    """The demo merchant's SDK holding the public key, certificates (cert_dir), or both."""
    keys = {"public_key": PUB_KEY, "public_key_id": WECHAT_PUBLIC_KEY_ID} if public_key else {}
    wx = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=MCHID,
        private_key=(WECHAT / "demo/merchant_private_key.pem").read_text(),
        cert_serial_no=WECHAT_MERCHANT["merchant_serial_no"],
        apiv3_key=WECHAT_MERCHANT["apiv3_key"],
        appid=WECHAT_MERCHANT["appid"],
        notify_url=notify_url,
        cert_dir=str(cert_dir) if cert_dir else None,
        timeout=(5, 10),
        **keys,
    )
    wx._core._gate_way = base_url
    return wx


def register(base_url: str, key_mode: str, **more) -> None:
    reply = requests.post(f"{base_url}/_sandbox/merchants", json=registration(key_mode, **more), timeout=5)
    assert reply.status_code == 201, reply.text


def native(wx: WeChatPay, out_trade_no: str) -> dict:
    code, text = wx.pay(description="key modes", out_trade_no=out_trade_no, amount={"total": 100})
    assert code == 200, text
    return json.loads(text)


def pay(base_url: str, out_trade_no: str) -> None:
    reply = requests.post(f"{base_url}/_sandbox/orders/wechatpay/{MCHID}/{out_trade_no}/pay", json={}, timeout=5)
    assert reply.status_code == 200, reply.text


def outcome(call) -> str:
    """What the SDK made of one answer: ok, or the error it raised."""
    try:
        code, text = call()
    except ValueError as exc:
        return f"ValueError: {exc}"
    return "ok" if code == 200 else f"HTTP {code}: {text}"


@contextmanager
def served(seed: int) -> Iterator[ThreadedServer]:
    """Another sandbox on its own port, as `live` is: two of them show what a seed repeats."""
    app = create_app(Config(seed=seed))
    app.extensions["paysandbox"].start()
    try:
        with ThreadedServer(app) as server:
            yield server
    finally:
        app.extensions["paysandbox"].stop()


# -- public_key -----------------------------------------------------------------------------------------


def test_a_public_key_merchant_works_with_an_sdk_in_public_key_mode(live, receiver):
    register(live.url, "public_key")
    wx = sdk(live.url, f"{receiver.url}/wx")
    native(wx, "KMS-PK-1")
    pay(live.url, "KMS-PK-1")
    [paid] = receiver.wait_for(1)
    assert paid.headers["Wechatpay-Serial"] == WECHAT_PUBLIC_KEY_ID
    assert wx.callback(paid.headers, paid.body)["resource"]["trade_state"] == "SUCCESS"


def test_an_sdk_in_certificate_mode_cannot_start_for_a_public_key_merchant(live, receiver, monkeypatch, tmp_path):
    register(live.url, "public_key")

    def init_certificates(core):
        core._gate_way = live.url  # the constructor's download goes to the sandbox, and gets its 404
        ORIGINAL_INIT_CERTIFICATES(core)

    monkeypatch.setattr(wechatpayv3.core.Core, "_init_certificates", init_certificates)
    with pytest.raises(Exception, match="No wechatpay platform certificate"):
        sdk(live.url, f"{receiver.url}/wx", public_key=False, cert_dir=tmp_path / "empty")


def test_an_sdk_holding_old_certificates_crashes_on_public_key_answers_and_notifications(
    live, receiver, cached_certificates
):
    register(live.url, "certificate")
    wx = sdk(live.url, f"{receiver.url}/wx", public_key=False, cert_dir=cached_certificates)
    native(wx, "KMS-PK-2")  # works while the merchant is on certificates
    register(live.url, "public_key")  # ... and the merchant moves to the public key
    with pytest.raises(ValueError, match=re.escape(PUB_KEY_ID_CRASH)):
        wx.query(out_trade_no="KMS-PK-2")
    pay(live.url, "KMS-PK-2")
    [paid] = receiver.wait_for(1)
    with pytest.raises(ValueError, match="0xPUB_KEY_ID_"):
        wx.callback(paid.headers, paid.body)


# -- certificate -----------------------------------------------------------------------------------------


def test_a_certificate_merchant_answers_a_public_key_sdk_with_the_certificate(live, receiver):
    register(live.url, "certificate")
    wx = sdk(live.url, f"{receiver.url}/wx")  # asks for the public key on every request
    native(wx, "KMS-CERT-1")
    # wechatpayv3 met a certificate serial, downloaded /v3/certificates and verified with it.
    assert [cert.serial_number for cert in wx._core._certificates] == [int(PLATFORM_SERIAL, 16)]
    pay(live.url, "KMS-CERT-1")
    [paid] = receiver.wait_for(1)
    assert paid.headers["Wechatpay-Serial"] == PLATFORM_SERIAL
    assert wx.callback(paid.headers, paid.body)["resource"]["out_trade_no"] == "KMS-CERT-1"


# -- migrating -------------------------------------------------------------------------------------------


def test_an_sdk_holding_both_keys_verifies_every_answer_and_notification_of_a_migrating_merchant(
    live, receiver, cached_certificates
):
    register(live.url, "migrating", public_key_share=0.5)
    wx = sdk(live.url, f"{receiver.url}/wx", cert_dir=cached_certificates)
    orders = [f"KMS-MIG-{n}" for n in range(8)]
    for out_trade_no in orders:
        native(wx, out_trade_no)
        pay(live.url, out_trade_no)
    assert [outcome(lambda o=o: wx.query(out_trade_no=o)) for o in orders] == ["ok"] * len(orders)
    received = receiver.wait_for(len(orders))
    assert {r.headers["Wechatpay-Serial"] for r in received} == {WECHAT_PUBLIC_KEY_ID, PLATFORM_SERIAL}
    paid = {wx.callback(r.headers, r.body)["resource"]["out_trade_no"] for r in received}
    assert paid == set(orders)


def test_an_sdk_holding_only_certificates_fails_on_the_public_key_share_the_same_way_every_run(
    receiver, cached_certificates
):
    def run() -> list[str]:
        with served(seed=1234) as server:
            register(server.url, "migrating", public_key_share=0.5)
            wx = sdk(server.url, f"{receiver.url}/wx", public_key=False, cert_dir=cached_certificates)
            created = outcome(lambda: wx.pay(description="x", out_trade_no="KMS-SEED", amount={"total": 1}))
            return [created] + [outcome(lambda: wx.query(out_trade_no="KMS-SEED")) for _ in range(11)]

    calls = run()
    failures = [c for c in calls if c != "ok"]
    assert failures and all(PUB_KEY_ID_CRASH in c for c in failures)  # the answers signed by the public key
    assert len(failures) < len(calls)  # those signed by the certificate verify
    assert run() == calls
