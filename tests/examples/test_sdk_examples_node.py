"""examples/node, run as a user runs them against a real sandbox: each is a shop's whole payment with a real SDK.

alipay.js reaches the sandbox by its base URL; wechatpay.js, whose SDK has a constant host, through the sandbox's
HTTPS proxy with global-agent and NODE_EXTRA_CA_CERTS, exactly as its header says.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.examples.native_paid import assert_native_paid
from tests.nodejs import require_node

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "node"


def environment(sandbox_url: str, **extra: str) -> dict[str, str]:
    """This environment less the machine's own proxy and CA settings, plus the sandbox's address and `extra`."""
    drop = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "NODE_EXTRA_CA_CERTS", "GLOBAL_AGENT_HTTP_PROXY", "SANDBOX_TOKEN"}
    env = {name: value for name, value in os.environ.items() if name.upper() not in drop}
    return {**env, "SANDBOX_URL": sandbox_url, **extra}


def run_example(command: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run(command, cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_alipay_example_precreates_is_paid_verifies_the_notification_and_queries(live, http):
    precreate, notification, query = run_example([require_node(EXAMPLES), "alipay.js"], environment(live.url))
    assert precreate.startswith(f"precreate 200: qr_code {live.url}/cashier/alipay/qr/")
    out_trade_no = notification.split()[2]
    assert notification == f"notification verified: {out_trade_no} TRADE_SUCCESS 9.90"
    assert query == "query 200: TRADE_SUCCESS"
    order = http.get(f"{live.url}/_sandbox/orders/alipay/2021000000000001/{out_trade_no}", timeout=5).json()
    assert order["status"] == "paid"


def test_wechatpay_example_through_the_proxy_verifies_and_decrypts_the_notification(live, sandbox_proxy, http):
    proxy = {"GLOBAL_AGENT_HTTP_PROXY": sandbox_proxy.url, "NODE_EXTRA_CA_CERTS": str(sandbox_proxy.ca_file)}
    env = environment(live.url, **proxy)
    lines = run_example([require_node(EXAMPLES), "-r", "global-agent/bootstrap", "wechatpay.js"], env)
    assert_native_paid(lines, live, http)
