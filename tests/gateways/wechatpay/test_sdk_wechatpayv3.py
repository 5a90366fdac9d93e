"""wechatpayv3 2.0.4, unmodified but for its gateway (`wx._core._gate_way`), against the live sandbox.

The SDK answers (status, text) for JSON and (status, bytes) otherwise, raises only when a 2xx answer does not
verify, and hands every non-2xx answer back as it came (docs/protocols/wechatpay-v3.md#sdk-quirks). So each 2xx
below has passed the SDK's own signature check, in public-key mode (`PUB_KEY_ID_...`) and in certificate mode (the
platform certificate downloaded from `/v3/certificates` and decrypted with the APIv3 key by the SDK itself).

Certificate mode patches `Core._init_certificates` (pytest's monkeypatch) to point the SDK at the sandbox before
its constructor downloads. The SDK's own download, AES-GCM decryption, validity filter and cache file are then what
is tested. A cert_dir filled beforehand would skip all of that and prove only that the PEM loads; it is checked
once, from the cache file the patched download wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import wechatpayv3.core
import wechatpayv3.utils
from wechatpayv3 import WeChatPay, WeChatPayType

from tests.conftest import wechatpayv3_client

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
PLATFORM = json.loads((FIXTURES / "sandbox/platform.json").read_text())
MCHID, APPID = MERCHANT["merchant_id"], MERCHANT["appid"]
MERCHANT_KEY = (FIXTURES / "demo/merchant_private_key.pem").read_text()
PUB_KEY = (FIXTURES / "sandbox/pub_key.pem").read_text()
PLATFORM_CERT = (FIXTURES / "sandbox/platform_cert.pem").read_text()
NOT_THE_MERCHANT_KEY = (FIXTURES / "sandbox/platform_private_key.pem").read_text()  # PKCS#8, but the wrong key
SERIAL_OF = {"public_key": PLATFORM["public_key_id"], "certificate": PLATFORM["platform_serial_no"]}
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

# Payment codes (gateways/wechatpay/magic.py, listed in docs/scenarios.md): 18 digits starting 10-15.
PAYS = "134567890123456789"  # no magic: pays at once
WAIT_THEN_PAY, WAIT_THEN_FAIL = "130000000000000010", "130000000000000011"  # USERPAYING, settles after 10 s
NOT_ENOUGH, CODE_EXPIRED = "130000000000000020", "130000000000000021"

ORIGINAL_INIT_CERTIFICATES = wechatpayv3.core.Core._init_certificates


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    # The SDK calls requests.get/post directly, which honour *_proxy from the environment: keep loopback direct.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def make_wx(live, receiver, monkeypatch, tmp_path):
    """make_wx(mode, private_key=..., cert_dir=...): a WeChatPay pointed at the live sandbox."""

    def init_certificates(core):
        core._gate_way = live.url  # before the constructor's certificate download
        ORIGINAL_INIT_CERTIFICATES(core)

    monkeypatch.setattr(wechatpayv3.core.Core, "_init_certificates", init_certificates)

    def make(mode: str, private_key: str = MERCHANT_KEY, cert_dir: Path | None = None) -> WeChatPay:
        certs = "" if mode == "public_key" else str(cert_dir or tmp_path / "certs")
        return wechatpayv3_client(live.url, f"{receiver.url}/wx", private_key=private_key, cert_dir=certs)

    return make


@pytest.fixture(params=["public_key", "certificate"])
def mode(request) -> str:
    return request.param


@pytest.fixture
def wx(make_wx, mode) -> WeChatPay:
    return make_wx(mode)


@pytest.fixture
def manual(sandbox):
    """The sandbox clock moves only when a test advances it."""
    sandbox.clock.set_mode("manual")
    return sandbox


@pytest.fixture
def control(live):
    """The control API, as a test (not the SDK) drives it."""
    session = requests.Session()
    session.trust_env = False

    def call(verb: str, path: str, body: dict | None = None) -> dict:
        reply = session.request(verb, f"{live.url}/_sandbox{path}", json=body, timeout=5)
        assert reply.status_code == 200, reply.text
        return reply.json()

    yield call
    session.close()


def pay(control, out_trade_no: str) -> dict:
    """The buyer pays, as after a real cashier visit."""
    return control("POST", f"/orders/wechatpay/{MCHID}/{out_trade_no}/pay", {})


def ok(answer: tuple, status: int = 200) -> dict:
    code, text = answer
    assert code == status, text
    return json.loads(text) if text else {}


def failed(answer: tuple, status: int, code: str) -> dict:
    got, text = answer
    assert got == status, text
    body = json.loads(text)
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


def refund(wx, out_trade_no: str, out_refund_no: str, amount: int, total: int) -> tuple:
    return wx.refund(
        out_refund_no=out_refund_no,
        amount={"refund": amount, "total": total, "currency": "CNY"},
        out_trade_no=out_trade_no,
        reason="测试退款",
    )


def to_noon(sandbox) -> None:
    """Move the manual clock on to the next 12:00, so a test's day cannot roll over under it."""
    now = sandbox.clock.now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon <= now:
        noon += timedelta(days=1)
    sandbox.advance((noon - now).total_seconds())


# -- key modes -------------------------------------------------------------------------------------------


def test_certificate_mode_downloads_decrypts_and_caches_the_platform_certificate(make_wx, tmp_path):
    wx = make_wx("certificate", cert_dir=tmp_path / "certs")
    [cert] = wx._core._certificates
    assert cert.serial_number == int(PLATFORM["platform_serial_no"], 16)
    cached = tmp_path / "certs" / f"{PLATFORM['platform_serial_no']}.pem"
    assert cached.read_text() == PLATFORM_CERT
    # Option (2) from the cache the download wrote: no download at construction, and answers still verify.
    again = make_wx("certificate", cert_dir=tmp_path / "certs")
    assert len(again._core._certificates) == 1
    assert ok(again.pay(description="x", out_trade_no="WX-CERT-0001", amount={"total": 1}))["code_url"]


def test_certificate_mode_cannot_start_with_the_wrong_merchant_key(make_wx):
    # The constructor's /v3/certificates call is signed too: a 401 leaves no certificate, and the SDK gives up.
    with pytest.raises(Exception, match="No wechatpay platform certificate"):
        make_wx("certificate", private_key=NOT_THE_MERCHANT_KEY)


# -- prepay and query ------------------------------------------------------------------------------------


def test_prepay_of_every_kind_then_query_unpaid(wx, live):
    native = ok(wx.pay(description="Native 扫码", out_trade_no="WX-NATIVE-01", amount={"total": 101}))
    assert native["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    jsapi = ok(
        wx.pay(
            description="JSAPI 公众号",
            out_trade_no="WX-JSAPI-01",
            amount={"total": 102, "currency": "CNY"},
            payer={"openid": OPENID},
            attach="table=7",
            pay_type=WeChatPayType.JSAPI,
        )
    )
    assert jsapi["prepay_id"].startswith("wx")
    app = ok(wx.pay(description="APP", out_trade_no="WX-APP-01", amount={"total": 103}, pay_type=WeChatPayType.APP))
    assert app["prepay_id"].startswith("wx") and app["prepay_id"] != jsapi["prepay_id"]
    h5 = ok(
        wx.pay(
            description="H5",
            out_trade_no="WX-H5-01",
            amount={"total": 104},
            scene_info={"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}},
            pay_type=WeChatPayType.H5,
        )
    )
    assert h5["h5_url"].startswith(live.url + "/")
    for out_trade_no, trade_type, total in [
        ("WX-NATIVE-01", "NATIVE", 101),
        ("WX-JSAPI-01", "JSAPI", 102),
        ("WX-APP-01", "APP", 103),
        ("WX-H5-01", "MWEB", 104),
    ]:
        order = ok(wx.query(out_trade_no=out_trade_no))
        assert (order["trade_state"], order["trade_type"]) == ("NOTPAY", trade_type)
        assert (order["appid"], order["mchid"], order["out_trade_no"]) == (APPID, MCHID, out_trade_no)
        assert order["amount"]["total"] == total
        assert "transaction_id" not in order and "success_time" not in order
    jsapi_order = ok(wx.query(out_trade_no="WX-JSAPI-01"))
    assert jsapi_order["payer"]["openid"] == OPENID
    assert jsapi_order["attach"] == "table=7"


def test_an_identical_repeat_gets_the_same_answer_and_a_changed_one_is_refused(wx):
    first = ok(wx.pay(description="x", out_trade_no="WX-REPEAT-1", amount={"total": 5}))
    assert ok(wx.pay(description="x", out_trade_no="WX-REPEAT-1", amount={"total": 5})) == first
    failed(wx.pay(description="x", out_trade_no="WX-REPEAT-1", amount={"total": 6}), 403, "OUT_TRADE_NO_USED")


def test_query_of_a_missing_order(wx):
    failed(wx.query(out_trade_no="WX-NOPE-0001"), 404, "ORDER_NOT_EXIST")
    failed(wx.query(transaction_id="4200000000202401010000000000"), 404, "ORDER_NOT_EXIST")


# -- the life cycle --------------------------------------------------------------------------------------


def test_life_cycle_payment_notification_partial_refunds_and_their_notifications(wx, mode, manual, control, receiver):
    otn = f"WX-LIFE-{mode}"
    ok(wx.pay(description="咖啡 ☕ {x}", out_trade_no=otn, amount={"total": 1000}))
    transaction_id = control("GET", f"/orders/wechatpay/{MCHID}/{otn}")["trade_no"]
    # Before payment there is no transaction to find by id.
    failed(wx.query(transaction_id=transaction_id), 404, "ORDER_NOT_EXIST")

    pay(control, otn)
    [paid] = receiver.wait_for(1, path="/wx")
    assert paid.headers["Wechatpay-Serial"] == SERIAL_OF[mode]
    assert paid.headers["Content-Type"].startswith("application/json")
    notification = wx.callback(paid.headers, paid.body)
    assert (notification["event_type"], notification["resource_type"]) == ("TRANSACTION.SUCCESS", "encrypt-resource")
    resource = notification["resource"]
    assert (resource["trade_state"], resource["out_trade_no"], resource["mchid"]) == ("SUCCESS", otn, MCHID)
    assert resource["transaction_id"] == transaction_id
    assert resource["amount"]["total"] == resource["amount"]["payer_total"] == 1000
    # A lower-case header dict (as FastAPI hands it over) verifies too; a tampered body does not.
    assert wx.callback({k.lower(): v for k, v in paid.headers.items()}, paid.body)
    tampered = paid.body.decode().replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCES5")
    assert wx.callback(paid.headers, tampered) is None

    by_otn, by_id = ok(wx.query(out_trade_no=otn)), ok(wx.query(transaction_id=transaction_id))
    assert by_otn == by_id
    assert (by_otn["trade_state"], by_otn["transaction_id"]) == ("SUCCESS", transaction_id)
    assert by_otn["success_time"] and by_otn["amount"]["payer_total"] == 1000

    first = ok(refund(wx, otn, f"{otn}-r1", 300, 1000))
    assert (first["status"], first["amount"]["refund"], first["amount"]["total"]) == ("PROCESSING", 300, 1000)
    assert first["out_trade_no"] == otn and first["transaction_id"] == transaction_id
    assert ok(wx.query_refund(out_refund_no=f"{otn}-r1"))["status"] == "PROCESSING"
    manual.advance(5)
    settled = wx.callback(*_parts(receiver.wait_for(2, path="/wx")[1]))
    assert settled["event_type"] == "REFUND.SUCCESS"
    assert settled["resource"]["refund_status"] == "SUCCESS"
    assert (settled["resource"]["out_refund_no"], settled["resource"]["amount"]["refund"]) == (f"{otn}-r1", 300)
    queried = ok(wx.query_refund(out_refund_no=f"{otn}-r1"))
    assert queried["status"] == "SUCCESS" and queried["success_time"]
    assert ok(wx.query(out_trade_no=otn))["trade_state"] == "REFUND"

    assert ok(refund(wx, otn, f"{otn}-r2", 700, 1000))["status"] == "PROCESSING"
    failed(refund(wx, otn, f"{otn}-r3", 1, 1000), 403, "NOT_ENOUGH")  # the pending 700 is already spoken for
    manual.advance(5)
    events = [wx.callback(r.headers, r.body) for r in receiver.wait_for(3, path="/wx")]
    assert [(e["event_type"], e["resource"].get("amount", {}).get("refund")) for e in events] == [
        ("TRANSACTION.SUCCESS", None),
        ("REFUND.SUCCESS", 300),
        ("REFUND.SUCCESS", 700),
    ]
    assert ok(wx.query_refund(out_refund_no=f"{otn}-r2"))["status"] == "SUCCESS"
    failed(wx.close(out_trade_no=otn), 403, "ORDERPAID")


def _parts(record) -> tuple:
    return record.headers, record.body


def test_refund_outcomes_abnormal_and_closed_are_notified(wx, mode, manual, control, receiver):
    otn = f"WX-RFOUT-{mode}"
    ok(wx.pay(description="x", out_trade_no=otn, amount={"total": 300}, payer={"openid": OPENID}))
    pay(control, otn)
    receiver.wait_for(1, path="/wx")
    for number, outcome in [(1, "abnormal"), (2, "closed")]:
        out_refund_no = f"{otn}-r{number}"
        assert ok(refund(wx, otn, out_refund_no, 100, 300))["status"] == "PROCESSING"
        control("POST", f"/orders/wechatpay/{MCHID}/{otn}/refunds/{out_refund_no}/settle", {"outcome": outcome})
        notification = wx.callback(*_parts(receiver.wait_for(1 + number, path="/wx")[number]))
        assert notification["event_type"] == f"REFUND.{outcome.upper()}"
        assert notification["resource"]["refund_status"] == outcome.upper()
        assert notification["resource"]["out_refund_no"] == out_refund_no
        assert "success_time" not in notification["resource"]
        assert ok(wx.query_refund(out_refund_no=out_refund_no))["status"] == outcome.upper()
    # The refunds' own timers come due: neither turns into a success behind the merchant's back.
    manual.advance(5)
    assert ok(wx.query_refund(out_refund_no=f"{otn}-r1"))["status"] == "ABNORMAL"
    assert ok(wx.query_refund(out_refund_no=f"{otn}-r2"))["status"] == "CLOSED"
    # Nothing was refunded, so the whole amount can still go back.
    assert ok(refund(wx, otn, f"{otn}-r3", 300, 300))["status"] == "PROCESSING"
    failed(wx.query_refund(out_refund_no=f"{otn}-r9"), 404, "RESOURCE_NOT_EXISTS")


def test_close_answers_204_and_the_order_is_closed(wx, mode, receiver):
    otn = f"WX-CLOSE-{mode}"
    ok(wx.pay(description="x", out_trade_no=otn, amount={"total": 1}))
    code, body = wx.close(out_trade_no=otn)  # an empty 204 has no JSON type: the SDK hands back bytes
    assert (code, body) == (204, b"")
    order = ok(wx.query(out_trade_no=otn))
    assert (order["trade_state"], order["trade_state_desc"]) == ("CLOSED", "已关闭")
    assert wx.close(out_trade_no=otn)[0] == 204  # closing again is harmless
    failed(wx.close(out_trade_no="WX-NOPE-0002"), 404, "ORDER_NOT_EXIST")
    assert receiver.at("/wx") == []  # WeChat does not notify a close


# -- payment codes ---------------------------------------------------------------------------------------


def codepay(wx, out_trade_no: str, auth_code: str, total: int = 88) -> tuple:
    return wx.pay(
        description="付款码",
        out_trade_no=out_trade_no,
        amount={"total": total, "currency": "CNY"},
        payer={"auth_code": auth_code},
        scene_info={"store_info": {"out_id": "shop-001"}},
        pay_type=WeChatPayType.CODEPAY,
    )


def test_codepay_with_the_magic_payment_codes(wx, mode, manual):
    paid = ok(codepay(wx, f"WX-CP1-{mode}", PAYS))
    assert (paid["trade_state"], paid["trade_type"], paid["out_trade_no"]) == ("SUCCESS", "MICROPAY", f"WX-CP1-{mode}")
    assert paid["transaction_id"] and paid["amount"]["payer_total"] == 88

    for otn, code, then in [
        (f"WX-CP2-{mode}", WAIT_THEN_PAY, "SUCCESS"),
        (f"WX-CP3-{mode}", WAIT_THEN_FAIL, "PAYERROR"),
    ]:
        waiting = ok(codepay(wx, otn, code), status=202)
        assert waiting["code"] == "USERPAYING"
        assert ok(wx.query(out_trade_no=otn))["trade_state"] == "USERPAYING"
        manual.advance(9)
        assert ok(wx.query(out_trade_no=otn))["trade_state"] == "USERPAYING"
        manual.advance(1)
        assert ok(wx.query(out_trade_no=otn))["trade_state"] == then

    failed(codepay(wx, f"WX-CP4-{mode}", NOT_ENOUGH), 403, "NOTENOUGH")
    assert ok(wx.query(out_trade_no=f"WX-CP4-{mode}"))["trade_state"] == "PAYERROR"
    failed(codepay(wx, f"WX-CP5-{mode}", CODE_EXPIRED), 403, "AUTHCODEEXPIRE")
    failed(codepay(wx, f"WX-CP6-{mode}", "123456"), 400, "INVALID_REQUEST")


def test_reverse_revokes_a_waiting_payment_code_order(wx, mode, manual):
    waiting = f"WX-REV1-{mode}"
    ok(codepay(wx, waiting, WAIT_THEN_PAY), status=202)
    reversed_ = ok(wx.codepay_reverse(out_trade_no=waiting))
    assert (reversed_["out_trade_no"], reversed_["mchid"], reversed_["appid"]) == (waiting, MCHID, APPID)
    assert ok(wx.query(out_trade_no=waiting))["trade_state"] == "REVOKED"
    manual.advance(10)  # the buyer's confirmation comes too late
    assert ok(wx.query(out_trade_no=waiting))["trade_state"] == "REVOKED"
    ok(wx.pay(description="x", out_trade_no=f"WX-REV3-{mode}", amount={"total": 1}))
    failed(wx.codepay_reverse(out_trade_no=f"WX-REV3-{mode}"), 400, "INVALID_REQUEST")  # not a payment-code order


def test_reverse_of_a_paid_payment_code_order_revokes_it(wx, mode):
    paid = f"WX-REV2-{mode}"
    ok(codepay(wx, paid, PAYS))
    ok(wx.codepay_reverse(out_trade_no=paid))
    # WeChat: a reversed order is REVOKED whether or not the buyer had paid; paid, the money goes back as well.
    assert ok(wx.query(out_trade_no=paid))["trade_state"] == "REVOKED"


# -- bills -----------------------------------------------------------------------------------------------


def test_trade_bill_of_a_past_day_with_its_hash(wx, mode, manual, control, receiver):
    to_noon(manual)
    today = manual.clock.now().strftime("%Y-%m-%d")
    for otn, total in [(f"WX-BILL1-{mode}", 1234), (f"WX-BILL2-{mode}", 500)]:
        ok(wx.pay(description="账单", out_trade_no=otn, amount={"total": total}))
        pay(control, otn)
    ok(refund(wx, f"WX-BILL1-{mode}", f"WX-BILL1-{mode}-r1", 234, 1234))
    manual.advance(5)
    failed(wx.trade_bill(bill_date=today), 400, "NO_STATEMENT_EXIST")

    manual.advance(86400)
    bill = ok(wx.trade_bill(bill_date=today))
    assert bill["hash_type"] == "SHA1"
    assert bill["download_url"].startswith(wx._core._gate_way + "/")
    code, packed = wx.download_bill(url=bill["download_url"])
    assert code == 200 and packed[:2] == b"\x1f\x8b"
    csv = gzip.decompress(packed)
    assert hashlib.sha1(csv).hexdigest() == bill["hash_value"]
    text = csv.decode("utf-8")
    lines = text.strip().split("\r\n")
    assert lines[0].startswith("交易时间,公众账号ID,商户号")
    rows = [line for line in lines[1:] if "`WX-BILL" in line]
    assert len(rows) == 3  # two payments, one refund
    refund_row = next(r for r in rows if "`REFUND" in r)
    assert f"`WX-BILL1-{mode}-r1" in refund_row and "`2.34" in refund_row
    assert lines[-1].startswith("`3,`17.34,`2.34")  # trades, settled, refunded

    only_success = ok(wx.trade_bill(bill_date=today, bill_type="SUCCESS"))
    csv = gzip.decompress(wx.download_bill(url=only_success["download_url"])[1]).decode()
    assert "`REFUND" not in csv and f"`WX-BILL2-{mode}" in csv


# -- authentication --------------------------------------------------------------------------------------


def test_a_request_signed_with_the_wrong_key_is_refused_with_the_string_the_sandbox_verified(make_wx):
    impostor = make_wx("public_key", private_key=NOT_THE_MERCHANT_KEY)
    body = failed(impostor.query(out_trade_no="WX-SIGN-0001"), 401, "SIGN_ERROR")
    # The message quotes (repr, \n escaped) the exact string the sandbox checked, so a merchant can diff it.
    assert "verified" in body["message"]
    assert "'GET\\n/v3/pay/transactions/out-trade-no/WX-SIGN-0001?mchid=1900000109\\n" in body["message"]


def test_a_stale_timestamp_is_refused(wx, monkeypatch):
    real = wechatpayv3.utils.time.time
    monkeypatch.setattr(wechatpayv3.utils, "time", SimpleNamespace(time=lambda: real() - 3600))
    body = failed(wx.query(out_trade_no="WX-STALE-01"), 401, "SIGN_ERROR")
    assert "timestamp" in body["message"]
