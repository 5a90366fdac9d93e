"""A merchant's notify URLs for bench/notifications.py: processes sharing one port, each verifying every signature.

Each process (SO_REUSEPORT spreads the connections) runs one selectors loop: it reads HTTP/1.1 POSTs, keep-alive
or not, and verifies them as the reference merchant clients do, with the sandbox's TEST-ONLY keys from fixtures/:
on /alipay the RSA2 signature (sandbox/alipay_public_key.pem), on /wechatpay the Wechatpay-* headers' SHA256withRSA
signature (the platform public key) and the AES-256-GCM resource (the demo APIv3 key). It answers `success` (or 400
when a message does not verify) and notes when each out_trade_no was verified (time.monotonic: system-wide on Linux,
so comparable with the payer's clock).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import selectors
import socket
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.merchant.alipay import AlipayClient  # noqa: E402
from sandbox.merchant.wechatpay import WechatPayClient  # noqa: E402

FIXTURES = ROOT / "fixtures" / "alipay"
WECHAT = ROOT / "fixtures" / "wechatpay"
APP_ID = "2021000000000001"
SUCCESS = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nsuccess"
REFUSED = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nfail"


def merchant() -> AlipayClient:
    """The demo merchant's client, holding the sandbox's TEST-ONLY public key to verify with."""
    return AlipayClient(
        APP_ID,
        (FIXTURES / "demo" / "app_private_key.pem").read_text(),
        (FIXTURES / "sandbox" / "alipay_public_key.pem").read_text(),
        "http://127.0.0.1/gateway.do",
    )


def wechat_merchant(base_url: str = "http://127.0.0.1") -> WechatPayClient:
    """The demo WeChat Pay merchant's v3 client (public-key mode), with its TEST-ONLY keys."""
    spec = json.loads((WECHAT / "demo" / "merchant.json").read_text())
    platform = json.loads((WECHAT / "sandbox" / "platform.json").read_text())
    return WechatPayClient(
        spec["merchant_id"],
        spec["appid"],
        spec["merchant_serial_no"],
        (WECHAT / "demo" / "merchant_private_key.pem").read_text(),
        spec["apiv3_key"],
        base_url,
        platform_public_key=(WECHAT / "sandbox" / "pub_key.pem").read_text(),
        public_key_id=platform["public_key_id"],
        timeout=30,
    )


def listener(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class _Loop:
    def __init__(self, port: int, control) -> None:
        self.client = merchant()
        self.wechat = wechat_merchant()
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener(port), selectors.EVENT_READ, "listener")
        self.selector.register(control, selectors.EVENT_READ, "control")
        self.control = control
        self.buffers: dict[socket.socket, bytearray] = {}
        self.verified: dict[str, float] = {}
        self.refused = 0

    def run(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.data == "listener":
                    self._accept(key.fileobj)
                elif key.data == "control":
                    if self.control.recv() == "stop":
                        return
                    self.control.send((self.verified, self.refused))  # drained: each arrival is sent once
                    self.verified, self.refused = {}, 0
                else:
                    self._read(key.fileobj)

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except BlockingIOError:
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffers[conn] = bytearray()
            self.selector.register(conn, selectors.EVENT_READ, "connection")

    def _read(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            return
        except ConnectionResetError:
            data = b""
        if not data:
            self._close(conn)
            return
        buffer = self.buffers[conn]
        buffer += data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            headers = dict(
                (name.strip().lower(), value.strip()) for name, _, value in (h.partition(":") for h in lines[1:])
            )
            length = int(headers.get("content-length", 0))
            if len(buffer) < end + 4 + length:
                return
            body = bytes(buffer[end + 4 : end + 4 + length])
            del buffer[: end + 4 + length]
            conn.sendall(self._answer(lines[0], headers, body))  # loopback, a few dozen bytes: never blocks for long
            if headers.get("connection", "").lower() == "close":
                self._close(conn)
                return

    def _answer(self, request_line: str, headers: dict, body: bytes) -> bytes:
        try:
            if " /wechatpay" in request_line:
                out_trade_no = self.wechat.parse_notification(headers, body)["resource"]["out_trade_no"]
            else:
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                out_trade_no = self.client.verify_notification(form)["out_trade_no"]
        except Exception:
            self.refused += 1
            return REFUSED
        self.verified.setdefault(out_trade_no, time.monotonic())
        return SUCCESS

    def _close(self, conn: socket.socket) -> None:
        self.selector.unregister(conn)
        self.buffers.pop(conn, None)
        conn.close()


def _serve(port: int, control) -> None:
    loop = _Loop(port, control)
    control.send("ready")
    loop.run()


class Receivers:
    """`processes` receivers on one loopback port, each in its own process."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        reserved = listener()  # holds the port until the receivers listen on it too, then lets it go
        self.port = reserved.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"  # + /alipay or /wechatpay
        self._pipes, self._processes = [], []
        for _ in range(processes):
            mine, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(self.port, theirs), daemon=True)
            process.start()
            self._pipes.append(mine)
            self._processes.append(process)
        for pipe in self._pipes:
            pipe.recv()
        reserved.close()
        self._verified: dict[str, float] = {}
        self._refused = 0

    def _drain(self) -> None:
        for pipe in self._pipes:
            pipe.send("drain")
        for pipe in self._pipes:
            verified, refused = pipe.recv()
            for key, at in verified.items():
                self._verified.setdefault(key, at)
            self._refused += refused

    def wait_for(self, keys: set[str], timeout: float) -> dict[str, float]:
        """When each of `keys` was verified (those verified within `timeout`); they are forgotten here after."""
        deadline = time.monotonic() + timeout
        while True:
            self._drain()
            if keys <= self._verified.keys() or time.monotonic() > deadline:
                return {key: self._verified.pop(key) for key in keys if key in self._verified}
            time.sleep(0.02)

    def cpu(self) -> list[float]:
        """Each receiver process's CPU seconds so far."""
        return [process_cpu(process.pid) for process in self._processes]

    def refused(self) -> int:
        self._drain()
        return self._refused

    def stop(self) -> None:
        for pipe, process in zip(self._pipes, self._processes, strict=True):
            pipe.send("stop")
            process.join(timeout=10)


def process_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
