"""examples/go, run as its header says: a Go shop on the standard library alone, through the sandbox's HTTPS proxy
with HTTPS_PROXY and SSL_CERT_FILE, the route wechatpay-go takes (its client is on http.DefaultTransport)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.examples.native_paid import assert_native_paid
from tests.tools import require_tool

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "go"


def test_wechatpay_native_in_go_orders_is_paid_verifies_the_notification_and_queries(
    live, sandbox_proxy, tmp_path, http
):
    go = require_tool("go", "golang-go")
    drop = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "SSL_CERT_DIR", "SANDBOX_TOKEN"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in drop and k != "PAYSANDBOX_FIXTURES"}
    env |= {
        "HTTPS_PROXY": sandbox_proxy.url,
        "SSL_CERT_FILE": str(sandbox_proxy.ca_file),  # the sandbox CA as the only trust
        "SANDBOX_URL": live.url,
        "GOCACHE": str(tmp_path / "go-build"),  # CI's HOME may have none; the example needs no module download
        "GOPROXY": "off",
    }
    done = subprocess.run([go, "run", "."], cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_native_paid(done.stdout.splitlines(), live, http)
