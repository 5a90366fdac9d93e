"""The sandbox's own Alipay key material: its signing key, its certificates, and app certificate issuing."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from sandbox.core import crypto

HASH_OF = {"RSA2": "SHA256", "RSA": "SHA1"}


def cert_sn(cert_pem: str) -> str:
    """Alipay's certificate SN: md5 of the issuer "CN=..,OU=..,O=..,C=.." plus the decimal serial."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    issuer = cert.issuer

    def part(oid) -> str:
        values = issuer.get_attributes_for_oid(oid)
        return str(values[0].value) if values else "None"

    oids = (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.ORGANIZATION_NAME, NameOID.COUNTRY_NAME)
    name = ",".join(f"{label}={part(oid)}" for label, oid in zip(("CN", "OU", "O", "C"), oids, strict=True))
    return hashlib.md5((name + str(cert.serial_number)).encode()).hexdigest()


@dataclass
class AlipayKeys:
    private_key_pem: str
    public_key_pem: str
    public_key_cert_pem: str
    root_cert_pem: str
    root_key_pem: str

    @classmethod
    def load(cls, fixtures_dir: str) -> AlipayKeys:
        base = Path(fixtures_dir) / "alipay" / "sandbox"
        return cls(
            private_key_pem=(base / "alipay_private_key.pem").read_text(),
            public_key_pem=(base / "alipay_public_key.pem").read_text(),
            public_key_cert_pem=(base / "alipay_public_key_cert.pem").read_text(),
            root_cert_pem=(base / "root_cert.pem").read_text(),
            root_key_pem=(base / "root_ca_key.pem").read_text(),
        )

    def sign(self, text: str, sign_type: str, charset: str = "utf-8") -> str:
        key = crypto.load_private_key(self.private_key_pem)
        return crypto.sign(key, text.encode(charset), HASH_OF[sign_type])

    @cached_property
    def alipay_cert_sn(self) -> str:
        return cert_sn(self.public_key_cert_pem)

    @cached_property
    def root_cert_sn(self) -> str:
        return cert_sn(self.root_cert_pem)

    def cert_mode_problem(self, merchant: dict, app_cert_sn: str, root_cert_sn: str) -> tuple[str, str] | None:
        """("app" or "root", why) when a certificate-mode request names a certificate the sandbox did not issue.

        Both protocols send the two SNs (gateway.do as parameters, OpenAPI v3 in the authorization and a header);
        each renders the problem with its own error code.
        """
        if app_cert_sn and app_cert_sn != merchant["app_cert_sn"]:
            return "app", (
                f"app_cert_sn {app_cert_sn} does not match the app certificate registered for "
                f"{merchant['merchant_id']} (its SN is {merchant['app_cert_sn']})"
            )
        if root_cert_sn and self.root_cert_sn not in root_cert_sn.split("_"):
            return "root", (
                f"alipay_root_cert_sn {root_cert_sn} does not include the sandbox root certificate's SN "
                f"{self.root_cert_sn}; use the alipay_root_cert from the merchant registration"
            )
        return None

    def issue_app_cert(self, app_id: str, app_public_key_pem: str, serial: int) -> str:
        """An app public-key certificate for cert mode, as Alipay issues one from the app's CSR."""
        root = x509.load_pem_x509_certificate(self.root_cert_pem.encode())
        root_key = serialization.load_pem_private_key(self.root_key_pem.encode(), password=None)
        public_key = serialization.load_pem_public_key(
            crypto.public_pem(crypto.load_public_key(app_public_key_pem)).encode()
        )
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "paysandbox merchant"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Alipay Open Platform"),
                x509.NameAttribute(NameOID.COMMON_NAME, app_id),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(root.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2049, 12, 31, tzinfo=dt.UTC))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode()
