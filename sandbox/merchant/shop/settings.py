"""The demo shop's settings: where the sandbox is, where the shop is reached, and how it paces its queries.

Its credentials are the TEST-ONLY demo merchants (sandbox.merchant.demo), which every sandbox registers at start,
so `paysandbox shop` works against any sandbox started with its defaults, the container included.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

PACKAGED_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"  # sandbox/fixtures
# The zone its pages show times in: China Standard Time, the gateways' own (and the sandbox's pages' and console's).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ShopSettings:
    sandbox_url: str = "http://127.0.0.1:8008"  # SHOP_SANDBOX_URL: the gateways' base URL
    public_url: str = "http://127.0.0.1:8010"  # SHOP_PUBLIC_URL: where the sandbox and the browser reach the shop
    data_path: str | None = None  # SHOP_DATA: TinyDB JSON file for the shop's orders; unset keeps them in memory
    fixtures_dir: str = field(default_factory=lambda: os.environ.get("SANDBOX_FIXTURES") or str(PACKAGED_FIXTURES))
    pay_minutes: int = 15  # SHOP_PAY_MINUTES: how long an order may be paid, sent to every gateway
    # How long the order page waits for the notification before it asks the gateway (the query fallback), and how
    # often it asks after that. A notification that never comes costs the buyer this long, not forever.
    query_after: float = 5.0  # SHOP_QUERY_AFTER (seconds)
    query_interval: float = 2.0  # SHOP_QUERY_INTERVAL (seconds)
    secret_key: str = field(default_factory=lambda: os.urandom(16).hex())  # SHOP_SECRET_KEY: signs the cart cookie
    now: Callable[[], datetime] = utc_now  # the shop's own clock (tests replace it)

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> ShopSettings:
        environ = os.environ if environ is None else environ
        names = {
            "sandbox_url": str,
            "public_url": str,
            "data_path": str,
            "pay_minutes": int,
            "query_after": float,
            "query_interval": float,
            "secret_key": str,
        }
        values = {}
        for name, kind in names.items():
            raw = environ.get("SHOP_" + ("DATA" if name == "data_path" else name.upper()))
            if raw:
                values[name] = kind(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.sandbox_url = settings.sandbox_url.rstrip("/")
        settings.public_url = settings.public_url.rstrip("/")
        return settings

    def url(self, path: str) -> str:
        """An absolute URL of the shop, as the sandbox (notify_url) and the buyer's browser (return_url) reach it."""
        return self.public_url + path
