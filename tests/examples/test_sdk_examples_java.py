"""examples/java, run as its header says: a Java shop on the JDK alone, through the sandbox's HTTPS proxy."""

from __future__ import annotations

import os
from pathlib import Path

from tests.examples.native_paid import assert_native_paid
from tests.tools import java_proxy_options, run_java

ROOT = Path(__file__).resolve().parents[2]


def test_wechatpay_native_on_the_jdk_orders_is_paid_verifies_the_notification_and_queries(
    live, sandbox_proxy, tmp_path, http
):
    env = {k: v for k, v in os.environ.items() if k not in {"SANDBOX_TOKEN", "PAYSANDBOX_FIXTURES"}}
    lines = run_java(
        ROOT / "examples/java/WechatPayNative.java",
        options=java_proxy_options(sandbox_proxy.port, sandbox_proxy.ca_file, tmp_path),
        cwd=ROOT,
        env={**env, "SANDBOX_URL": live.url},
    )
    assert_native_paid(lines, live, http)
