"""POST /_sandbox/notifications/{id}/resend over real HTTP, judged by each gateway's real merchant side: Alipay's
python-alipay-sdk, wechatpayv3, wechatpy (v2), and the UnionPay reference client."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.pay import WeChatPay

from sandbox.merchant.wechatpay import WechatPayClientError
from sandbox.merchant.wechatpay_v2 import v2_parse_payment_notification, v2_parse_refund_notification, v2_reply
from sandbox.testing.receiver import Received
from tests.conftest import WECHAT_MERCHANT
from tests.scenarios.drivers import AlipayDriver, UnionPayDriver, WechatDriver

MCHID, APPID, API_KEY = WECHAT_MERCHANT["merchant_id"], WECHAT_MERCHANT["appid"], WECHAT_MERCHANT["api_key"]
_numbers = itertools.count(1)


@dataclass
class WechatV2Driver:
    """wechatpy, unmodified but its base URL: it verifies a payment notification's MD5 sign."""

    base_url: str
    notify_url: str
    gateway: str = "wechatpay"
    merchant_id: str = MCHID

    def __post_init__(self) -> None:
        self.sdk = WeChatPay(appid=APPID, api_key=API_KEY, mch_id=MCHID, timeout=10)
        self.sdk.API_BASE_URL = self.base_url + "/"

    def create(self, out_trade_no: str, amount: int) -> None:
        self.sdk.order.create(
            "APP", "resend", amount, self.notify_url, client_ip="127.0.0.1", out_trade_no=out_trade_no
        )

    def accepts(self, received: Received, amount: int) -> bool:
        try:
            fields = self.sdk.parse_payment_result(received.body)
            v2_parse_payment_notification(received.body, API_KEY, appid=APPID, mch_id=MCHID)
        except (InvalidSignatureException, WechatPayClientError):
            return False
        return int(fields["total_fee"]) == amount


# The fields that carry the amount, as each merchant reads them; and a field only the signature covers.
AMOUNT_EDIT = {
    "alipay": lambda fen: {"total_amount": f"{fen / 100:.2f}"},
    "wechatpay-v3": lambda fen: {"amount.total": fen},
    "wechatpay-v2": lambda fen: {"total_fee": str(fen)},
    "unionpay": lambda fen: {"txnAmt": str(fen)},
}
SIGNATURE_FIELDS = {
    "alipay": {"sign", "sign_type"},
    "wechatpay-v3": {"resource", "ciphertext"},
    "wechatpay-v2": {"sign"},
    "unionpay": {"signature", "signPubKeyCert"},
}


@pytest.fixture(params=list(AMOUNT_EDIT))
def shop(request, live, receiver, sandbox):
    notify_url = f"{receiver.url}/notify"
    if request.param == "wechatpay-v2":
        receiver.reply(v2_reply())
    drivers = {
        "alipay": lambda: AlipayDriver(live.url, notify_url),
        "wechatpay-v3": lambda: WechatDriver(live.url, notify_url),
        "wechatpay-v2": lambda: WechatV2Driver(live.url, notify_url),
        "unionpay": lambda: UnionPayDriver(live.url, notify_url, clock=sandbox.clock.now),
    }
    driver = drivers[request.param]()
    driver.kind = request.param
    return driver


def paid(shop, control, receiver, amount: int = 990) -> tuple[str, str]:
    """A paid order whose notification reached the merchant: (out_trade_no, notification id)."""
    number, path = f"RESEND{next(_numbers):06d}", urlsplit(shop.notify_url).path
    before = len(receiver.at(path))
    shop.create(number, amount)
    control("POST", f"/orders/{shop.gateway}/{shop.merchant_id}/{number}/pay", {"outcome": "success"})
    received = receiver.wait_for(before + 1, path=path)[-1]
    assert shop.accepts(received, amount)
    [record] = control("GET", f"/notifications?out_trade_no={number}")["notifications"]
    return number, record["id"]


@pytest.mark.parametrize("signature", ["valid", "invalid", "missing"])
def test_a_resent_amount_verifies_only_when_signed_properly(shop, control, receiver, signature):
    number, original = paid(shop, control, receiver)
    edits = AMOUNT_EDIT[shop.kind](2)

    resent = control("POST", f"/notifications/{original}/resend", {"fields": edits, "signature": signature}, 201)

    received = receiver.wait_for(2)[1]
    assert shop.accepts(received, 2) is (signature == "valid")
    assert not shop.accepts(received, 990)
    assert (resent["resent_from"], resent["edits"]["fields"], resent["edits"]["signature"]) == (
        original,
        edits,
        signature,
    )
    assert resent["id"] != original and resent["out_trade_no"] == number
    assert [(a["trigger"], a["acked"]) for a in resent["attempts"]] == [("resend", True)]
    assert resent["status"] == "delivered" and resent["next_attempt_at"] is None
    assert received.text == resent["body"]
    assert resent == control("GET", f"/notifications/{resent['id']}")
    listed = control("GET", f"/notifications?out_trade_no={number}")["notifications"]
    assert sorted(n["id"] for n in listed) == sorted([original, resent["id"]])


def test_fields_are_the_payload_as_the_merchant_reads_it_and_a_resend_carries_the_edit(shop, control, receiver):
    number, original = paid(shop, control, receiver)
    fields = control("GET", f"/notifications/{original}")["fields"]
    assert not SIGNATURE_FIELDS[shop.kind] & set(fields)
    if shop.kind == "wechatpay-v3":
        assert (fields["out_trade_no"], fields["amount"]["total"], fields["mchid"]) == (number, 990, MCHID)
    else:
        assert number in fields.values()

    resent = control("POST", f"/notifications/{original}/resend", {"fields": AMOUNT_EDIT[shop.kind](2)}, 201)

    edited = resent["fields"]
    if shop.kind == "wechatpay-v3":
        assert edited == {**fields, "amount": {**fields["amount"], "total": 2}}
    else:
        changed = {name for name in fields if edited.get(name) != fields[name]}
        assert changed <= {*AMOUNT_EDIT[shop.kind](2), "notify_time", "notify_id"}
        assert {k: edited[k] for k in AMOUNT_EDIT[shop.kind](2)} == AMOUNT_EDIT[shop.kind](2)


def test_a_field_set_to_null_is_removed_and_a_new_one_added(control, receiver, live):
    shop = AlipayDriver(live.url, f"{receiver.url}/notify")
    _, original = paid(shop, control, receiver)
    edits = {"passback_params": "hello", "buyer_logon_id": None}

    resent = control("POST", f"/notifications/{original}/resend", {"fields": edits}, 201)

    form = receiver.wait_for(2)[1].form
    assert form["passback_params"] == "hello" and "buyer_logon_id" not in form
    assert shop.accepts(receiver.received[1], 990)
    assert "buyer_logon_id removed" in resent["edits"]["notes"][0]


def test_a_v2_refund_resend_reseals_req_info_with_the_edit(live, control, receiver, sandbox):
    shop = WechatV2Driver(live.url, f"{receiver.url}/notify")
    receiver.reply(v2_reply())
    number, _ = paid(shop, control, receiver, amount=1000)
    shop.sdk.refund.apply(1000, 100, f"{number}R", out_trade_no=number)
    control("POST", "/clock/advance", {"seconds": 5})  # the refund succeeds on the clock
    refund = control("GET", f"/notifications?out_trade_no={number}")["notifications"][1]
    fields = control("GET", f"/notifications/{refund['id']}")["fields"]
    assert fields["req_info.refund_fee"] == "100" and "req_info" not in fields

    control("POST", f"/notifications/{refund['id']}/resend", {"fields": {"req_info.refund_fee": "1"}}, 201)
    control("POST", f"/notifications/{refund['id']}/resend", {"signature": "invalid"}, 201)

    good, forged = receiver.wait_for(4)[2:]
    inner = v2_parse_refund_notification(good.body, API_KEY, appid=APPID, mch_id=MCHID)
    assert (inner["refund_fee"], inner["out_refund_no"]) == ("1", f"{number}R")
    with pytest.raises(WechatPayClientError):
        v2_parse_refund_notification(forged.body, API_KEY, appid=APPID, mch_id=MCHID)


def test_namespaces_isolate_resends(space, receiver, http, live, sandbox):
    sandbox.clock.set_mode("manual")
    team = space("team-resend")
    client = team.alipay("2021000000007777")
    client.create("NS-RESEND-1", 100, "Tea", "2088000000000009", notify_url=f"{receiver.url}/notify")
    team.api("POST", "/orders/alipay/2021000000007777/NS-RESEND-1/pay", json={})
    sandbox.advance(0)
    [record] = team.api("GET", "/notifications")["notifications"]

    assert space().call("POST", f"/notifications/{record['id']}/resend", json={}).status_code == 404
    assert space().call("GET", f"/notifications/{record['id']}").status_code == 404
    resent = team.call("POST", f"/notifications/{record['id']}/resend", json={"fields": {"total_amount": "0.02"}})
    assert resent.status_code == 201, resent.text
    assert space().api("GET", "/notifications")["notifications"] == []
    assert len(team.api("GET", "/notifications")["notifications"]) == 2
    assert client.verify_notification(receiver.wait_for(2)[1].form)["total_amount"] == "0.02"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": ["total_amount"]}, "fields"),
        ({"fields": "total_amount=0.02"}, "fields"),
        ({"fields": {"total_amount": ["0.02"]}}, "fields.total_amount"),
        ({"fields": {"total_amount": {"yuan": "0.02"}}}, "fields.total_amount"),
        ({"fields": {"total_amount": True}}, "fields.total_amount"),
        ({"fields": {"sign": "forged"}}, "fields.sign"),
        ({"fields": {"sign_type": "RSA"}}, "fields.sign_type"),
        ({"signature": "wrong"}, "signature"),
        ({"signature": None}, "signature"),
        ({"field": {"total_amount": "0.02"}}, "field"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(control, receiver, live, http, body, field):
    _, original = paid(AlipayDriver(live.url, f"{receiver.url}/notify"), control, receiver)
    reply = http.post(f"{live.url}/_sandbox/notifications/{original}/resend", json=body, timeout=10)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "INVALID_PARAMETER" and field in error["message"]
    assert len(control("GET", "/notifications")["notifications"]) == 1  # nothing was made


def test_a_path_through_a_value_that_is_not_an_object_and_a_bad_xml_name_are_400s(live, control, receiver, http):
    _, v3 = paid(WechatDriver(live.url, f"{receiver.url}/v3"), control, receiver)
    receiver.reply(v2_reply())
    _, v2 = paid(WechatV2Driver(live.url, f"{receiver.url}/v2"), control, receiver)
    for notification, fields, named in (
        (v3, {"amount.total.value": 1}, "fields.amount.total.value"),
        (v3, {"out_trade_no.x": None}, "fields.out_trade_no.x"),
        (v2, {"bad name": "1"}, "fields.bad name"),
        (v2, {"req_info": "x"}, "fields.req_info"),
    ):
        reply = http.post(f"{live.url}/_sandbox/notifications/{notification}/resend", json={"fields": fields})
        assert reply.status_code == 400 and named in reply.json()["error"]["message"], reply.text


def test_an_unknown_notification_is_a_404(live, http):
    reply = http.post(f"{live.url}/_sandbox/notifications/ntf_nope/resend", json={"fields": []})
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "NOT_FOUND"
