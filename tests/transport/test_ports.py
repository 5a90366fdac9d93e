"""The proxy and TLS ports as a hostile or careless client finds them: refusals, bad input, stalls, limits.

Nothing here may reach the internet: a refused target is a loopback port that records connections, and the
assertion is that the proxy never opened one.
"""

from __future__ import annotations

import socket
import ssl

import pytest
import requests

from sandbox.merchant.alipay import AlipayClient
from sandbox.transport import ports
from sandbox.transport.hosts import DIRECT_URL, PROVIDER_HOSTS
from tests.conftest import FIXTURES, wechatpayv3_client
from tests.raw_http import exchange


def status_and_text(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


def tunnel(port: int, host: str) -> socket.socket:
    """A CONNECT to `host:443` through the proxy, answered 200: the socket, ready for TLS."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    assert sock.recv(1024) == b"HTTP/1.1 200 Connection established\r\n\r\n"
    return sock


def trusting(ca_file) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


def get_over(tls: ssl.SSLSocket, host: str, path: str = "/_sandbox/health") -> tuple[int, str]:
    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    answer = b""
    while b'"status"' not in answer:
        answer += tls.recv(65536)
    return status_and_text(answer)


# -- refusals: nothing is forwarded -------------------------------------------------------------------------


def test_connect_to_another_host_is_refused_with_403_and_nothing_connects_out(transport, recorder):
    target = f"127.0.0.1:{recorder.port}"
    answer = exchange(transport.proxy_port, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    status, text = status_and_text(answer)
    assert status == 403
    assert f"127.0.0.1:{recorder.port} is not a payment provider host" in text
    assert all(host in text for host in PROVIDER_HOSTS) and "Nothing is ever forwarded to the internet" in text
    assert recorder.connections() == 0


def test_an_absolute_form_request_to_another_host_is_refused_and_nothing_connects_out(transport, recorder):
    request = f"GET http://127.0.0.1:{recorder.port}/x HTTP/1.1\r\nHost: 127.0.0.1:{recorder.port}\r\n\r\n"
    status, text = status_and_text(exchange(transport.proxy_port, request.encode()))
    assert status == 403 and "not a payment provider host" in text
    assert recorder.connections() == 0


@pytest.mark.parametrize(
    "request_line",
    ["CONNECT www.example.com:443", "CONNECT api.mch.weixin.qq.com:80", "GET http://openapi.alipay.com:8080/x"],
)
def test_other_hosts_and_ports_are_forbidden(transport, request_line):
    status, _ = status_and_text(exchange(transport.proxy_port, f"{request_line} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    assert status == 403


def test_an_absolute_form_request_to_a_provider_host_is_served_with_keep_alive(transport):
    request = b"GET http://openapi.alipay.com/_sandbox/health HTTP/1.1\r\nHost: openapi.alipay.com\r\n\r\n"
    with socket.create_connection(("127.0.0.1", transport.proxy_port), timeout=5) as sock:
        for _ in range(2):
            sock.sendall(request)
            head = sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 200 ") and b'"status":"ok"' in head


# -- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [
        (b"\x16\x03\x01 garbage\r\n\r\n", 400, "Bad Request"),
        (b"CONNECT api.mch.weixin.qq.com HTTP/1.1\r\nHost: x\r\n\r\n", 400, "CONNECT needs host:port"),
        (b"CONNECT api.mch.weixin.qq.com:443 HTTP/1.1\r\n\r\n", 400, "Missing mandatory Host"),
        (b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n", 400, "is not a proxy request"),
        (b"GET http://openapi.alipay.com/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000, 431, "Too Large"),
    ],
    ids=["garbage", "connect-without-port", "connect-without-host", "origin-form", "oversized-headers"],
)
def test_malformed_proxy_requests_get_a_clear_4xx(transport, data, status, says):
    answered, text = status_and_text(exchange(transport.proxy_port, data))
    assert answered == status and says in text and text.startswith("paysandbox")


def test_plain_http_sent_to_the_tls_port_is_told_that_the_port_speaks_https(transport):
    status, text = status_and_text(exchange(transport.tls_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 400 and "this port speaks HTTPS" in text


# -- TLS: untrusted clients, stalled clients ------------------------------------------------------------------


def test_a_client_without_the_ca_fails_its_handshake_and_the_next_client_is_served(transport, transport_log):
    stranger = ssl.create_default_context(cafile=str(FIXTURES / "unionpay/sandbox/root.pem"))
    with tunnel(transport.proxy_port, "api.mch.weixin.qq.com") as sock, pytest.raises(ssl.SSLCertVerificationError):
        stranger.wrap_socket(sock, server_hostname="api.mch.weixin.qq.com")
    [line] = transport_log.wait_for(1)
    assert line.levelname == "WARNING" and line.exc_info is None
    assert "TLS handshake with 127.0.0.1 on the proxy (CONNECT api.mch.weixin.qq.com) failed" in line.getMessage()
    assert "trust the sandbox CA" in line.getMessage()

    sock = tunnel(transport.proxy_port, "api.mch.weixin.qq.com")
    with trusting(transport.ca_file).wrap_socket(sock, server_hostname="api.mch.weixin.qq.com") as tls:
        assert get_over(tls, "api.mch.weixin.qq.com")[0] == 200


@pytest.mark.parametrize("stall", ["before-connect", "inside-the-tunnel", "tls-port"])
def test_a_stalled_client_does_not_hold_up_another(transport, stall):
    if stall == "tls-port":
        stalled = socket.create_connection(("127.0.0.1", transport.tls_port))
    elif stall == "inside-the-tunnel":
        stalled = tunnel(transport.proxy_port, "openapi.alipay.com")  # then never a ClientHello
    else:
        stalled = socket.create_connection(("127.0.0.1", transport.proxy_port))
        stalled.sendall(b"CONNECT openapi.alip")  # half a request line
    with stalled, requests.Session() as session:
        session.trust_env = False
        session.proxies = {"https": transport.proxy_url}
        answer = session.get("https://openapi.alipay.com/_sandbox/health", verify=str(transport.ca_file), timeout=5)
        assert answer.json()["status"] == "ok"


@pytest.fixture
def tight(app, live):
    """Ports with one connection at a time and a 0.2 s idle timeout."""
    running = ports.start(app, "127.0.0.1", 0, 0, max_connections=1, idle_timeout=0.2)
    yield running
    running.stop()


def test_a_silent_client_is_disconnected_after_the_idle_timeout(tight):
    with socket.create_connection(("127.0.0.1", tight.proxy.port), timeout=5) as sock:
        assert sock.recv(1024) == b""  # the server closed it


def test_past_the_connection_limit_a_client_gets_503_at_once(tight):
    with socket.create_connection(("127.0.0.1", tight.tls.port), timeout=5) as holder:
        holder.sendall(b"\x16")  # a handshake begun: the one slot is taken
        status, text = status_and_text(exchange(tight.tls.port, b""))
    assert status == 503 and "too many connections" in text


# -- the app behind the tunnel --------------------------------------------------------------------------------


def test_inside_the_tunnel_the_app_sees_https_and_the_provider_host(transport, alipay_demo, app, monkeypatch):
    # Without the sandbox's own address to hand out, page URLs are built from the request as the app saw it.
    monkeypatch.delitem(app.extensions, DIRECT_URL)
    session = requests.Session()
    session.proxies, session.verify = {"https": transport.proxy_url}, str(transport.ca_file)
    gateway = "https://openapi.alipay.com/gateway.do"
    merchant = AlipayClient(
        alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, gateway, session=session
    )
    # The QR code's URL is built from the request: scheme and host are the ones the client asked for.
    assert merchant.precreate("TUNNEL-1", 990, "tunnel")["qr_code"].startswith("https://openapi.alipay.com/")


def test_a_dropped_connection_scenario_drops_the_tunnel_and_the_next_request_is_served(ssl_env, rule, receiver):
    wx = wechatpayv3_client("https://api.mch.weixin.qq.com", f"{receiver.url}/notify")  # the SDK's own host
    assert wx.pay(description="drop", out_trade_no="TUNNEL-2", amount={"total": 1})[0] == 200
    rule(match={"gateway": "wechatpay", "operation": "query"}, times=1, api={"disconnect": True})
    with pytest.raises(requests.ConnectionError):
        wx.query(out_trade_no="TUNNEL-2")
    assert wx.query(out_trade_no="TUNNEL-2")[0] == 200


def test_a_405_through_the_proxy_keeps_its_allow_header_and_refusals_are_nosniff(transport):
    request = b"DELETE http://openapi.alipay.com/_sandbox/health HTTP/1.1\r\nHost: openapi.alipay.com\r\n\r\n"
    with socket.create_connection(("127.0.0.1", transport.proxy_port), timeout=5) as sock:
        sock.sendall(request)
        head = sock.recv(65536).split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 405 ") and "\r\nallow: get, head, options\r\n" in head
    assert "\r\nx-content-type-options: nosniff" in head
    refused = exchange(transport.proxy_port, b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"\r\nX-Content-Type-Options: nosniff\r\n" in refused.split(b"\r\n\r\n")[0]
