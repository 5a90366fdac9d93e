"""`paysandbox merchants list | show | report`: the merchants a running sandbox knows, their key serials and
fingerprints, and how each one's integration behaved."""

from __future__ import annotations

import argparse
import base64
import hashlib
import re

from sandbox.cli.common import GATEWAYS, call, control_options, plural, segment
from sandbox.cli.tables import Column, fields, table
from sandbox.config import Config

# The identifier each protocol sends with the merchant's signature, and the merchant's own public material.
SERIAL = {"alipay": "app_cert_sn", "wechatpay": "merchant_serial_no", "unionpay": "cert_id"}
OWN_KEY = {
    "alipay": ("app_public_key", "app_cert"),
    "wechatpay": ("merchant_public_key", "merchant_certificate"),
    "unionpay": ("merchant_certificate",),
}
PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.+?)-----END \1-----", re.S)


def register(commands: argparse._SubParsersAction) -> None:
    merchants = commands.add_parser("merchants", help="the merchants a running sandbox knows")
    actions = merchants.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every merchant, by gateway then id: name, key serial and fingerprint")
    show = actions.add_parser("show", help="one merchant, its identifiers and key material")
    report = actions.add_parser(
        "report", help="how the merchant's integration behaved, check by check (exit status 1 if a check failed)"
    )
    for action in (show, report):
        action.add_argument("gateway", choices=GATEWAYS)
        action.add_argument("merchant_id")
    for action in (listing, show, report):
        control_options(action)
    listing.set_defaults(handler=_list)
    show.set_defaults(handler=_show)
    report.set_defaults(handler=_report)


def _list(args: argparse.Namespace, config: Config) -> int:
    return call(args, lambda c: c.call("GET", "/merchants"), _render_list)


def _show(args: argparse.Namespace, config: Config) -> int:
    path = f"/merchants/{segment(args.gateway)}/{segment(args.merchant_id)}"
    return call(args, lambda c: c.call("GET", path), _render_one)


def _report(args: argparse.Namespace, config: Config) -> int:
    """The report as text (or --json); exit status 1 when a check failed, so a CI step can gate on it."""
    path = f"/merchants/{segment(args.gateway)}/{segment(args.merchant_id)}/report"
    return call(args, lambda c: c.call("GET", path), render_report, status=lambda a: 1 if a["summary"]["failed"] else 0)


MARKS = {"passed": "passed", "failed": "FAILED", "not_exercised": "not exercised"}


def render_report(answer: dict) -> str:
    summary = answer["summary"]
    lines = [
        f"{answer['gateway']} merchant {answer['merchant_id']} at {answer['generated_at']}: {summary['passed']} passed,"
        f" {summary['failed']} failed, {summary['not_exercised']} not exercised",
    ]
    for check in answer["checks"]:
        lines.append(f"  {MARKS[check['status']]:<13} {check['title']}: {check['detail']}")
        if check["status"] == "failed":
            lines += [f"{'':<16}- {item['note']} ({item['out_trade_no'] or ''})" for item in check["evidence"]]
    return "\n".join(lines)


def _render_list(answer: dict) -> str:
    rows = sorted(answer["merchants"], key=lambda m: (m["gateway"], m["merchant_id"]))
    if not rows:
        return "no merchants"
    columns = [
        Column("GATEWAY", "gateway"),
        Column("MERCHANT ID", "merchant_id"),
        Column("NAME", "name", width=30),
        Column("SERIAL / CERT ID", lambda m: m.get(SERIAL.get(m["gateway"], ""))),
        Column("KEY SHA-256", lambda m: key_fingerprint(m), width=23),
    ]
    return f"{plural(len(rows), 'merchant')}\n{table(rows, columns)}"


def _render_one(merchant: dict) -> str:
    """Identifiers as they are; PEM material as its kind and fingerprint (--json has the PEMs)."""
    lines = []
    for name, value in merchant.items():
        if isinstance(value, str) and (block := PEM.search(value)):
            value = f"{block.group(1).lower()}, sha256 {pem_fingerprint(value)}"
        lines.append((name, value))
    lines.append(("key sha-256", key_fingerprint(merchant)))
    return fields(lines) + "\n(PEM material in full: --json)"


def key_fingerprint(merchant: dict) -> str:
    """SHA-256 of the merchant's public key (its SubjectPublicKeyInfo DER, as `openssl pkey -pubin -outform DER`)."""
    for name in OWN_KEY.get(merchant.get("gateway", ""), ()):
        if merchant.get(name):
            return _spki_fingerprint(merchant[name])
    return ""


def pem_fingerprint(pem: str) -> str:
    """SHA-256 of the first PEM block's DER (a certificate's usual fingerprint), shortened."""
    found = PEM.search(pem)
    return _short(base64.b64decode("".join(found.group(2).split())) if found else b"")


def _spki_fingerprint(pem: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    try:
        data = pem.encode()
        key = x509.load_pem_x509_certificate(data).public_key() if "CERTIFICATE" in pem else load_pem_public_key(data)
        der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except ValueError:
        return "unreadable"
    return _short(der)


def _short(der: bytes) -> str:
    """The first 8 bytes of the SHA-256, colon-separated: enough to tell two keys apart at a glance."""
    digest = hashlib.sha256(der).hexdigest()[:16]
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
