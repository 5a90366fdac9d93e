"""The registry of merchants and their public material, one record per (gateway, merchant_id).

A merchant id belongs to one namespace: gateway requests find their namespace by the merchant they name. So the
records are keyed by gateway and id alone, and each says its namespace; `Merchants` is one namespace's view.
"""

from __future__ import annotations

from sandbox.core import scoped
from sandbox.core.models import namespace_of
from sandbox.core.store import Store
from sandbox.errors import MerchantInAnotherNamespace

COLLECTION = "merchants"


def merchant_key(gateway: str, merchant_id: str) -> str:
    return f"{gateway}|{merchant_id}"


def declare_indexes(store: Store) -> None:
    scoped.declare(store, COLLECTION)


def owner(store: Store, gateway: str, merchant_id: str) -> str | None:
    """The namespace that holds a merchant id, whichever it is; None for an id nobody registered."""
    doc = store.get(COLLECTION, merchant_key(gateway, merchant_id))
    return namespace_of(doc) if doc is not None else None


class Merchants:
    def __init__(self, store: Store, namespace: str) -> None:
        self._store, self._namespace = store, namespace

    def get(self, gateway: str, merchant_id: str) -> dict | None:
        return scoped.own(self._store.get(COLLECTION, merchant_key(gateway, merchant_id)), self._namespace)

    def put(self, record: dict) -> dict:
        """Register or replace a merchant of this namespace; an id another namespace holds is refused."""
        key = merchant_key(record["gateway"], record["merchant_id"])
        with self._store.transaction():
            held_by = owner(self._store, record["gateway"], record["merchant_id"])
            if held_by not in (None, self._namespace):
                raise MerchantInAnotherNamespace(
                    f"{record['gateway']} merchant {record['merchant_id']} is registered in the namespace {held_by!r}:"
                    " a merchant id belongs to one namespace (gateway requests find their namespace by it), so pick"
                    " another id, or delete that namespace first"
                )
            self._store.put(COLLECTION, key, {**record, "namespace": self._namespace})
        return record

    def all(self) -> list[dict]:
        docs = scoped.documents(self._store, COLLECTION, self._namespace)
        return sorted(docs, key=lambda m: (m["gateway"], m["merchant_id"]))

    def clear(self) -> None:
        scoped.drop(self._store, COLLECTION, self._namespace, lambda m: merchant_key(m["gateway"], m["merchant_id"]))
