"""v3 notifications: an AES-GCM encrypted resource in a JSON body, signed headers, a 2xx ack.

docs/protocols/wechatpay-v3.md#notifications describes them."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace

from sandbox.core import ports
from sandbox.core.models import Notification, Order, Refund
from sandbox.core.ports import NotificationDraft
from sandbox.core.resend import describe_edits, draft_of
from sandbox.errors import InvalidParameter, NotificationUnreadable
from sandbox.gateways.wechatpay.keys import CERTIFICATE_MODE, aead_encrypt
from sandbox.gateways.wechatpay.v3 import codec
from sandbox.gateways.wechatpay.v3.resources import refund_notification_resource, rfc3339, transaction

OTHER_MCHID = "1900009999"  # the merchant a `merchant: wrong` notification claims to be for
STALE_SECONDS = 600  # how old a `timestamp: stale` notification's Wechatpay-Timestamp is
EVENTS = {
    ports.PAID: ("TRANSACTION.SUCCESS", "支付成功"),
    ports.REFUNDED: ("REFUND.SUCCESS", "退款成功"),
    ports.REFUND_ABNORMAL: ("REFUND.ABNORMAL", "退款异常"),
    ports.REFUND_CLOSED: ("REFUND.CLOSED", "退款关闭"),
}


def build(gateway, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
    """WeChat notifies payments and refund outcomes; closes, expiries and failures are silent."""
    if event not in EVENTS:
        return None
    url = (refund.extra.get("notify_url") if refund else "") or order.notify_url
    merchant = gateway.merchant(order.merchant_id)
    if not url or merchant is None:
        return None
    event_type, summary = EVENTS[event]
    kind = "transaction" if event == ports.PAID else "refund"
    resource = transaction(order) if refund is None else refund_notification_resource(order, refund)
    nonce = gateway.sandbox.ids.alnum(12)
    body = {
        "id": f"EV-{gateway.sandbox.ids.hex(32)}",
        "create_time": rfc3339(gateway.sandbox.clock.now()),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": {
            "original_type": kind,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": aead_encrypt(merchant["apiv3_key"], nonce, json.dumps(resource, ensure_ascii=False), kind),
            "associated_data": kind,
            "nonce": nonce,
        },
    }
    # Chosen once per notification: every attempt is signed by the same key, whose serial the record shows.
    mode = gateway.notification_key(merchant, order.extra.get("signing_mode") or CERTIFICATE_MODE)
    return NotificationDraft(
        event=event_type,
        url=url,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        headers={"Content-Type": "application/json", "Wechatpay-Serial": gateway.keys.serial(mode)},
        refund_no=refund.out_refund_no if refund else "",
        meta={"api": "v3", "signing_mode": mode},
    )


def attempt_headers(gateway, notification: Notification) -> dict:
    """Signed afresh for each attempt, stamped with real time: merchant SDKs check it against their own clock.

    A scenario's flags in `meta` (see shape) forge the signature: over the body before tampering, over another
    message, left out, a probe's, or stamped STALE_SECONDS in the past.
    """
    meta = notification.meta
    ids = gateway.sandbox.ids
    signed_over = meta.get("signed_body", notification.body)
    if meta.get("signature") == "invalid":
        signed_over += " "  # another message: the signature is well-formed but verifies nothing sent
    stamp = int(time.time()) - (STALE_SECONDS if meta.get("timestamp") == "stale" else 0)
    signed = codec.signed_headers(
        signed_over,
        gateway.keys,
        meta.get("signing_mode", CERTIFICATE_MODE),
        stamp,
        ids.alnum(32),
        ids.hex(32),
    )
    if meta.get("signature") == "missing":
        del signed["Wechatpay-Signature"]
    elif meta.get("signature") == "probe":
        signed["Wechatpay-Signature"] = codec.probe_signature(ids.hex(512))
    return {**notification.headers, **signed}


# -- scenario forgeries -----------------------------------------------------------------------------------


def shape(gateway, draft: NotificationDraft, order: Order, effects: dict) -> tuple[NotificationDraft, list[str]]:
    """A notification forged as a scenario asks; an honest merchant rejects every one of them.

    merchant: the resource names another mchid, re-encrypted and signed correctly. tamper: fields of the
    resource (or of the body) change after signing, so the signature covers the original. signature and
    timestamp: flags for attempt_headers, which signs each attempt. probe (asked alone, "1 of 2"): a copy of the
    notification whose Wechatpay-Signature is probe traffic.
    """
    if "probe" in effects:
        meta = {**draft.meta, "signature": "probe"}
        note = f"probe {effects['probe']}: Wechatpay-Signature {codec.PROBE_PREFIX}... (签名探测), to be refused"
        return replace(draft, meta=meta, probe=True), [note]
    body, meta, notes = json.loads(draft.body), dict(draft.meta), []
    merchant = gateway.merchant(order.merchant_id)  # whose APIv3 key encrypted the resource
    if effects.get("merchant") == "wrong":
        body = _reseal(gateway, body, merchant, {"mchid": OTHER_MCHID})
        notes.append(f"merchant: the resource names mchid {OTHER_MCHID}, encrypted and signed correctly")
    tamper = effects.get("tamper")
    if tamper:
        meta["signed_body"] = _text(body)
        body, changed = _tampered(gateway, body, merchant, tamper)
        notes.append(f"tamper: {', '.join(changed)} changed after signing (the signature covers the original)")
    if effects.get("signature"):
        meta["signature"] = effects["signature"]
        how = "over another message" if effects["signature"] == "invalid" else "no Wechatpay-Signature header"
        notes.append(f"signature: {effects['signature']} ({how})")
    if effects.get("timestamp") == "stale":
        meta["timestamp"] = "stale"
        notes.append(f"timestamp: Wechatpay-Timestamp {STALE_SECONDS // 60} minutes old, signed correctly")
    return replace(draft, body=_text(body), meta=meta), notes


def readable(gateway, notification: Notification) -> dict:
    """The decrypted resource a merchant reads once the signature checks out (the envelope aside).
    NotificationUnreadable when the merchant's APIv3 key does not open it."""
    merchant = gateway.merchant(notification.merchant_id)
    try:
        return _open(json.loads(notification.body), merchant)
    except (TypeError, KeyError, ValueError):  # no merchant, no resource, or a key registered since: not ours to read
        raise NotificationUnreadable(
            f"notification {notification.id}'s resource does not decrypt with merchant {notification.merchant_id}'s "
            "APIv3 key (registered again since?)"
        ) from None


def resend(gateway, record: Notification, edits: dict, signature: str) -> tuple[NotificationDraft, list[str]]:
    """A new notification from `record`'s resource with the edits (dotted paths reach inside, null removes):
    a fresh event id and create_time, re-encrypted with the merchant's APIv3 key under a fresh nonce, and each
    attempt signed by the key (and serial) the original was, unless `signature` says invalid or missing."""
    content = readable(gateway, record)
    for path, value in edits.items():
        _edit(content, path, value)
    body = json.loads(record.body)
    body.update(id=f"EV-{gateway.sandbox.ids.hex(32)}", create_time=rfc3339(gateway.sandbox.clock.now()))
    body = _reseal(gateway, body, gateway.merchant(record.merchant_id), {}, content)
    meta = {k: v for k, v in record.meta.items() if k not in ("signed_body", "signature", "timestamp")}
    notes = [f"edit: {describe_edits(edits)}; a fresh id, create_time and nonce, encrypted with the APIv3 key"]
    if signature != "valid":
        meta["signature"] = signature
        how = "over another message" if signature == "invalid" else "no Wechatpay-Signature header"
        notes.append(f"signature: {signature} ({how})")
    return replace(draft_of(record), body=_text(body), meta=meta), notes


def _edit(content: dict, path: str, value) -> None:
    """Set (or, for None, remove) the field at a dotted path; 400 naming it if the path crosses a non-object."""
    *parents, last = path.split(".")
    for depth, name in enumerate(parents):
        child = content.setdefault(name, {}) if value is not None else content.get(name)
        if child is None:
            return  # removing what is not there
        if not isinstance(child, dict):
            crossed = ".".join(parents[: depth + 1])
            raise InvalidParameter(f"fields.{path}", f"fields.{path}: {crossed} in the resource is not an object")
        content = child
    if value is None:
        content.pop(last, None)
    else:
        content[last] = value


def _text(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _open(body: dict, merchant: dict) -> dict:
    from Crypto.Cipher import AES  # pycryptodome loads cffi: imported on first use, not at start

    resource = body["resource"]
    cipher = AES.new(merchant["apiv3_key"].encode("utf-8"), AES.MODE_GCM, nonce=resource["nonce"].encode("utf-8"))
    cipher.update(resource["associated_data"].encode("utf-8"))
    sealed = base64.b64decode(resource["ciphertext"])
    return json.loads(cipher.decrypt_and_verify(sealed[:-16], sealed[-16:]))


def _reseal(gateway, body: dict, merchant: dict, changes: dict, content: dict | None = None) -> dict:
    """The body with its resource decrypted (or replaced by `content`), changed at dotted paths, and encrypted again
    with a fresh nonce."""
    content = _open(body, merchant) if content is None else content
    for path, value in changes.items():
        _set(content, path, value)
    nonce = gateway.sandbox.ids.alnum(12)
    resource = body["resource"]
    plain = json.dumps(content, ensure_ascii=False)
    sealed = aead_encrypt(merchant["apiv3_key"], nonce, plain, resource["associated_data"])
    return {**body, "resource": {**resource, "ciphertext": sealed, "nonce": nonce}}


def _tampered(gateway, body: dict, merchant: dict, tamper: dict) -> tuple[dict, list[str]]:
    """Neutral `amount` (fen) is amount.total and amount.payer_total; a top-level body field changes the body;
    any other key is a dotted path into the decrypted resource."""
    outer, inner, changed = {}, {}, []
    for name, value in tamper.items():
        if name == "amount":
            inner.update({"amount.total": fen(value), "amount.payer_total": fen(value)})
        elif name in body and name != "resource":
            outer[name] = value
        else:
            inner[name] = value
    for name, value in outer.items():
        body = {**body, name: value}
        changed.append(f"{name} = {value}")
    if inner:
        body = _reseal(gateway, body, merchant, inner)
        changed += [f"resource.{name} = {value}" for name, value in inner.items()]
    return body, changed


def fen(value):
    """A tamper rule's neutral amount as fen; a value that is not a number goes in as it is (still a forgery)."""
    try:
        return int(value)
    except ValueError:
        return value


def _set(content: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for name in parents:
        child = content.get(name)
        if not isinstance(child, dict):
            child = content[name] = {}
        content = child
    content[last] = value


def is_ack(http_status: int, body: str) -> bool:
    """Any 2xx (200 or 204, the body does not matter) acknowledges a v3 notification."""
    return 200 <= http_status < 300
