"""Every page's Chinese text renders in the test command's Chromium (the hosted pages and the console), and the
check itself catches text drawn as empty boxes: the same page in a Chromium that sees no CJK font fails it.
Screenshots of each page go to artifacts/screenshots/ for CI to keep."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import CHROMIUM, LAUNCH_ARGS
from tests.console.screens import save
from tests.glyphs import assert_cjk_renders, missing_glyphs

pytestmark = pytest.mark.browser

SUBJECT = "测试商品 · 中文标题"
HOSTED = [
    ("alipay", "page", "page"),
    ("alipay", "precreate", "page"),
    ("wechatpay", "native", "page"),
    ("wechatpay", "h5", "mobile_page"),
    ("unionpay", "frontTrans", "page"),
]
# Only DejaVu: what a machine without a CJK font has. Fontconfig then finds no font for Chinese at all.
NO_CJK_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def create(http, live, receiver, gateway: str, method: str) -> dict:
    body = {"gateway": gateway, "method": method, "amount": 888, "subject": SUBJECT}
    body["notify_url"] = f"{receiver.url}/notify"
    if method in ("page", "frontTrans"):
        body["return_url"] = f"{receiver.url}/return"
    reply = http.post(f"{live.url}/_sandbox/orders", json=body, timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


@pytest.mark.parametrize(("gateway", "method", "device"), HOSTED)
def test_each_hosted_page_draws_its_chinese_text(request, live, http, receiver, gateway, method, device):
    page: Page = request.getfixturevalue(device)
    page.goto(create(http, live, receiver, gateway, method)["pay_url"])
    expect(page.get_by_test_id("amount")).to_contain_text("8.88")
    assert_cjk_renders(page, expect_some=True)
    save(page, f"cashier-{gateway}-{method}")


def test_the_console_draws_chinese_subjects(page: Page, live, http, receiver):
    order = create(http, live, receiver, "alipay", "page")
    page.goto(f"{live.url}/_sandbox/")
    assert_cjk_renders(page, expect_some=True)
    page.goto(f"{live.url}/_sandbox/console/orders/alipay/{order['merchant_id']}/{order['out_trade_no']}")
    assert_cjk_renders(page, expect_some=True)


def test_the_check_fails_where_no_cjk_font_is_installed(playwright, tmp_path: Path):
    config = tmp_path / "fonts.conf"
    config.write_text(NO_CJK_FONTS.format(cache=tmp_path / "cache"))
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, env={"FONTCONFIG_FILE": str(config)}
    )
    try:
        page = browser.new_page()
        page.set_content(f"<p>{SUBJECT}</p><p>Latin text renders either way</p>")
        assert missing_glyphs(page) == list(dict.fromkeys(c for c in SUBJECT if c not in " ·"))
        with pytest.raises(AssertionError, match="empty boxes"):
            assert_cjk_renders(page)
    finally:
        browser.close()
