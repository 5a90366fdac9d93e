"""The sandbox's UnionPay identity: root -> middle -> signing certificate chain, and the signing key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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

    def signed(self, fields: dict[str, str], version: str = "5.1.0") -> dict[str, str]:
        """Add signPubKeyCert (5.1.0; covered by the signature) and the signature itself."""
        fields = {k: v for k, v in fields.items() if v not in (None, "")}
        fields.pop("signature", None)
        if version == "5.1.0":
            fields["signPubKeyCert"] = self.sign_cert_pem
        fields["signature"] = codec.sign(fields, crypto.load_private_key(self.sign_key_pem), version)
        return fields
