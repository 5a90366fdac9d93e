"""curl through the proxy (--proxy, --cacert), and at the TLS port by name (--resolve) as a compose alias would."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import FIXTURES
from tests.tools import require_tool


def curl(*args: str) -> subprocess.CompletedProcess:
    executable = require_tool("curl", "curl")
    # -q: no ~/.curlrc; the proxy and the CA come from the arguments only.
    command = [executable, "-q", "--silent", "--show-error", "--noproxy", "", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("host", ["api.mch.weixin.qq.com", "openapi.alipay.com", "gateway.test.95516.com"])
def test_curl_through_the_proxy_reaches_the_sandbox_by_the_provider_host(transport, host):
    result = curl("--proxy", transport.proxy_url, "--cacert", str(transport.ca_file), f"https://{host}/_sandbox/health")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "ok"


def test_curl_through_the_proxy_calls_a_gateway_which_answers_in_its_own_format(transport):
    unsigned = curl(
        "--proxy",
        transport.proxy_url,
        "--cacert",
        str(transport.ca_file),
        "-w",
        "\n%{http_code}",
        "https://api.mch.weixin.qq.com/v3/pay/transactions/out-trade-no/X?mchid=1900000109",
    )
    body, status = unsigned.stdout.rsplit("\n", 1)
    assert status == "401" and json.loads(body)["code"] == "SIGN_ERROR", unsigned.stdout


def test_curl_resolve_to_the_tls_port_as_a_compose_network_alias_would(transport):
    port = transport.tls_port
    result = curl(
        "--cacert",
        str(transport.ca_file),
        "--resolve",
        f"api.mch.weixin.qq.com:{port}:127.0.0.1",
        "--resolve",
        f"gateway.95516.com:{port}:127.0.0.1",
        "-w",
        "%{num_connects}\n",
        f"https://api.mch.weixin.qq.com:{port}/_sandbox/health",
        f"https://api.mch.weixin.qq.com:{port}/_sandbox/health",
        f"https://gateway.95516.com:{port}/_sandbox/health",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()  # each answer's body (one JSON line), then its count of new connections
    assert [json.loads(body)["status"] for body in lines[0::2]] == ["ok", "ok", "ok"]
    assert lines[1::2] == ["1", "0", "1"]  # keep-alive: the second request to a host reused the first connection


def test_curl_without_the_ca_refuses_the_tls_port(transport):
    result = curl(
        "--cacert",
        str(FIXTURES / "unionpay/sandbox/root.pem"),  # some other CA
        "--resolve",
        f"openapi.alipay.com:{transport.tls_port}:127.0.0.1",
        f"https://openapi.alipay.com:{transport.tls_port}/_sandbox/health",
    )
    assert result.returncode == 60, result.stderr  # CURLE_PEER_FAILED_VERIFICATION
