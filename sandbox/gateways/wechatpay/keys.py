"""The sandbox's own WeChat Pay identity: the platform certificate key, the PUB_KEY_ID key, and AEAD."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from Crypto.Cipher import AES

from sandbox.core import crypto

PUBLIC_KEY_MODE, CERTIFICATE_MODE = "public_key", "certificate"


@dataclass
class WechatKeys:
    platform_private_key_pem: str
    platform_cert_pem: str
    platform_serial_no: str  # upper-case hex, as Wechatpay-Serial carries it
    pub_key_private_pem: str
    pub_key_pem: str
    public_key_id: str

    @classmethod
    def load(cls, fixtures_dir: str) -> WechatKeys:
        base = Path(fixtures_dir) / "wechatpay" / "sandbox"
        platform = json.loads((base / "platform.json").read_text())
        return cls(
            platform_private_key_pem=(base / "platform_private_key.pem").read_text(),
            platform_cert_pem=(base / "platform_cert.pem").read_text(),
            platform_serial_no=platform["platform_serial_no"],
            pub_key_private_pem=(base / "pub_key_private_key.pem").read_text(),
            pub_key_pem=(base / "pub_key.pem").read_text(),
            public_key_id=platform["public_key_id"],
        )

    def sign(self, message: str, mode: str) -> tuple[str, str]:
        """(Wechatpay-Serial, signature): the PUB_KEY_ID key in public-key mode, the platform cert key otherwise."""
        if mode == PUBLIC_KEY_MODE:
            key, serial = self.pub_key_private_pem, self.public_key_id
        else:
            key, serial = self.platform_private_key_pem, self.platform_serial_no
        return serial, crypto.sign(crypto.load_private_key(key), message.encode("utf-8"))


def aead_encrypt(apiv3_key: str, nonce: str, plaintext: str, associated_data: str) -> str:
    """AEAD_AES_256_GCM as WeChat Pay uses it: base64 of ciphertext with the 16-byte tag appended."""
    cipher = AES.new(apiv3_key.encode("utf-8"), AES.MODE_GCM, nonce=nonce.encode("utf-8"))
    cipher.update(associated_data.encode("utf-8"))
    ciphertext, tag = cipher.encrypt_and_digest(plaintext.encode("utf-8"))
    return base64.b64encode(ciphertext + tag).decode()
