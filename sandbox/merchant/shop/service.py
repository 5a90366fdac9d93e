"""The shop's payment logic, the same for every gateway: checkout, notifications, returns, the query fallback,
expiry and refunds. This is the part merchants get wrong (docs/protocols/index.md), so each rule is spelled out here:

* a notification is believed only once verified (signature, decryption, merchant id: the Integration's job) AND it
  matches the shop's own order: known order number, same gateway, same amount. Anything else is rejected, logged,
  and answered so that the gateway retries (a forger gets nothing);
* crediting is a compare-and-set (OrderBook.mark_paid): a duplicate, a replay or a race with the query credits
  once, and is still acknowledged so the gateway stops retrying;
* the browser's return is verified and logged but proves nothing: the order turns paid only on a notification or
  on the gateway's answer to the shop's own query, which the order page triggers when the notification is late;
* an order past its deadline is closed at the gateway first, so no late payment can land on it;
* a refund gets its idempotency key (refund_no) before the gateway is called, so a retry after a timeout or a
  double-click never refunds twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sandbox.merchant.shop.gateways.base import (
    CLOSED,
    NOT_FOUND,
    PAID,
    Checkout,
    GatewayTrouble,
    Inbound,
    Integration,
    Notice,
    PaymentNews,
    Rejected,
    ShopUrls,
)
from sandbox.merchant.shop.journal import Journal
from sandbox.merchant.shop.orders import (
    PENDING,
    REFUND_FAILED,
    REFUND_PROCESSING,
    REFUND_REQUESTED,
    Line,
    OrderBook,
    OrderError,
    ShopOrder,
    ShopRefund,
)
from sandbox.merchant.shop.settings import ShopSettings

log = logging.getLogger("paysandbox.shop")


class Shop:
    def __init__(
        self, settings: ShopSettings, book: OrderBook, journal: Journal, integrations: dict[str, Integration]
    ) -> None:
        self.settings = settings
        self.book = book
        self.journal = journal
        self.integrations = integrations

    def integration(self, gateway: str) -> Integration:
        if gateway not in self.integrations:
            raise OrderError(f"unknown payment gateway {gateway!r}")
        return self.integrations[gateway]

    def urls(self, order: ShopOrder, client_ip: str = "127.0.0.1") -> ShopUrls:
        return ShopUrls(
            notify=self.settings.url(f"/notify/{order.gateway}"),
            # The order number in the path, not the query: Alipay appends its signed fields to return_url's query.
            return_to=self.settings.url(f"/return/{order.gateway}/{order.no}"),
            order_page=self.settings.url(f"/orders/{order.no}"),
            client_ip=client_ip,
        )

    # -- checkout ----------------------------------------------------------------------------------------------

    def checkout(self, lines: list[Line], gateway: str, method: str, client_ip: str = "127.0.0.1") -> ShopOrder:
        """Make the order, create the payment at the gateway, and keep what the buyer's browser needs to pay."""
        integration = self.integration(gateway)
        if method not in integration.methods:
            raise OrderError(f"{integration.label} has no payment method {method!r}")
        order = self.book.create(gateway, method, lines, self.settings.pay_minutes)
        try:
            checkout = integration.start(order, method, self.urls(order, client_ip))
        except GatewayTrouble as exc:
            self.book.mark_closed(order.no, f"the gateway refused or did not answer: {exc}")
            raise OrderError(f"{integration.label} could not start the payment: {exc}") from exc
        with self.book.change(order.no) as saved:
            saved.gateway_data = {**order.gateway_data, "checkout": checkout.__dict__}
        return self.book.get(order.no)

    @staticmethod
    def checkout_of(order: ShopOrder) -> Checkout:
        return Checkout(**order.gateway_data["checkout"])

    # -- notifications -----------------------------------------------------------------------------------------

    def receive(self, gateway: str, inbound: Inbound):
        """Handle one notification; answer the Ack to send back."""
        integration = self.integration(gateway)
        try:
            notice = integration.read_notification(inbound)
            order = self._matching_order(integration, notice)
        except Rejected as exc:
            log.warning("rejected a %s notification: %s", gateway, exc)
            body = inbound.body.decode("utf-8", "replace")
            self.journal.add(
                exc.order_no, gateway, "notification", "Rejected a notification", "rejected", reason=str(exc), body=body
            )
            return integration.ack(False, str(exc))
        decision = self._apply(order, notice, "notification")
        verdict = "ok" if decision.startswith(("credited", "refund", "closed")) else "ignored"
        title = f"Notification {notice.event}"
        self.journal.add(order.no, gateway, "notification", title, verdict, decision=decision, **notice.fields)
        return integration.ack(True)

    def _matching_order(self, integration: Integration, notice: Notice) -> ShopOrder:
        """The shop's order the verified notice is about; Rejected if it does not match what the shop sold."""
        if notice.merchant_id != integration.merchant_id:
            claim = notice.out_trade_no
            raise Rejected(f"it is for merchant {notice.merchant_id}, not {integration.merchant_id}", claim)
        order = self.book.get(notice.out_trade_no)
        if order is None:
            raise Rejected(f"no order {notice.out_trade_no!r} in this shop")
        if order.gateway != integration.name:
            raise Rejected(f"order {order.no} was not paid through {integration.label}", order.no)
        if notice.payment and (mismatch := _amount_mismatch(order, notice.payment)):
            raise Rejected(mismatch, order.no)
        refund = notice.refund
        if refund:
            known = order.refund(refund.refund_no)
            if known is None:
                raise Rejected(f"order {order.no} has no refund {refund.refund_no!r}", order.no)
            if refund.amount is not None and refund.amount != known.amount:
                raise Rejected(
                    f"refund amount mismatch: it says {_yuan(refund.amount)}, the refund was {_yuan(known.amount)}",
                    order.no,
                )
        return order

    def _apply(self, order: ShopOrder, notice: Notice | PaymentNews, via: str) -> str:
        """Apply verified, matching news to the order; answer what the shop decided, in words for the journal."""
        refund = notice.refund if isinstance(notice, Notice) else None
        payment = notice.payment if isinstance(notice, Notice) else notice
        decisions = []
        if payment and payment.state == PAID:
            if self.book.mark_paid(order.no, payment.txn_id, via):
                decisions.append(f"credited: the order is paid ({payment.txn_id})")
            else:
                decisions.append("already credited: nothing changed (a duplicate, a replay, or the query was first)")
        elif payment and payment.state == CLOSED:
            if self.book.mark_closed(order.no, f"closed at the gateway ({payment.detail})"):
                decisions.append("closed: the gateway closed the unpaid order")
            else:
                decisions.append("already settled: nothing changed")
        if refund:
            if self.book.settle_refund(order.no, refund.refund_no, refund.state, refund.gateway_ref, refund.detail):
                decisions.append(f"refund {refund.refund_no} {refund.state}")
            else:
                decisions.append(f"refund {refund.refund_no} already {order.refund(refund.refund_no).status}")
        return "; ".join(decisions) or f"no change ({getattr(payment, 'detail', '') or 'nothing to do'})"

    # -- the buyer's return ------------------------------------------------------------------------------------

    def buyer_returned(self, gateway: str, no: str, inbound: Inbound) -> None:
        """Log the buyer's return to order `no`, verified where the gateway signs it. It changes nothing else."""
        integration = self.integration(gateway)
        try:
            integration.read_return(inbound, no)
        except Rejected as exc:
            log.warning("a %s return for %s did not verify: %s", gateway, no, exc)
            title = "The buyer came back with a return that does not verify"
            self.journal.add(no, gateway, "return", title, "rejected", reason=str(exc))
            return
        self.book.note(no, returned_at=self.settings.now().isoformat())
        decision = "not proof of payment: the order page waits for the notification, then queries"
        self.journal.add(no, gateway, "return", "The buyer came back", "ok", decision=decision)

    # -- the query fallback and expiry -------------------------------------------------------------------------

    def refresh(self, no: str) -> ShopOrder:
        """The order as the page shows it: asks the gateway when the notification is late, closes it when due."""
        order = self.book.get(no)
        if order is None:
            raise OrderError(f"no order {no}")
        now = self.settings.now()
        if order.status == PENDING and self._query_due(order, now):
            self.reconcile(order)
        for refund in order.refunds:
            if refund.status == REFUND_PROCESSING and self._query_due(order, now, since=refund.created_at):
                self.reconcile_refund(order, refund)
        return self.book.get(no)

    def _query_due(self, order: ShopOrder, now: datetime, since: str = "") -> bool:
        waited = (now - datetime.fromisoformat(since or order.created_at)).total_seconds()
        asked = (now - datetime.fromisoformat(order.last_query_at)).total_seconds() if order.last_query_at else None
        expired = now >= datetime.fromisoformat(order.expires_at)
        return (waited >= self.settings.query_after or expired) and (
            asked is None or asked >= self.settings.query_interval
        )

    def reconcile(self, order: ShopOrder) -> str:
        """Ask the gateway how an unpaid order stands; credit it, or close it once past its deadline."""
        integration = self.integration(order.gateway)
        self.book.note(order.no, last_query_at=self.settings.now().isoformat())
        try:
            with self.journal.step(order.no, order.gateway, "query", "Asked the gateway (no notification yet)") as step:
                news = integration.query(order)
                if mismatch := _amount_mismatch(order, news):
                    raise GatewayTrouble(mismatch)
                step["details"]["decision"] = decision = self._apply(order, news, "query")
        except GatewayTrouble as exc:
            log.warning("query of %s failed: %s", order.no, exc)
            return f"unknown: {exc}"
        expired = self.settings.now() >= datetime.fromisoformat(order.expires_at)
        if news.state not in (PAID, CLOSED) and expired:
            return self._expire(order, integration, news)
        return decision

    def _expire(self, order: ShopOrder, integration: Integration, news: PaymentNews) -> str:
        try:
            with self.journal.step(order.no, order.gateway, "close", "Closed the unpaid order at the gateway"):
                if news.state != NOT_FOUND:
                    integration.close(order)
        except GatewayTrouble as exc:
            return f"could not close yet: {exc}"
        self.book.mark_closed(order.no, "expired: not paid in time")
        return "closed: expired"

    def reconcile_refund(self, order: ShopOrder, refund: ShopRefund) -> None:
        integration = self.integration(order.gateway)
        self.book.note(order.no, last_query_at=self.settings.now().isoformat())
        try:
            with self.journal.step(order.no, order.gateway, "refund", f"Asked how refund {refund.refund_no} stands"):
                news = integration.query_refund(order, refund)
        except GatewayTrouble:
            return
        self.book.settle_refund(order.no, refund.refund_no, news.state, news.gateway_ref, news.detail)

    # -- refunds -----------------------------------------------------------------------------------------------

    def refund(self, no: str, amount: int, request_id: str) -> ShopRefund:
        """Refund `amount` fen once per form token; a repeat answers the same refund (and retries an unknown one)."""
        refund, created = self.book.open_refund(no, amount, request_id)
        if not created and refund.status != REFUND_REQUESTED:
            return refund  # the same click again: already done, or on its way
        order = self.book.get(no)
        integration = self.integration(order.gateway)
        title = f"Refunded {_yuan(refund.amount)} ({refund.refund_no})"
        try:
            with self.journal.step(no, order.gateway, "refund", title) as step:
                news = integration.refund(order, refund, self.urls(order))
                step["details"]["outcome"] = f"{news.state} {news.detail}".strip()
        except GatewayTrouble as exc:
            raise OrderError(
                f"{integration.label} did not confirm the refund ({exc}); submit again: it reuses refund number "
                f"{refund.refund_no}, so it cannot refund twice"
            ) from exc
        self.book.settle_refund(no, refund.refund_no, news.state, news.gateway_ref, news.detail)
        settled = self.book.get(no).refund(refund.refund_no)
        if settled.status == REFUND_FAILED:
            raise OrderError(f"{integration.label} refused the refund: {settled.reason}")
        return settled


def _amount_mismatch(order: ShopOrder, payment: PaymentNews) -> str:
    """Why the gateway's word on what was paid does not fit the order ('' when it does, or says no amount)."""
    if payment.amount is None or payment.amount == order.amount:
        return ""
    return f"amount mismatch: it says {_yuan(payment.amount)} was paid, the order is for {_yuan(order.amount)}"


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:.2f}"
