"""The demo shop served over real HTTP beside a live sandbox: the sandbox notifies the shop, the buyer's browser
(Chromium, or plain requests) moves between them."""

from __future__ import annotations

import pytest
import requests

from sandbox.merchant.shop import create_shop
from sandbox.merchant.shop.settings import ShopSettings
from sandbox.testing.server import ThreadedServer


@pytest.fixture
def shop_settings(live) -> ShopSettings:
    """Notifications alone turn orders paid (the query fallback waits 5 minutes) unless a test says otherwise."""
    return ShopSettings(sandbox_url=live.url, query_after=300, query_interval=0, secret_key="test")


@pytest.fixture
def shop_app(shop_settings):
    return create_shop(shop_settings)


@pytest.fixture
def shop(shop_app):
    """The shop's service object: its order book, journal and integrations."""
    return shop_app.extensions["shop"]


@pytest.fixture
def shop_live(shop_app, shop_settings):
    server = ThreadedServer(shop_app)
    shop_settings.public_url = server.url  # where the sandbox sends notifications and the buyer comes back
    with server:
        yield server


@pytest.fixture
def buyer():
    """A browser without JavaScript: follows redirects, keeps the shop's cart cookie."""
    with requests.Session() as session:
        session.trust_env = False
        yield session
