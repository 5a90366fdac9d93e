"""The shop's order book: every change is a compare-and-set, so news that arrives twice, or at once, counts once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from tinydb import TinyDB
from tinydb.storages import MemoryStorage

from sandbox.merchant.shop.orders import Line, OrderBook, OrderError

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def book() -> OrderBook:
    return OrderBook(TinyDB(storage=MemoryStorage), threading.RLock(), lambda: NOW)


@pytest.fixture
def order(book):
    return book.create("alipay", "page", [Line("tea", "Tea", 3000, 2), Line("mug", "Mug", 990, 1)], pay_minutes=15)


def test_an_order_totals_its_lines_and_gets_a_number_every_gateway_accepts(order):
    assert order.amount == 6990
    assert order.subject == "Tea × 2, Mug"
    assert order.no.startswith("PS20261122080000") and order.no.isalnum() and 8 <= len(order.no) <= 40
    assert order.expires_at == "2026-11-22T08:15:00+00:00"


def test_an_empty_cart_makes_no_order(book):
    with pytest.raises(OrderError, match="empty"):
        book.create("alipay", "page", [], pay_minutes=15)


def test_crediting_from_many_threads_at_once_succeeds_exactly_once(book, order):
    start = threading.Barrier(32)

    def credit(n: int) -> bool:
        start.wait()
        return book.mark_paid(order.no, f"T{n}", "notification")

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(credit, range(32)))

    assert results.count(True) == 1
    assert book.get(order.no).txn_id == f"T{results.index(True)}"


def test_a_closed_order_that_is_paid_after_all_is_credited_and_says_so(book, order):
    assert book.mark_closed(order.no, "expired: not paid in time")
    assert not book.mark_closed(order.no, "again")

    assert book.mark_paid(order.no, "T1", "notification")

    paid = book.get(order.no)
    assert paid.status == "paid" and paid.close_reason == "expired: not paid in time (paid after it was closed)"


def test_a_refund_is_made_once_per_form_token_and_never_beyond_what_was_paid(book, order):
    with pytest.raises(OrderError):
        book.open_refund(order.no, 100, "t0")  # not paid yet: nothing to refund
    book.mark_paid(order.no, "T1", "query")

    first, created = book.open_refund(order.no, 5000, "t1")
    again, created_again = book.open_refund(order.no, 5000, "t1")

    assert created and not created_again and again.refund_no == first.refund_no
    with pytest.raises(OrderError, match=r"at most 19\.90"):
        book.open_refund(order.no, 2000, "t2")
    with pytest.raises(OrderError, match=r"at least 0\.01"):
        book.open_refund(order.no, 0, "t3")


def test_refund_outcomes_move_forward_only_and_set_the_order_status(book, order):
    book.mark_paid(order.no, "T1", "notification")
    part, _ = book.open_refund(order.no, 990, "t1")
    rest, _ = book.open_refund(order.no, 6000, "t2")

    assert book.settle_refund(order.no, part.refund_no, "processing")
    assert book.settle_refund(order.no, part.refund_no, "succeeded")
    assert not book.settle_refund(order.no, part.refund_no, "succeeded")  # the notification after the query
    assert not book.settle_refund(order.no, part.refund_no, "failed")  # nothing undoes a refund
    assert book.get(order.no).status == "partially_refunded"

    assert book.settle_refund(order.no, rest.refund_no, "failed", reason="NOT_ENOUGH")
    assert book.get(order.no).refundable == 6000  # a failed refund gives its amount back
    again, _ = book.open_refund(order.no, 6000, "t3")
    book.settle_refund(order.no, again.refund_no, "succeeded")

    assert (book.get(order.no).status, book.get(order.no).refunded) == ("refunded", 6990)
    with pytest.raises(OrderError, match="no refund"):
        book.settle_refund(order.no, "RF-unknown", "succeeded")


def test_orders_survive_in_a_json_file(tmp_path, order):
    path = tmp_path / "shop.json"
    book = OrderBook(TinyDB(path), threading.RLock(), lambda: NOW)
    made = book.create("unionpay", "card", [Line("tea", "Tea", 3000, 1)], pay_minutes=15)
    book.mark_paid(made.no, "Q1", "notification")

    reopened = OrderBook(TinyDB(path), threading.RLock(), lambda: NOW)

    assert reopened.get(made.no).status == "paid"
    assert [o.no for o in reopened.all()] == [made.no]
