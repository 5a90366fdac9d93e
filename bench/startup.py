"""Start-up time: from spawning the server process to its first 200 from /_sandbox/health.

Starts `python -m sandbox serve` (werkzeug) and, when gunicorn is installed, the Dockerfile's CMD (gunicorn with
sandbox.gunicorn_conf) --runs times each on a free loopback port, polls the health URL every millisecond, then
stops each with SIGTERM and times that too. The target: median start under 1 s. This is a script, not a test:

    python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 1000.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dockerfile_cmd() -> list[str]:
    """The Dockerfile's CMD (exec form), run with this interpreter."""
    line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ["))
    argv = json.loads(line[4:])
    return [sys.executable, *argv[1:]] if argv[0] == "python" else argv


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/_sandbox/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def one_start(argv: list[str], env: dict[str, str], port: int) -> tuple[float, float]:
    """Milliseconds from spawn to healthy, and from SIGTERM to exit."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not healthy(port):
            if process.poll() is not None:
                raise SystemExit(f"{' '.join(argv)} exited ({process.returncode}):\n{process.stderr.read().decode()}")
            if time.perf_counter() - started > 30:
                raise SystemExit(f"{' '.join(argv)}: not healthy within 30 s")
            time.sleep(0.001)
        up = (time.perf_counter() - started) * 1000
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        if process.wait(timeout=30) != 0:
            raise SystemExit(f"{' '.join(argv)} exited {process.returncode} on SIGTERM")
        return up, (time.perf_counter() - stopping) * 1000
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def measure(name: str, command, runs: int) -> bool:
    ups, downs = [], []
    for _ in range(runs + 1):  # the first run warms the page cache and writes bytecode: not counted
        port = free_port()
        env = {**os.environ, "SANDBOX_HOST": "127.0.0.1", "SANDBOX_PORT": str(port), "SANDBOX_LOG_LEVEL": "WARNING"}
        up, down = one_start(command(port), env, port)
        ups.append(up)
        downs.append(down)
    ups, downs = ups[1:], downs[1:]
    print(
        f"{name:<10} {min(ups):>8.0f} {statistics.median(ups):>8.0f} {max(ups):>8.0f}"
        f" {statistics.median(downs):>12.0f} {max(downs):>10.0f}"
    )
    return statistics.median(ups) < TARGET_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed starts per server")
    args = parser.parse_args()
    servers = {"serve": lambda port: [sys.executable, "-m", "sandbox", "serve", "--port", str(port)]}
    if importlib.util.find_spec("gunicorn"):
        servers["gunicorn"] = lambda port: dockerfile_cmd()
    else:
        print("gunicorn is not installed: only `serve` is measured (pip install gunicorn)")
    print(f"{args.runs} starts each, ms: spawn to first 200 from /_sandbox/health; SIGTERM to exit")
    print(f"{'server':<10} {'min':>8} {'median':>8} {'max':>8} {'stop median':>12} {'stop max':>10}")
    passed = all([measure(name, command, args.runs) for name, command in servers.items()])
    print(f"target: median start under {TARGET_MS:.0f} ms: {'PASS' if passed else 'FAIL'}")
    if not passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
