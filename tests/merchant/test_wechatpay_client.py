"""The reference WeChat Pay client against a live sandbox: the v3 life cycle in both key modes, what it must
refuse, and the v2 helpers (checked against known answers and against wechatpy)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path

import pytest
import requests
from Crypto.Cipher import AES
from Crypto.Util.Padding import pad
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sandbox.core import crypto
from sandbox.merchant.wechatpay import (
    WechatPayApiError,
    WechatPayClient,
    WechatPayClientError,
    WechatPaySignatureError,
)
from sandbox.merchant.wechatpay_v2 import (
    v2_build_xml,
    v2_decrypt_req_info,
    v2_parse_payment_notification,
    v2_parse_refund_notification,
    v2_parse_xml,
    v2_reply,
    v2_sign,
    v2_verify,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
PLATFORM = json.loads((FIXTURES / "sandbox/platform.json").read_text())
MCHID, APPID, APIV3_KEY, API_KEY = (MERCHANT[k] for k in ("merchant_id", "appid", "apiv3_key", "api_key"))
MERCHANT_KEY = (FIXTURES / "demo/merchant_private_key.pem").read_text()
MERCHANT_CERT = (FIXTURES / "demo/merchant_cert.pem").read_text()
PUB_KEY = (FIXTURES / "sandbox/pub_key.pem").read_text()
PUB_KEY_PRIVATE = (FIXTURES / "sandbox/pub_key_private_key.pem").read_text()
PLATFORM_CERT = (FIXTURES / "sandbox/platform_cert.pem").read_text()
PLATFORM_PRIVATE = (FIXTURES / "sandbox/platform_private_key.pem").read_text()
SERIAL_OF = {"public_key": PLATFORM["public_key_id"], "certificate": PLATFORM["platform_serial_no"]}
PAYS, WAIT_THEN_PAY, NOT_ENOUGH = "134567890123456789", "130000000000000010", "130000000000000020"


def make_client(base_url: str, mode: str, notify_url: str = "", **changes) -> WechatPayClient:
    keys = {"platform_public_key": PUB_KEY, "public_key_id": PLATFORM["public_key_id"]} if mode == "public_key" else {}
    options = {
        "mchid": MCHID,
        "appid": APPID,
        "merchant_serial_no": MERCHANT["merchant_serial_no"],
        "merchant_private_key": MERCHANT_KEY,
        "apiv3_key": APIV3_KEY,
        "base_url": base_url,
        "notify_url": notify_url,
        "timeout": 10,
        **keys,
        **changes,
    }
    return WechatPayClient(**options)


@pytest.fixture(params=["public_key", "certificate"])
def mode(request) -> str:
    return request.param


@pytest.fixture
def wechat(live, receiver, mode) -> WechatPayClient:
    """In certificate mode it starts with no certificate: the first answer makes it download one."""
    return make_client(live.url, mode, f"{receiver.url}/wx")


@pytest.fixture
def control(live):
    session = requests.Session()
    session.trust_env = False

    def call(path: str, body: dict | None = None, verb: str = "POST") -> dict:
        reply = session.request(verb, f"{live.url}/_sandbox{path}", json=body, timeout=5)
        assert reply.status_code == 200, reply.text
        return reply.json()

    yield call
    session.close()


def pay(control, out_trade_no: str) -> dict:
    return control(f"/orders/wechatpay/{MCHID}/{out_trade_no}/pay", {})


def signed_notification(resource: dict, *, algorithm: str = "AEAD_AES_256_GCM", stamp: int | None = None, **headers):
    """A notification as the sandbox would send it in public-key mode, built here to vary one thing at a time."""
    nonce = "n0nce0123456"
    ciphertext = AESGCM(APIV3_KEY.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(), b"transaction")
    body = json.dumps(
        {
            "id": "EV-test",
            "create_time": "2024-01-01T12:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": algorithm,
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        },
        separators=(",", ":"),
    )
    stamp = int(time.time()) if stamp is None else stamp
    signature = crypto.sign(crypto.load_private_key(PUB_KEY_PRIVATE), f"{stamp}\nN1\n{body}\n".encode())
    return {
        "Wechatpay-Timestamp": str(stamp),
        "Wechatpay-Nonce": "N1",
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": PLATFORM["public_key_id"],
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        **headers,
    }, body


# -- v3: the life cycle ----------------------------------------------------------------------------------


def test_life_cycle_with_partial_refunds_and_verified_notifications(wechat, mode, sandbox, control, receiver):
    sandbox.clock.set_mode("manual")
    otn = f"MC-LIFE-{mode}"
    assert wechat.native_prepay(otn, 1000, "Tea 茶 {x}")["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert wechat.query(otn)["trade_state"] == "NOTPAY"
    if mode == "certificate":
        assert wechat.platform_serial_nos == [PLATFORM["platform_serial_no"]]  # downloaded for the first answer
    transaction_id = control(f"/orders/wechatpay/{MCHID}/{otn}", verb="GET")["trade_no"]
    with pytest.raises(WechatPayApiError) as unpaid:
        wechat.query(transaction_id=transaction_id)
    assert (unpaid.value.status, unpaid.value.code) == (404, "ORDER_NOT_EXIST")

    pay(control, otn)
    [paid] = receiver.wait_for(1, path="/wx")
    assert paid.headers["Wechatpay-Serial"] == SERIAL_OF[mode]
    notification = wechat.parse_notification(paid.headers, paid.body)
    assert notification["event_type"] == "TRANSACTION.SUCCESS"
    assert notification["resource"]["trade_state"] == "SUCCESS"
    assert notification["resource"]["transaction_id"] == transaction_id
    assert wechat.query(transaction_id=transaction_id) == wechat.query(otn)

    assert wechat.refund(f"{otn}-r1", 300, 1000, out_trade_no=otn, reason="broken")["status"] == "PROCESSING"
    assert wechat.refund(f"{otn}-r1", 300, 1000, out_trade_no=otn)["status"] == "PROCESSING"  # a safe repeat
    sandbox.advance(5)
    assert wechat.query_refund(f"{otn}-r1")["status"] == "SUCCESS"
    second = wechat.refund(f"{otn}-r2", 700, 1000, transaction_id=transaction_id)
    assert (second["status"], second["out_trade_no"]) == ("PROCESSING", otn)
    with pytest.raises(WechatPayApiError) as too_much:
        wechat.refund(f"{otn}-r3", 1, 1000, out_trade_no=otn)
    assert (too_much.value.status, too_much.value.code) == (403, "NOT_ENOUGH")
    sandbox.advance(5)
    events = [wechat.parse_notification(r.headers, r.body) for r in receiver.wait_for(3, path="/wx")]
    assert [(e["event_type"], e["resource"].get("refund_status")) for e in events] == [
        ("TRANSACTION.SUCCESS", None),
        ("REFUND.SUCCESS", "SUCCESS"),
        ("REFUND.SUCCESS", "SUCCESS"),
    ]
    assert wechat.query(otn)["trade_state"] == "REFUND"
    with pytest.raises(WechatPayApiError) as paid_already:
        wechat.close(otn)
    assert (paid_already.value.status, paid_already.value.code) == (403, "ORDERPAID")


def test_refund_outcomes_abnormal_and_closed(wechat, mode, sandbox, control, receiver):
    sandbox.clock.set_mode("manual")
    otn = f"MC-RFOUT-{mode}"
    wechat.jsapi_prepay(otn, 200, "x", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    pay(control, otn)
    for number, outcome in [(1, "abnormal"), (2, "closed")]:
        wechat.refund(f"{otn}-r{number}", 100, 200, out_trade_no=otn)
        control(f"/orders/wechatpay/{MCHID}/{otn}/refunds/{otn}-r{number}/settle", {"outcome": outcome})
        record = receiver.wait_for(1 + number, path="/wx")[number]
        event = wechat.parse_notification(record.headers, record.body)
        assert (event["event_type"], event["resource"]["refund_status"]) == (
            f"REFUND.{outcome.upper()}",
            outcome.upper(),
        )
        assert wechat.query_refund(f"{otn}-r{number}")["status"] == outcome.upper()


def test_every_prepay_kind_and_the_client_side_pay_parameters(wechat, mode, live):
    jsapi = wechat.jsapi_prepay(f"MC-JSAPI-{mode}", 2, "x", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", attach="a=1")
    app = wechat.app_prepay(f"MC-APP-{mode}", 3, "x")
    h5 = wechat.h5_prepay(f"MC-H5-{mode}", 4, "x", "203.0.113.7")
    assert h5["h5_url"].startswith(live.url)
    assert wechat.query(f"MC-H5-{mode}")["trade_type"] == "MWEB"
    assert wechat.query(f"MC-JSAPI-{mode}")["payer"]["openid"] == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    merchant_key = crypto.load_public_key(MERCHANT_CERT)

    page = wechat.jsapi_pay_params(jsapi["prepay_id"])
    assert set(page) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert (page["appId"], page["package"], page["signType"]) == (APPID, f"prepay_id={jsapi['prepay_id']}", "RSA")
    lines = "".join(f"{page[k]}\n" for k in ("appId", "timeStamp", "nonceStr", "package"))
    assert crypto.verify(merchant_key, lines.encode(), page["paySign"])

    native_app = wechat.app_pay_params(app["prepay_id"])
    assert (native_app["partnerid"], native_app["package"]) == (MCHID, "Sign=WXPay")
    lines = "".join(f"{native_app[k]}\n" for k in ("appid", "timestamp", "noncestr", "prepayid"))
    assert crypto.verify(merchant_key, lines.encode(), native_app["sign"])


def test_pay_sign_is_what_wechatpayv3_computes():
    from wechatpayv3 import WeChatPay, WeChatPayType

    sdk = WeChatPay(
        wechatpay_type=WeChatPayType.JSAPI,
        mchid=MCHID,
        private_key=MERCHANT_KEY,
        cert_serial_no=MERCHANT["merchant_serial_no"],
        appid=APPID,
        apiv3_key=APIV3_KEY,
        public_key=PUB_KEY,
        public_key_id=PLATFORM["public_key_id"],
    )
    client = make_client("http://127.0.0.1:9", "public_key")
    page = client.jsapi_pay_params("wx201410272009395522657a690389285100")
    lines = [page["appId"], page["timeStamp"], page["nonceStr"], page["package"]]
    assert page["paySign"] == sdk.sign(lines)  # PKCS#1 v1.5 is deterministic


def test_codepay_close_and_reverse(wechat, mode, sandbox):
    sandbox.clock.set_mode("manual")
    paid = wechat.codepay(f"MC-CP1-{mode}", 88, "x", PAYS, scene_info={"store_info": {"out_id": "s1"}})
    assert (paid["trade_state"], paid["trade_type"]) == ("SUCCESS", "MICROPAY")
    waiting = wechat.codepay(f"MC-CP2-{mode}", 88, "x", WAIT_THEN_PAY)
    assert waiting["trade_state"] == "USERPAYING"
    sandbox.advance(10)
    assert wechat.query(f"MC-CP2-{mode}")["trade_state"] == "SUCCESS"
    with pytest.raises(WechatPayApiError) as declined:
        wechat.codepay(f"MC-CP3-{mode}", 88, "x", NOT_ENOUGH)
    assert (declined.value.status, declined.value.code) == (403, "NOTENOUGH")

    assert wechat.codepay(f"MC-CP4-{mode}", 88, "x", WAIT_THEN_PAY)["trade_state"] == "USERPAYING"
    assert wechat.reverse(f"MC-CP4-{mode}")["out_trade_no"] == f"MC-CP4-{mode}"
    assert wechat.query(f"MC-CP4-{mode}")["trade_state"] == "REVOKED"

    wechat.native_prepay(f"MC-CLOSE-{mode}", 1, "x")
    assert wechat.close(f"MC-CLOSE-{mode}") is None  # 204, and its empty body verified
    assert wechat.query(f"MC-CLOSE-{mode}")["trade_state"] == "CLOSED"
    with pytest.raises(WechatPayApiError) as missing:
        wechat.query("MC-NOPE-0001")
    assert (missing.value.status, missing.value.code) == (404, "ORDER_NOT_EXIST")
    assert "MC-NOPE-0001" in str(missing.value)


def test_the_bill_of_a_past_day_with_its_hash_checked(wechat, mode, sandbox, control):
    sandbox.clock.set_mode("manual")
    if sandbox.clock.now().hour == 23:  # the frozen clock must not roll into tomorrow before the payment
        sandbox.advance(3600)
    today = sandbox.clock.now().strftime("%Y-%m-%d")
    wechat.native_prepay(f"MC-BILL-{mode}", 1234, "账单")
    pay(control, f"MC-BILL-{mode}")
    with pytest.raises(WechatPayApiError) as not_yet:
        wechat.trade_bill(today)
    assert (not_yet.value.status, not_yet.value.code) == (400, "NO_STATEMENT_EXIST")
    sandbox.advance(86400)
    bill = wechat.trade_bill(today)
    csv = wechat.download_bill(bill["download_url"], bill["hash_value"], bill["hash_type"])
    assert hashlib.sha1(csv).hexdigest() == bill["hash_value"]
    assert f"`MC-BILL-{mode}" in csv.decode("utf-8") and "`12.34" in csv.decode("utf-8")
    with pytest.raises(WechatPaySignatureError, match="SHA1"):
        wechat.download_bill(bill["download_url"], "0" * 40)


def test_certificate_download_decrypts_with_the_apiv3_key(live):
    client = make_client(live.url, "certificate")
    assert client.download_certificates() == [PLATFORM_CERT]
    assert client.platform_serial_nos == [PLATFORM["platform_serial_no"]]
    # Given the certificate up front, no download is needed for answers to verify.
    preloaded = make_client(live.url, "certificate", platform_certificates=[PLATFORM_CERT])
    with pytest.raises(WechatPayApiError):
        preloaded.query("MC-NOPE-0002")
    wrong_key = make_client(live.url, "certificate", apiv3_key="0" * 32)
    with pytest.raises(WechatPaySignatureError, match="APIv3 key"):
        wrong_key.download_certificates()


# -- v3: what it must refuse -------------------------------------------------------------------------------


def test_an_answer_signed_by_someone_else_is_refused(live):
    impostor = make_client(
        live.url, "public_key", platform_public_key=crypto.public_pem(crypto.load_public_key(MERCHANT_CERT))
    )
    with pytest.raises(WechatPaySignatureError, match="does not verify"):
        impostor.native_prepay("MC-IMPOSTOR1", 1, "x", notify_url="http://127.0.0.1:9/n")
    # A certificate-mode client that holds a certificate under another serial fetches the right one and verifies.
    mixed = make_client(live.url, "certificate", platform_certificates=[MERCHANT_CERT])
    assert mixed.query("MC-IMPOSTOR1")["trade_state"] == "NOTPAY"


def test_a_request_signed_with_the_wrong_key_gets_sign_error(live):
    wrong = make_client(live.url, "public_key", merchant_private_key=PLATFORM_PRIVATE)
    with pytest.raises(WechatPayApiError) as refused:
        wrong.query("MC-SIGN-0001")
    assert (refused.value.status, refused.value.code) == (401, "SIGN_ERROR")
    assert "GET\\n/v3/pay/transactions/out-trade-no/MC-SIGN-0001?mchid=1900000109\\n" in refused.value.message


def test_a_tampered_notification_is_refused(wechat, control, receiver, mode):
    wechat.native_prepay(f"MC-TAMPER-{mode}", 100, "x")
    pay(control, f"MC-TAMPER-{mode}")
    [record] = receiver.wait_for(1, path="/wx")
    with pytest.raises(WechatPaySignatureError, match="does not verify"):
        wechat.parse_notification(record.headers, record.body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.FAIL"))
    headers = {k.lower(): v for k, v in record.headers.items()}  # header names in any case
    assert wechat.parse_notification(headers, record.body)["resource"]["out_trade_no"] == f"MC-TAMPER-{mode}"


def test_notification_refusals():
    client = make_client("http://127.0.0.1:9", "public_key")
    mine = {"mchid": MCHID, "out_trade_no": "MC-N-0001", "trade_state": "SUCCESS"}
    assert client.parse_notification(*signed_notification(mine))["resource"] == mine
    with pytest.raises(WechatPaySignatureError, match="not 1900000109"):
        client.parse_notification(*signed_notification({**mine, "mchid": "1900000999"}))
    with pytest.raises(WechatPaySignatureError, match="unknown algorithm 'AEAD_SM4_GCM'"):
        client.parse_notification(*signed_notification(mine, algorithm="AEAD_SM4_GCM"))
    with pytest.raises(WechatPaySignatureError, match="Signature-Type"):
        client.parse_notification(*signed_notification(mine, **{"Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}))
    with pytest.raises(WechatPaySignatureError, match="away from this host's clock"):
        client.parse_notification(*signed_notification(mine, stamp=int(time.time()) - 3600))
    with pytest.raises(WechatPaySignatureError, match="names no key"):
        client.parse_notification(*signed_notification(mine, **{"Wechatpay-Serial": "PUB_KEY_ID_OTHER"}))
    with pytest.raises(WechatPaySignatureError, match="not signed"):
        client.parse_notification({"Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}, "{}")
    other_key = make_client("http://127.0.0.1:9", "public_key", apiv3_key="1" * 32)
    with pytest.raises(WechatPaySignatureError, match="does not decrypt"):
        other_key.parse_notification(*signed_notification(mine))


def test_bad_arguments_fail_before_anything_is_sent():
    client = make_client("http://127.0.0.1:9", "public_key", notify_url="http://127.0.0.1:9/n")
    with pytest.raises(TypeError, match="fen"):
        client.native_prepay("MC-ARGS-01", "1", "x")
    with pytest.raises(TypeError, match="fen"):
        client.native_prepay("MC-ARGS-01", 1.5, "x")
    with pytest.raises(ValueError, match="above zero"):
        client.refund("r", 0, 1, out_trade_no="MC-ARGS-01")
    with pytest.raises(ValueError, match="one of them"):
        client.query()
    with pytest.raises(ValueError, match="notify_url"):
        make_client("http://127.0.0.1:9", "public_key").native_prepay("MC-ARGS-01", 1, "x")
    with pytest.raises(ValueError, match="both"):
        make_client("http://127.0.0.1:9", "certificate", public_key_id="PUB_KEY_ID_X")
    with pytest.raises(ValueError, match="32 bytes"):
        make_client("http://127.0.0.1:9", "certificate", apiv3_key="short")


# -- v2 helpers ------------------------------------------------------------------------------------------

# WeChat Pay's own signing example (pay.weixin.qq.com, 安全规范 / 签名算法).
DOC_PARAMS = {"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000", "body": "test"}
DOC_PARAMS["nonce_str"] = "ibuaiVcKdpRxkhJA"
DOC_KEY = "192006250b4c09247ec02edce69f6a2d"


def test_v2_sign_known_answers_and_wechatpy_agree():
    from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

    assert v2_sign(DOC_PARAMS, DOC_KEY) == "9A0A8659F005D6984697E2CA0A9CF3B7"
    assert v2_sign(DOC_PARAMS, DOC_KEY, "HMAC-SHA256") == (
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    )
    params = {"body": "咖啡 & tea=1", "total_fee": 1, "empty": "", "none": None, "attach": "a b", "sign": "OLD"}
    expected = {k: v for k, v in params.items() if k != "sign"}
    assert v2_sign(params, API_KEY) == calculate_signature(expected, API_KEY)
    assert v2_sign(params, API_KEY, "HMAC-SHA256") == calculate_signature_hmac(expected, API_KEY)


def test_v2_verify():
    signed = {**DOC_PARAMS, "sign": v2_sign(DOC_PARAMS, DOC_KEY)}
    assert v2_verify(signed, DOC_KEY)
    assert not v2_verify({**signed, "body": "test2"}, DOC_KEY)
    assert not v2_verify(signed, API_KEY)
    assert not v2_verify(DOC_PARAMS, DOC_KEY)  # no sign at all
    hmac_signed = {**DOC_PARAMS, "sign_type": "HMAC-SHA256"}
    hmac_signed["sign"] = v2_sign(hmac_signed, DOC_KEY, "HMAC-SHA256")
    assert v2_verify(hmac_signed, DOC_KEY)  # the message's own sign_type decides
    assert not v2_verify(hmac_signed, DOC_KEY, "MD5")
    assert not v2_verify({**signed, "sign_type": "SHA1"}, DOC_KEY)


def test_v2_xml_round_trip_and_what_wechatpy_reads():
    import xmltodict

    params = {"return_code": "SUCCESS", "total_fee": 101, "body": "咖啡 <&> ]]> end", "out_trade_no": "123456"}
    params["sign"] = v2_sign(params, API_KEY)
    xml = v2_build_xml(params)
    assert xml.startswith("<xml>\n<body><![CDATA[") and xml.endswith(
        f"<sign><![CDATA[{params['sign']}]]></sign>\n</xml>"
    )
    assert "<total_fee>101</total_fee>" in xml and "<out_trade_no>123456</out_trade_no>" in xml
    parsed = v2_parse_xml(xml)
    assert parsed == {k: str(v) for k, v in params.items()}
    assert xmltodict.parse(xml)["xml"] == parsed
    assert v2_verify(parsed, API_KEY)
    assert v2_parse_xml(v2_reply()) == {"return_code": "SUCCESS", "return_msg": "OK"}


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><b>&b;</b></xml>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><e>&e;</e></xml>',
        "<xml><unclosed></xml>",
        "not xml at all",
        b"\xff\xfe<xml/>",
    ],
)
def test_v2_xml_parsing_refuses_entities_and_garbage(document):
    with pytest.raises(WechatPayClientError):
        v2_parse_xml(document)


def payment_notification(**changes) -> dict:
    fields = {
        "return_code": "SUCCESS",
        "appid": APPID,
        "mch_id": MCHID,
        "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "result_code": "SUCCESS",
        "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "trade_type": "NATIVE",
        "bank_type": "OTHERS",
        "total_fee": "101",
        "fee_type": "CNY",
        "cash_fee": "101",
        "transaction_id": "4200000000202401010000000001",
        "out_trade_no": "MC-V2-0001",
        "time_end": "20240101120000",
    }
    fields.update(changes)
    fields["sign"] = v2_sign(fields, API_KEY)
    return fields


def test_v2_payment_notification():
    from wechatpy.pay import WeChatPay as V2

    xml = v2_build_xml(payment_notification())
    fields = v2_parse_payment_notification(xml, API_KEY, appid=APPID, mch_id=MCHID)
    assert (fields["out_trade_no"], fields["total_fee"]) == ("MC-V2-0001", "101")
    assert V2(APPID, API_KEY, MCHID).parse_payment_result(xml)["total_fee"] == 101  # wechatpy agrees
    with pytest.raises(WechatPaySignatureError, match="does not match"):
        v2_parse_payment_notification(xml.replace("<total_fee>101<", "<total_fee>1<"), API_KEY)
    with pytest.raises(WechatPaySignatureError, match="does not match"):
        v2_parse_payment_notification(xml, DOC_KEY)
    with pytest.raises(WechatPaySignatureError, match="appid"):
        v2_parse_payment_notification(
            v2_build_xml(payment_notification(appid="wx0000000000000000")), API_KEY, appid=APPID
        )
    with pytest.raises(WechatPaySignatureError, match="mch_id"):
        v2_parse_payment_notification(v2_build_xml(payment_notification(mch_id="1900000999")), API_KEY, mch_id=MCHID)
    unsigned = {k: v for k, v in payment_notification().items() if k != "sign"}
    with pytest.raises(WechatPaySignatureError, match="no sign"):
        v2_parse_payment_notification(v2_build_xml(unsigned), API_KEY)
    with pytest.raises(WechatPayClientError, match="FAIL"):
        v2_parse_payment_notification(v2_build_xml({"return_code": "FAIL", "return_msg": "签名失败"}), API_KEY)


def refund_notification(api_key: str = API_KEY, **outer) -> str:
    inner = (
        "<root><out_refund_no><![CDATA[MC-V2-0001-r1]]></out_refund_no><out_trade_no><![CDATA[MC-V2-0001]]>"
        "</out_trade_no><refund_status><![CDATA[SUCCESS]]></refund_status><refund_fee><![CDATA[30]]></refund_fee>"
        "<total_fee><![CDATA[101]]></total_fee><success_time><![CDATA[2024-01-01 12:00:05]]></success_time></root>"
    )
    key = hashlib.md5(api_key.encode()).hexdigest().encode()
    req_info = base64.b64encode(AES.new(key, AES.MODE_ECB).encrypt(pad(inner.encode(), 16))).decode()
    fields = {"return_code": "SUCCESS", "appid": APPID, "mch_id": MCHID, "nonce_str": "x" * 32, "req_info": req_info}
    return v2_build_xml({**fields, **outer})


def test_v2_refund_notification():
    from wechatpy.pay import WeChatPay as V2

    xml = refund_notification()
    fields = v2_parse_refund_notification(xml, API_KEY, appid=APPID, mch_id=MCHID)
    assert (fields["out_refund_no"], fields["refund_status"], fields["refund_fee"]) == (
        "MC-V2-0001-r1",
        "SUCCESS",
        "30",
    )
    assert V2(APPID, API_KEY, MCHID).parse_refund_notify_result(xml)["refund_fee"] == 30  # wechatpy agrees
    with pytest.raises(WechatPaySignatureError, match="does not decrypt"):
        v2_parse_refund_notification(refund_notification(api_key=DOC_KEY), API_KEY, appid=APPID, mch_id=MCHID)
    with pytest.raises(WechatPaySignatureError, match="mch_id"):
        v2_parse_refund_notification(refund_notification(mch_id="1900000999"), API_KEY, appid=APPID, mch_id=MCHID)
    with pytest.raises(WechatPaySignatureError, match="does not decrypt"):
        v2_decrypt_req_info("bm90IGEgYmxvY2s=", API_KEY)
