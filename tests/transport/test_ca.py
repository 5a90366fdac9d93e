"""The sandbox CA: served, made on first use, kept by a data store, name-constrained, and fetched by `paysandbox ca`."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography import x509

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.core.store import TinyStore
from sandbox.transport.ca import COLLECTION, KEY, SandboxCA, issue
from sandbox.transport.hosts import PROVIDER_HOSTS


def pem_of(app) -> str:
    return app.test_client().get("/_sandbox/ca.pem").get_data(as_text=True)


def test_ca_pem_is_a_name_constrained_test_only_root(client):
    answer = client.get("/_sandbox/ca.pem")
    assert answer.status_code == 200 and answer.mimetype == "application/x-pem-file"
    certificate = x509.load_pem_x509_certificate(answer.data)
    assert "TEST-ONLY" in certificate.subject.rfc4514_string()
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    constraints = certificate.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    permitted = {name.value for name in constraints.value.permitted_subtrees}
    assert permitted == {
        *PROVIDER_HOSTS,
        "localhost",
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    }


def test_the_ca_is_made_on_first_use_and_then_stays_the_same(app, sandbox):
    assert sandbox.store.get(COLLECTION, KEY) is None  # start-up made no keys
    first = pem_of(app)
    assert sandbox.store.get(COLLECTION, KEY) is not None
    sandbox.reset(merchants=True)
    assert pem_of(app) == first


def test_a_data_store_keeps_its_ca_across_a_restart_and_another_store_has_its_own(tmp_path):
    def ca_of(data: str | None) -> str:
        app = create_app(Config(data_path=data))
        try:
            return pem_of(app)
        finally:
            app.extensions["paysandbox"].stop()

    data = str(tmp_path / "state.json")
    assert ca_of(data) == ca_of(data)
    assert ca_of(None) != ca_of(None)  # in memory: one CA per process (per app)


def test_the_server_certificate_names_every_provider_host_and_loopback():
    ca = SandboxCA(_memory_store())
    leaf = x509.load_pem_x509_certificate(ca.server_certificate().certificate_pem)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {*PROVIDER_HOSTS, "localhost"}
    assert {str(a) for a in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}


def handshake(ca: SandboxCA, certificate_pem: bytes, key_pem: bytes, host: str, tmp_path) -> None:
    """A TLS handshake over a socket pair: a server with this certificate, a client trusting only the CA."""
    chain = tmp_path / "chain.pem"
    chain.write_bytes(certificate_pem + key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(chain)
    client_context = ssl.create_default_context(cadata=ca.certificate_pem().decode())
    server_side, client_side = socket.socketpair()

    def serve() -> None:
        try:
            with server_context.wrap_socket(server_side, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with client_context.wrap_socket(client_side, server_hostname=host):
            pass
    finally:
        client_side.close()
        thread.join(timeout=5)


def test_python_ssl_trusts_the_server_certificate_for_a_provider_host(tmp_path):
    ca = SandboxCA(_memory_store())
    issued = ca.server_certificate()
    handshake(ca, issued.certificate_pem, issued.private_key_pem, "api.mch.weixin.qq.com", tmp_path)


@pytest.mark.parametrize("host", ["www.example.com", "api.mch.weixin.qq.com.evil.example"])
def test_a_certificate_for_any_other_host_signed_by_the_ca_is_rejected_by_python_ssl(tmp_path, host):
    ca = SandboxCA(_memory_store())
    # What a thief holding the CA's private key could make: the NameConstraints make clients refuse it.
    forged = issue(ca.certificate, ca._load()[1], (host,))
    with pytest.raises(ssl.SSLCertVerificationError, match="permitted subtree violation"):
        handshake(ca, forged.certificate_pem, forged.private_key_pem, host, tmp_path)


def _memory_store() -> TinyStore:
    return TinyStore()


# -- paysandbox ca ---------------------------------------------------------------------------------------------


def cli(*args: str, cache: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": cache}
    return subprocess.run([sys.executable, "-m", "sandbox", "ca", *args], capture_output=True, text=True, env=env)


def test_paysandbox_ca_prints_the_certificate_and_path_keeps_it_in_a_stable_file(live, app, tmp_path):
    printed = cli("--url", live.url, cache=str(tmp_path))
    assert printed.returncode == 0 and printed.stdout == pem_of(app)
    first = cli("--url", live.url, "--path", cache=str(tmp_path))
    assert first.returncode == 0, first.stderr
    path = first.stdout.strip()
    assert path.startswith(f"{tmp_path}/paysandbox/ca-") and Path(path).read_text() == pem_of(app)
    assert cli("--path", "--url", live.url, cache=str(tmp_path)).stdout.strip() == path


def test_paysandbox_ca_says_clearly_when_no_sandbox_answers(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        result = cli("--url", f"http://127.0.0.1:{sock.getsockname()[1]}", cache=str(tmp_path))
    assert result.returncode == 1
    assert "no sandbox answers at" in result.stderr and "Traceback" not in result.stderr
