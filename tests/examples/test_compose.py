"""examples/compose: its wiring, read from the compose file, and its topology run on this machine (no Docker engine
here): the test PostgreSQL, two gunicorn replicas started with the Dockerfile's CMD and the compose environment, and
nginx with the example's nginx.conf, its upstream hosts rewritten to the replicas' loopback ports. A merchant's
whole flow goes through nginx's one port and reaches both replicas."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from sandbox.merchant.alipay import AlipayClient
from tests.gunicorn_process import PROCESS, Gunicorn, free_port
from tests.test_container import DOCKERFILE

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "compose"
COMPOSE = yaml.safe_load((EXAMPLE / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
REPLICAS = ["sandbox-1", "sandbox-2"]
NGINX = "/usr/sbin/nginx"
APP, BUYER = "2021000000000001", "2088000000000009"
VARIABLE = re.compile(r"\$\{(\w+)(?::?[?-]([^}]*))?\}")


def interpolated(value: str, environ: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}: a missing required variable stops, as compose does."""

    def substitute(match: re.Match) -> str:
        name, rest = match.group(1), match.group(2)
        if environ.get(name):
            return environ[name]
        assert ":?" not in match.group(0), f"compose would stop: {rest}"
        return rest or ""

    return VARIABLE.sub(substitute, value)


def test_both_replicas_are_the_repositorys_image_with_one_database_and_one_token():
    first, second = (SERVICES[name] for name in REPLICAS)
    assert first == second  # one definition (a YAML anchor): nothing can drift between them
    assert (EXAMPLE / first["build"]).resolve() == REPO and (REPO / "Dockerfile").exists()
    environment = first["environment"]
    assert environment["SANDBOX_DATA"].startswith("postgresql://") and "@postgres:5432/" in environment["SANDBOX_DATA"]
    assert environment["SANDBOX_TOKEN"].startswith("${SANDBOX_TOKEN:?")  # required: never a default token
    with pytest.raises(AssertionError, match="compose would stop"):
        interpolated(environment["SANDBOX_TOKEN"], {})
    assert first["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" not in first and DOCKERFILE.healthcheck  # the image's HEALTHCHECK applies to each


def test_the_database_keeps_its_data_in_a_volume_and_says_when_it_is_ready():
    postgres = SERVICES["postgres"]
    user, password, database = (postgres["environment"][f"POSTGRES_{key}"] for key in ("USER", "PASSWORD", "DB"))
    assert SERVICES["sandbox-1"]["environment"]["SANDBOX_DATA"] == (
        f"postgresql://{user}:{password}@postgres:5432/{database}"
    )
    [volume] = postgres["volumes"]
    name, path = volume.split(":")
    assert name in COMPOSE["volumes"] and path == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "ports" not in postgres  # reachable inside the compose network only


def test_the_proxy_publishes_one_port_and_balances_over_both_replicas():
    proxy = SERVICES["proxy"]
    assert proxy["ports"] == ["8008:8008"]
    assert [volume.split(":")[0] for volume in proxy["volumes"]] == ["./nginx.conf"]
    assert {name: dependency["condition"] for name, dependency in proxy["depends_on"].items()} == {
        name: "service_healthy" for name in REPLICAS
    }
    assert "/_sandbox/health" in " ".join(proxy["healthcheck"]["test"])
    config = (EXAMPLE / "nginx.conf").read_text()
    [(name, block)] = re.findall(r"upstream (\w+) \{(.*?)\}", config, re.DOTALL)
    assert f"proxy_pass http://{name};" in config
    upstreams = re.findall(r"^\s*server\s+(\S+)", block, re.MULTILINE)
    assert [server.split(":")[0] for server in upstreams] == REPLICAS
    assert all(server.split(":")[1] == DOCKERFILE.env["SANDBOX_PORT"] for server in upstreams)
    assert "listen 8008;" in config
    assert "ports" not in SERVICES["sandbox-1"]  # every call goes through the proxy


class Nginx:
    """The example's nginx.conf with the replicas' loopback ports, run in the foreground under a temporary prefix."""

    def __init__(self, prefix: Path, upstreams: dict[str, int]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = (EXAMPLE / "nginx.conf").read_text()
        for host, port in upstreams.items():
            config = config.replace(f"server {host}:8008", f"server 127.0.0.1:{port}")
        config = config.replace("listen 8008;", f"listen 127.0.0.1:{self.port};")
        # Files nginx would keep under its installed paths go under the prefix (it need not run as root).
        temporary = "".join(f"    {kind}_temp_path {prefix}/{kind};\n" for kind in ("client_body", "proxy"))
        temporary += "".join(f"    {kind}_temp_path {prefix}/{kind};\n" for kind in ("fastcgi", "uwsgi", "scgi"))
        config = config.replace("http {\n", f"http {{\n{temporary}    access_log off;\n", 1)
        (prefix / "logs").mkdir(parents=True)
        (prefix / "nginx.conf").write_text(config)
        self.log = prefix / "nginx.log"
        directives = f"daemon off; pid {prefix}/nginx.pid; error_log {self.log} notice;"
        with (prefix / "stdout.log").open("wb") as out:
            self.process = subprocess.Popen(
                [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", directives],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_listening(self, within: float = 20.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text() if self.log.exists() else "nginx exited"
            try:
                if requests.get(f"{self.url}/_sandbox/health", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)  # polling for readiness
        raise AssertionError(f"nginx did not answer within {within}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def topology(postgres_url, tmp_path):
    """The compose file's replicas (its environment, the test database) and proxy, on this machine."""
    if not os.path.exists(NGINX):
        pytest.fail(f"nginx is not installed ({NGINX}): apt-get install nginx-light, or run scripts/test.sh")
    token = "compose-test-token"
    environment = {
        name: interpolated(str(value), {"SANDBOX_TOKEN": token})
        for name, value in SERVICES["sandbox-1"]["environment"].items()
    }
    environment["SANDBOX_DATA"] = postgres_url  # the compose network's `postgres` is the test server here
    replicas = [Gunicorn(environment) for _ in REPLICAS]
    proxy = None
    try:
        for replica in replicas:
            replica.wait_healthy()
        proxy = Nginx(
            tmp_path / "nginx", {name: replica.port for name, replica in zip(REPLICAS, replicas, strict=True)}
        )
        proxy.wait_listening()
        yield proxy, replicas, token
    finally:
        if proxy is not None:
            proxy.stop()
        for replica in replicas:
            replica.close()


def test_a_merchant_flow_through_the_proxy_reaches_both_replicas(topology, alipay_demo):
    proxy, replicas, token = topology
    for replica in replicas:  # the image's HEALTHCHECK, as the engine runs it in each replica
        check = subprocess.run(
            [sys.executable, *DOCKERFILE.healthcheck[1:]],
            env={**os.environ, "SANDBOX_PORT": str(replica.port), "no_proxy": "*"},
            capture_output=True,
            timeout=10,
        )
        assert check.returncode == 0, check.stderr
    session = requests.Session()
    session.trust_env = False
    answered: list[str] = []
    session.hooks["response"].append(lambda response, *args, **kwargs: answered.append(response.headers[PROCESS]))
    shop = AlipayClient(
        APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{proxy.url}/gateway.do", session=session
    )
    control = {"Authorization": f"Bearer {token}"}

    created = shop.create("COMPOSE-1", 100, "two replicas", BUYER)
    assert shop.query("COMPOSE-1")["trade_no"] == created["trade_no"]
    assert session.post(f"{proxy.url}/_sandbox/orders/alipay/{APP}/COMPOSE-1/pay", json={}).status_code == 401
    paid = session.post(f"{proxy.url}/_sandbox/orders/alipay/{APP}/COMPOSE-1/pay", json={}, headers=control)
    assert paid.json()["status"] == "paid"
    assert shop.query("COMPOSE-1")["trade_status"] == "TRADE_SUCCESS"
    assert shop.refund("COMPOSE-1", 40, "R-1")["fund_change"] == "Y"
    assert shop.refund("COMPOSE-1", 60, "R-2")["refund_fee"] == "1.00"
    order = session.get(f"{proxy.url}/_sandbox/orders/alipay/{APP}/COMPOSE-1", headers=control).json()
    assert order["status"] == "refunded" and order["refunded_amount"] == 100

    workers = {f"{socket.gethostname()}/{pid}" for replica in replicas for pid in replica.workers()}
    assert set(answered) == workers and len(workers) == 2, answered  # each replica answered part of the flow
    for replica in replicas:
        assert replica.stop() == 0
        assert "Traceback" not in replica.log() and "WARNING" not in replica.log(), replica.log()
