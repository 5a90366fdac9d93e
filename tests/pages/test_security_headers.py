"""Security headers: every answer is nosniff; every HTML page (hosted pages, error pages, the demo shop's pages) has a
CSP without inline script or style, refuses framing and sets a referrer policy; the WeChat pay sheet alone may be
framed, by the page whose WeixinJSBridge shim opened it. Gateway answers (JSON, XML, key=value) only gain nosniff.

That every hosted page and shop page works under its CSP is shown by the browser tests themselves: the `context` and
`mobile_page` fixtures fail any test during which a page reports a CSP violation.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from sandbox.merchant.alipay import AlipayClient
from sandbox.merchant.shop import create_shop
from sandbox.merchant.shop.settings import ShopSettings
from tests.conftest import watch_csp
from tests.raw_http import exchange

SHOP_ORIGIN = "http://shop.example:8010"


def assert_page_headers(reply, frame_ancestors: str = "'none'") -> dict[str, str]:
    """The headers every HTML page carries; answers the CSP's directives."""
    assert reply.mimetype == "text/html", reply.mimetype
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    directives = dict(part.strip().split(" ", 1) for part in reply.headers["Content-Security-Policy"].split(";"))
    assert directives["default-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in reply.headers["Content-Security-Policy"]
    assert directives["frame-ancestors"] == frame_ancestors
    assert reply.headers.get("X-Frame-Options") == ("DENY" if frame_ancestors == "'none'" else None)
    return directives


@pytest.fixture
def merchant(alipay_demo) -> AlipayClient:
    return AlipayClient(alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "")


def page_pay(client, merchant: AlipayClient, out_trade_no: str, **changes):
    biz = {
        "out_trade_no": out_trade_no,
        "total_amount": "1.00",
        "subject": "Tea",
        "product_code": "FAST_INSTANT_TRADE_PAY",
    }
    return client.post("/gateway.do", data={**merchant.signed_params("alipay.trade.page.pay", biz), **changes})


def test_a_hosted_cashier_page_has_the_page_headers(client, merchant):
    reply = page_pay(client, merchant, "SEC-HEAD-1")
    assert reply.status_code == 302 and reply.headers["X-Content-Type-Options"] == "nosniff"
    directives = assert_page_headers(client.get(reply.headers["Location"]))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"


@pytest.mark.parametrize(
    ("page", "send"),
    [
        ("alipay cashier error", lambda client, merchant: page_pay(client, merchant, "SEC-HEAD-2", sign="bad")),
        (
            "unionpay front error",
            lambda client, merchant: client.post("/gateway/api/frontTransReq.do", data={"a": "1"}),
        ),
        ("wechatpay page error", lambda client, merchant: client.get("/cashier/wechatpay/native?code_url=nothing")),
        ("wechatpay h5 error", lambda client, merchant: client.get("/cashier/wechatpay/h5?prepay_id=wx1")),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_error_pages_have_the_page_headers(client, merchant, page, send):
    assert_page_headers(send(client, merchant))


def test_gateway_answers_gain_nosniff_and_keep_their_own_content_types(client, merchant):
    biz = {"out_trade_no": "SEC-HEAD-3"}
    alipay = client.post("/gateway.do", data=merchant.signed_params("alipay.trade.query", biz))
    assert alipay.mimetype == "text/html"  # as Alipay serves its JSON: so it carries the page headers as well
    assert_page_headers(alipay)
    answers = [
        client.post("/v3/pay/transactions/native", json={}),
        client.post("/v3/alipay/trade/query", json={}),
        client.post("/pay/orderquery", data=b"<xml></xml>"),
        client.post("/gateway/api/queryTrans.do", data={"a": "1"}),
        client.get("/_sandbox/health"),
        client.get("/nothing/here"),
        client.get("/cashier/static/cashier.css"),
        client.get("/cashier/wechatpay/jsbridge.js"),
    ]
    for reply in answers:
        assert reply.headers["X-Content-Type-Options"] == "nosniff", reply.request.path
        assert "Content-Security-Policy" not in reply.headers, reply.request.path
    assert [reply.mimetype for reply in answers[-2:]] == ["text/css", "text/javascript"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_pay_sheet_may_be_framed_only_by_the_page_that_opened_it(client, method):
    where = {"query_string" if method == "GET" else "data": {"embedder": SHOP_ORIGIN}}
    reply = client.open("/cashier/wechatpay/jsapi", method=method, **where)
    assert reply.status_code == 400  # no pay parameters: the sheet's error page, framed like the sheet
    assert_page_headers(reply, frame_ancestors=SHOP_ORIGIN)


@pytest.mark.parametrize(
    "embedder", ["", "javascript:alert(1)", "http://shop.example/path", "http://a b", "http://x; script-src *", "*"]
)
def test_a_pay_sheet_without_a_plain_origin_to_frame_it_is_never_framed(client, embedder):
    assert_page_headers(client.post("/cashier/wechatpay/jsapi", data={"embedder": embedder}))


def test_the_demo_shops_pages_have_the_page_headers_allowing_the_sandbox_shim_and_cashier():
    shop = create_shop(ShopSettings(sandbox_url="http://127.0.0.1:8008/", secret_key="test")).test_client()
    directives = assert_page_headers(shop.get("/"))
    assert directives["script-src"] == "'self' http://127.0.0.1:8008"
    assert directives["frame-src"] == "http://127.0.0.1:8008" and directives["connect-src"] == "'self'"
    assert directives["form-action"] == "'self' http://127.0.0.1:8008"
    assert_page_headers(shop.get("/orders/NOSUCH"))  # an error page
    assert shop.get("/static/shop.css").headers["X-Content-Type-Options"] == "nosniff"


def test_a_hosted_page_framed_by_another_site_is_refused_and_the_refusal_is_reported(browser, live, receiver):
    context = browser.new_context()
    violations = watch_csp(context)
    page = context.new_page()
    frame = f'<!doctype html><title>elsewhere</title><iframe src="{live.url}/cashier/wechatpay/native?code_url=x">'
    receiver.reply(frame, path="/elsewhere")
    page.goto(f"{receiver.url}/elsewhere")
    expect(page.locator("iframe")).to_have_count(1)
    page.wait_for_timeout(500)
    context.close()
    assert any("frame-ancestors" in violation for violation in violations), violations


def test_inline_script_on_a_page_is_reported_as_a_violation(browser):
    """The watch the browser fixtures keep: a blocked inline script is caught."""
    context = browser.new_context()
    violations = watch_csp(context)
    page = context.new_page()
    policy = json.dumps("script-src 'none'")
    page.set_content(f"<meta http-equiv='Content-Security-Policy' content={policy}><script>window.ran = 1</script>")
    assert page.evaluate("window.ran") is None
    context.close()
    assert violations


def test_the_http_servers_own_refusal_of_an_oversized_request_line_is_plain_text_with_nosniff(live):
    answer = exchange(live.port, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", live.host)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ") and b"\r\nX-Content-Type-Options: nosniff" in head
    assert b"Content-Type: text/plain; charset=utf-8" in head and body.startswith(b"paysandbox: 414 ")
