"""The console's merchants page in real headless Chromium, and the keys it hands out driving real SDKs against the
live sandbox: the demo merchants' keys.zip, a merchant registered through the form, a generated key pair."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from alipay import AliPay
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.sync_api import Page, expect
from wechatpayv3 import WeChatPay, WeChatPayType

from sandbox.merchant.unionpay import UnionPayClient
from tests.console.screens import save

pytestmark = pytest.mark.browser

DEMO_IDS = {"alipay": "2021000000000001", "wechatpay": "1900000109", "unionpay": "777290058110097"}


def merchant_card(page: Page, gateway: str, merchant_id: str):
    return page.locator(f'[data-testid="merchant"][data-gateway="{gateway}"][data-merchant-id="{merchant_id}"]')


def download_zip(page: Page, link) -> zipfile.ZipFile:
    with page.expect_download() as started:
        link.click()
    return zipfile.ZipFile(io.BytesIO(started.value.path().read_bytes()))


def read(archive: zipfile.ZipFile, name: str) -> str:
    return archive.read(name).decode()


def alipay_sdk(archive: zipfile.ZipFile, private_key: str | None = None) -> AliPay:
    ids = json.loads(read(archive, "merchant.json"))
    sdk = AliPay(
        appid=ids["app_id"],
        app_private_key_string=private_key or read(archive, "app_private_key.pem"),
        alipay_public_key_string=read(archive, "alipay_public_key.pem"),
    )
    sdk._gateway = ids["gateway_url"]
    return sdk


def wechatpay_sdk(ids: dict, private_key: str, platform_public_key: str, notify_url: str) -> WeChatPay:
    wx = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=ids["mchid"],
        appid=ids["appid"],
        private_key=private_key,
        cert_serial_no=ids["merchant_serial_no"],
        apiv3_key=ids["apiv3_key"],
        notify_url=notify_url,
        public_key=platform_public_key,
        public_key_id=ids["public_key_id"],
        timeout=(5, 10),
    )
    wx._core._gate_way = ids["base_url"]
    return wx


def test_the_page_lists_the_demo_merchants_with_what_a_client_needs(page: Page, console, live):
    page.goto(console("merchants"))
    for gateway, merchant_id in DEMO_IDS.items():
        card = merchant_card(page, gateway, merchant_id)
        expect(card.get_by_test_id("demo-badge")).to_be_visible()
        expect(card.get_by_test_id("snippet")).to_contain_text(merchant_id, use_inner_text=False)
    wechat = merchant_card(page, "wechatpay", DEMO_IDS["wechatpay"])
    expect(wechat.get_by_test_id("id-merchant_serial_no")).to_have_text("444F4864EA9B34415BD1F5E5D01F7B2C1A3E5C7D")
    wechat.get_by_text("Public material (PEM)").click()
    expect(wechat.locator("pre.wire").first).to_contain_text("BEGIN PUBLIC KEY")
    alipay = merchant_card(page, "alipay", DEMO_IDS["alipay"])
    alipay.get_by_text("Connect with python-alipay-sdk").click()
    expect(alipay.get_by_test_id("snippet")).to_contain_text(f'alipay._gateway = "{live.url}/gateway.do"')
    save(page, "merchants")


def test_a_demo_merchant_s_keys_zip_drives_python_alipay_sdk_and_wechatpayv3(page: Page, console, http, receiver):
    page.goto(console("merchants"))
    card = merchant_card(page, "alipay", DEMO_IDS["alipay"])
    archive = download_zip(page, card.get_by_test_id("download-keys"))
    assert "app_private_key.pem" in archive.namelist() and "README.txt" in archive.namelist()
    alipay = alipay_sdk(archive)
    created = alipay.api_alipay_trade_precreate(
        subject="Console keys", out_trade_no="CONSOLE-ZIP-1", total_amount="1.00"
    )
    assert created["code"] == "10000", created
    assert http.get(created["qr_code"]).status_code == 200  # the buyer scans: the trade exists from now
    assert alipay.api_alipay_trade_query(out_trade_no="CONSOLE-ZIP-1")["trade_status"] == "WAIT_BUYER_PAY"

    wechat = download_zip(page, merchant_card(page, "wechatpay", DEMO_IDS["wechatpay"]).get_by_test_id("download-keys"))
    ids = json.loads(read(wechat, "merchant.json"))
    wx = wechatpay_sdk(
        ids, read(wechat, "merchant_private_key.pem"), read(wechat, "platform_public_key.pem"), receiver.url
    )
    code, body = wx.pay(description="Console keys", out_trade_no="CONSOLE-ZIP-2", amount={"total": 100})
    assert code == 200 and "code_url" in json.loads(body), body
    code, body = wx.query(out_trade_no="CONSOLE-ZIP-2")
    assert code == 200 and json.loads(body)["trade_state"] == "NOTPAY", body
    save(page, "merchants-demo-download")


def test_a_merchant_registered_through_the_form_makes_signed_calls(page: Page, console, receiver):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    page.goto(console("merchants"))
    section = page.get_by_test_id("gateway-alipay")
    section.get_by_text("Register a merchant").click()
    form = page.get_by_test_id("register-alipay")
    form.get_by_test_id("field-merchant_id").fill("2021000000000077")
    form.get_by_test_id("field-app_public_key").fill("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----")
    form.get_by_test_id("register").click()

    form = page.get_by_test_id("register-alipay")
    expect(form.get_by_test_id("error-app_public_key")).to_contain_text("app_public_key is not an RSA public key")
    expect(form.get_by_test_id("field-merchant_id")).to_have_value("2021000000000077")
    save(page, "merchants-register-error")
    form.get_by_test_id("field-app_public_key").fill(public_pem)
    form.get_by_test_id("register").click()

    expect(page.get_by_test_id("notice")).to_contain_text("2021000000000077 registered")
    card = merchant_card(page, "alipay", "2021000000000077")
    expect(card.get_by_test_id("demo-badge")).to_have_count(0)
    archive = download_zip(page, card.get_by_test_id("download-keys"))
    assert "app_private_key.pem" not in archive.namelist()
    assert "stays with whoever generated it" in read(archive, "README.txt")
    alipay = alipay_sdk(archive, private_key=private_pem)  # the private half stayed here, with the test
    created = alipay.api_alipay_trade_precreate(subject="Registered", out_trade_no="CONSOLE-REG-1", total_amount="2.00")
    assert created["code"] == "10000", created


def test_a_generated_key_pair_is_registered_and_its_private_key_signs_accepted_calls(page: Page, console, receiver):
    page.goto(console("merchants"))
    page.get_by_test_id("gateway-wechatpay").get_by_text("Generate a key pair for a new one").click()
    page.get_by_test_id("generate-wechatpay").get_by_test_id("generate").click()

    expect(page.get_by_test_id("private-key-warning")).to_contain_text("shown only once")
    private_pem = page.get_by_test_id("private-pem").inner_text()
    assert "BEGIN PRIVATE KEY" in private_pem
    ids = {k: page.get_by_test_id(f"id-{k}").inner_text() for k in ("mchid", "appid", "merchant_serial_no")}
    ids |= {k: page.get_by_test_id(f"id-{k}").inner_text() for k in ("public_key_id", "base_url", "apiv3_key")}
    save(page, "merchants-generated")
    archive = download_zip(page, page.get_by_test_id("download-new-keys"))
    assert read(archive, "merchant_private_key.pem").strip() == private_pem.strip()
    assert json.loads(read(archive, "merchant.json"))["apiv3_key"] == ids["apiv3_key"]

    wx = wechatpay_sdk(ids, private_pem, read(archive, "platform_public_key.pem"), receiver.url)
    code, body = wx.pay(description="Generated", out_trade_no="CONSOLE-GEN-1", amount={"total": 100})
    assert code == 200 and "code_url" in json.loads(body), body

    page.goto(console("merchants"))
    page.get_by_test_id("gateway-unionpay").get_by_text("Generate a key pair for a new one").click()
    page.get_by_test_id("generate-unionpay").get_by_test_id("generate").click()
    private_pem = page.get_by_test_id("private-pem").inner_text()
    mer_id = page.get_by_test_id("new-merchant-id").inner_text()
    archive = download_zip(page, page.get_by_test_id("download-new-keys"))
    bank = UnionPayClient.from_pem(
        mer_id,
        private_pem,
        read(archive, "merchant_cert.pem"),
        base_url=json.loads(read(archive, "merchant.json"))["base_url"],
        root_cert=read(archive, "root.pem"),
        middle_cert=read(archive, "middle.pem"),
    )
    answer = bank.app_consume("CONSOLEGEN0001", 1000, back_url=f"{receiver.url}/unionpay/back")
    assert answer["respCode"] == "00" and answer["tn"], answer
    page.goto(console("merchants"))
    expect(merchant_card(page, "unionpay", mer_id)).to_be_visible()
