"""The sandbox's own WeChat Pay identity (the platform certificate key, the PUB_KEY_ID key, AEAD), and which of the
two keys signs for a merchant in each key mode."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sandbox.core import crypto

PUBLIC_KEY_MODE, CERTIFICATE_MODE, MIGRATING_MODE = "public_key", "certificate", "migrating"
KEY_MODES = (PUBLIC_KEY_MODE, CERTIFICATE_MODE, MIGRATING_MODE)
DEFAULT_SHARE = 0.5  # of a migrating merchant's answers and notifications signed by the public key


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

    def serial(self, mode: str) -> str:
        """The Wechatpay-Serial of what the key of `mode` signs: PUB_KEY_ID_... or the certificate serial."""
        return self.public_key_id if mode == PUBLIC_KEY_MODE else self.platform_serial_no

    def sign(self, message: str, mode: str) -> tuple[str, str]:
        """(Wechatpay-Serial, signature): the PUB_KEY_ID key in public-key mode, the platform cert key otherwise."""
        key = self.pub_key_private_pem if mode == PUBLIC_KEY_MODE else self.platform_private_key_pem
        return self.serial(mode), crypto.sign(crypto.load_private_key(key), message.encode("utf-8"))


def answer_key(merchant: dict | None, asked: str, chance: Callable[[float], bool]) -> str:
    """The key that signs an answer to a request whose `Wechatpay-Serial` asked for `asked`.

    No key_mode (the default): what was asked. public_key, certificate: that key always. migrating: the public key
    when asked for it, otherwise either, the public key with the merchant's public_key_share.
    """
    mode = merchant.get("key_mode") if merchant else None
    if mode == MIGRATING_MODE:
        return PUBLIC_KEY_MODE if asked == PUBLIC_KEY_MODE or chance(merchant["public_key_share"]) else CERTIFICATE_MODE
    return mode or asked


def notification_key(merchant: dict | None, order_mode: str, chance: Callable[[float], bool]) -> str:
    """The key that signs a notification: with no key_mode, the one the order's creation asked for; migrating,
    either (nothing asks for one), the public key with the merchant's public_key_share."""
    mode = merchant.get("key_mode") if merchant else None
    if mode == MIGRATING_MODE:
        return PUBLIC_KEY_MODE if chance(merchant["public_key_share"]) else CERTIFICATE_MODE
    return mode or order_mode


def aead_encrypt(apiv3_key: str, nonce: str, plaintext: str, associated_data: str) -> str:
    """AEAD_AES_256_GCM as WeChat Pay uses it: base64 of ciphertext with the 16-byte tag appended."""
    from Crypto.Cipher import AES  # pycryptodome loads cffi: imported on first use, not at start

    cipher = AES.new(apiv3_key.encode("utf-8"), AES.MODE_GCM, nonce=nonce.encode("utf-8"))
    cipher.update(associated_data.encode("utf-8"))
    ciphertext, tag = cipher.encrypt_and_digest(plaintext.encode("utf-8"))
    return base64.b64encode(ciphertext + tag).decode()
