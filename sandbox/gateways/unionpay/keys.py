"""The sandbox's UnionPay identity: root -> middle -> signing certificate chain, and the signing key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography import x509

from sandbox.core import crypto
from sandbox.gateways.unionpay import codec


@dataclass
class UnionPayKeys:
    root_pem: str
    middle_pem: str
    sign_cert_pem: str
    sign_key_pem: str

    @classmethod
    def load(cls, fixtures_dir: str) -> UnionPayKeys:
        base = Path(fixtures_dir) / "unionpay" / "sandbox"
        return cls(
            root_pem=(base / "root.pem").read_text(),
            middle_pem=(base / "middle.pem").read_text(),
            sign_cert_pem=(base / "sign.pem").read_text(),
            sign_key_pem=(base / "sign_private_key.pem").read_text(),
        )

    @cached_property
    def sign_cert_id(self) -> str:
        """The decimal serial of the signing certificate: what 5.0.0 answers carry as certId."""
        return str(x509.load_pem_x509_certificate(self.sign_cert_pem.encode()).serial_number)

    def signed(self, fields: dict[str, str], version: str = "5.1.0") -> dict[str, str]:
        """Add signPubKeyCert (5.1.0) or certId (5.0.0), covered by the signature, and the signature itself."""
        fields = {k: v for k, v in fields.items() if v not in (None, "")}
        fields.pop("signature", None)
        if version == "5.1.0":
            fields["signPubKeyCert"] = self.sign_cert_pem
        else:
            fields["certId"] = self.sign_cert_id
        fields["signature"] = codec.sign(fields, crypto.load_private_key(self.sign_key_pem), version)
        return fields
