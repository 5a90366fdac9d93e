"""The registry of merchants and their public material, one record per (gateway, merchant_id)."""

from __future__ import annotations

from sandbox.core.store import Store

COLLECTION = "merchants"


def merchant_key(gateway: str, merchant_id: str) -> str:
    return f"{gateway}|{merchant_id}"


class Merchants:
    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, gateway: str, merchant_id: str) -> dict | None:
        return self._store.get(COLLECTION, merchant_key(gateway, merchant_id))

    def put(self, record: dict) -> dict:
        self._store.put(COLLECTION, merchant_key(record["gateway"], record["merchant_id"]), record)
        return record

    def all(self) -> list[dict]:
        return sorted(self._store.all(COLLECTION), key=lambda m: (m["gateway"], m["merchant_id"]))

    def clear(self) -> None:
        self._store.clear(COLLECTION)
