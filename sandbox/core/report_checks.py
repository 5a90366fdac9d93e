"""The checks of the integration report, each judged from what the sandbox stored about one merchant."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sandbox.core.models import REFUND_PENDING, REFUND_SUCCESS, VIA_CONTROL_API, Attempt, Notification, Order

PASSED, FAILED, NOT_EXERCISED = "passed", "failed", "not_exercised"
MAX_EVIDENCE = 5
# The close reasons the gateways record for a merchant's own close, cancel or reverse of a pending order (an expiry
# is "expired", a buyer giving up "cancelled"). One the control API made for it (`via`) is not the merchant's doing.
MERCHANT_CLOSES = ("closed by merchant", "cancelled by merchant", "reversed")


@dataclass
class Seen:
    """What the sandbox stored about one merchant, read once for every check."""

    gateway: str
    merchant_id: str
    orders: list[Order]
    notifications: list[Notification]
    faulted: list[dict]  # observations: one document per faulted order
    bills: dict | None


@dataclass
class Verdict:
    status: str
    detail: str
    evidence: list[dict] = field(default_factory=list)


def evidence(out_trade_no=None, notification_id=None, at=None, note="") -> dict:
    return {"out_trade_no": out_trade_no, "notification_id": notification_id, "at": at, "note": note}


def _iso(moment) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _about(record: Notification, attempt: Attempt, note: str) -> dict:
    return evidence(record.out_trade_no, record.id, _iso(attempt.at), note)


def _answer(attempt: Attempt) -> str:
    body = attempt.response_body.strip()
    return f"HTTP {attempt.http_status} {body[:40]!r}" if body else f"HTTP {attempt.http_status}, empty body"


def is_genuine(record: Notification) -> bool:
    return not record.probe and not record.scenario.get("forged")


# -- notifications --------------------------------------------------------------------------------------------


def acknowledges(seen: Seen) -> Verdict:
    answers = [(n, a) for n in seen.notifications if is_genuine(n) for a in n.attempt_list if a.http_status]
    refused = [(n, a) for n, a in answers if not a.acked]
    if not answers:
        return Verdict(NOT_EXERCISED, "no genuine notification has been answered yet")
    if not refused:
        return Verdict(
            PASSED,
            f"all {len(answers)} answers to {len({n.id for n, _ in answers})} genuine notifications were acks",
            [_about(n, a, f"acknowledged: {_answer(a)}") for n, a in answers[:MAX_EVIDENCE]],
        )
    seen_answers = Counter(_answer(a) for _, a in refused)
    listed = ", ".join(f"{answer} ({count}x)" for answer, count in seen_answers.most_common(5))
    return Verdict(
        FAILED,
        f"{len(refused)} of {len(answers)} answers to genuine notifications were not the gateway's ack: {listed};"
        " the gateway retries such a notification",
        [_about(n, a, f"not an ack: {_answer(a)}") for n, a in refused[:MAX_EVIDENCE]],
    )


def refuses(seen: Seen, kind: str, label: str) -> Verdict:
    """Forged notifications of one kind (a key of Notification.scenario["forged"], or "probe"): all refused?"""
    forged = [n for n in seen.notifications if (n.probe if kind == "probe" else kind in n.scenario.get("forged", {}))]
    accepted = [n for n in forged if any(a.acked for a in n.attempt_list)]
    refused = [n for n in forged if n not in accepted and any(a.http_status for a in n.attempt_list)]
    unanswered = len(forged) - len(accepted) - len(refused)
    waiting = f"; {unanswered} not answered (yet)" if unanswered else ""
    if accepted:
        items = [_about(n, next(a for a in n.attempt_list if a.acked), f"{label}, acknowledged") for n in accepted]
        return Verdict(
            FAILED,
            f"{len(accepted)} of {len(accepted) + len(refused)} {label} notifications were acknowledged as genuine"
            f"{waiting}",
            items[:MAX_EVIDENCE],
        )
    if refused:
        items = [_about(n, n.attempt_list[-1], f"{label}, refused: {_answer(n.attempt_list[-1])}") for n in refused]
        return Verdict(PASSED, f"all {len(refused)} {label} notifications were refused{waiting}", items[:MAX_EVIDENCE])
    return Verdict(NOT_EXERCISED, f"no {label} notification has been answered{waiting or ' (none sent)'}")


def answers_duplicates(seen: Seen) -> Verdict:
    duplicated = [
        n
        for n in seen.notifications
        if is_genuine(n) and any(a.trigger == "duplicate" and a.http_status for a in n.attempt_list)
    ]
    if not duplicated:
        return Verdict(NOT_EXERCISED, "no genuine notification has been sent twice yet")
    copies = sum(1 for n in duplicated for a in n.attempt_list if a.trigger == "duplicate")
    refused = [(n, a) for n in duplicated for a in n.attempt_list if a.http_status and not a.acked]
    if refused:
        return Verdict(
            FAILED,
            f"{len(refused)} answers to {len(duplicated)} duplicated notifications ({copies} copies) were not acks:"
            " every copy of a notification must be acknowledged, the genuine one and its duplicates alike",
            [_about(n, a, f"{a.trigger} refused: {_answer(a)}") for n, a in refused[:MAX_EVIDENCE]],
        )
    return Verdict(
        PASSED,
        f"{len(duplicated)} duplicated notifications: all {copies} copies and the originals acknowledged",
        [_about(n, n.attempt_list[-1], "every copy acknowledged") for n in duplicated[:MAX_EVIDENCE]],
    )


# -- calls -----------------------------------------------------------------------------------------------------


def _faults(seen: Seen) -> list[tuple[dict, dict]]:
    return [(doc, fault) for doc in seen.faulted for fault in doc["faults"]]


def _fault_note(fault: dict) -> str:
    followed = fault["followed_by"]
    then = f"followed by {followed['method'] or followed['operation']}" if followed else "never followed up"
    return f"{fault['method'] or fault['operation']} got {fault['effect']} (rule {fault['rule']}); {then}"


def follows_up_faults(seen: Seen) -> Verdict:
    faults = _faults(seen)
    if not faults:
        return Verdict(NOT_EXERCISED, "no create, pay or refund call has met an API fault")
    lost = [(doc, f) for doc, f in faults if f["followed_by"] is None]
    items = [evidence(doc["out_trade_no"], None, f["at"], _fault_note(f)) for doc, f in (lost or faults)]
    if lost:
        return Verdict(
            FAILED,
            f"{len(lost)} of {len(faults)} faulted calls were never followed by a query or a retry of the order:"
            " its state is unknown to the merchant",
            items[:MAX_EVIDENCE],
        )
    how = Counter(f["followed_by"]["operation"] for _, f in faults)
    listed = ", ".join(f"{operation} {count}" for operation, count in sorted(how.items()))
    return Verdict(PASSED, f"all {len(faults)} faulted calls were followed up ({listed})", items[:MAX_EVIDENCE])


def retries_refunds_idempotently(seen: Seen) -> Verdict:
    """A refund call retried after a fault that let it take effect must reuse its out_refund_no."""
    retried = [
        (doc, f)
        for doc, f in _faults(seen)
        if f["operation"] == "refund" and f["followed_by"] and f["followed_by"]["operation"] == "refund"
    ]
    if not retried:
        return Verdict(NOT_EXERCISED, "no refund call has been retried after an API fault")
    doubled = []
    for doc, f in retried:
        followed = f["followed_by"]
        before, after = followed["refunds_before"], followed.get("refunds_after") or []
        new = [number for number in after if number not in before]
        if f["processed"] and before and new:
            doubled.append(evidence(doc["out_trade_no"], None, f["at"], f"retried as {', '.join(new)}: refunded twice"))
    if doubled:
        return Verdict(
            FAILED,
            f"{len(doubled)} of {len(retried)} refunds that took effect despite the fault were retried with a new"
            " out_refund_no, refunding the buyer twice",
            doubled[:MAX_EVIDENCE],
        )
    items = [evidence(doc["out_trade_no"], None, f["at"], _fault_note(f)) for doc, f in retried]
    return Verdict(PASSED, f"all {len(retried)} retried refunds kept their out_refund_no", items[:MAX_EVIDENCE])


# -- orders ----------------------------------------------------------------------------------------------------


def _refunds(order: Order) -> list:
    """The merchant's own refunds that went through (not those the control API made for it)."""
    return [
        r
        for r in order.refund_list
        if r.status in (REFUND_PENDING, REFUND_SUCCESS) and r.extra.get("via") != VIA_CONTROL_API
    ]


def refunds_partially(seen: Seen) -> Verdict:
    partial = [o for o in seen.orders if any(r.amount < o.amount for r in _refunds(o))]
    if not partial:
        return Verdict(NOT_EXERCISED, "no refund smaller than its order's amount")
    items = [
        evidence(o.out_trade_no, None, _iso(r.created_at), f"refund {r.out_refund_no}: {r.amount} of {o.amount} fen")
        for o in partial
        for r in _refunds(o)
        if r.amount < o.amount
    ]
    return Verdict(PASSED, f"{len(partial)} orders partially refunded", items[:MAX_EVIDENCE])


def refunds_repeatedly(seen: Seen) -> Verdict:
    repeated = [o for o in seen.orders if len(_refunds(o)) >= 2]
    if not repeated:
        return Verdict(NOT_EXERCISED, "no order refunded more than once")
    items = [
        evidence(o.out_trade_no, None, _iso(_refunds(o)[-1].created_at), f"{len(_refunds(o))} refunds")
        for o in repeated
    ]
    return Verdict(PASSED, f"{len(repeated)} orders refunded two or more times", items[:MAX_EVIDENCE])


def closes_unpaid(seen: Seen) -> Verdict:
    closed = [
        o for o in seen.orders if o.failure.get("reason") in MERCHANT_CLOSES and o.failure.get("via") != VIA_CONTROL_API
    ]
    expired = sum(1 for o in seen.orders if o.failure.get("reason") == "expired")
    if not closed:
        return Verdict(NOT_EXERCISED, f"no pending order closed by the merchant ({expired} expired unpaid)")
    items = [evidence(o.out_trade_no, None, _iso(o.closed_at), o.failure["reason"]) for o in closed]
    return Verdict(
        PASSED, f"{len(closed)} pending orders closed by the merchant, {expired} expired unpaid", items[:MAX_EVIDENCE]
    )


def fetches_bills(seen: Seen) -> Verdict:
    if not seen.bills:
        return Verdict(NOT_EXERCISED, "no bill has been asked for")
    fetches = seen.bills["fetches"]
    items = [evidence(None, None, f["at"], f["method"]) for f in reversed(fetches)]
    return Verdict(PASSED, f"{seen.bills['count']} bill requests (the last: {fetches[-1]['method']})", items)
