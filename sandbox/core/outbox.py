"""Notifications as records: the exact message, every attempt with the merchant's reply, the next due time."""

from __future__ import annotations

from datetime import timedelta

from sandbox.core import scoped
from sandbox.core.clock import Clock
from sandbox.core.ids import Ids
from sandbox.core.models import (
    NOTIFY_DELIVERED,
    NOTIFY_FAILED,
    NOTIFY_PENDING,
    Attempt,
    Notification,
    namespace_of,
)
from sandbox.core.ports import NotificationDraft
from sandbox.core.store import Store
from sandbox.core.store.base import DueQueue
from sandbox.errors import NotFound

COLLECTION = "notifications"


def is_pending(doc: dict) -> bool:
    """Whether a stored notification has an attempt still to make (read from the document as stored)."""
    return doc["status"] == NOTIFY_PENDING and bool(doc["next_attempt_at"])


def declare_indexes(store: Store) -> None:
    scoped.declare(store, COLLECTION)
    store.add_index(COLLECTION, "order", lambda d: [(d["gateway"], d["merchant_id"], d["out_trade_no"])])
    # By namespace, so a restart reads each namespace's pending notifications and nothing else.
    store.add_index(COLLECTION, "due", lambda d: [namespace_of(d)] if is_pending(d) else [])


def namespace_of_notification(store: Store, notification_id: str) -> str | None:
    """The namespace a notification belongs to, whichever it is (the dispatcher delivers for every namespace)."""
    doc = store.get(COLLECTION, notification_id)
    return namespace_of(doc) if doc is not None else None


class Outbox:
    """One namespace's notifications."""

    def __init__(self, store: Store, namespace: str, clock: Clock, ids: Ids, due: DueQueue) -> None:
        self._store, self._namespace, self._clock, self._ids, self._due = store, namespace, clock, ids, due

    def add(
        self,
        gateway: str,
        merchant_id: str,
        out_trade_no: str,
        draft: NotificationDraft,
        shaping: dict | None = None,
        resent: tuple[str, dict] | None = None,
    ) -> Notification:
        """Store a notification; a scenario's `shaping` may delay its first attempt. A `resent` one (the id it was
        edited from, the edits) is sent once by whoever made it: nothing is scheduled."""
        now = self._clock.now()
        first = None if resent else now + timedelta(seconds=(shaping or {}).get("delay", 0))
        record = Notification(
            id=f"ntf_{self._ids.hex(20)}",
            gateway=gateway,
            merchant_id=merchant_id,
            out_trade_no=out_trade_no,
            event=draft.event,
            url=draft.url,
            body=draft.body,
            headers=dict(draft.headers),
            created_at=now,
            next_attempt_at=first,
            refund_no=draft.refund_no,
            meta=dict(draft.meta),
            scenario=dict(shaping or {}),
            probe=draft.probe,
            resent_from=resent[0] if resent else "",
            edits=resent[1] if resent else {},
            namespace=self._namespace,
        )
        with self._store.transaction():  # stored and due together, or neither
            self._save(record)
            if first is not None:
                self._due.schedule(first, "notify", record.id)
        return record

    def get(self, notification_id: str) -> Notification:
        doc = self._get(notification_id)
        if doc is None:
            raise NotFound(f"no notification {notification_id!r}")
        return Notification.from_doc(doc)

    def list(self, gateway: str = "", merchant_id: str = "", out_trade_no: str = "", status: str = "") -> list:
        wanted = {
            "gateway": gateway,
            "merchant_id": merchant_id,
            "out_trade_no": out_trade_no,
            "status": status,
        }
        one_order = gateway and merchant_id and out_trade_no
        if one_order:
            docs = self.of_order(gateway, merchant_id, out_trade_no)
        else:
            docs = scoped.documents(self._store, COLLECTION, self._namespace)
        docs = [d for d in docs if all(not v or d[k] == v for k, v in wanted.items())]
        docs.sort(key=lambda d: (d["created_at"], d["id"]))
        return [Notification.from_doc(d) for d in docs]

    def is_due(self, notification_id: str) -> bool:
        doc = self._get(notification_id)
        return doc is not None and self.is_due_record(Notification.from_doc(doc))

    def is_due_record(self, record: Notification) -> bool:
        """Whether a notification just read has an attempt due now."""
        return bool(
            record.status == NOTIFY_PENDING and record.next_attempt_at and record.next_attempt_at <= self._clock.now()
        )

    def record_attempt(
        self, notification_id: str, attempt: Attempt, schedule: tuple[int, ...], scheduled: bool
    ) -> Notification:
        """Store an attempt; an ack delivers, otherwise a scheduled attempt moves along the retry schedule."""
        with self._store.transaction():
            doc = self._get(notification_id)
            if doc is None:
                raise NotFound(f"no notification {notification_id!r}")
            record = Notification.from_doc(doc)
            record.attempts = [*record.attempt_list, attempt]
            if attempt.acked:
                record.status, record.next_attempt_at = NOTIFY_DELIVERED, None
            elif record.status == NOTIFY_PENDING and record.next_attempt_at is None:
                record.status = NOTIFY_FAILED  # sent once and never retried (a resend), and not acknowledged
            elif scheduled and record.status == NOTIFY_PENDING:
                retries_done = sum(1 for a in record.attempt_list if a.trigger == "schedule") - 1
                if retries_done < len(schedule):
                    record.next_attempt_at = attempt.at + timedelta(seconds=schedule[retries_done])
                else:
                    record.status, record.next_attempt_at = NOTIFY_FAILED, None
            # Only these three change: the stored document, not the whole record, is rebuilt (body, headers and
            # earlier attempts are kept as they are, not copied again).
            changed = {"attempts": [*doc.get("attempts", []), attempt.to_doc()], "status": record.status}
            changed["next_attempt_at"] = record.next_attempt_at.isoformat() if record.next_attempt_at else None
            self._store.put(COLLECTION, record.id, {**doc, **changed})
            if record.status == NOTIFY_PENDING and scheduled and record.next_attempt_at:
                self._due.schedule(record.next_attempt_at, "notify", record.id)
        self._store.flush()  # on disk before the next attempt goes out: a restart must not send this one again
        return record

    def reschedule_all(self) -> None:
        """Rebuild the due queue of the pending notifications (after a restart), reading only those."""
        for doc in self._store.lookup(COLLECTION, "due", self._namespace):
            record = Notification.from_doc(doc)
            self._due.schedule(record.next_attempt_at, "notify", record.id)

    def of_order(self, gateway: str, merchant_id: str, out_trade_no: str) -> list[dict]:
        """This namespace's stored notifications about one order (as stored: nothing is built)."""
        docs = self._store.lookup(COLLECTION, "order", (gateway, merchant_id, out_trade_no))
        return [d for d in docs if namespace_of(d) == self._namespace]

    def forget(self, notification_id: str) -> None:
        self._store.delete(COLLECTION, notification_id)

    def clear(self) -> None:
        scoped.drop(self._store, COLLECTION, self._namespace, lambda d: d["id"])

    def _get(self, notification_id: str) -> dict | None:
        return scoped.own(self._store.get(COLLECTION, notification_id), self._namespace)

    def _save(self, record: Notification) -> None:
        self._store.put(COLLECTION, record.id, record.to_doc())
