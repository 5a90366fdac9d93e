"""v2 notifications: an MD5-signed payment XML, a refund XML with AES-encrypted req_info.

docs/protocols/wechatpay-v2.md#notifications describes them.

Both are signed or encrypted with the key the order was made with: the API key, or the sandbox key for an
order made under /sandboxnew/ (order.extra["sign_key_kind"]). The merchant acknowledges with an XML body
whose return_code is SUCCESS; anything else is retried on WeChat's schedule.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace

from sandbox.core import ports
from sandbox.core.models import Notification, Order, Refund
from sandbox.core.ports import NotificationDraft
from sandbox.core.resend import describe_edits, draft_of, edit_flat
from sandbox.errors import InvalidParameter, NotificationUnreadable
from sandbox.gateways.wechatpay.v2 import codec
from sandbox.gateways.wechatpay.v2.errors import V2Error
from sandbox.gateways.wechatpay.v2.resources import paid_fields, refund_notification_fields
from sandbox.gateways.wechatpay.v3.notify import fen

EVENTS = {
    ports.PAID: "TRANSACTION.SUCCESS",
    ports.REFUNDED: "REFUND.SUCCESS",
    ports.REFUND_ABNORMAL: "REFUND.ABNORMAL",
    ports.REFUND_CLOSED: "REFUND.CLOSED",
}
MAX_ACK = 64 * 1024  # bytes of a merchant's reply the ack check reads
OTHER_MCH_ID = "1900009999"  # the merchant a `merchant: wrong` notification claims to be for
UNCHANGED = "tamper: the values given are those already sent, so the message is unchanged and still verifies"
NOT_THE_KEY = "paysandbox-not-the-merchant-key!"  # seals a refund's req_info that must not decrypt
REQ_INFO = "req_info."  # a refund's decrypted req_info fields, as the fields of a notification show them
XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def build(gateway, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
    """Payments and refund outcomes are notified; closes, expiries and declines are silent, as on WeChat."""
    if event not in EVENTS:
        return None
    url = (refund.extra.get("notify_url") if refund else "") or order.notify_url
    merchant = gateway.merchant(order.merchant_id)
    if not url or merchant is None or not merchant.get("api_key"):
        return None
    key = codec.key_for(merchant, order.extra.get("sign_key_kind") or codec.API_KEY)
    envelope = {
        "return_code": "SUCCESS",
        "appid": order.extra.get("appid") or merchant["appid"],
        "mch_id": order.merchant_id,
        "nonce_str": gateway.sandbox.ids.alnum(32),
    }
    if refund is None:
        # Always MD5, whatever the order's sign_type: wechatpy's parse_payment_result checks MD5 only.
        body = codec.signed({**envelope, "return_msg": "OK", "result_code": "SUCCESS", **paid_fields(order)}, key)
    else:
        inner = {k: str(v) for k, v in refund_notification_fields(order, refund).items() if v is not None}
        body = codec.render({**envelope, "req_info": codec.encrypt_req_info(key, codec.render(inner, root="root"))})
    return NotificationDraft(
        event=EVENTS[event],
        url=url,
        body=body,
        headers={"Content-Type": "text/xml"},
        refund_no=refund.out_refund_no if refund else "",
        meta={"api": "v2"},
    )


def attempt_headers(gateway, notification: Notification) -> dict:
    """Every attempt is the same message: nothing is re-signed."""
    return dict(notification.headers)


def is_ack(http_status: int, body: str) -> bool:
    """Only a 2xx with XML whose return_code is SUCCESS acknowledges; the reply is parsed as safely as a request."""
    if not 200 <= http_status < 300:
        return False
    try:
        fields = codec.parse(body.encode("utf-8", errors="replace"), MAX_ACK)
    except V2Error:
        return False
    return fields.get("return_code", "").strip() == "SUCCESS"


# -- scenario forgeries -----------------------------------------------------------------------------------


def readable(gateway, notification: Notification, order: Order) -> dict[str, str]:
    """The XML fields a merchant reads once the sign checks out (all but sign); a refund's encrypted req_info as
    the fields inside it, each named req_info.<name>. NotificationUnreadable if the merchant's key cannot open it."""
    fields = codec.parse(notification.body.encode("utf-8"), MAX_ACK * 16)
    fields.pop("sign", None)
    if "req_info" not in fields:
        return fields
    try:
        inner = _open_req_info(fields.pop("req_info"), _key(gateway, order))
    except (ValueError, V2Error):
        raise NotificationUnreadable(
            f"notification {notification.id}'s req_info does not decrypt with the merchant's key (a forgery, or a "
            "key registered since)"
        ) from None
    return {**fields, **{f"{REQ_INFO}{name}": value for name, value in inner.items()}}


def resend(gateway, record: Notification, order: Order, edits: dict, signature: str) -> tuple:
    """A new notification from `record`'s fields with the edits, signed (a payment) or sealed (a refund's
    req_info) with the order's key, then forged as `signature` asks."""
    for name in edits:
        if not XML_NAME.fullmatch(name):
            raise InvalidParameter(
                f"fields.{name}", f"fields.{name} is not an XML element name (letters, digits, _ . -)"
            )
    fields = edit_flat(readable(gateway, record, order), edits, ("sign", "req_info"))
    key = _key(gateway, order)
    if record.refund_no:
        inner = {name[len(REQ_INFO) :]: fields.pop(name) for name in list(fields) if name.startswith(REQ_INFO)}
        fields["req_info"] = codec.encrypt_req_info(key, codec.render(inner, root="root"))
        draft, how = replace(draft_of(record), body=codec.render(fields)), "req_info sealed"
    else:
        draft, how = replace(draft_of(record), body=codec.signed(fields, key)), "signed"
    notes = [f"edit: {describe_edits(edits)}, {how} with the order's key"]
    if signature == "valid":
        return draft, notes
    forged, more = shape(gateway, draft, order, {"signature": signature})
    return forged, notes + more


def _key(gateway, order: Order) -> str:
    """The key the order's notifications are signed or sealed with: the API key, or the sandbox key."""
    merchant = gateway.merchant(order.merchant_id)
    if merchant is None or not merchant.get("api_key"):
        message = f"merchant {order.merchant_id} has no API key registered: its v2 notifications cannot be read"
        raise NotificationUnreadable(message)
    return codec.key_for(merchant, order.extra.get("sign_key_kind") or codec.API_KEY)


def shape(gateway, draft: NotificationDraft, order: Order, effects: dict) -> tuple[NotificationDraft, list[str]]:
    """A notification forged as a scenario asks; an honest merchant rejects every one of them."""
    if "probe" in effects:
        return draft, ["probe: none sent, WeChat Pay API v2 has no probe traffic (签名探测 is API v3's)"]
    fields = codec.parse(draft.body.encode("utf-8"), MAX_ACK * 16)
    merchant = gateway.merchant(order.merchant_id)
    key = codec.key_for(merchant, order.extra.get("sign_key_kind") or codec.API_KEY)
    shaper = _shape_refund if "req_info" in fields else _shape_payment
    body, notes = shaper(fields, key, effects)
    if effects.get("timestamp"):
        notes.append("timestamp: does not apply, a v2 notification carries no send time (time_end is the payment's)")
    return replace(draft, body=body), notes


def _shape_payment(fields: dict, key: str, effects: dict) -> tuple[str, list[str]]:
    """The MD5 sign covers every field: merchant wrong re-signs, tamper keeps the old sign, signature spoils it."""
    notes = []
    sign = fields.pop("sign", "")
    if effects.get("merchant") == "wrong":
        fields["mch_id"] = OTHER_MCH_ID
        sign = codec.sign(fields, key)
        notes.append(f"merchant: mch_id {OTHER_MCH_ID}, signed correctly")
    signed_fields = dict(fields)
    for name, value in effects.get("tamper", {}).items():
        wire = ("total_fee", "cash_fee") if name == "amount" else (name,)
        fields.update({field: str(fen(value) if name == "amount" else value) for field in wire})
        notes.append(f"tamper: {', '.join(wire)} = {fields[wire[0]]} after signing")
    sign = fields.pop("sign", sign)  # a tampered sign is the sign sent
    if effects.get("tamper") and fields == signed_fields:
        notes.append(UNCHANGED)
    if effects.get("signature") == "invalid":
        sign = spoil_hex(sign)
        notes.append("signature: invalid (a sign that is not the MD5 of this message)")
    elif effects.get("signature") == "missing":
        sign = ""
        notes.append("signature: missing (no <sign>)")
    return codec.render(fields, sign), notes


def _shape_refund(fields: dict, key: str, effects: dict) -> tuple[str, list[str]]:
    """A refund notification has no sign: only req_info's encryption vouches for it, so a forged signature or a
    tampered field becomes a req_info that does not decrypt with the merchant's key."""
    notes = []
    inner = _open_req_info(fields["req_info"], key)
    if effects.get("merchant") == "wrong":
        fields["mch_id"] = OTHER_MCH_ID
        notes.append(f"merchant: mch_id {OTHER_MCH_ID}; req_info still decrypts with this merchant's key")
    for name, value in effects.get("tamper", {}).items():
        wire = ("refund_fee", "settlement_refund_fee") if name == "amount" else (name,)
        target, where = (fields, "") if name in fields and name != "req_info" else (inner, "req_info ")
        target.update({field: str(fen(value) if name == "amount" else value) for field in wire})
        notes.append(f"tamper: {where}{', '.join(wire)} = {target[wire[0]]}; req_info sealed with another key")
    if effects.get("signature"):
        notes.append(
            f"signature: {effects['signature']} does not apply (a refund notification has no sign); "
            "req_info is sealed with another key instead"
        )
    forged = effects.get("signature") or effects.get("tamper")
    fields["req_info"] = codec.encrypt_req_info(NOT_THE_KEY if forged else key, codec.render(inner, root="root"))
    return codec.render(fields), notes


def _open_req_info(req_info: str, key: str) -> dict:
    from Crypto.Cipher import AES  # pycryptodome loads cffi: imported on first use, not at start
    from Crypto.Util.Padding import unpad

    aes_key = hashlib.md5(key.encode("utf-8")).hexdigest().encode("ascii")
    plain = unpad(AES.new(aes_key, AES.MODE_ECB).decrypt(base64.b64decode(req_info)), AES.block_size)
    return codec.parse(plain.replace(b"<root>", b"<xml>").replace(b"</root>", b"</xml>"), MAX_ACK * 16)


def spoil_hex(sign: str) -> str:
    """An upper-case hex sign of the same length that is not the right one."""
    if not sign:
        return "0" * 32
    return sign[:-1] + ("0" if sign[-1] != "0" else "1")
