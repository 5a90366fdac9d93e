"""The namespaces of a sandbox: the default one, and those created over the control API (kept in the store)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sandbox.core.ids import Ids
from sandbox.core.models import DEFAULT_NAMESPACE, NAMESPACE_NAME
from sandbox.core.namespace import Namespace
from sandbox.core.store import Store
from sandbox.errors import DefaultNamespace, InvalidParameter, NamespaceExists, NamespaceNotFound

COLLECTION = "namespaces"
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
    """Name -> Namespace: a dict lookup on every request. Changing the set is rare and takes a lock."""

    def __init__(self, store: Store, ids: Ids, make: Callable[[str], Namespace]) -> None:
        self._store, self._ids, self._make = store, ids, make
        self._lock = threading.Lock()
        self._spaces = {DEFAULT_NAMESPACE: make(DEFAULT_NAMESPACE)}
        for doc in store.scan(COLLECTION):
            self._spaces[doc["name"]] = make(doc["name"])

    @property
    def default(self) -> Namespace:
        return self._spaces[DEFAULT_NAMESPACE]

    def find(self, name: str) -> Namespace | None:
        return self._spaces.get(name)

    def get(self, name: str) -> Namespace:
        space = self._spaces.get(name)
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
        with self._lock, self._store.transaction():
            name = check_name(name) if name is not None else self._unused_name()
            if name in self._spaces:
                raise NamespaceExists(f"the namespace {name!r} exists already (DELETE it first to start it afresh)")
            self._store.put(COLLECTION, name, {"name": name})
            space = self._spaces[name] = self._make(name)
        return space

    def delete(self, name: str) -> None:
        """Drop the namespace and everything in it: its merchant ids are free again."""
        if name == DEFAULT_NAMESPACE:
            raise DefaultNamespace(
                "the default namespace cannot be deleted: it serves every call without X-Sandbox-Namespace and"
                " holds the demo merchants; empty it with POST /_sandbox/reset instead"
            )
        with self._lock:
            space = self.get(name)
            with self._store.transaction():
                space.reset(merchants=True)
                self._store.delete(COLLECTION, name)
            del self._spaces[name]

    def _unused_name(self) -> str:
        while (name := f"ns-{self._ids.hex(10)}") in self._spaces:
            pass
        return name
