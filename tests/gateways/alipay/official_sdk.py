"""What it takes to run the official alipay-sdk-python (`alipay.aop.api`) unmodified against the sandbox.

Only the base URL changes. Because the SDK's `WebUtils.get_http_connection` ignores the port of
`server_url` (it always dials 80 or 443, docs/protocols/alipay.md#sdk-quirks), tests replace that one function with
`patch_port_handling(monkeypatch)`. Everything else here is merchant-side code a real shop writes:
key formatting, reading the page_execute form, and verifying a notification.
"""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.constant.ParamConstants import P_BIZ_CONTENT, P_METHOD, P_VERSION
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.util import SignatureUtils, WebUtils


def get_http_connection(url: str, query_string: str, timeout: float):
    """WebUtils.get_http_connection, keeping the port: (path?query to request, an unopened connection)."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    return f"{parts.path or '/'}?{query_string}", connection


def patch_port_handling(monkeypatch) -> None:
    # DefaultAlipayClient calls do_post, which looks get_http_connection up in WebUtils' own globals:
    # replacing it there is enough (DefaultAlipayClient's star-import copy is never called directly).
    monkeypatch.setattr(WebUtils, "get_http_connection", get_http_connection)


def pem_body(pem: str) -> str:
    """The base64 body of a PEM key: how the official SDK's docs ask for the app private key (PKCS#1)."""
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def make_client(
    server_url: str, app_id: str, app_private_key: str, alipay_public_key: str, sign_type: str = "RSA2"
) -> DefaultAlipayClient:
    config = AlipayClientConfig()
    config.server_url = server_url
    config.app_id = app_id
    config.app_private_key = pem_body(app_private_key)
    config.alipay_public_key = pem_body(alipay_public_key)
    config.sign_type = sign_type
    return DefaultAlipayClient(alipay_client_config=config)


def read_form(page: str) -> tuple[str, dict[str, str]]:
    """The action URL and hidden fields of page_execute's auto-submitting form.

    Read with regular expressions, not html.parser: the SDK writes the action URL with raw `&`
    (e.g. `&notify_url=`, `&timestamp=`), which html.unescape would turn into entities (`&not` -> `¬`).
    The SDK escapes only `"` in values, so that is all that is undone.
    """
    action = re.search(r'<form [^>]*action="([^"]*)"', page)
    assert action, f"no form action in {page[:300]!r}"
    fields = {
        name: value.replace("&quot;", '"')
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    }
    return action[1], fields


def notification_content(form: dict[str, str]) -> str:
    """What Alipay signed in a notification: every field but sign and sign_type, sorted, raw values."""
    return "&".join(f"{k}={v}" for k, v in sorted(form.items()) if k not in ("sign", "sign_type"))


def verify_notification(form: dict[str, str], alipay_public_key: str) -> bool:
    """The check the official SDK's users write by hand (the SDK has no notify helper)."""
    content = notification_content(form).encode("utf-8")
    return SignatureUtils.verify_with_rsa(pem_body(alipay_public_key), content, form["sign"])


class AnyMethodRequest:
    """A request for a method the SDK has no class for: the shape DefaultAlipayClient expects of a request."""

    need_encrypt = False
    notify_url = None
    return_url = None

    def __init__(self, method: str, biz_content: str = "{}") -> None:
        self.method = method
        self.biz_content = biz_content

    def get_params(self) -> dict[str, str]:
        return {P_METHOD: self.method, P_VERSION: "1.0", P_BIZ_CONTENT: self.biz_content}

    def get_multipart_params(self) -> dict:
        return {}
