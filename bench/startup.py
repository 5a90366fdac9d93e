"""Cold start: from spawning the server process to its first 200 from /_sandbox/health, for `paysandbox serve` and
the container's command (the Dockerfile's CMD: gunicorn with sandbox.gunicorn_conf).

Each round starts each server once on a free loopback port (interleaved, so a neighbour's load falls on both alike),
polls the health URL every millisecond (with bytecode cached, as pip installs it, even if
PYTHONDONTWRITEBYTECODE is set here), then times the first signed `alipay.trade.precreate` (what a lazily
imported module or key costs the first request) and SIGTERM to exit. Prints min/median/max against the 0.3 s target.

    python bench/startup.py [--rounds 10]
    python bench/startup.py --quick       # smoke run (2 rounds)
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

from sandbox_process import FORM, ROOT, SUCCESS, alipay_client, free_port, precreate_body, servers

TARGET_MS = 300.0
FIGURES = ("start", "start cpu", "first precreate", "stop")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_ms(pid: int) -> float:
    """utime + stime of the process and its living children (gunicorn's worker), from /proc; 0 where there is none.
    Steadier than wall time on a shared machine: a neighbour's load delays a start more than it adds to its CPU."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *(int(child) for child in children.read_text().split())] if children.exists() else [pid]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total * 1000 / TICKS


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/_sandbox/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def first_precreate(port: int, body: bytes) -> float:
    """Milliseconds for one signed precreate on a new connection; SystemExit unless it succeeded."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/gateway.do", body, {"Content-Type": FORM})
        answer = connection.getresponse().read()
    finally:
        connection.close()
    if SUCCESS not in answer:
        raise SystemExit(f"the first precreate failed: {answer[:300]!r}")
    return (time.perf_counter() - started) * 1000


def one_start(argv: list[str], body: bytes) -> dict[str, float]:
    """Milliseconds from spawn to healthy, for the first precreate, and from SIGTERM to exit."""
    port = free_port()
    env = {**os.environ, "SANDBOX_HOST": "127.0.0.1", "SANDBOX_PORT": str(port), "SANDBOX_LOG_LEVEL": "WARNING"}
    # As installed (pip compiles the package) or run from a checkout: bytecode cached, not compiled at every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    extra = ["--port", str(port)] if argv[-1] == "serve" else []
    started = time.perf_counter()
    process = subprocess.Popen([*argv, *extra], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not healthy(port):
            if process.poll() is not None:
                raise SystemExit(f"{' '.join(argv)} exited ({process.returncode}):\n{process.stderr.read().decode()}")
            if time.perf_counter() - started > 30:
                raise SystemExit(f"{' '.join(argv)}: not healthy within 30 s")
            time.sleep(0.001)
        up = (time.perf_counter() - started) * 1000
        up_cpu = cpu_ms(process.pid)
        first = first_precreate(port, body)
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        if process.wait(timeout=30) != 0:
            raise SystemExit(f"{' '.join(argv)} exited {process.returncode} on SIGTERM")
        down = (time.perf_counter() - stopping) * 1000
        return {"start": up, "start cpu": up_cpu, "first precreate": first, "stop": down}
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed starts of each server (default 10)")
    parser.add_argument("--quick", action="store_true", help="2 rounds: a smoke run")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    commands = servers()
    if "gunicorn" not in commands:
        print("gunicorn is not installed: only `serve` is measured (pip install gunicorn)")
    merchant = alipay_client("http://unused")
    figures: dict[str, dict[str, list[float]]] = {name: {figure: [] for figure in FIGURES} for name in commands}
    for round_number in range(rounds + 1):  # round 0 warms the page cache and writes bytecode: not counted
        for name, argv in commands.items():
            measured = one_start(argv, precreate_body(merchant, f"START-{name}-{round_number}"))
            if round_number:
                for figure, value in measured.items():
                    figures[name][figure].append(value)
    print(f"{rounds} interleaved starts of each server, ms (min / median / max):")
    headings = ("spawn to healthy", "its CPU time", "first precreate", "SIGTERM to exit")
    print(f"{'server':<10} " + " ".join(f"{heading:>20}" for heading in headings))
    verdicts = []
    for name, by_figure in figures.items():
        cells = [" / ".join(f"{f(by_figure[figure]):.0f}" for f in (min, statistics.median, max)) for figure in FIGURES]
        print(f"{name:<10} " + " ".join(f"{cell:>20}" for cell in cells))
        verdicts.append(statistics.median(by_figure["start"]) <= TARGET_MS)
    print(f"target: median spawn to healthy at most {TARGET_MS:.0f} ms: {'PASS' if all(verdicts) else 'FAIL'}")


if __name__ == "__main__":
    main()
