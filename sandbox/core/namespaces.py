"""The namespaces of a sandbox: the default one, and those created over the control API (kept in the store).

Processes sharing a store share its namespaces: a name this process does not know is looked up in the store, and a
creation or deletion is announced (`namespaces`), so the others re-read the set on their next request. Each
creation has an incarnation of its own, so a namespace deleted and made again elsewhere is a new one here too.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from sandbox.core import clocks
from sandbox.core.ids import Ids
from sandbox.core.models import DEFAULT_NAMESPACE, NAMESPACE_NAME
from sandbox.core.namespace import Namespace
from sandbox.core.store import Store
from sandbox.errors import DefaultNamespace, InvalidParameter, NamespaceExists, NamespaceNotFound

COLLECTION = "namespaces"
TOPIC = "namespaces"
NAME_PATTERN = f"^{NAMESPACE_NAME.pattern}$"


def check_name(name: object, field: str = "name") -> str:
    """A namespace name as given (in a body's `field`, or a header): 1 to 63 of a-z, 0-9, _ and -, not starting
    with _ or -."""
    if not isinstance(name, str) or not NAMESPACE_NAME.fullmatch(name):
        shown = repr(name)[:80]
        raise InvalidParameter(
            field,
            f"{field} must be a namespace name: 1 to 63 of a-z, 0-9, '_' and '-', starting with a letter or a"
            f" digit ({NAME_PATTERN}), got {shown}",
        )
    return name


class Namespaces:
    """Name -> Namespace: a dict lookup on every request. Changing the set is rare and takes a lock, always inside a
    store transaction (entered first, so the two are taken in one order)."""

    def __init__(self, store: Store, ids: Ids, make: Callable[[str], Namespace]) -> None:
        self._store, self._ids, self._make = store, ids, make
        self._lock = threading.RLock()
        self._spaces = {DEFAULT_NAMESPACE: make(DEFAULT_NAMESPACE)}
        self._incarnations: dict[str, str] = {}
        for doc in store.scan(COLLECTION):
            self._add(doc)

    @property
    def default(self) -> Namespace:
        return self._spaces[DEFAULT_NAMESPACE]

    def find(self, name: str) -> Namespace | None:
        """The namespace, if it exists: one this process does not know yet (made through another) is read from the
        store."""
        space = self._spaces.get(name)
        if space is None:
            with self._store.transaction(), self._lock:
                space = self._spaces.get(name)
                if space is None and (doc := self._store.get(COLLECTION, name)) is not None:
                    space = self._add(doc)
        return space

    def refresh(self) -> None:
        """Read the set again after another process created or deleted one."""
        with self._store.transaction(), self._lock:
            stored = {doc["name"]: doc for doc in self._store.scan(COLLECTION)}
            for name in [name for name in self._spaces if name != DEFAULT_NAMESPACE and name not in stored]:
                del self._spaces[name]
            for name, doc in stored.items():
                if name not in self._spaces or self._incarnations.get(name) != doc.get("incarnation", ""):
                    self._add(doc)

    def _add(self, doc: dict) -> Namespace:
        space = self._spaces[doc["name"]] = self._make(doc["name"])
        self._incarnations[doc["name"]] = doc.get("incarnation", "")
        return space

    def get(self, name: str) -> Namespace:
        space = self.find(name)
        if space is None:
            raise NamespaceNotFound(
                f"no namespace {name!r} in this sandbox: create it with POST /_sandbox/namespaces"
                ' {"name": "..."} (GET /_sandbox/namespaces lists them)'
            )
        return space

    def all(self) -> list[Namespace]:
        return list(self._spaces.values())

    def names(self) -> list[str]:
        """The default namespace first, then the others by name."""
        return [DEFAULT_NAMESPACE, *sorted(name for name in self._spaces if name != DEFAULT_NAMESPACE)]

    def create(self, name: str | None = None) -> Namespace:
        """A new, empty namespace: `name`, or a generated one."""
        with self._store.transaction(), self._lock:
            name = check_name(name) if name is not None else self._unused_name()
            if name == DEFAULT_NAMESPACE or self._store.get(COLLECTION, name) is not None:  # held till the end
                raise NamespaceExists(f"the namespace {name!r} exists already (DELETE it first to start it afresh)")
            # Not from the seeded ids: those stay what they were before namespaces had incarnations.
            doc = {"name": name, "incarnation": secrets.token_hex(6)}
            self._store.put(COLLECTION, name, doc)
            self._store.announce(TOPIC)
            return self._add(doc)

    def delete(self, name: str) -> None:
        """Drop the namespace and everything in it: its merchant ids are free again."""
        if name == DEFAULT_NAMESPACE:
            raise DefaultNamespace(
                "the default namespace cannot be deleted: it serves every call without X-Sandbox-Namespace and"
                " holds the demo merchants; empty it with POST /_sandbox/reset instead"
            )
        with self._store.transaction(), self._lock:
            space = self.get(name)
            if self._store.get(COLLECTION, name) is None:  # deleted through another process meanwhile
                self._spaces.pop(name, None)
                raise NamespaceNotFound(f"no namespace {name!r} in this sandbox (deleted meanwhile)")
            space.reset(merchants=True, clock=False)  # its stored clock is forgotten below
            self._store.delete(COLLECTION, name)
            clocks.forget(self._store, name)
            self._store.announce(TOPIC)
            del self._spaces[name]

    def _unused_name(self) -> str:
        while (name := f"ns-{self._ids.hex(10)}") in self._spaces or self._store.get(COLLECTION, name) is not None:
            pass
        return name
