"""The TLS and proxy ports serve the same app, so a body over SANDBOX_MAX_BODY is refused there too, natively."""

from __future__ import annotations

import socket
import ssl

LIMIT = 1024 * 1024


def test_the_tls_port_refuses_a_chunked_body_over_the_limit_with_the_native_error(transport):
    context = ssl.create_default_context(cafile=str(transport.ca_file))
    head = (
        "POST /gateway.do HTTP/1.1\r\nHost: openapi.alipay.com\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    piece = b"x" * 65536
    raw = socket.create_connection(("127.0.0.1", transport.tls_port), timeout=10)
    with context.wrap_socket(raw, server_hostname="openapi.alipay.com") as sock:
        sock.sendall(head.encode())
        for _ in range(3 * LIMIT // len(piece)):
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        sock.sendall(b"0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    text = answer.decode()
    assert text.startswith("HTTP/1.1 200")
    assert '"sub_code":"isv.invalid-content-length"' in text and "SANDBOX_MAX_BODY" in text
