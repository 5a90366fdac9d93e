"""The reference WeChat Pay client across merchants' key modes and probe traffic: a merchant in migration holds
both keys and verifies whatever WeChat signs with; one holding a single kind of key is refused with an error that
says which key it lacks; probes and garbled headers are refused with a clear error, never a crash."""

from __future__ import annotations

import pytest
import requests

from sandbox.merchant.wechatpay import WechatPayClient, WechatPaySignatureError
from tests.gateways.wechatpay.keymodes import registration
from tests.merchant.test_wechatpay_client import (
    MCHID,
    PLATFORM,
    PLATFORM_CERT,
    make_client,
    signed_notification,
)

PUB_KEY_ID = PLATFORM["public_key_id"]
MINE = {"mchid": MCHID, "out_trade_no": "MC-KM-0001", "trade_state": "SUCCESS"}


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


def register(live, key_mode: str, **more) -> None:
    reply = requests.post(f"{live.url}/_sandbox/merchants", json=registration(key_mode, **more), timeout=5)
    assert reply.status_code == 201, reply.text


def buyer_pays(live, out_trade_no: str) -> None:
    reply = requests.post(f"{live.url}/_sandbox/orders/wechatpay/{MCHID}/{out_trade_no}/pay", json={}, timeout=5)
    assert reply.status_code == 200, reply.text


def migrating_client(live, receiver) -> WechatPayClient:
    """The merchant in migration: the public key and the platform certificate it had."""
    return make_client(live.url, "public_key", f"{receiver.url}/wx", platform_certificates=[PLATFORM_CERT])


def test_a_client_holding_both_keys_verifies_every_notification_of_a_migrating_merchant(live, receiver):
    register(live, "migrating", public_key_share=0.5)
    client = migrating_client(live, receiver)
    orders = [f"MC-KM-MIG-{n}" for n in range(8)]
    for out_trade_no in orders:
        client.native_prepay(out_trade_no, 100, "x")
        buyer_pays(live, out_trade_no)
    received = receiver.wait_for(len(orders), path="/wx")
    assert {r.headers["Wechatpay-Serial"] for r in received} == {PUB_KEY_ID, PLATFORM["platform_serial_no"]}
    parsed = {client.parse_notification(r.headers, r.body)["resource"]["out_trade_no"] for r in received}
    assert parsed == set(orders)


def test_a_client_holding_only_certificates_is_told_to_add_the_public_key(live, receiver):
    register(live, "migrating", public_key_share=0.5)
    client = make_client(live.url, "certificate", platform_certificates=[PLATFORM_CERT])
    outcomes = []
    for number in range(10):
        try:
            client.native_prepay(f"MC-KM-CERT-{number}", 100, "x", notify_url="http://127.0.0.1:9/n")
            outcomes.append("ok")
        except WechatPaySignatureError as exc:
            assert "pass platform_public_key and public_key_id" in str(exc)
            outcomes.append("refused")
    assert set(outcomes) == {"ok", "refused"}


def test_a_public_key_only_client_is_told_to_add_certificates_and_downloads_none(live, receiver):
    register(live, "certificate")
    client = make_client(live.url, "public_key", f"{receiver.url}/wx")
    with pytest.raises(WechatPaySignatureError, match="signs with a platform certificate: pass platform_certificates"):
        client.native_prepay("MC-KM-PK-1", 100, "x")
    assert client.platform_serial_nos == []


def test_a_certificate_client_of_a_public_key_merchant_is_told_to_use_the_public_key(live, receiver):
    register(live, "public_key")
    client = make_client(live.url, "certificate", f"{receiver.url}/wx")
    with pytest.raises(WechatPaySignatureError, match=f"{PUB_KEY_ID} names no key .* pass platform_public_key"):
        client.native_prepay("MC-KM-PK-2", 100, "x")


# -- probes and garbled headers ----------------------------------------------------------------------------


def test_a_probe_notification_is_refused_as_a_probe():
    client = make_client("http://127.0.0.1:9", "public_key")
    headers, body = signed_notification(MINE)
    probe = {**headers, "Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]}
    with pytest.raises(WechatPaySignatureError, match="signature probe"):
        client.parse_notification(probe, body)


def test_a_probe_signed_answer_is_refused_as_a_probe(live, receiver, rule):
    client = make_client(live.url, "public_key", f"{receiver.url}/wx")
    client.native_prepay("MC-KM-PRB-1", 100, "x")
    rule(match={"gateway": "wechatpay"}, times=1, api={"body": "probe"})
    with pytest.raises(WechatPaySignatureError, match="WECHATPAY/SIGNTEST/"):
        client.query("MC-KM-PRB-1")
    assert client.query("MC-KM-PRB-1")["trade_state"] == "NOTPAY"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Wechatpay-Timestamp": "9" * 400}, "not unix seconds"),
        ({"Wechatpay-Timestamp": "-1"}, "not unix seconds"),
        ({"Wechatpay-Serial": "0xZZ"}, "names no key"),
        ({"Wechatpay-Serial": "F" * 5000}, "names no key"),
        ({"Wechatpay-Signature": "!!! not base64 !!!"}, "does not verify"),
        ({"Wechatpay-Signature": "QUJD"}, "does not verify"),
    ],
    ids=["400-digit-stamp", "negative-stamp", "not-hex-serial", "huge-serial", "not-base64", "short"],
)
def test_garbled_headers_are_refused_with_a_clear_error(headers, message):
    client = make_client("http://127.0.0.1:9", "public_key")
    good, body = signed_notification(MINE)
    with pytest.raises(WechatPaySignatureError, match=message):
        client.parse_notification({**good, **headers}, body)
