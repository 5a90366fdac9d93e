"""Every page has an icon: hosted pay pages, the console and the demo shop link /favicon.svg, /favicon.ico answers
for browsers that ask anyway, and loading a page in Chromium logs no failed request (it logged a 404 for each)."""

from __future__ import annotations

import pytest
import requests

from sandbox.merchant.shop import create_shop
from sandbox.merchant.shop.settings import ShopSettings
from sandbox.testing.server import ThreadedServer
from tests.shop.shopping import buy

NOTIFY = "http://127.0.0.1:9/notify"
# POST /_sandbox/orders bodies whose pay_url is a hosted page, one per kind of page.
HOSTED = {
    "alipay page": {"gateway": "alipay", "method": "page"},
    "alipay wap": {"gateway": "alipay", "method": "wap"},
    "alipay scan": {"gateway": "alipay", "method": "precreate"},
    "wechatpay native": {"gateway": "wechatpay", "method": "native", "notify_url": NOTIFY},
    "wechatpay h5": {"gateway": "wechatpay", "method": "h5", "notify_url": NOTIFY, "return_url": NOTIFY},
    "unionpay cashier": {"gateway": "unionpay", "method": "frontTrans", "notify_url": NOTIFY, "return_url": NOTIFY},
}
CONSOLE = ("/_sandbox/", "/_sandbox/console/merchants", "/_sandbox/console/scenarios", "/_sandbox/console/clock")


@pytest.fixture
def shop_url(live):
    settings = ShopSettings(sandbox_url=live.url, query_after=300, query_interval=0, secret_key="test")
    with ThreadedServer(create_shop(settings)) as server:
        settings.public_url = server.url
        yield server.url


def load_without_failures(page, url: str) -> None:
    """Open `url`; it must link the icon, the icon must load, and no request of the page may fail."""
    failures: list[str] = []
    page.on("console", lambda m: failures.append(m.text) if "Failed to load resource" in m.text else None)
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    with page.expect_response(lambda r: r.url.endswith("/favicon.svg")) as icon:
        page.goto(url)
    assert icon.value.status == 200 and icon.value.header_value("content-type").startswith("image/svg+xml")
    page.wait_for_load_state("load")
    assert failures == [], url


@pytest.mark.parametrize("kind", HOSTED)
def test_each_hosted_page_loads_its_icon_and_nothing_fails(live, http, page, kind):
    created = http.post(f"{live.url}/_sandbox/orders", json={**HOSTED[kind], "amount": 100})
    assert created.status_code == 201, created.text
    load_without_failures(page, created.json()["pay_url"])


def test_the_console_loads_its_icon_and_nothing_fails(live, page):
    for path in CONSOLE:
        load_without_failures(page, live.url + path)


def test_the_demo_shop_loads_its_icon_and_nothing_fails(shop_url, page):
    with requests.Session() as buyer:
        buyer.trust_env = False
        no = buy(buyer, shop_url, "alipay:page")
    for path in ("/", "/cart", "/orders", f"/orders/{no}", "/log"):
        load_without_failures(page, shop_url + path)


@pytest.mark.parametrize("server", ["sandbox", "shop"])
def test_favicon_ico_answers_an_icon_for_browsers_that_ask_anyway(live, shop_url, http, server):
    base = live.url if server == "sandbox" else shop_url
    ico = http.get(f"{base}/favicon.ico")
    assert ico.status_code == 200 and ico.headers["Content-Type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00" and b"\x89PNG" in ico.content  # an ICO holding a PNG
    assert "max-age=86400" in ico.headers["Cache-Control"]
    svg = http.get(f"{base}/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg ")
