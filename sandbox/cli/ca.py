"""`paysandbox ca`: the running sandbox's TEST-ONLY CA certificate, printed or kept in a file for *_CA_* variables."""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from pathlib import Path

from sandbox.cli.common import connection_options, control, fail
from sandbox.config import Config
from sandbox.control import ControlError


def register(commands: argparse._SubParsersAction) -> None:
    ca = commands.add_parser(
        "ca", help="print the sandbox's TEST-ONLY CA certificate (trust it for the proxy and TLS ports)"
    )
    connection_options(ca)
    ca.add_argument(
        "--path",
        action="store_true",
        help="write it to a file named by its fingerprint and print the file's path:"
        ' export REQUESTS_CA_BUNDLE="$(paysandbox ca --path)"',
    )
    ca.set_defaults(handler=_ca)


def _ca(args: argparse.Namespace, config: Config) -> int:
    try:
        pem = control(args).text("/ca.pem")
    except ControlError as exc:
        return fail(str(exc))
    from cryptography import x509  # here: other commands start without it
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return fail(f"{args.url}/_sandbox/ca.pem is not a PEM certificate: is {args.url} a paysandbox?")
    if not args.path:
        print(pem, end="")
        return 0
    print(keep(pem, hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()))
    return 0


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/paysandbox, else ~/.cache/paysandbox."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paysandbox"


def keep(pem: str, fingerprint: str) -> Path:
    """The certificate in a file whose name is its fingerprint, so the path is stable until the CA changes."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ca-{fingerprint[:16]}.pem"
    if not path.exists() or path.read_text() != pem:
        fd, tmp = tempfile.mkstemp(prefix=".ca-", dir=folder)
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # atomic: a shell reading the file never sees half of it
    return path
