"""examples/java, run as its header says: a Java shop on the JDK alone, through the sandbox's HTTPS proxy."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.examples.native_paid import assert_native_paid
from tests.tools import JDK, require_tool

ROOT = Path(__file__).resolve().parents[2]


def truststore(ca_file: Path, folder: Path) -> Path:
    """`keytool -importcert` of the sandbox CA, as the example's header makes it."""
    store = folder / "paysandbox.p12"
    command = [require_tool("keytool", JDK), "-importcert", "-noprompt", "-alias", "paysandbox", "-file", str(ca_file)]
    command += ["-keystore", str(store), "-storetype", "PKCS12", "-storepass", "changeit"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return store


def test_wechatpay_native_on_the_jdk_orders_is_paid_verifies_the_notification_and_queries(
    live, sandbox_proxy, tmp_path, http
):
    require_tool("javac", JDK)  # launching a source file needs the compiler module, which only a JDK has
    command = [
        require_tool("java", JDK),
        "-Dhttps.proxyHost=127.0.0.1",
        f"-Dhttps.proxyPort={sandbox_proxy.port}",
        f"-Djavax.net.ssl.trustStore={truststore(sandbox_proxy.ca_file, tmp_path)}",
        "-Djavax.net.ssl.trustStorePassword=changeit",
        "-Djdk.net.hosts.file=/dev/null",  # no provider name resolves: only the proxy can reach the host
        "examples/java/WechatPayNative.java",
    ]
    env = {k: v for k, v in os.environ.items() if k not in {"SANDBOX_TOKEN", "PAYSANDBOX_FIXTURES"}}
    done = subprocess.run(
        command, cwd=ROOT, env={**env, "SANDBOX_URL": live.url}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert_native_paid(done.stdout.splitlines(), live, http)
