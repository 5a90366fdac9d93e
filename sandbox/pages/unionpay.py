"""UnionPay's bank cashier: where frontTransReq.do sends the buyer's browser.

docs/protocols/unionpay.md#notifications says what it posts back; docs/scenarios.md lists its test cards.

``GET /cashier/unionpay/<queryId>`` shows the order (merchant, orderDesc, amount, orderId) and a card form: card
number, holder name, ID number, phone and SMS code ("send code" only shows the demo's code: 111111 on a PC,
channelType 07; 123456 on a phone, 08. No SMS is sent), plus expiry and CVN2 for a credit card. The card number
decides the outcome (sandbox/gateways/unionpay/magic.py, CARDS):

* a paying card pays the order; the back notification goes to backUrl and the page shows success with a
  "return to merchant" button, a form that POSTs the signed front notification (the back notification's
  fields) to frontUrl from the browser (an app consume has no frontUrl; its tn opens /cashier/unionpay/tn/<tn>);
* a declining card (or a wrong SMS code 71, holder details 66, expiry/CVN2 65, an invalid number 61) fails
  the order with failure.reason = the respCode: a query shows it as origRespCode, and no notification is sent;
* a pending card answers 05 (or 03): the order stays pending and settles magic.PENDING_SECONDS later on the
  sandbox clock (to success, with the back notification, or to failure 01). Reloading the page shows where it
  stands.

Once the form is filled in right, a scenario rule or magic amount decides before the card does
(Sandbox.decide_payment): a rule's `fail` code (64, or a neutral one) fails even the paying card, `pending` shows
05 and settles `settle_after` later, `success` pays even a declining card. Input errors come first and spend no rule.

"Cancel" sends no notification (as a real buyer closing the page): it links to the origin of frontUrl, and the
order stays unpaid until payTimeout closes it.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from sandbox import errors
from sandbox.core.models import FAILED, PAID, PENDING, REFUNDED, Order
from sandbox.core.money import format_yuan
from sandbox.core.namespace import Namespace
from sandbox.core.outcomes import Decision
from sandbox.gateways.unionpay import magic
from sandbox.gateways.unionpay.adapter import GATEWAY
from sandbox.gateways.unionpay.errors import SUCCESS
from sandbox.gateways.unionpay.handlers import consume_outcome
from sandbox.gateways.unionpay.notify import front_notice
from sandbox.pages.buyer import namespace_of, opened, processing

bp = Blueprint("unionpay_pages", __name__, url_prefix="/cashier/unionpay")

FIELDS = ("accNo", "name", "idNo", "phone", "smsCode", "expiry", "cvn2")
INPUT_ERRORS = {  # respCode -> what the buyer typed wrong, checked before any decision (and spending no rule)
    "61": "the card number is not a test card and fails the Luhn check",
    "66": "the name, ID number or phone is not the card holder's",
    "65": "the expiry or CVN2 does not match the card's",
    "71": "the SMS code does not match the one sent (111111 on PC, 123456 on mobile)",
}


def _sandbox():
    return current_app.extensions["paysandbox"]


def _order(query_id: str) -> Order:
    order = _sandbox().order_by_trade_no(GATEWAY, query_id)
    if order is None or order.product not in ("front", "app"):
        abort(404, description=f"no UnionPay consume with queryId {query_id} in the sandbox")
    return order


def _merchant_name(order: Order) -> str:
    record = namespace_of(order).merchants.get(GATEWAY, order.merchant_id)
    return record["name"] if record else order.merchant_id


def _shop_url(order: Order) -> str:
    """Where "cancel" and "back to the shop" go: the origin of frontUrl, since no front notification is owed."""
    parts = urlsplit(order.extra.get("frontUrl") or order.notify_url)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else ""


def _context(order: Order, **extra) -> dict:
    channel = order.extra.get("channelType", "07")
    return {
        "order": order,
        "merchant_name": _merchant_name(order),
        "amount": format_yuan(order.amount),
        "mobile": channel == "08",
        "sms_code": magic.sms_code(channel),
        "cards": magic.CARDS,
        "credit_cards": sorted(n for n, c in magic.CARDS.items() if c.kind == magic.CREDIT),
        "holder": magic.HOLDER,
        "pending_seconds": magic.PENDING_SECONDS,
        "shop_url": _shop_url(order),
        "expires_at": order.expires_at.strftime("%Y-%m-%d %H:%M:%S") if order.expires_at else "",
        **extra,
    }


@bp.get("/tn/<tn>")
def pay_tn(tn: str):
    """What the UnionPay app does with the tn an app consume answered: open the same cashier for that order."""
    order = _sandbox().order_by_handle(GATEWAY, f"tn:{tn}")
    if order is None:
        abort(404, description=f"no UnionPay tn {tn} in the sandbox")
    return redirect(url_for("unionpay_pages.cashier", query_id=order.trade_no))


@bp.get("/<query_id>")
def cashier(query_id: str):
    order = opened(_order(query_id))
    if order.status != PENDING or processing(order):
        return _result(order)
    return render_template("unionpay/cashier.html", form={**magic.HOLDER}, **_context(order))


@bp.post("/<query_id>/pay")
def pay(query_id: str):
    order = _order(query_id)
    if order.status != PENDING or processing(order):
        return _result(order)  # paid, failed or waiting meanwhile: show where it stands
    form = {name: request.form.get(name, "").strip() for name in FIELDS}
    form["accNo"] = "".join(form["accNo"].split())
    missing = [label for name, label in _required(form) if not form[name]]
    if missing:
        message = "Please fill in: " + ", ".join(missing)
        return render_template("unionpay/cashier.html", form=form, problem=message, **_context(order)), 200
    card = magic.card_for(form["accNo"])
    buyer = {"accNo": form["accNo"], "payCardType": magic.PAY_CARD_TYPES[card.kind] if card else "01"}
    sandbox = namespace_of(order)
    try:
        problem = _input_error(order, form, card)
        if problem:
            typed = Decision("fail", problem, source="buyer", message=INPUT_ERRORS[problem])
            order = sandbox.apply_payment(order, typed, buyer=buyer)
        else:
            order = _charge(sandbox, order, card, buyer)
    except errors.BusinessError:
        order = _order(query_id)
    return _result(order)


def _charge(sandbox: Namespace, order: Order, card: magic.Card, buyer: dict) -> Order:
    """Charge the card as decided: a scenario rule or magic amount first, then the test card's own outcome."""
    decided = sandbox.decide_payment(order, "consume", magic=magic.decision(card))
    if decided.outcome != "success" and not decided.message:
        decided = replace(decided, message=magic.explain(decided.source))
    if decided.outcome == "pending":
        # Payments.settle pays with no buyer and no message: keep the card, the code the bank answers meanwhile
        # and the reason it may fail with, for the query and the page.
        pending_code = card.code if decided.source == magic.CARD else "05"
        details = {**buyer, "pendingCode": pending_code, "decidedBy": decided.message, "buyerless": False}
        sandbox.payments.annotate(order.key, **details)
    return sandbox.apply_payment(order, decided, buyer=buyer)


def _required(form: dict) -> list[tuple[str, str]]:
    fields = [("accNo", "card number"), ("name", "name"), ("idNo", "ID number"), ("phone", "phone")]
    card = magic.card_for(form["accNo"]) if form["accNo"] else None
    if card is not None and card.kind == magic.CREDIT:
        fields += [("expiry", "expiry"), ("cvn2", "CVN2")]
    return [*fields, ("smsCode", "SMS code")]


def _input_error(order: Order, form: dict, card: magic.Card | None) -> str:
    """The respCode of what the buyer typed wrong, checked in the order a real cashier would; "" when all is right."""
    if card is None:
        return "61"
    if form["accNo"] in magic.CARDS and any(form[k] != v for k, v in magic.HOLDER.items()):
        return "66"
    if card.kind == magic.CREDIT and (form["expiry"] != card.expiry or form["cvn2"] != card.cvn2):
        return "65"
    if form["smsCode"] != magic.sms_code(order.extra.get("channelType", "07")):
        return "71"
    return ""


def _result(order: Order):
    if order.status in (PAID, REFUNDED):
        outcome, code = "paid", SUCCESS
    elif processing(order):
        outcome, code = "pending", order.extra.get("pendingCode", "05")
    elif order.status == PENDING:
        return redirect(url_for("unionpay_pages.cashier", query_id=order.trade_no))
    else:
        outcome, code = ("failed" if order.status == FAILED else "closed"), consume_outcome(order)[0]
    notice = front_notice(namespace_of(order).gateways[GATEWAY], order) if outcome == "paid" else {}
    # A literal CR would be dropped by the HTML parser: write it as &#13; so the browser posts the CRLF signed.
    notice = {name: Markup(str(escape(value)).replace("\r", "&#13;")) for name, value in notice.items()}
    message = consume_outcome(order)[1]
    return render_template(
        "unionpay/result.html",
        outcome=outcome,
        code=code,
        message=message,
        notice=notice,
        front_url=order.extra.get("frontUrl", ""),
        **_context(order),
    )
