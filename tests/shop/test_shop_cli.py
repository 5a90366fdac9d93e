"""`paysandbox demo` and `paysandbox shop` as a newcomer runs them: real processes, a purchase paid end to end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import requests

from tests.shop.shopping import buy, wait_until
from tests.test_cli import free_port, serve, stop

APP = "2021000000000001"


def start(*args: str) -> subprocess.Popen:
    """`paysandbox ARGS`, once its banner (printed once the sockets listen) has named the demo shop."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "SANDBOX_LOG_LEVEL": "WARNING"},
    )
    process.banner = []
    for line in iter(process.stdout.readline, ""):  # ends when the process does: a failed start never hangs here
        process.banner.append(line)
        if "demo shop serving on" in line:
            return process
    raise AssertionError("".join(process.banner))


@pytest.mark.parametrize("allow", [[], ["--notify-allow", "10.0.0.0/8"]], ids=["any destination", "an allow list"])
def test_demo_runs_the_sandbox_and_the_shop_and_a_purchase_is_paid_by_notification(buyer, allow):
    sandbox_port, shop_port = free_port(), free_port()
    ports = ["--port", str(sandbox_port), "--shop-port", str(shop_port)]
    process = start("demo", *ports, *allow)
    sandbox, shop = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{shop_port}"
    try:
        no = buy(buyer, shop, "alipay:page")
        cashier = buyer.get(f"{shop}/orders/{no}/pay")
        assert cashier.url.startswith(f"{sandbox}/cashier/alipay/")
        buyer.post(f"{sandbox}/_sandbox/orders/alipay/{APP}/{no}/pay", json={"outcome": "success"}).raise_for_status()

        order = wait_until(
            lambda: (o := buyer.get(f"{shop}/api/orders/{no}").json())["status"] == "paid" and o, "the notification"
        )
        assert order["paid_by"] == "notification"
    finally:
        stop(process)


def test_demo_with_a_token_guards_its_control_api_and_the_shop_still_sells(buyer):
    sandbox_port, shop_port = free_port(), free_port()
    process = start("demo", "--port", str(sandbox_port), "--shop-port", str(shop_port), "--token", "T0KEN")
    sandbox, shop = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{shop_port}"
    try:
        no = buy(buyer, shop, "wechatpay:native")  # the shop calls the gateway: signatures, no token
        pay = f"{sandbox}/_sandbox/orders/wechatpay/1900000109/{no}/pay"
        assert buyer.post(pay, json={}).status_code == 401
        buyer.post(pay, json={}, headers={"Authorization": "Bearer T0KEN"}).raise_for_status()
        order = wait_until(
            lambda: (o := buyer.get(f"{shop}/api/orders/{no}").json())["status"] == "paid" and o, "the notification"
        )
        assert order["paid_by"] == "notification"
    finally:
        stop(process)


def test_shop_runs_against_a_separate_sandbox(buyer):
    sandbox, url = serve()
    shop_port = free_port()
    try:
        shop = start("shop", "--sandbox-url", url, "--shop-port", str(shop_port))
        try:
            no = buy(buyer, f"http://127.0.0.1:{shop_port}", "alipay:qr", "postcard")
            assert requests.get(f"{url}/_sandbox/orders/alipay/{APP}/{no}", timeout=5).json()["amount"] == 1
        finally:
            stop(shop)
    finally:
        stop(sandbox)


def test_shop_warns_when_no_sandbox_answers():
    with socket.socket() as taken:  # bound, never listening: connections to it are refused
        taken.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{taken.getsockname()[1]}"
        shop = start("shop", "--sandbox-url", nobody, "--shop-port", str(free_port()))
        try:
            assert shop.banner[0] == f"warning: no sandbox answers at {nobody} yet: start one, or pass --sandbox-url\n"
        finally:
            stop(shop)
