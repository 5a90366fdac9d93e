"""What a buyer does at the demo shop over plain HTTP, and waiting for what arrives from another thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

DEADLINE = 10.0


def buy(buyer: requests.Session, shop_url: str, pay_with: str, *skus: str) -> str:
    """Put `skus` in the cart and place the order; answer the shop's order number."""
    for sku in skus or ("coffee",):
        assert buyer.post(f"{shop_url}/cart", data={"sku": sku}).status_code == 200
    placed = buyer.post(f"{shop_url}/checkout", data={"pay_with": pay_with}, allow_redirects=False)
    assert placed.status_code == 302, placed.text
    path = urlsplit(placed.headers["Location"]).path
    assert path.endswith("/pay"), path
    return path.split("/")[-2]


def wait_until(condition: Callable[[], object], what: str, deadline: float = DEADLINE):
    """Poll `condition` (cross-thread arrivals: notifications over HTTP) until it is truthy; answer its value."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {deadline:g}s waiting for {what}")


def decisions(shop, no: str, kind: str = "notification") -> list[str]:
    """What the shop decided on each notification (or query) of the order, oldest first."""
    return [
        step["details"].get("decision", step["verdict"]) for step in shop.journal.for_order(no) if step["kind"] == kind
    ]
