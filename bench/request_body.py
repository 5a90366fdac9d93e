"""Server memory while a client sends a huge chunked body: it must stay flat, and the answer be the gateway's own.

Starts the sandbox in its own process (`python -m sandbox serve`, and the Dockerfile's gunicorn CMD when gunicorn is
installed). This process is the client: over a raw socket it sends a chunked body of --size bytes (no
Content-Length, so only reading can tell its size) to gateway.do, to WeChat Pay v3 and to the control API, while
another thread reads the answer. For each, the server's peak resident memory above where it started (VmHWM after
the peak is reset to VmRSS, /proc/<pid>/status), the answer, and how long it took. Goal: peak growth under 64 MiB
and each gateway's own refusal (SANDBOX_MAX_BODY is 1 MiB). A script, not a test (tests/test_bench.py runs it with
--quick so it cannot rot):

    python bench/request_body.py [--size 300] [--quick]
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from dataclasses import dataclass

from sandbox_process import MIB, Server, mib, servers

GOAL = 64 * MIB
PIECE = b"x" * (64 * 1024)
TARGETS = {  # name -> path, content type, the status and words of the gateway's own refusal
    "gateway.do": ("/gateway.do", "application/x-www-form-urlencoded", 200, b"isv.invalid-content-length"),
    "wechatpay v3": ("/v3/pay/transactions/native", "application/json", 400, b"INVALID_REQUEST"),
    "control API": ("/_sandbox/scenarios", "application/json", 413, b"REQUEST_ENTITY_TOO_LARGE"),
}


@dataclass
class Sent:
    status: int
    body: bytes
    seconds: float
    sent: int


def send_chunked(port: int, path: str, content_type: str, total: int) -> Sent:
    """POST `total` bytes in 64 KiB chunks, all of them (as `requests` would), reading the answer meanwhile."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    sent = [0]

    def send() -> None:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        frame = b"%x\r\n%s\r\n" % (len(PIECE), PIECE)
        try:
            sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
            while sent[0] < total:
                sock.sendall(frame)
                sent[0] += len(PIECE)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed: it has answered and read all it meant to

    started = time.monotonic()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    status, body = read_answer(sock)
    seconds = time.monotonic() - started
    sender.join(timeout=120)  # the server reads and drops what follows its answer, so the whole body goes
    sock.close()
    return Sent(status, body, seconds, sent[0])


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next((int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length and (chunk := sock.recv(65536)):
        body += chunk
    return int(lines[0].split()[1]), body


def measure(server: Server, name: str, total: int) -> tuple[bool, str]:
    path, content_type, status, words = TARGETS[name]
    rss, peak = server.memory()
    start = rss if server.reset_peak() else peak
    sent = send_chunked(server.port, path, content_type, total)
    time.sleep(0.2)
    growth = server.memory()[1] - start
    native = sent.status == status and words in sent.body
    ok = native and growth < GOAL
    answer = f"{sent.status} {words.decode()}" if native else f"{sent.status} {sent.body[:60]!r}"
    figures = f"{sent.seconds:>6.2f} s {mib(sent.sent):>11} {mib(growth):>11}"
    return ok, f"{name:<14} {answer:<38} {figures}  {'ok' if ok else 'FAIL'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=300, help="MiB the client sends to each target (default 300)")
    parser.add_argument("--quick", action="store_true", help="16 MiB, `serve` only (what tests/test_bench.py runs)")
    args = parser.parse_args()
    total = (16 if args.quick else args.size) * MIB
    print(f"a chunked body of {mib(total)} to each; goal: peak RSS growth under {mib(GOAL)}, the native refusal")
    print(f"{'target':<14} {'answer':<38} {'answered':>8} {'client sent':>11} {'peak growth':>11}")
    all_ok = True
    for kind, argv in servers(with_gunicorn=not args.quick).items():
        server = Server(argv)
        try:
            print(f"-- {kind} (pid {server.pid}, {mib(server.memory()[0])} resident at start)")
            for name in TARGETS:
                ok, row = measure(server, name, total)
                all_ok &= ok
                print(row, flush=True)
        finally:
            server.stop()
    print("PASS" if all_ok else "FAIL")
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
