"""The reference demo shop: a small Flask app that sells through Alipay, WeChat Pay and UnionPay using only the
clients in sandbox.merchant, and does every step the way a correct integration must (see service.py)."""

from __future__ import annotations

import logging
import threading

from flask import Flask, render_template
from tinydb import TinyDB
from tinydb.storages import JSONStorage, MemoryStorage
from werkzeug.exceptions import HTTPException

import sandbox.favicon as favicon
from sandbox.merchant.demo import Credentials
from sandbox.merchant.shop import headers
from sandbox.merchant.shop.gateways.alipay import AlipayIntegration
from sandbox.merchant.shop.gateways.unionpay import UnionPayIntegration
from sandbox.merchant.shop.gateways.wechatpay import WechatPayIntegration
from sandbox.merchant.shop.journal import Journal
from sandbox.merchant.shop.orders import OrderBook
from sandbox.merchant.shop.service import Shop
from sandbox.merchant.shop.settings import ShopSettings

log = logging.getLogger("paysandbox.shop")


def create_shop(settings: ShopSettings | None = None, credentials: Credentials | None = None) -> Flask:
    settings = settings or ShopSettings.from_env()
    credentials = credentials or Credentials.demo(settings.fixtures_dir)
    db = (
        TinyDB(settings.data_path, storage=JSONStorage, ensure_ascii=False, indent=1)
        if settings.data_path
        else TinyDB(storage=MemoryStorage)
    )
    lock = threading.RLock()  # TinyDB is not thread-safe; the order book's compare-and-set needs the lock anyway
    journal = Journal(db, lock, settings.now)
    integrations = {
        "alipay": AlipayIntegration(journal, credentials.alipay, settings.sandbox_url, settings.pay_minutes),
        "wechatpay": WechatPayIntegration(journal, credentials.wechatpay, settings.sandbox_url, settings.pay_minutes),
        "unionpay": UnionPayIntegration(journal, credentials.unionpay, settings.sandbox_url, settings.pay_minutes),
    }
    shop = Shop(settings, OrderBook(db, lock, settings.now), journal, integrations)

    app = Flask(__name__, static_folder=None)
    app.secret_key = settings.secret_key
    app.extensions["shop"] = shop
    from sandbox.merchant.shop.views import bp

    app.register_blueprint(bp)
    favicon.install(app)
    headers.install(app)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        allow = {"Allow": ", ".join(sorted(error.valid_methods))} if getattr(error, "valid_methods", None) else {}
        return render_template("shop/error.html", error=error), error.code, allow

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("the shop failed")
        return render_template("shop/error.html", error=error), 500

    return app
