"""Fixtures of the core's tests."""

from __future__ import annotations

import pytest

from sandbox.core.store import open_store


@pytest.fixture
def two(postgres_url):
    """Two stores on one PostgreSQL database, as two processes would have (the first opened is alone, the second
    joins it)."""
    stores = [open_store(postgres_url), open_store(postgres_url)]
    yield stores
    for store in stores:
        store.close()
