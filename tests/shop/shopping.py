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


def attempts(http: requests.Session, sandbox_url: str, no: str, event: str = "") -> list[dict]:
    """Every delivery attempt the sandbox made for the order's notifications (of `event`, if given)."""
    found = http.get(f"{sandbox_url}/_sandbox/notifications", params={"out_trade_no": no}).json()["notifications"]
    return [attempt for record in found if event in ("", record["event"]) for attempt in record["attempts"]]


def steps(shop, no: str, kind: str, verdict: str = "") -> list[dict]:
    """The shop's journal steps of one kind for the order (and of one verdict, if given)."""
    return [s for s in shop.journal.for_order(no) if s["kind"] == kind and verdict in ("", s["verdict"])]


def refund(buyer: requests.Session, shop_url: str, no: str, amount: str, token: str) -> str:
    """Submit the order page's refund form with its token; answers the page the shop shows next."""
    page = buyer.post(f"{shop_url}/orders/{no}/refunds", data={"amount": amount, "request_id": token})
    assert page.status_code == 200, page.text
    return page.text


def decisions(shop, no: str, kind: str = "notification") -> list[str]:
    """What the shop decided on each notification (or query) of the order, oldest first."""
    return [step["details"].get("decision", step["verdict"]) for step in steps(shop, no, kind)]


def paid(shop, no: str) -> bool:
    return shop.book.get(no).status == "paid"
