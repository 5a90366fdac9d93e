"""RsaKey (OpenSSL's key behind pycryptodome's methods) writes the bytes pycryptodome wrote, and a server starts
without loading pycryptodome."""

from __future__ import annotations

import subprocess
import sys

import pytest
from Crypto.PublicKey import RSA

from sandbox.core import crypto

DATA = b"out_trade_no=T1&total_amount=0.01"


@pytest.fixture(scope="module")
def pair(alipay_demo):
    """The demo app key as pycryptodome reads it and as crypto does."""
    return RSA.import_key(alipay_demo.app_private_key), crypto.load_private_key(alipay_demo.app_private_key)


@pytest.mark.parametrize(("form", "pkcs"), [("PEM", 1), ("PEM", 8), ("DER", 1), ("DER", 8)])
def test_a_private_key_exports_the_bytes_pycryptodome_did(pair, form, pkcs):
    theirs, ours = pair
    assert ours.export_key(form, pkcs=pkcs) == theirs.export_key(format=form, pkcs=pkcs)


@pytest.mark.parametrize("form", ["PEM", "DER"])
def test_a_public_key_exports_the_bytes_pycryptodome_did(pair, form):
    theirs, ours = pair
    assert ours.public_key().export_key(form) == theirs.public_key().export_key(format=form)


def test_numbers_size_and_halves_are_pycryptodomes(pair):
    theirs, ours = pair
    assert (ours.n, ours.e, ours.size_in_bytes()) == (theirs.n, theirs.e, theirs.size_in_bytes())
    assert ours.has_private() and not ours.public_key().has_private()
    assert ours != ours.public_key() and ours.public_key() == crypto.load_public_key(crypto.public_pem(ours))


def test_a_key_pycryptodome_made_still_signs_and_verifies(pair):
    theirs, ours = pair
    signature = crypto.sign(theirs, DATA)
    assert signature == crypto.sign(ours, DATA)
    assert crypto.verify(theirs.public_key(), DATA, signature) and crypto.verify(ours, DATA, signature)


def test_an_elliptic_curve_key_is_refused_as_not_rsa():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    with pytest.raises(crypto.KeyFormatError, match="RSA key format is not supported"):
        crypto.load_private_key(pem)


def test_a_started_app_has_not_loaded_pycryptodome():
    """pycryptodome (with cffi and pycparser) is for AES, loaded where a notification is sealed or opened."""
    script = (
        "import sys; from sandbox.app import create_app; app = create_app();"
        " assert app.test_client().get('/_sandbox/health').status_code == 200;"
        " print(sorted(name for name in sys.modules if name == 'Crypto' or name.startswith('Crypto.')))"
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert finished.stdout.strip() == "[]"
