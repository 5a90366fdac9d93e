"""Light HTTP/1.1 load for bench/notifications.py, from a process of its own: pays to the sandbox, and pre-signed
notifications straight to the receiver (its ceiling alone). Each thread holds one connection (kept alive unless the
server closes it) and notes when it sent each request (time.monotonic, comparable with the receiver's)."""

from __future__ import annotations

import multiprocessing
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APP_ID = "2021000000000001"
SANDBOX_KEY = ROOT / "fixtures" / "alipay" / "sandbox" / "alipay_private_key.pem"  # TEST-ONLY, public on purpose


def pay_request(port: int, gateway: str, merchant_id: str, out_trade_no: str) -> bytes:
    """The control API's pay of one order, as the buyer paying it."""
    body = b"{}"
    return (
        f"POST /_sandbox/orders/{gateway}/{merchant_id}/{out_trade_no}/pay HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def notification_request(port: int, out_trade_no: str, key, connection: str = "close") -> bytes:
    """What the sandbox would send for a paid order, signed with its TEST-ONLY key, on a connection of its own
    (`connection`="keep-alive": on one it keeps)."""
    from sandbox.core import crypto
    from sandbox.core.canonical import sorted_query

    fields = {"notify_type": "trade_status_sync", "app_id": APP_ID, "charset": "utf-8", "version": "1.0",
              "out_trade_no": out_trade_no, "trade_no": "2026" + out_trade_no.rjust(24, "0"), "subject": "bench",
              "trade_status": "TRADE_SUCCESS", "total_amount": "1.00", "notify_id": "2024" + "x" * 30}  # fmt: skip
    fields["sign"] = crypto.sign(key, sorted_query(fields).encode(), "SHA256")
    fields["sign_type"] = "RSA2"
    body = urlencode(fields).encode()
    return (
        f"POST /alipay HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded;"
        f" charset=utf-8\r\nConnection: {connection}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _exchange(sock: socket.socket, request: bytes) -> tuple[int, bool]:
    """Send one request and read its whole answer: (status, whether the connection stays open)."""
    sock.sendall(request)
    data = b""
    while (end := data.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before an answer")
        data += chunk
    head = data[:end].decode("latin-1").lower()
    length = next((int(line[15:]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)
    while len(data) < end + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of an answer")
        data += chunk
    closing = b"\r\nConnection: close\r\n" in request or "connection: close" in head or head.startswith("http/1.0")
    return int(head.split(" ", 2)[1]), not closing


def _send_all(port: int, keys: list[str], requests: list[bytes], connections: int) -> tuple[dict, int]:
    work = iter(zip(keys, requests, strict=True))
    lock = threading.Lock()
    sent: dict[str, float] = {}
    failed = [0]

    def sender() -> None:
        sock = None
        while True:
            with lock:
                item = next(work, None)
            if item is None:
                break
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sent[item[0]] = time.monotonic()
            status, open_ = _exchange(sock, item[1])
            if status != 200:
                failed[0] += 1
            if not open_:
                sock.close()
                sock = None
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=sender) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent, failed[0]


def _process(conn) -> None:
    port, keys, requests, connections = conn.recv()
    conn.send("ready")
    conn.recv()  # go
    conn.send(_send_all(port, keys, requests, connections))


class Load:
    """A sender process, started and ready (its imports done) before `run()` starts the clock."""

    def __init__(self, port: int, requests: list[bytes], keys: list[str], connections: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=_process, args=(theirs,), daemon=True)
        self._process.start()
        self._conn.send((port, keys, requests, connections))
        self._conn.recv()

    def run(self) -> dict[str, float]:
        """Send everything; answers {key: when its request was sent}. Any answer but 200 stops the bench."""
        self._conn.send("go")
        sent, failed = self._conn.recv()
        self._process.join(timeout=10)
        if failed:
            raise SystemExit(f"{failed} of {len(sent)} requests were not answered 200")
        return sent


class Blaster:
    """The receiver's ceiling: pre-signed notifications (a connection each) as fast as `connections` threads go."""

    def __init__(self, receivers, count: int, connections: int = 8) -> None:
        from sandbox.core import crypto

        key = crypto.load_private_key(SANDBOX_KEY.read_text())
        self._receivers = receivers
        self._keys = [f"CEILING-{n}" for n in range(count)]
        requests = [notification_request(receivers.port, k, key) for k in self._keys]
        self._load = Load(receivers.port, requests, self._keys, connections)

    def run(self) -> float:
        sent = self._load.run()
        verified = self._receivers.wait_for(set(self._keys), timeout=60)
        if len(verified) < len(self._keys):
            raise SystemExit("the receiver did not verify every pre-signed notification")
        return len(self._keys) / (max(verified.values()) - min(sent.values()))


def delivery_floor(receivers, count: int) -> float:
    """CPU milliseconds per delivery of the least a notification costs in Python here: signed in this process (the
    sandbox's crypto, OpenSSL) and sent on one kept-alive connection, then parsed and verified by the receiver. No
    pay, no store, no outbox: what the sandbox's deliveries cost at the very least, per message, on both sides."""
    from sandbox.core import crypto

    key = crypto.load_private_key(SANDBOX_KEY.read_text())
    keys = [f"FLOOR-{n}" for n in range(count)]
    before = time.process_time(), sum(receivers.cpu())
    with socket.create_connection(("127.0.0.1", receivers.port)) as sock:
        for out_trade_no in keys:
            status, open_ = _exchange(sock, notification_request(receivers.port, out_trade_no, key, "keep-alive"))
            if status != 200 or not open_:
                raise SystemExit(f"the receiver answered {status} (open: {open_}) to a notification of the floor")
    spent = time.process_time() - before[0] + sum(receivers.cpu()) - before[1]
    if len(receivers.wait_for(set(keys), timeout=60)) < count:
        raise SystemExit("the receiver did not verify every notification of the delivery floor")
    return spent / count * 1000
