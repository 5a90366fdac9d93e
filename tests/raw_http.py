"""Raw bytes over a plain TCP connection, for the tests of what the HTTP servers themselves answer."""

from __future__ import annotations

import socket


def exchange(port: int, data: bytes, host: str = "127.0.0.1") -> bytes:
    """Send raw bytes to a port, answer what comes back until the server closes."""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
