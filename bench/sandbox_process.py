"""For the limit benchmarks: the sandbox in a process of its own (serve or gunicorn), its memory, and a merchant app.

The memory figures are the server process's own, from /proc/<pid>/status: VmRSS now, and VmHWM, its peak, which
`reset_peak` sets back to the current size (writing 5 to /proc/<pid>/clear_refs), so a peak belongs to one step.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.core import crypto  # noqa: E402
from sandbox.merchant.alipay import AlipayClient  # noqa: E402

# The TEST-ONLY demo app and sandbox keys from fixtures/ (public on purpose; never for real money).
FIXTURES = ROOT / "fixtures" / "alipay"
APP_ID = "2021000000000001"
MIB = 1024 * 1024
FORM = "application/x-www-form-urlencoded; charset=utf-8"
SUCCESS = b'"code":"10000"'


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int], reaped: bool = False) -> float:
    """utime + stime of these processes from /proc (with `reaped`, their reaped children's too); 0 for one gone."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11 : 15 if reaped else 13])
    return total / TICKS


def crypto_floor_ms(samples: int = 300) -> float:
    """CPU milliseconds of one RSA-2048 PKCS#1 v1.5 SHA-256 sign plus one verify, with the sandbox's own key and
    library (sandbox.core.crypto): what a signed call costs the server at least (it verifies, then signs)."""
    private = crypto.load_private_key((FIXTURES / "sandbox" / "alipay_private_key.pem").read_text())
    public = crypto.load_public_key((FIXTURES / "sandbox" / "alipay_public_key.pem").read_text())
    message = b"x" * 400
    signature = crypto.sign(private, message)
    started = time.process_time()
    for _ in range(samples):
        crypto.sign(private, message)
        crypto.verify(public, message, signature)
    return (time.process_time() - started) / samples * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def servers(with_gunicorn: bool = True) -> dict[str, list[str]]:
    """`paysandbox serve` and, when installed (and asked for), the Dockerfile's gunicorn CMD."""
    found = {"serve": [sys.executable, "-m", "sandbox", "serve"]}
    if with_gunicorn and importlib.util.find_spec("gunicorn") is not None:
        line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ["))
        found["gunicorn"] = [sys.executable, *json.loads(line[4:])[1:]]
    return found


class Server:
    """One sandbox process on a free loopback port, its output in a temporary file (an unread pipe would stall it)."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, bind: bool = False) -> None:
        """`bind`: a plain gunicorn command (not the sandbox's config, which reads SANDBOX_PORT), told its port with
        --bind."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop)
        settings = {"SANDBOX_PORT": str(self.port), "SANDBOX_HOST": "127.0.0.1", "SANDBOX_LOG_LEVEL": "WARNING"}
        extra = ["--port", str(self.port)] if argv[-1] == "serve" else []
        extra += ["--bind", f"127.0.0.1:{self.port}"] if bind else []
        self.process = subprocess.Popen(
            [*argv, *extra], cwd=ROOT, env={**os.environ, **settings, **(env or {})}, stdout=self._log, stderr=self._log
        )
        try:
            self._wait_listening(argv)
        except BaseException:  # not left running behind the benchmark that gave up on it
            self.process.kill()
            self.process.wait()
            raise
        self.pid = self._worker_pid()

    def _wait_listening(self, argv: list[str]) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{' '.join(argv)} exited ({self.process.returncode}):\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    time.sleep(0.2)  # gunicorn's master listens before its worker has loaded the app
                    return
            except OSError:
                time.sleep(0.02)
        raise SystemExit(f"{' '.join(argv)} did not listen on {self.port} within 30 s")

    def _worker_pid(self) -> int:
        """The process that serves: gunicorn's one worker (a child of its master), or `serve` itself."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        return int(pids[0]) if pids else self.process.pid

    def memory(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) of the serving process, in bytes."""
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024

    def reset_peak(self) -> bool:
        """Make the peak (VmHWM) the current size; False where the kernel does not allow it."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def alipay_client(base_url: str) -> AlipayClient:
    """The demo app as a merchant, signing with its TEST-ONLY key."""
    return AlipayClient(
        APP_ID,
        (FIXTURES / "demo" / "app_private_key.pem").read_text(),
        (FIXTURES / "sandbox" / "alipay_public_key.pem").read_text(),
        f"{base_url}/gateway.do",
    )


def mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB"


def kill(server: Server) -> None:
    """SIGKILL the serving process (a crash: no flush, no clean stop), and its gunicorn master if any."""
    os.kill(server.pid, signal.SIGKILL)
    if server.process.pid != server.pid:
        server.process.kill()
    server.process.wait()
    server._log.close()


def precreate_body(merchant: AlipayClient, out_trade_no: str, notify_url: str = "") -> bytes:
    """A signed gateway.do precreate of a new 1-yuan order, form-encoded (sign before the clock starts)."""
    biz = {"out_trade_no": out_trade_no, "total_amount": "1.00", "subject": "bench"}
    extra = {"notify_url": notify_url} if notify_url else {}
    return urlencode(merchant.signed_params("alipay.trade.precreate", biz, **extra)).encode()


def post(url: str, path: str, body: bytes, content_type: str = FORM, timeout: float = 30) -> tuple[int, bytes]:
    """One POST on a new connection of its own; raises OSError when the server is gone."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", path, body, {"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def get_json(url: str, path: str) -> dict:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()
