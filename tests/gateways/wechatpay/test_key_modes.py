"""WeChat Pay merchants' key modes through the Flask test client: registration, and which key signs each answer,
each notification and the certificate download, in every mode (the SDKs' view is in test_key_modes_sdk.py).

| key_mode    | answers                                         | notifications          | /v3/certificates |
|-------------|-------------------------------------------------|------------------------|------------------|
| (absent)    | the key the request asks for (Wechatpay-Serial) | the order creation's   | 200              |
| public_key  | public key                                      | public key             | 404              |
| certificate | certificate, whatever the request asks          | certificate            | 200              |
| migrating   | public key if asked, else either (the share)    | either (the share)     | 200              |
"""

from __future__ import annotations

import json

import pytest

from sandbox.app import create_app
from sandbox.config import Config
from tests.conftest import WECHAT_PUBLIC_KEY_ID
from tests.gateways.wechatpay.keymodes import MCHID, PLATFORM_SERIAL, SERIAL_OF, registration
from tests.gateways.wechatpay.test_v3_bad_input import prepay_body, send

ASKS_PUBLIC_KEY = {"Wechatpay-Serial": WECHAT_PUBLIC_KEY_ID}
QUERY = f"/v3/pay/transactions/out-trade-no/KM-0001?mchid={MCHID}"


def register(client, key_mode: str | None = None, **more) -> dict:
    answer = client.post("/_sandbox/merchants", json=registration(key_mode, **more))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def refused(client, body: dict | str) -> str:
    answer = (
        client.post("/_sandbox/merchants", data=body, content_type="application/json")
        if isinstance(body, str)
        else client.post("/_sandbox/merchants", json=body)
    )
    assert answer.status_code == 400, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "INVALID_PARAMETER"
    return error["message"]


def prepay(client, out_trade_no: str = "KM-0001", asks_public_key: bool = False):
    headers = ASKS_PUBLIC_KEY if asks_public_key else None
    body = prepay_body("native", out_trade_no=out_trade_no, notify_url="http://127.0.0.1:9/notify")
    reply = send(client, "POST", "/v3/pay/transactions/native", body, headers=headers)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply


def answer_serials(client, count: int, asks_public_key: bool = False) -> list[str]:
    """The Wechatpay-Serial of `count` signed answers to a query of one order."""
    headers = ASKS_PUBLIC_KEY if asks_public_key else None
    serials = []
    for _ in range(count):
        reply = send(client, "GET", QUERY, headers=headers)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        serials.append(reply.headers["Wechatpay-Serial"])
    return serials


def notification_serials(client, sandbox, count: int) -> list[str]:
    """The Wechatpay-Serial of the payment notifications of `count` orders, each paid by the buyer."""
    for number in range(count):
        prepay(client, f"KM-N-{number:03}")
        assert client.post(f"/_sandbox/orders/wechatpay/{MCHID}/KM-N-{number:03}/pay", json={}).status_code == 200
    return [n.headers["Wechatpay-Serial"] for n in sandbox.outbox.list(gateway="wechatpay")]


# -- registration -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({}, (None, None)),
        ({"key_mode": "public_key"}, ("public_key", None)),
        ({"key_mode": "certificate"}, ("certificate", None)),
        ({"key_mode": "migrating"}, ("migrating", 0.5)),
        ({"key_mode": "migrating", "public_key_share": 0.25}, ("migrating", 0.25)),
        ({"key_mode": "migrating", "public_key_share": 1}, ("migrating", 1.0)),
    ],
    ids=["absent", "public_key", "certificate", "migrating-default", "migrating-quarter", "migrating-all"],
)
def test_the_answer_and_the_merchant_show_the_key_mode_and_share(client, body, shown):
    answer = register(client, **body)
    assert (answer["key_mode"], answer["public_key_share"]) == shown
    assert client.get(f"/_sandbox/merchants/wechatpay/{MCHID}").get_json() == answer


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (registration("pubkey"), "key_mode"),
        (registration(""), "key_mode"),
        (registration(7), "key_mode"),
        (registration("certificate", public_key_share=0.5), "public_key_share"),
        (registration(public_key_share=0.5), "public_key_share"),
        (registration("migrating", public_key_share=-0.1), "public_key_share"),
        (registration("migrating", public_key_share=1.5), "public_key_share"),
        (registration("migrating", public_key_share="0.5"), "public_key_share"),
        (registration("migrating", public_key_share=True), "public_key_share"),
    ],
    ids=[
        "unknown-mode",
        "empty-mode",
        "number-mode",
        "share-with-certificate",
        "share-without-mode",
        "share-below-0",
        "share-above-1",
        "share-as-text",
        "share-as-boolean",
    ],
)
def test_a_bad_key_mode_or_share_is_a_400_naming_the_field(client, body, field):
    assert field in refused(client, body)
    assert client.get(f"/_sandbox/merchants/wechatpay/{MCHID}").get_json()["key_mode"] is None  # left as it was


@pytest.mark.parametrize("number", ["NaN", "Infinity"])
def test_a_share_that_is_not_a_finite_number_is_refused(client, number):
    body = json.dumps(registration("migrating", public_key_share=0.123)).replace("0.123", number)
    assert "public_key_share" in refused(client, body)


# -- answers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_mode", "asks_public_key", "signed_by"),
    [
        (None, False, "certificate"),
        (None, True, "public_key"),
        ("public_key", False, "public_key"),
        ("public_key", True, "public_key"),
        ("certificate", False, "certificate"),
        ("certificate", True, "certificate"),  # a legacy merchant has no public key to answer with
    ],
)
def test_answers_are_signed_by_the_key_of_the_mode(client, key_mode, asks_public_key, signed_by):
    register(client, key_mode)
    assert prepay(client, asks_public_key=asks_public_key).headers["Wechatpay-Serial"] == SERIAL_OF[signed_by]
    assert set(answer_serials(client, 3, asks_public_key)) == {SERIAL_OF[signed_by]}


def test_a_migrating_merchant_signs_its_share_of_answers_with_the_public_key(client):
    register(client, "migrating", public_key_share=0.5)
    prepay(client)
    serials = answer_serials(client, 40)
    assert 10 <= serials.count(WECHAT_PUBLIC_KEY_ID) <= 30
    assert serials.count(PLATFORM_SERIAL) == 40 - serials.count(WECHAT_PUBLIC_KEY_ID)
    # A request that asks for the public key always gets it.
    assert set(answer_serials(client, 10, asks_public_key=True)) == {WECHAT_PUBLIC_KEY_ID}


@pytest.mark.parametrize(("share", "signed_by"), [(0, "certificate"), (1, "public_key")])
def test_a_share_of_0_or_1_signs_every_answer_with_one_key(client, share, signed_by):
    register(client, "migrating", public_key_share=share)
    prepay(client)
    assert set(answer_serials(client, 10)) == {SERIAL_OF[signed_by]}


def test_the_keys_a_migrating_merchant_signs_with_repeat_under_the_same_seed():
    def run() -> list[str]:
        app = create_app(Config(seed=1234))
        try:
            client = app.test_client()
            register(client, "migrating", public_key_share=0.5)
            prepay(client)
            return answer_serials(client, 20)
        finally:
            app.extensions["paysandbox"].stop()

    first = run()
    assert run() == first
    assert len(set(first)) == 2


# -- notifications and the certificate download ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_mode", "asks_public_key", "signed_by"),
    [
        (None, False, "certificate"),
        (None, True, "public_key"),  # the default follows the order's creation
        ("public_key", False, "public_key"),
        ("certificate", True, "certificate"),
    ],
)
def test_notifications_are_signed_by_the_key_of_the_mode(client, sandbox, key_mode, asks_public_key, signed_by):
    register(client, key_mode)
    prepay(client, "KM-NOTIFY", asks_public_key=asks_public_key)
    assert client.post(f"/_sandbox/orders/wechatpay/{MCHID}/KM-NOTIFY/pay", json={}).status_code == 200
    [record] = client.get("/_sandbox/notifications?out_trade_no=KM-NOTIFY").get_json()["notifications"]
    assert record["headers"]["Wechatpay-Serial"] == SERIAL_OF[signed_by]  # the record shows which key signs it


def test_a_migrating_merchants_notifications_are_signed_by_either_key(client, sandbox):
    register(client, "migrating", public_key_share=0.5)
    serials = notification_serials(client, sandbox, 12)
    assert set(serials) == {WECHAT_PUBLIC_KEY_ID, PLATFORM_SERIAL}


@pytest.mark.parametrize("key_mode", [None, "certificate", "migrating"])
def test_certificates_are_served_to_a_merchant_that_has_them(client, key_mode):
    register(client, key_mode)
    reply = send(client, "GET", "/v3/certificates")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.get_json()["data"][0]["serial_no"] == PLATFORM_SERIAL


def test_certificates_of_a_public_key_merchant_are_404_as_on_wechat(client):
    register(client, "public_key")
    reply = send(client, "GET", "/v3/certificates")
    assert reply.status_code == 404
    body = reply.get_json()
    assert body["code"] == "RESOURCE_NOT_EXISTS"
    assert body["message"].startswith("无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。")
    assert WECHAT_PUBLIC_KEY_ID in body["message"]
