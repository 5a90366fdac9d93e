"""The sandbox's own TEST-ONLY certificate authority: made once per data store, name-constrained to the provider hosts.

Like mkcert, every sandbox makes its own CA rather than shipping a private key everyone has. Its NameConstraints
extension permits only the provider hosts and loopback, so even a leaked sandbox CA cannot vouch for any other
site to a machine that trusts it. Keys are ECDSA P-256 (milliseconds to make); nothing is made until asked for.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sandbox.core.store import Store
from sandbox.transport.hosts import LOOPBACK_NAMES, LOOPBACK_NETWORKS, PROVIDER_HOSTS

COLLECTION, KEY = "transport", "ca"
CA_YEARS = 10
SERVER_DAYS = 365  # the server certificate is made afresh by each process, so it never needs renewing
SERVER_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class ServerCertificate:
    """A server certificate and its key, as PEM: what an ssl.SSLContext loads."""

    certificate_pem: bytes
    private_key_pem: bytes


class SandboxCA:
    """The CA of one data store: loaded from the store, or made (and stored) the first time it is needed."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._certificate: x509.Certificate | None = None
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._server: ServerCertificate | None = None

    @property
    def certificate(self) -> x509.Certificate:
        return self._load()[0]

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def fingerprint(self) -> str:
        """SHA-256 of the certificate (DER), in hex: names the file `paysandbox ca --path` writes."""
        return hashlib.sha256(self.certificate.public_bytes(serialization.Encoding.DER)).hexdigest()

    def server_certificate(self) -> ServerCertificate:
        """One certificate for every provider host, localhost and the loopback addresses (made once per process)."""
        with self._lock:
            if self._server is None:
                certificate, key = self._load_locked()
                self._server = issue(certificate, key, PROVIDER_HOSTS + LOOPBACK_NAMES, SERVER_ADDRESSES)
            return self._server

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        if self._certificate is None or self._key is None:
            # One transaction holding the key: processes starting at once on a new store end with one CA.
            with self._store.transaction():
                stored = self._store.get(COLLECTION, KEY)
                if stored is None:
                    certificate, key = make_ca()
                    stored = {
                        "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
                        "private_key": _private_pem(key).decode(),
                    }
                    self._store.put(COLLECTION, KEY, stored)
            self._certificate = x509.load_pem_x509_certificate(stored["certificate"].encode())
            self._key = serialization.load_pem_private_key(stored["private_key"].encode(), password=None)
        return self._certificate, self._key


def make_ca(now: datetime.datetime | None = None) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A new root CA, permitted to vouch only for the provider hosts and loopback."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "paysandbox"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "TEST-ONLY, never for real payments"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"paysandbox TEST-ONLY CA {now:%Y-%m-%d %H:%M:%S}"),
        ]
    )
    permitted = [x509.DNSName(host) for host in PROVIDER_HOSTS + LOOPBACK_NAMES]
    permitted += [x509.IPAddress(network) for network in LOOPBACK_NETWORKS]
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def issue(
    ca_certificate: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    names: tuple[str, ...],
    addresses: tuple[str, ...] = (),
    now: datetime.datetime | None = None,
) -> ServerCertificate:
    """A TLS server certificate for these DNS names and IP addresses, signed by the CA."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    alternatives = [x509.DNSName(name) for name in names]
    alternatives += [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]
    ca_ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "paysandbox TEST-ONLY server")]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ServerCertificate(certificate.public_bytes(serialization.Encoding.PEM), _private_pem(key))


def _key_usage(digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
