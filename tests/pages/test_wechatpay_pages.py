"""The hosted WeChat Pay pages in real headless Chromium: the Native scan page, the H5 page, the JSAPI pay sheet and
the WeixinJSBridge shim.

Orders are made with the real wechatpayv3 SDK (public-key mode) against the live sandbox; what the merchant gets is
checked with the SDK too: the notification through wx.callback, the order through wx.query.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import requests
from playwright.sync_api import Page, expect
from wechatpayv3 import WeChatPay, WeChatPayType

from sandbox.core import crypto
from tests.conftest import wechatpayv3_client

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo" / "merchant.json").read_text())
MCHID = MERCHANT["merchant_id"]
APPID = MERCHANT["appid"]
PRIVATE_KEY = (FIXTURES / "demo" / "merchant_private_key.pem").read_text()
DESCRIPTION = "测试商品 · Browser test"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
NOTIFY_TIMEOUT = 10.0
SHEET = "iframe[title='WeChat Pay (paysandbox)']"


# -- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def wx(live, receiver) -> WeChatPay:
    """The merchant's wechatpayv3 client, in public-key mode, pointed at the live sandbox."""
    return wechatpayv3_client(live.url, receiver.url + "/notify")


@pytest.fixture
def merchant_name(sandbox) -> str:
    return sandbox.merchants.get("wechatpay", MCHID)["name"]


def prepay(wx: WeChatPay, pay_type: WeChatPayType, out_trade_no: str, total: int, **extra) -> dict:
    code, text = wx.pay(
        description=DESCRIPTION, out_trade_no=out_trade_no, amount={"total": total}, pay_type=pay_type, **extra
    )
    assert code == 200, text
    return json.loads(text)


def native_order(wx: WeChatPay, out_trade_no: str, total: int) -> str:
    return prepay(wx, WeChatPayType.NATIVE, out_trade_no, total)["code_url"]


def h5_order(wx: WeChatPay, out_trade_no: str, total: int) -> str:
    scene = {"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}}
    return prepay(wx, WeChatPayType.H5, out_trade_no, total, scene_info=scene)["h5_url"]


def jsapi_order(wx: WeChatPay, out_trade_no: str, total: int) -> str:
    return prepay(wx, WeChatPayType.JSAPI, out_trade_no, total, payer={"openid": OPENID})["prepay_id"]


def jsapi_params(wx: WeChatPay, prepay_id: str) -> dict[str, str]:
    """What the merchant's server hands its page for getBrandWCPayRequest, signed by wechatpayv3 itself."""
    timestamp, nonce = str(int(time.time())), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    package = f"prepay_id={prepay_id}"
    return {
        "appId": APPID,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": wx.sign([APPID, timestamp, nonce, package]),
    }


def order_state(live, out_trade_no: str) -> dict:
    session = requests.Session()
    session.trust_env = False  # the sandbox is on loopback: no proxy
    reply = session.get(f"{live.url}/_sandbox/orders/wechatpay/{MCHID}/{out_trade_no}", timeout=10)
    reply.raise_for_status()
    return reply.json()


def trade_state(wx: WeChatPay, out_trade_no: str) -> str:
    code, text = wx.query(out_trade_no=out_trade_no)
    assert code == 200, text
    return json.loads(text)["trade_state"]


def expect_paid_notification(wx: WeChatPay, receiver, out_trade_no: str, total: int) -> dict:
    """The TRANSACTION.SUCCESS notification, verified and decrypted by the SDK as the merchant would."""
    (record,) = receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/notify")
    result = wx.callback(record.headers, record.body)
    assert result is not None, "wechatpayv3 rejected the notification"
    assert result["event_type"] == "TRANSACTION.SUCCESS"
    resource = result["resource"]
    assert resource["out_trade_no"] == out_trade_no
    assert resource["trade_state"] == "SUCCESS"
    assert resource["amount"]["total"] == total
    return resource


def expect_summary(page, merchant: str, amount: str, out_trade_no: str) -> None:
    expect(page.get_by_test_id("merchant")).to_have_text(merchant)
    expect(page.get_by_test_id("subject")).to_have_text(DESCRIPTION)
    expect(page.get_by_test_id("amount")).to_have_text(amount)
    expect(page.get_by_test_id("out-trade-no")).to_have_text(out_trade_no)


def expect_fits_the_phone(page: Page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.get_by_test_id("pay").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def native_page(live, code_url: str) -> str:
    return f"{live.url}/cashier/wechatpay/native?code_url={quote(code_url, safe='')}"


def at(url: str) -> re.Pattern:
    return re.compile(re.escape(url) + r"(\?.*)?$")


# -- Native -----------------------------------------------------------------------------------------


def test_native_scan_page_shows_the_code_url_as_qr_and_the_buyer_pays_with_a_notification(
    page, live, receiver, wx, merchant_name, tmp_path
):
    code_url = native_order(wx, "WX-NATIVE-1", 1234)
    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")

    page.goto(native_page(live, code_url))

    qr = page.get_by_test_id("qr").locator("svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 150 and box["height"] >= 150  # big enough to scan
    expect(page.get_by_test_id("code-url")).to_have_text(code_url)
    expect(page.get_by_label("Buyer's phone")).to_be_visible()
    expect_summary(page, merchant_name, "12.34", "WX-NATIVE-1")
    page.screenshot(path=tmp_path / "wechat-native.png", full_page=True)
    assert trade_state(wx, "WX-NATIVE-1") == "NOTPAY"  # opening the page changes nothing

    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment successful")
    expect(page.locator("main")).to_contain_text(f"¥12.34 paid to {merchant_name}")
    resource = expect_paid_notification(wx, receiver, "WX-NATIVE-1", 1234)
    expect(page.get_by_test_id("transaction-id")).to_have_text(resource["transaction_id"])
    page.screenshot(path=tmp_path / "wechat-native-paid.png", full_page=True)
    state = order_state(live, "WX-NATIVE-1")
    assert state["status"] == "paid"
    assert trade_state(wx, "WX-NATIVE-1") == "SUCCESS"


def test_native_shortcut_by_pr_and_a_failed_payment_is_payerror_without_a_notification(page, live, receiver, wx):
    code_url = native_order(wx, "WX-NATIVE-FAIL", 500)
    pr = code_url.split("pr=", 1)[1]

    page.goto(f"{live.url}/cashier/wechatpay/native/{pr}")
    page.get_by_test_id("reason").select_option("NOTENOUGH")
    page.get_by_test_id("fail").click()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment failed")
    expect(page.locator("main")).to_contain_text("Balance not enough")
    state = order_state(live, "WX-NATIVE-FAIL")
    assert state["status"] == "failed"
    assert state["failure"]["reason"] == "NOTENOUGH"
    assert trade_state(wx, "WX-NATIVE-FAIL") == "PAYERROR"
    assert receiver.at("/notify") == []  # WeChat notifies payments, not failures


def test_leaving_the_scan_page_keeps_the_order_unpaid(page, live, receiver, wx):
    page.goto(native_page(live, native_order(wx, "WX-NATIVE-LEAVE", 100)))

    page.get_by_test_id("leave").click()

    expect(page.get_by_test_id("outcome")).to_have_text("You left without paying")
    expect(page.get_by_test_id("back")).to_have_attribute("href", f"{receiver.url}/")
    assert trade_state(wx, "WX-NATIVE-LEAVE") == "NOTPAY"


def test_an_unknown_code_url_shows_a_not_found_page(page, live, tmp_path):
    response = page.goto(native_page(live, "weixin://wxpay/bizpayurl?pr=NoSuchToken"))

    assert response is not None and response.status == 404
    expect(page.get_by_test_id("error-title")).to_contain_text("Order not found")
    expect(page.get_by_test_id("error-message")).to_contain_text("pr=NoSuchToken")
    page.screenshot(path=tmp_path / "wechat-not-found.png", full_page=True)

    response = page.goto(native_page(live, "https://example.com/not-a-code-url"))
    assert response is not None and response.status == 400
    expect(page.get_by_test_id("error-title")).to_contain_text("Not a WeChat Pay code_url")


# -- H5 ---------------------------------------------------------------------------------------------


def test_h5_page_pays_and_returns_the_buyer_to_redirect_url(mobile_page, live, receiver, wx, merchant_name, tmp_path):
    page = mobile_page
    h5_url = h5_order(wx, "WX-H5-PAY", 2500)
    assert h5_url.startswith(f"{live.url}/cashier/wechatpay/h5?prepay_id=wx")
    redirect_url = f"{receiver.url}/wx-return?order=WX-H5-PAY"

    page.goto(h5_url + "&redirect_url=" + quote(redirect_url, safe=""))

    expect(page.locator("body")).to_have_class(re.compile(r"\bmobile\b"))
    expect_summary(page, merchant_name, "25.00", "WX-H5-PAY")
    expect(page.get_by_test_id("redirect-note")).to_contain_text(redirect_url)
    expect_fits_the_phone(page)
    page.screenshot(path=tmp_path / "wechat-h5.png", full_page=True)

    page.get_by_test_id("pay").tap()

    page.wait_for_url(redirect_url)
    assert len(receiver.at("/wx-return")) == 1
    expect_paid_notification(wx, receiver, "WX-H5-PAY", 2500)
    assert trade_state(wx, "WX-H5-PAY") == "SUCCESS"


def test_h5_failure_also_returns_to_redirect_url_and_the_merchant_queries_payerror(mobile_page, live, receiver, wx):
    page = mobile_page
    redirect_url = f"{receiver.url}/wx-return"
    page.goto(h5_order(wx, "WX-H5-FAIL", 300) + "&redirect_url=" + quote(redirect_url, safe=""))

    page.get_by_test_id("reason").select_option("BANKERROR")
    page.get_by_test_id("fail").tap()

    page.wait_for_url(at(redirect_url))
    assert trade_state(wx, "WX-H5-FAIL") == "PAYERROR"
    assert order_state(live, "WX-H5-FAIL")["failure"]["reason"] == "BANKERROR"
    assert receiver.at("/notify") == []


def test_h5_without_redirect_url_shows_the_result_page(mobile_page, live, receiver, wx):
    page = mobile_page
    page.goto(h5_order(wx, "WX-H5-LEAVE", 300))

    page.get_by_test_id("leave").tap()

    expect(page.get_by_test_id("outcome")).to_have_text("You left without paying")
    assert trade_state(wx, "WX-H5-LEAVE") == "NOTPAY"


def test_an_altered_h5_url_is_refused(mobile_page, live, wx):
    h5_url = h5_order(wx, "WX-H5-BAD", 300)

    response = mobile_page.goto(re.sub(r"package=\w+", "package=0000000000", h5_url))

    assert response is not None and response.status == 400
    expect(mobile_page.get_by_test_id("error-title")).to_contain_text("The h5_url was altered")
    response = mobile_page.goto(f"{live.url}/cashier/wechatpay/h5?prepay_id=wx_no_such_prepay")
    assert response is not None and response.status == 404


# -- JSAPI ------------------------------------------------------------------------------------------


def test_jsapi_page_with_a_correct_pay_sign_pays(mobile_page, live, receiver, wx, sandbox, merchant_name, tmp_path):
    page = mobile_page
    prepay_id = jsapi_order(wx, "WX-JSAPI-PAY", 990)
    params = jsapi_params(wx, prepay_id)

    page.goto(f"{live.url}/cashier/wechatpay/jsapi?{urlencode(params)}")

    expect_summary(page, merchant_name, "9.90", "WX-JSAPI-PAY")
    key = crypto.load_public_key(sandbox.gateways["wechatpay"].merchant(MCHID)["merchant_public_key"])
    expect(page.get_by_test_id("verified")).to_contain_text(crypto.fingerprint(key))
    expect_fits_the_phone(page)
    page.screenshot(path=tmp_path / "wechat-jsapi.png", full_page=True)

    page.get_by_test_id("pay").tap()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment successful")
    expect_paid_notification(wx, receiver, "WX-JSAPI-PAY", 990)
    assert order_state(live, "WX-JSAPI-PAY")["status"] == "paid"


def test_jsapi_page_with_a_wrong_pay_sign_shows_what_was_verified_and_with_which_key(
    mobile_page, live, wx, sandbox, tmp_path
):
    page = mobile_page
    params = jsapi_params(wx, jsapi_order(wx, "WX-JSAPI-BAD", 990))
    params["nonceStr"] = "TAMPERED" + params["nonceStr"][8:]  # the signature no longer covers what is sent

    response = page.goto(f"{live.url}/cashier/wechatpay/jsapi?{urlencode(params)}")

    assert response is not None and response.status == 400
    expect(page.get_by_test_id("error-title")).to_contain_text("支付验证签名失败")
    signed = "\\n".join([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]) + "\\n"
    expect(page.get_by_test_id("error-string-verified")).to_have_text(signed)
    key = crypto.load_public_key(sandbox.gateways["wechatpay"].merchant(MCHID)["merchant_public_key"])
    expect(page.get_by_test_id("error-key")).to_contain_text(crypto.fingerprint(key))
    expect(page.get_by_test_id("error-key")).to_contain_text(MCHID)
    expect(page.get_by_test_id("pay")).to_have_count(0)
    page.screenshot(path=tmp_path / "wechat-jsapi-badsign.png", full_page=True)
    assert order_state(live, "WX-JSAPI-BAD")["status"] == "pending"


def test_jsapi_v2_md5_pay_sign_is_checked_with_the_api_key_and_never_shows_it(mobile_page, live, wx, sandbox):
    """A v2 order's page params, signed by wechatpy itself (MD5 with the API key)."""
    from wechatpy.pay import WeChatPay as WeChatPayV2

    page = mobile_page
    prepay_id = jsapi_order(wx, "WX-JSAPI-V2", 100)
    order = sandbox.payments.find("wechatpay", MCHID, out_trade_no="WX-JSAPI-V2")
    sandbox.payments.annotate(order.key, api="v2")  # as an order made with pay/unifiedorder would be
    params = WeChatPayV2(APPID, MERCHANT["api_key"], MCHID).jsapi.get_jsapi_params(prepay_id)

    page.goto(f"{live.url}/cashier/wechatpay/jsapi?{urlencode(params)}")
    expect(page.get_by_test_id("verified")).to_contain_text(f"MD5, the API key of mchid {MCHID}")

    params["paySign"] = "0" * 32
    page.goto(f"{live.url}/cashier/wechatpay/jsapi?{urlencode(params)}")
    expect(page.get_by_test_id("error-title")).to_contain_text("支付验证签名失败")
    expect(page.get_by_test_id("error-string-verified")).to_contain_text(
        f"appId={APPID}&nonceStr={params['nonceStr']}&package=prepay_id={prepay_id}&signType=MD5"
    )
    expect(page.get_by_test_id("error-key")).to_have_text(f"the API key of mchid {MCHID}")
    assert MERCHANT["api_key"] not in page.content()


# -- the WeixinJSBridge shim ------------------------------------------------------------------------

SHOP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Demo shop</title>
<script src="{jsbridge}"{mode}></script></head>
<body><h1>Demo shop checkout</h1>
<button id="buy" onclick="buy()">Buy with WeChat Pay</button>
<p id="result">waiting</p>
<script>
  // A shop's in-WeChat pay code, as WeChat's docs show it: unchanged for the sandbox.
  var params = {params};
  function onBridgeReady() {{
    WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (res) {{
      document.getElementById("result").textContent = res.err_msg;
    }});
  }}
  function buy() {{
    if (typeof WeixinJSBridge == "undefined") {{
      document.addEventListener("WeixinJSBridgeReady", onBridgeReady, false);
    }} else {{
      onBridgeReady();
    }}
  }}
</script></body></html>
"""


def shop_page(live, params: dict, mode: str = "") -> str:
    return SHOP_PAGE.format(
        jsbridge=f"{live.url}/cashier/wechatpay/jsbridge.js",
        mode=f' data-mode="{mode}"' if mode else "",
        params=json.dumps(params),
    )


def test_jsbridge_shim_lays_the_pay_sheet_over_the_shop_page_and_answers_the_callback(
    page, live, receiver, wx, merchant_name, tmp_path
):
    params = jsapi_params(wx, jsapi_order(wx, "WX-BRIDGE-PAY", 4200))
    receiver.reply(shop_page(live, params), path="/shop")
    page.goto(f"{receiver.url}/shop")

    page.locator("#buy").click()

    sheet = page.frame_locator(SHEET)
    expect(sheet.get_by_test_id("amount")).to_have_text("42.00")
    expect(sheet.get_by_test_id("merchant")).to_have_text(merchant_name)
    page.screenshot(path=tmp_path / "wechat-jsbridge-sheet.png")
    sheet.get_by_test_id("pay").click()
    expect(sheet.get_by_test_id("outcome")).to_have_text("Payment successful")
    expect(sheet.get_by_test_id("back")).to_be_hidden()  # inside the sheet, Done answers the shop instead
    page.screenshot(path=tmp_path / "wechat-jsbridge-paid.png")
    sheet.get_by_test_id("done").click()

    expect(page.locator("#result")).to_have_text("get_brand_wcpay_request:ok")
    expect(page.locator(SHEET)).to_have_count(0)
    assert page.url == f"{receiver.url}/shop"
    expect_paid_notification(wx, receiver, "WX-BRIDGE-PAY", 4200)


def test_jsbridge_shim_reports_cancel_and_a_bad_sign_as_fail(page, live, receiver, wx):
    params = jsapi_params(wx, jsapi_order(wx, "WX-BRIDGE-CANCEL", 100))
    receiver.reply(shop_page(live, params), path="/shop")
    page.goto(f"{receiver.url}/shop")

    page.locator("#buy").click()
    page.frame_locator(SHEET).get_by_test_id("leave").click()
    page.frame_locator(SHEET).get_by_test_id("done").click()

    expect(page.locator("#result")).to_have_text("get_brand_wcpay_request:cancel")
    assert trade_state(wx, "WX-BRIDGE-CANCEL") == "NOTPAY"

    receiver.reply(shop_page(live, {**params, "paySign": params["paySign"][::-1]}), path="/shop")
    page.goto(f"{receiver.url}/shop")
    page.locator("#buy").click()
    expect(page.frame_locator(SHEET).get_by_test_id("error-title")).to_contain_text("支付验证签名失败")
    page.frame_locator(SHEET).get_by_test_id("done").click()
    expect(page.locator("#result")).to_have_text("get_brand_wcpay_request:fail")


def test_jsbridge_shim_in_page_mode_navigates_to_the_pay_page_and_links_back(page, live, receiver, wx):
    params = jsapi_params(wx, jsapi_order(wx, "WX-BRIDGE-PAGE", 100))
    receiver.reply(shop_page(live, params, mode="page"), path="/shop")
    page.goto(f"{receiver.url}/shop")

    page.locator("#buy").click()

    page.wait_for_url(f"{live.url}/cashier/wechatpay/jsapi")
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("outcome")).to_have_text("Payment successful")
    expect(page.get_by_test_id("done")).to_be_hidden()  # no frame to answer: the link goes back instead
    page.get_by_test_id("back").click()
    page.wait_for_url(f"{receiver.url}/shop")
    expect_paid_notification(wx, receiver, "WX-BRIDGE-PAGE", 100)


def test_paying_an_order_the_merchant_closed_meanwhile_shows_it_closed(mobile_page, live, receiver, wx):
    page = mobile_page
    page.goto(f"{live.url}/cashier/wechatpay/jsapi?{urlencode(jsapi_params(wx, jsapi_order(wx, 'WX-CLOSED', 100)))}")
    expect(page.get_by_test_id("pay")).to_be_visible()
    code, _ = wx.close("WX-CLOSED")  # the merchant gives up while the buyer still has the page open
    assert code == 204

    page.get_by_test_id("pay").tap()

    expect(page.get_by_test_id("outcome")).to_have_text("This order is closed")
    assert trade_state(wx, "WX-CLOSED") == "CLOSED"
    assert receiver.at("/notify") == []


def app_order(wx: WeChatPay, out_trade_no: str, total: int) -> str:
    return prepay(wx, WeChatPayType.APP, out_trade_no, total)["prepay_id"]


def test_app_page_with_a_correct_v3_sign_pays(mobile_page, live, receiver, wx, merchant_name):
    page = mobile_page
    prepay_id = app_order(wx, "WX-APP-PAY", 520)
    stamp, nonce = str(int(time.time())), "APPNONCE0123456789ABCDEF"
    params = {
        "appid": APPID,
        "partnerid": MCHID,
        "prepayid": prepay_id,
        "package": "Sign=WXPay",
        "noncestr": nonce,
        "timestamp": stamp,
        "sign": wx.sign([APPID, stamp, nonce, prepay_id]),
    }

    page.goto(f"{live.url}/cashier/wechatpay/app?{urlencode(params)}")

    expect_summary(page, merchant_name, "5.20", "WX-APP-PAY")
    page.get_by_test_id("pay").tap()
    expect(page.get_by_test_id("outcome")).to_have_text("Payment successful")
    expect_paid_notification(wx, receiver, "WX-APP-PAY", 520)


def test_app_page_with_a_wrong_sign_shows_the_appid_timestamp_noncestr_prepayid_string(mobile_page, live, wx):
    page = mobile_page
    prepay_id = app_order(wx, "WX-APP-BAD", 520)
    params = {
        "appid": APPID,
        "partnerid": MCHID,
        "prepayid": prepay_id,
        "package": "Sign=WXPay",
        "noncestr": "N1",
        "timestamp": "1700000000",
        "sign": wx.sign([APPID, "1700000000", "N2", prepay_id]),
    }

    response = page.goto(f"{live.url}/cashier/wechatpay/app?{urlencode(params)}")

    assert response is not None and response.status == 400
    expect(page.get_by_test_id("error-string-verified")).to_have_text(f"{APPID}\\n1700000000\\nN1\\n{prepay_id}\\n")
    assert order_state(live, "WX-APP-BAD")["status"] == "pending"


def test_app_page_takes_wechatpy_v2_app_params(mobile_page, live):
    from wechatpy.pay import WeChatPay as V2Pay

    v2 = V2Pay(appid=APPID, api_key=MERCHANT["api_key"], mch_id=MCHID, timeout=10)
    v2.API_BASE_URL = live.url + "/"
    prepay_id = v2.order.create(
        trade_type="APP",
        body="x",
        total_fee=300,
        out_trade_no="WX-APP-V2",
        notify_url="http://127.0.0.1:9/n",
        client_ip="127.0.0.1",
    )["prepay_id"]
    params = v2.order.get_appapi_params(prepay_id)

    mobile_page.goto(f"{live.url}/cashier/wechatpay/app?{urlencode(params)}")
    expect(mobile_page.get_by_test_id("verified")).to_contain_text("MD5")
    mobile_page.get_by_test_id("pay").tap()
    expect(mobile_page.get_by_test_id("outcome")).to_have_text("Payment successful")
    assert order_state(live, "WX-APP-V2")["status"] == "paid"
