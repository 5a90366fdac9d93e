"""What every WeChat Pay Native example prints when it worked, checked the same way for each language."""

from __future__ import annotations

MCHID = "1900000109"  # the TEST-ONLY demo merchant the examples order as


def assert_native_paid(lines: list[str], live, http) -> None:
    """The example's three lines (the order, the verified notification, the query) and the order paid in the sandbox."""
    native, notification, query = lines
    assert native.startswith("native 200: code_url weixin://wxpay/bizpayurl?pr=")
    out_trade_no = notification.split()[2]
    assert notification == f"notification verified: {out_trade_no} SUCCESS 990"
    assert query == "query 200: SUCCESS"
    order = http.get(f"{live.url}/_sandbox/orders/wechatpay/{MCHID}/{out_trade_no}", timeout=5).json()
    assert order["status"] == "paid"
