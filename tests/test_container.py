"""The Dockerfile's own install, start and health commands, run on this machine (no Docker engine needed)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from sandbox.merchant.alipay import AlipayClient

REPO = Path(__file__).resolve().parent.parent
APP = "2021000000000001"
BUYER = "2088000000000009"


@dataclass
class Dockerfile:
    """The instructions this test needs, read from the file as `docker build` would."""

    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    copies: list[tuple[list[str], str]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    user: str = "root"
    volumes: list[str] = field(default_factory=list)
    exposed: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        parsed, logical = cls(), ""
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.endswith("\\"):
                logical += line[:-1] + " "
                continue
            keyword, _, rest = (logical + line).partition(" ")
            logical = ""
            parsed._apply(keyword.upper(), rest.strip())
        return parsed

    def _apply(self, keyword: str, rest: str) -> None:
        if keyword == "FROM":
            self.base = rest
        elif keyword == "ENV":
            self.env.update(item.split("=", 1) for item in shlex.split(rest))
        elif keyword == "WORKDIR":
            self.workdir = rest
        elif keyword == "COPY":
            *sources, target = rest.split()
            self.copies.append((sources, target))
        elif keyword == "RUN":
            self.runs.append(rest)
        elif keyword == "USER":
            self.user = rest
        elif keyword == "VOLUME":
            self.volumes += json.loads(rest)
        elif keyword == "EXPOSE":
            self.exposed += rest.split()
        elif keyword == "HEALTHCHECK":
            self.healthcheck = shlex.split(rest.split(" CMD ", 1)[1])
        elif keyword == "CMD":
            self.cmd = json.loads(rest)  # the exec form: gunicorn is PID 1 and gets docker stop's SIGTERM

    def run_line(self, command: str) -> str:
        [line] = [run for run in self.runs if run.startswith(command)]
        return line


DOCKERFILE = Dockerfile.read(REPO / "Dockerfile")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Image:
    """The image's file system under a temporary root: WORKDIR's copies, a virtualenv, the install done."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workdir = self.path(DOCKERFILE.workdir)
        for sources, target in DOCKERFILE.copies:
            for source in sources:
                destination = self.workdir / target / (Path(source).name if target.endswith("/") else "")
                if (REPO / source).is_dir():
                    shutil.copytree(REPO / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(REPO / source, destination)
        # The image's python, seeing the packages this test runs with: a virtualenv whose site-packages has a
        # .pth naming ours (--system-site-packages would see the system's, not this virtualenv's).
        self.venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(self.venv)], check=True, timeout=60)
        python = self.venv / "bin" / "python"
        purelib = subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
        ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        Path(purelib, "_image_test_parent.pth").write_text("\n".join(sorted(ours)) + "\n")
        (root / "home").mkdir()

    def path(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def environment(self, **overrides: str) -> dict[str, str]:
        """The container's environment: the Dockerfile's ENV (its paths under our root) and `overrides`."""
        env = {
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.defpath}",
            "HOME": str(self.root / "home"),
            "no_proxy": "127.0.0.1,localhost",
        }
        for name, value in {**DOCKERFILE.env, **overrides}.items():
            env[name] = str(self.path(value)) if value.startswith("/") else value
        return env

    def install(self) -> subprocess.CompletedProcess:
        argv = shlex.split(DOCKERFILE.run_line("pip install"))
        # Tests must not download: the dependencies (gunicorn included) are the ones this test runs with, seen
        # through the .pth, so no index and no deps; no build isolation, which would fetch setuptools.
        argv += ["--no-index", "--no-deps", "--no-build-isolation"]
        return subprocess.run(
            self.command(argv),
            cwd=self.workdir,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def command(self, argv: list[str]) -> list[str]:
        """`argv` with its program found on the image's PATH, as the container's shell would."""
        if argv[0] == "pip":  # the .pth lends the virtualenv pip as a module, not as a script
            return [str(self.venv / "bin" / "python"), "-m", "pip", *argv[1:]]
        found = shutil.which(argv[0], path=self.environment()["PATH"])
        assert found, f"{argv[0]} is not on the image's PATH"
        return [found, *argv[1:]]

    def start(self, **env: str) -> Container:
        return Container(self, free_port(), env)


class ServerProcess:
    """A server the Dockerfile's CMD runs, on a loopback port (`process`, `url`, `http`, `log()`): waiting for its
    health, and stopping it as `docker stop` does. `name` says which in a failure."""

    name = "the server"
    process: subprocess.Popen
    url: str
    http: requests.Session

    def log(self) -> str:
        raise NotImplementedError

    def wait_healthy(self, within: float = 30.0):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} exited ({self.process.returncode}):\n{self.log()}"
            try:
                if self.http.get(f"{self.url}/_sandbox/health", timeout=2).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # the master listens before a worker is up
                pass
            time.sleep(0.05)  # polling for readiness, not waiting out a timer
        raise AssertionError(f"no healthy answer within {within}s:\n{self.log()}")

    def stop(self) -> int:
        """`docker stop`: SIGTERM, and the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.name} ignored SIGTERM:\n{self.log()}") from None
        finally:
            self.http.close()


class Container(ServerProcess):
    """The Dockerfile's CMD running in the image, on a free loopback port."""

    def __init__(self, image: Image, port: int, env: dict[str, str]) -> None:
        self.image = image
        self.url = f"http://127.0.0.1:{port}"
        self.env = image.environment(**{"SANDBOX_HOST": "127.0.0.1", "SANDBOX_PORT": str(port), **env})
        self.log_path = image.root / f"container-{port}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                image.command(DOCKERFILE.cmd), cwd=image.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.http = requests.Session()
        self.http.trust_env = False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthcheck(self) -> subprocess.CompletedProcess:
        """The Dockerfile's HEALTHCHECK command, as the engine runs it inside the container."""
        argv = self.image.command(DOCKERFILE.healthcheck)
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=10)


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Image:
    pytest.importorskip("gunicorn", reason="the container's server: pip install gunicorn (the `server` extra)")
    built = Image(tmp_path_factory.mktemp("image"))
    result = built.install()
    assert result.returncode == 0, result.stdout + result.stderr
    return built


@pytest.fixture
def running(image):
    started: list[Container] = []

    def start(**env: str) -> Container:
        container = image.start(**env)
        started.append(container)
        container.wait_healthy()
        return container

    yield start
    for container in started:
        if container.process.poll() is None:
            container.process.kill()
            container.process.wait()


def merchant(container: Container, alipay_demo) -> AlipayClient:
    return AlipayClient(
        APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{container.url}/gateway.do", timeout=10
    )


def test_the_dockerfile_describes_a_non_root_gunicorn_image_with_a_data_volume():
    assert DOCKERFILE.base == "python:3.11-slim"
    assert DOCKERFILE.user not in ("root", "0")
    assert f"--uid 10001 {DOCKERFILE.user}" in DOCKERFILE.run_line("useradd")
    assert DOCKERFILE.volumes == ["/data"]
    assert DOCKERFILE.exposed == [DOCKERFILE.env["SANDBOX_PORT"], "8080", "8443"] == ["8008", "8080", "8443"]
    assert DOCKERFILE.env["SANDBOX_HOST"] == "0.0.0.0"
    assert "/_sandbox/health" in DOCKERFILE.healthcheck[-1]
    assert DOCKERFILE.cmd[:3] == ["python", "-m", "gunicorn"]
    assert "python:sandbox.gunicorn_conf" in DOCKERFILE.cmd
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".pytest_cache", "tests"} <= set(ignored)


def test_the_server_extra_installs_gunicorn():
    # The image installs .[server]: without the extra, pip only warns and the CMD finds no gunicorn.
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(requirement.startswith("gunicorn") for requirement in extras.get("server", []))


def test_a_payment_end_to_end_under_gunicorn_then_a_clean_stop(running, receiver, alipay_demo):
    container = running()
    assert container.healthcheck().returncode == 0
    shop = merchant(container, alipay_demo)
    shop.create("DOCKER-1", 100, "container", BUYER, notify_url=f"{receiver.url}/notify")
    paid = container.http.post(f"{container.url}/_sandbox/orders/alipay/{APP}/DOCKER-1/pay", json={}, timeout=10)
    assert paid.json()["status"] == "paid"
    # The dispatcher thread runs in the worker: the notification arrives without a flush.
    [notification] = receiver.wait_for(1, timeout=10)
    assert shop.verify_notification(notification.form)["trade_status"] == "TRADE_SUCCESS"
    assert shop.query("DOCKER-1")["trade_status"] == "TRADE_SUCCESS"

    assert container.stop() == 0
    assert container.healthcheck().returncode != 0
    log = container.log()
    assert "Traceback" not in log and "Worker exiting" in log, log


def test_api_disconnect_drops_the_connection_under_gunicorn(running, alipay_demo):
    container = running()
    shop = merchant(container, alipay_demo)
    shop.create("DOCKER-2", 100, "container", BUYER)
    rule = {"match": {"gateway": "alipay", "operation": "query"}, "times": 1, "api": {"disconnect": True}}
    assert container.http.post(f"{container.url}/_sandbox/scenarios", json=rule, timeout=10).status_code == 201

    with pytest.raises(requests.ConnectionError):
        shop.query("DOCKER-2")
    assert shop.query("DOCKER-2")["trade_status"] == "WAIT_BUYER_PAY"  # the rule was spent once
    assert container.stop() == 0
    log = container.log()
    assert "Traceback" not in log and "Socket error" not in log, log


def test_gunicorn_refuses_a_chunked_body_over_the_limit_natively_and_keeps_serving(running, alipay_demo):
    container = running(SANDBOX_NOTIFY_ALLOW="shop.internal,10.0.0.0/8")
    pieces = (b"x" * 65536 for _ in range(48))  # 3 MiB, chunked: gunicorn dechunks, the sandbox stops at 1 MiB
    answer = container.http.post(f"{container.url}/gateway.do", data=pieces, timeout=30)
    assert answer.status_code == 200 and '"sub_code":"isv.invalid-content-length"' in answer.text, answer.text
    assert merchant(container, alipay_demo).create("DOCKER-BIG", 100, "container", BUYER)["code"] == "10000"
    assert container.stop() == 0
    assert "Traceback" not in container.log()


def test_state_in_the_data_volume_survives_a_restart(image, running, receiver, alipay_demo):
    receiver.reply("busy")  # the notification stays pending, so its schedule must survive too
    data = f"{DOCKERFILE.volumes[0]}/paysandbox.json"
    stored = image.path(data)
    container = running(SANDBOX_DATA=data)
    shop = merchant(container, alipay_demo)
    shop.create("DOCKER-3", 100, "container", BUYER, notify_url=f"{receiver.url}/notify")
    container.http.post(f"{container.url}/_sandbox/orders/alipay/{APP}/DOCKER-3/pay", json={}, timeout=10)
    receiver.wait_for(1, timeout=10)
    assert container.stop() == 0
    # The worker's exit wrote the store file whole: the background flush only ever appends to the journal.
    assert stored.exists() and not Path(f"{stored}.journal").exists()
    assert "DOCKER-3" in stored.read_text()

    container = running(SANDBOX_DATA=data)
    assert merchant(container, alipay_demo).query("DOCKER-3")["trade_status"] == "TRADE_SUCCESS"
    [record] = container.http.get(f"{container.url}/_sandbox/notifications", timeout=10).json()["notifications"]
    assert record["status"] == "pending" and record["next_attempt_at"]
    assert record["attempts"][0]["response_body"] == "busy"
    assert container.stop() == 0


def test_the_container_keeps_its_state_in_a_postgresql_database(running, receiver, alipay_demo, postgres_url):
    receiver.reply("busy")
    container = running(SANDBOX_DATA=postgres_url)
    shop = merchant(container, alipay_demo)
    shop.create("DOCKER-PG", 100, "container", BUYER, notify_url=f"{receiver.url}/notify")
    container.http.post(f"{container.url}/_sandbox/orders/alipay/{APP}/DOCKER-PG/pay", json={}, timeout=10)
    receiver.wait_for(1, timeout=10)
    assert container.stop() == 0
    assert postgres_url.split("@")[0].rsplit(":", 1)[1] not in container.log()  # the password

    container = running(SANDBOX_DATA=postgres_url)
    assert merchant(container, alipay_demo).query("DOCKER-PG")["trade_status"] == "TRADE_SUCCESS"
    [record] = container.http.get(f"{container.url}/_sandbox/notifications", timeout=10).json()["notifications"]
    assert record["status"] == "pending" and record["attempts"][0]["response_body"] == "busy"
    assert container.stop() == 0
    assert "Traceback" not in container.log()


def test_the_worker_runs_the_proxy_and_tls_ports_when_their_variables_are_set(running, tmp_path):
    proxy, tls = free_port(), free_port()
    container = running(SANDBOX_PROXY_PORT=str(proxy), SANDBOX_TLS_PORT=str(tls))
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(container.http.get(f"{container.url}/_sandbox/ca.pem", timeout=10).text)
    with requests.Session() as client:
        client.trust_env, client.verify = False, str(ca_file)
        client.proxies = {"https": f"http://127.0.0.1:{proxy}"}
        assert client.get("https://api.mch.weixin.qq.com/_sandbox/health", timeout=10).json()["status"] == "ok"
        client.proxies = {}
        assert client.get(f"https://localhost:{tls}/_sandbox/health", timeout=10).json()["status"] == "ok"
    assert container.stop() == 0
    log = container.log()
    assert f"HTTPS proxy      http://127.0.0.1:{proxy}" in log
    assert "Traceback" not in log and "Worker exiting" in log, log


def test_the_container_warns_that_its_control_api_is_open_and_sandbox_token_closes_it(image, running):
    open_to_all = running(SANDBOX_HOST="0.0.0.0")
    assert open_to_all.http.get(f"{open_to_all.url}/_sandbox/orders", timeout=10).status_code == 200
    assert open_to_all.stop() == 0
    assert "WARNING: the sandbox listens on 0.0.0.0:" in open_to_all.log()

    secret_file = "/run/secrets/paysandbox_token"  # where Docker mounts a secret
    image.path(secret_file).parent.mkdir(parents=True, exist_ok=True)
    image.path(secret_file).write_text("container-token\n")
    for secret in ({"SANDBOX_TOKEN": "container-token"}, {"SANDBOX_TOKEN_FILE": secret_file}):
        guarded = running(SANDBOX_HOST="0.0.0.0", **secret)
        assert guarded.healthcheck().returncode == 0  # HEALTHCHECK needs no token
        assert guarded.http.get(f"{guarded.url}/_sandbox/orders", timeout=10).status_code == 401
        bearer = {"Authorization": "Bearer container-token"}
        assert guarded.http.get(f"{guarded.url}/_sandbox/orders", headers=bearer, timeout=10).status_code == 200
        assert guarded.stop() == 0
        assert "WARNING" not in guarded.log() and "Traceback" not in guarded.log()


def test_an_unreadable_token_file_stops_the_container_with_one_clear_line(image):
    container = image.start(SANDBOX_TOKEN_FILE="/run/secrets/missing")
    assert container.process.wait(timeout=30) != 0
    assert "cannot read the token file" in container.log() and "Traceback" not in container.log()
