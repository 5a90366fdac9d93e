"""Every route answers a method it does not take with a 405 that carries `Allow` (RFC 9110 says it must), in the
route's own format: Flask's own 405s, the gateway views' own 405s, through the app-level error handler."""

from __future__ import annotations

import re

from sandbox.app import create_app
from sandbox.config import Config

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE")


def concrete(rule: str) -> str:
    """A URL the rule matches: every <converter:name> filled in."""
    return re.sub(r"<(?:path:)?[^>]+>", "x", rule)


def test_every_405_of_every_route_carries_allow():
    app = create_app(Config(seed=1))
    client = app.test_client()
    checked, missing = 0, []
    try:
        for rule in app.url_map.iter_rules():
            for method in (m for m in METHODS if m not in rule.methods):
                reply = client.open(concrete(rule.rule), method=method)
                if reply.status_code != 405:
                    continue  # another route takes this method at this URL
                checked += 1
                if not reply.headers.get("Allow"):
                    missing.append(f"{method} {rule.rule}")
    finally:
        app.extensions["paysandbox"].stop()
    assert checked > 50 and not missing, missing


def test_the_allow_header_lists_what_the_route_takes(client):
    assert set(client.post("/_sandbox/health").headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert set(client.get("/v3/pay/transactions/native").headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert client.delete("/v3/alipay/trade/refund").headers["Allow"] == "POST"


def test_a_405_keeps_its_gateways_format(client):
    assert client.get("/v3/pay/transactions/native").get_json()["code"] == "INVALID_REQUEST"
    assert client.open("/pay/orderquery", method="TRACE").mimetype == "text/xml"
    assert client.post("/_sandbox/health").get_json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_the_demo_shops_405s_carry_allow():
    from sandbox.merchant.shop import create_shop
    from sandbox.merchant.shop.settings import ShopSettings

    shop = create_shop(ShopSettings(secret_key="test")).test_client()
    reply = shop.delete("/")
    assert reply.status_code == 405 and "GET" in reply.headers["Allow"]
