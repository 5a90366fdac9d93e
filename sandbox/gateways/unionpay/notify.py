"""Back notifications: a signed form POSTed to the backUrl of the consume, refund or undo.

docs/protocols/unionpay.md#notifications describes them.

A paid consume notifies txnType 01; a refund (04) or undo (31) notifies when it succeeds, with origQryId and
its own orderId and queryId. The body is application/x-www-form-urlencoded with URL-encoded values (`+` in
base64 travels as %2B), signed as the transaction's version asks. Any HTTP 200 acknowledges (adapter.is_ack);
the retry schedule is adapter.RETRY_SCHEDULE.

`shape` forges one as a scenario rule asks (docs/protocols/control-api-contract.md#scenario-rules); every forgery
is one an honest merchant refuses, by the signature check or by the merId check.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlencode

from sandbox.core import crypto, ports
from sandbox.core.models import Notification, Order, Refund
from sandbox.core.ports import NotificationDraft
from sandbox.core.resend import describe_edits, draft_of, edit_flat
from sandbox.gateways.unionpay.errors import SUCCESS, SUCCESS_MSG
from sandbox.gateways.unionpay.handlers import consume_fields, refund_fields

CONTENT_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"
# A notification's event (docs/protocols/control-api-contract.md#notifications) by txnType; it is also the method
# a `notify` rule's match.operation may name.
EVENTS = {"01": "consume", "04": "refund", "31": "undo"}
OTHER_MER_ID = "777290058119999"  # the merchant a `merchant: wrong` notification claims to be for
AMOUNT_FIELDS = ("txnAmt", "settleAmt")  # what the neutral `amount` of a tamper means here
SIGNATURE_FIELDS = ("signature", "signPubKeyCert", "certId")  # the signature and what says whose it is


def build(gateway, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
    """PAID -> the consume notification; REFUNDED -> the refund or undo notification; nothing else notifies."""
    if event == ports.PAID and refund is None:
        url, version = order.notify_url, order.extra.get("version", "5.1.0")
        fields = _consume_notice_fields(order)
    elif event == ports.REFUNDED and refund is not None:
        url, version = refund.extra.get("backUrl", ""), refund.extra.get("version", "5.1.0")
        fields = {
            "txnType": refund.extra.get("txnType", "04"),
            "txnSubType": "00",
            "orderId": refund.out_refund_no,
            "txnTime": refund.extra.get("txnTime"),
            **refund_fields(order, refund),
        }
    else:
        return None
    if not url:
        return None
    signed = _signed(gateway.keys, order, version, fields)
    return NotificationDraft(
        event=EVENTS[fields["txnType"]],
        url=url,
        body=urlencode(signed),
        headers={"Content-Type": CONTENT_TYPE},
        refund_no=refund.out_refund_no if refund else "",
        meta={"txnType": fields["txnType"]},
    )


def front_notice(gateway, order: Order) -> dict[str, str]:
    """The signed front notification of a paid consume: the back notification's fields, which the
    cashier's "return to merchant" button POSTs from the browser to frontUrl.

    A browser submitting a form turns every line break into CRLF, so line breaks (the PEM of signPubKeyCert) are
    CRLF here before signing: the signature then covers exactly what the merchant receives. Pages must write CR
    as a character reference (&#13;), since HTML parsing drops a literal CR.
    """
    fields = {k: _crlf(str(v)) for k, v in _consume_notice_fields(order).items() if v not in (None, "")}
    keys = dataclasses.replace(gateway.keys, sign_cert_pem=_crlf(gateway.keys.sign_cert_pem))
    return _signed(keys, order, order.extra.get("version", "5.1.0"), fields)


def _crlf(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _consume_notice_fields(order: Order) -> dict:
    return {
        "txnType": "01",
        "txnSubType": "01",
        "orderId": order.out_trade_no,
        "txnTime": order.extra.get("txnTime"),
        **consume_fields(order),
    }


def _signed(keys, order: Order, version: str, fields: dict) -> dict[str, str]:
    body = {
        "version": version,
        "encoding": "UTF-8",
        "signMethod": "01",
        "accessType": order.extra.get("accessType", "0"),
        "bizType": order.extra.get("bizType", "000201"),
        "merId": order.merchant_id,
        "respCode": SUCCESS,
        "respMsg": SUCCESS_MSG,
        **fields,
    }
    return keys.signed({k: str(v) for k, v in body.items() if v not in (None, "")}, version)


def readable(body: str) -> dict[str, str]:
    """The key=value fields a merchant reads once the signature checks out: all but the signature's own."""
    return {k: v for k, v in parse_qsl(body, keep_blank_values=True) if k not in SIGNATURE_FIELDS}


def resend(record: Notification, edits: dict, signature: str, keys) -> tuple[NotificationDraft, list[str]]:
    """A new back notification from `record`'s fields with the edits, then the signature asked for."""
    effects = {"edit": edits, **({} if signature == "valid" else {"signature": signature})}
    return shape(draft_of(record), effects, keys)


def shape(draft: NotificationDraft, effects: dict, keys) -> tuple[NotificationDraft, list[str]]:
    """A back notification forged as a scenario asks, and notes of what was done (or why not)."""
    fields = dict(parse_qsl(draft.body, keep_blank_values=True))
    version = fields.get("version", "5.1.0")
    notes = []
    if "edit" in effects:  # a resend's changes, before signing: the message is signed as edited
        fields = keys.signed(edit_flat(readable(draft.body), effects["edit"], SIGNATURE_FIELDS), version)
        notes.append(f"edit: {describe_edits(effects['edit'])}, signed (version {version})")
    if effects.get("merchant") == "wrong":
        fields["merId"] = OTHER_MER_ID
        fields = keys.signed(fields, version)
        notes.append(f"merchant: signed correctly for another merId, {OTHER_MER_ID}")
    if effects.get("timestamp"):
        notes.append(
            "timestamp: does not apply to UnionPay, whose notifications carry no send time "
            "(txnTime is the merchant's own order time); sent unchanged"
        )
    for name, value in effects.get("tamper", {}).items():
        wire = _amount_fields(fields) if name == "amount" else [name]  # other keys are wire names
        for field_name in wire:
            fields[field_name] = str(value)
        notes.append(f"tamper: {', '.join(wire)} = {value} after signing")
    if effects.get("signature") == "invalid":
        fields["signature"] = crypto.spoil(fields["signature"])
        notes.append("signature: invalid (the signature of another message)")
    elif effects.get("signature") == "missing":
        fields.pop("signature", None)
        notes.append("signature: missing (no signature field; signPubKeyCert kept)")
    return dataclasses.replace(draft, body=urlencode(fields)), notes


def _amount_fields(fields: dict) -> list[str]:
    """The amount fields a message carries (settleAmt only once settled); amounts are fen, as the neutral one."""
    return [name for name in AMOUNT_FIELDS if name in fields] or ["txnAmt"]
