"""examples/php, run as its header says: a PHP shop on Guzzle, configured with the options a wechatpay-php user
gives Builder::factory, on both routes: `base_uri` at the sandbox, and WeChat Pay's own URL through the proxy."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.examples.native_paid import assert_native_paid
from tests.tools import require_tool

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "php"
PACKAGES = "php-cli php-curl php-guzzlehttp-guzzle"
GUZZLE = Path("/usr/share/php/GuzzleHttp/autoload.php")  # where Debian's php-guzzlehttp-guzzle puts its autoloader


def run_example(**env: str) -> list[str]:
    php = require_tool("php", PACKAGES)
    if not GUZZLE.is_file():
        pytest.fail(f"{GUZZLE} is missing: apt-get install {PACKAGES} (scripts/test.sh installs it)", pytrace=False)
    drop = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "SANDBOX_TOKEN", "PAYSANDBOX_CA", "WECHATPAY_BASE_URI"}
    clean = {k: v for k, v in os.environ.items() if k.upper() not in drop and k != "PAYSANDBOX_FIXTURES"}
    done = subprocess.run(
        [php, "wechatpay_native.php"], cwd=EXAMPLE, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_guzzle_with_base_uri_at_the_sandbox(live, http):
    assert_native_paid(run_example(SANDBOX_URL=live.url, WECHATPAY_BASE_URI=f"{live.url}/"), live, http)


def test_guzzle_on_wechat_pays_own_url_through_the_proxy(live, sandbox_proxy, http):
    lines = run_example(
        SANDBOX_URL=live.url,
        WECHATPAY_BASE_URI="https://api.mch.weixin.qq.com/",
        HTTPS_PROXY=sandbox_proxy.url,  # Guzzle reads it itself
        PAYSANDBOX_CA=str(sandbox_proxy.ca_file),
    )
    assert_native_paid(lines, live, http)
