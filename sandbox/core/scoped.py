"""Documents by namespace: one store holds every namespace, and each per-namespace document carries its own.

Keys stay what they were: an order's key names its merchant, a merchant id belongs to one namespace, and the ids
of notifications and rules are random, so keys never collide across namespaces, and documents stored before
namespaces keep their keys (and belong to the default namespace). Each of these collections is indexed by
namespace, so a listing reads its own namespace's documents only, and a read by key checks the namespace.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.core.models import namespace_of
from sandbox.core.store import Store

INDEX = "namespace"


def declare(store: Store, collection: str) -> None:
    """Index `collection` by namespace (once per store: indexes are the store's, not a namespace's)."""
    store.add_index(collection, INDEX, lambda doc: [namespace_of(doc)])


def documents(store: Store, collection: str, namespace: str) -> list[dict]:
    return store.lookup(collection, INDEX, namespace)


def own(doc: dict | None, namespace: str) -> dict | None:
    """`doc` if it belongs to `namespace`, else None (another namespace's document is not there for this one)."""
    return doc if doc is not None and namespace_of(doc) == namespace else None


def drop(store: Store, collection: str, namespace: str, key_of: Callable[[dict], str]) -> None:
    """Delete every document of `namespace` in `collection` (one transaction: all or none)."""
    with store.transaction():
        for doc in documents(store, collection, namespace):
            store.delete(collection, key_of(doc))
