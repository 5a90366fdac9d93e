"""The sandbox's store: one interface (base.Store), and the backend `--data` names.

No `--data`: the embedded TinyDB store in memory. A file path: the same store in that TinyDB JSON file.
"""

from __future__ import annotations

from sandbox.core.store.base import IndexFn, Store
from sandbox.core.store.tiny import TinyStore


def open_store(data: str | None) -> Store:
    """The backend for `--data` (SANDBOX_DATA)."""
    return TinyStore(data)


__all__ = ["IndexFn", "Store", "TinyStore", "open_store"]
