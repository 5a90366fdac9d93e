"""`paysandbox serve` and `paysandbox keys` as a user runs them: real processes, real signals."""

import json
import os
import signal
import socket
import subprocess
import sys

import pytest
import requests

from sandbox.core import crypto
from sandbox.merchant.alipay import AlipayClient

APP = "2021000000000001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(*args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "SANDBOX_LOG_LEVEL": "WARNING"},
    )
    banner = process.stdout.readline()  # printed once the socket listens
    assert "serving on" in banner, banner + process.stdout.read()
    return process, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_serve_answers_health_and_stops_cleanly_on_sigterm():
    process, url = serve()
    try:
        assert requests.get(f"{url}/_sandbox/health", timeout=5).json()["status"] == "ok"
    finally:
        stop(process)


def test_serve_with_data_keeps_orders_and_pending_notifications_across_a_restart(tmp_path, receiver, alipay_demo):
    data = str(tmp_path / "paysandbox.json")
    receiver.reply("busy")
    process, url = serve("--data", data, "--clock", "manual")
    try:
        merchant = AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{url}/gateway.do")
        merchant.create("CLI-1", 100, "x", "2088000000000009", notify_url=receiver.url + "/notify")
        requests.post(f"{url}/_sandbox/orders/alipay/{APP}/CLI-1/pay", json={}, timeout=5)
        requests.post(f"{url}/_sandbox/notifications/flush", timeout=5)
        receiver.wait_for(1)
    finally:
        stop(process)
    receiver.reply("success")
    process, url = serve("--data", data, "--clock", "manual")
    try:
        assert requests.get(f"{url}/_sandbox/orders/alipay/{APP}/CLI-1", timeout=5).json()["status"] == "paid"
        requests.post(f"{url}/_sandbox/clock/advance", json={"seconds": 240}, timeout=5)
        [record] = requests.get(f"{url}/_sandbox/notifications", timeout=5).json()["notifications"]
        assert record["status"] == "delivered"
        assert len(receiver.wait_for(2)) == 2
    finally:
        stop(process)


def test_serve_reports_a_port_in_use_instead_of_a_traceback():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "sandbox", "serve", "--port", str(port)], capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 1
    assert "in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_prints_what_an_sdk_needs(alipay_demo):
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "keys", "--json", "--url", "http://sbx:9000"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    alipay, wechatpay, unionpay = json.loads(result.stdout)["merchants"]
    assert (unionpay["merId"], unionpay["pkcs12_password"]) == ("777290058110097", "000000")
    assert wechatpay["mchid"] == "1900000109"
    assert wechatpay["merchant_private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert wechatpay["public_key_id"].startswith("PUB_KEY_ID_")
    assert alipay["app_id"] == APP
    assert alipay["gateway_url"] == "http://sbx:9000/gateway.do"
    assert alipay["app_private_key"] == alipay_demo.app_private_key
    assert alipay["alipay_public_key"] == alipay_demo.alipay_public_key
    assert alipay["openapi_v3_endpoint"] == "http://sbx:9000"
    java_key = crypto.load_private_key(alipay["app_private_key_pkcs8_base64"])  # bare base64 DER, as Java reads it
    assert java_key == crypto.load_private_key(alipay_demo.app_private_key)
    assert crypto.load_public_key(alipay["alipay_public_key_base64"]) == crypto.load_public_key(
        alipay_demo.alipay_public_key
    )
    human = subprocess.run([sys.executable, "-m", "sandbox", "keys"], capture_output=True, text=True, timeout=30)
    assert "TEST-ONLY" in human.stdout and "BEGIN RSA PRIVATE KEY" in human.stdout


@pytest.mark.parametrize("variable", ["SANDBOX_PORT=abc", "SANDBOX_NOTIFY_TIMEOUT=soon"])
def test_an_invalid_environment_variable_is_reported(variable):
    name, value = variable.split("=")
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "keys"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, name: value},
    )
    assert result.returncode == 2
    assert "SANDBOX_" in result.stderr and "Traceback" not in result.stderr


SCENARIOS_YAML = """\
# Loaded with `paysandbox serve --scenarios` or `paysandbox scenarios load`.
scenarios:
  - name: the first query fails
    match: {gateway: alipay, operation: query}
    times: 1
    api: {error: ACQ.SYSTEM_ERROR}
  - name: notifications arrive twice
    notify: {duplicate: 1}
"""


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, timeout=30)


def test_serve_loads_a_yaml_scenarios_file_at_start(tmp_path):
    path = tmp_path / "qa.yaml"
    path.write_text(SCENARIOS_YAML)
    process, url = serve("--scenarios", str(path))
    try:
        rules = requests.get(f"{url}/_sandbox/scenarios", timeout=5).json()["scenarios"]
        assert [r["name"] for r in rules] == ["the first query fails", "notifications arrive twice"]
        assert {r["source"] for r in rules} == {"file:qa.yaml"}
    finally:
        stop(process)


def test_serve_refuses_a_notify_allow_list_it_cannot_understand():
    result = cli("serve", "--port", str(free_port()), "--notify-allow", "localhost, 2130706433")
    assert result.returncode == 2
    assert "'2130706433' is not a host name, host:port or CIDR range" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_scenarios_file_it_cannot_understand(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"notify": {"dorp": 1}}]')
    result = cli("serve", "--port", str(free_port()), "--scenarios", str(path))
    assert result.returncode == 2
    assert "scenarios[0].notify.dorp" in result.stderr or "notify.dorp" in result.stderr
    assert "Traceback" not in result.stderr


def test_scenarios_load_list_and_clear_against_a_running_sandbox(tmp_path):
    path = tmp_path / "qa.yml"
    path.write_text(SCENARIOS_YAML)
    process, url = serve()
    try:
        loaded = cli("scenarios", "load", str(path), "--url", url)
        assert loaded.returncode == 0, loaded.stderr
        assert "loaded 2 rule(s)" in loaded.stdout
        listed = cli("scenarios", "list", "--url", url)
        assert "the first query fails" in listed.stdout and "operation=query" in listed.stdout
        as_json = json.loads(cli("scenarios", "list", "--url", url, "--json").stdout)
        assert len(as_json["scenarios"]) == 2
        assert cli("scenarios", "load", str(path), "--url", url, "--replace").returncode == 0
        assert len(requests.get(f"{url}/_sandbox/scenarios", timeout=5).json()["scenarios"]) == 2
        cleared = cli("scenarios", "clear", "--url", url)
        assert "deleted 2 rule(s)" in cleared.stdout
        assert "no scenario rules" in cli("scenarios", "list", "--url", url).stdout
    finally:
        stop(process)


def test_scenarios_commands_say_clearly_when_no_sandbox_answers():
    result = cli("scenarios", "list", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "no sandbox answers at" in result.stderr and "Traceback" not in result.stderr


def test_scenarios_load_reports_a_rule_the_server_refuses(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"api": {"status": 418}}]')
    process, url = serve()
    try:
        result = cli("scenarios", "load", str(path), "--url", url)
        assert result.returncode == 1
        assert "api.status" in result.stderr
    finally:
        stop(process)


def test_serve_with_proxy_and_tls_ports_announces_them_and_keeps_its_ca_across_a_restart(tmp_path):
    data, ca_file = str(tmp_path / "state.json"), tmp_path / "ca.pem"
    proxy, tls = free_port(), free_port()
    options = ("--data", data, "--proxy-port", str(proxy), "--tls-port", str(tls))
    process, url = serve(*options)
    try:
        banner = "".join(process.stdout.readline() for _ in range(11))  # after the first line, which serve() read
        assert f"HTTPS proxy      http://127.0.0.1:{proxy}" in banner
        assert f"TLS port         https://127.0.0.1:{tls}" in banner
        assert f"export HTTPS_PROXY=http://127.0.0.1:{proxy} NO_PROXY=127.0.0.1,localhost" in banner
        assert f'export REQUESTS_CA_BUNDLE="$(paysandbox ca --path --url {url})"' in banner
        ca_file.write_text(requests.get(f"{url}/_sandbox/ca.pem", timeout=5).text)
        with requests.Session() as client:
            client.trust_env, client.verify = False, str(ca_file)
            client.proxies = {"https": f"http://127.0.0.1:{proxy}"}
            assert client.get("https://openapi.alipay.com/_sandbox/health", timeout=5).json()["status"] == "ok"
            client.proxies = {}
            assert client.get(f"https://localhost:{tls}/_sandbox/health", timeout=5).json()["status"] == "ok"
    finally:
        stop(process)
    process, url = serve(*options)
    try:
        assert requests.get(f"{url}/_sandbox/ca.pem", timeout=5).text == ca_file.read_text()
    finally:
        stop(process)


def test_serve_reports_a_proxy_port_in_use_instead_of_a_traceback():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = str(sock.getsockname()[1])
        result = cli("serve", "--port", str(free_port()), "--proxy-port", busy)
    assert result.returncode == 1
    assert f"--proxy-port {busy}" in result.stderr and "in use" in result.stderr
    assert "Traceback" not in result.stderr
