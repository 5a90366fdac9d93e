"""What every gateway's signature doctor shares: the question, the diagnosis, reading a paste, RSA forensics."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit

from sandbox.core import crypto
from sandbox.core.signdiff import PAIRS, Difference, differences, pair
from sandbox.errors import InvalidParameter

VALID, INVALID, UNSIGNED, UNKNOWN_MERCHANT, MALFORMED = "valid", "invalid", "unsigned", "unknown_merchant", "malformed"
VERDICTS = (VALID, INVALID, UNSIGNED, UNKNOWN_MERCHANT, MALFORMED)
REQUEST_LINE = re.compile(r"^([A-Z]{3,10}) +(\S+)(?: +HTTP/[0-9](?:\.[0-9])?)?\s*$")
ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
ANOTHER_STRING = (
    "the signature was made with the registered key, but over another string: a value changed after signing, or "
    "the string was built differently (paste what your code signed as string_to_sign to see where)"
)


@dataclass(frozen=True)
class Question:
    """What was pasted: a request (optionally with the string the merchant's code signed), or a string alone."""

    protocol: str
    request: str | None = None
    string_to_sign: str | None = None
    signature: str | None = None
    merchant_id: str | None = None


@dataclass
class Diagnosis:
    protocol: str
    merchant_id: str | None = None
    verdict: str = UNSIGNED
    message: str = ""
    key: str = ""
    expected: str | None = None
    received: str | None = None
    differences: list[Difference] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def hint(self, text: str) -> None:
        if text not in self.hints:
            self.hints.append(text)

    def view(self) -> dict:
        view = {
            "protocol": self.protocol,
            "merchant_id": self.merchant_id,
            "verdict": self.verdict,
            "message": self.message,
            "key": self.key,
            "expected_string_to_sign": self.expected,
        }
        if self.received is not None:
            view["received_string_to_sign"] = self.received
        view["differences"] = [d.view() for d in self.differences]
        view["hints"] = self.hints
        return view


# -- reading a paste ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paste:
    """A pasted request: method and target from its request line ("" for a bare body), headers by lower-case name."""

    method: str
    target: str
    headers: dict[str, str]
    body: str

    @property
    def bare(self) -> bool:
        return not self.method

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


def read_request(text: str) -> Paste:
    """A raw HTTP request (request line, headers, blank line, body), a bare URL (a GET), or a bare body."""
    stripped = text.strip()
    first = stripped.split("\n", 1)[0].strip()
    if re.match(r"^https?://\S+$", first) and "\n" not in stripped:
        return Paste("GET", path_and_query(first), {}, "")
    match = REQUEST_LINE.match(first)
    if match is None:
        return Paste("", "", {}, text)
    head, body = _split(text.lstrip())
    headers: dict[str, str] = {}
    for number, line in enumerate(head.splitlines()[1:], start=2):
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise InvalidParameter(
                "request", f"line {number} of the request, {line[:80]!r}, is not a 'Name: value' header"
            )
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length", "")
    raw = body.encode("utf-8")
    if length.isdigit() and len(raw) > int(length) and not raw[int(length) :].strip():
        body = raw[: int(length)].decode("utf-8", "replace")  # the newline an editor adds after a pasted body
    return Paste(match.group(1), path_and_query(match.group(2)), headers, body)


def _split(text: str) -> tuple[str, str]:
    """(request line and headers, body) at the first blank line."""
    parts = re.split(r"\r?\n\r?\n", text, maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def path_and_query(target: str) -> str:
    """The path and query of a request target, which may be an absolute URL."""
    if not target.startswith(("http://", "https://")):
        return target
    parts = urlsplit(target)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def read_pairs(text: str, charset: str = "utf-8") -> list[tuple[str, str]]:
    """`k=v&k=v` as pasted, in its order: URL-decoded when form-encoded (it holds %XX escapes), else as it is (a
    logged string, whose `+` and `=` in base64 stay). `&` inside {} or [] (JSON values) does not split."""
    decode = bool(ENCODED.search(text))
    found, depth, start = [], 0, 0
    for index, char in enumerate(text + "&"):
        if char in "{[" and not decode:
            depth += 1
        elif char in "}]" and not decode:
            depth = max(0, depth - 1)
        elif char == "&" and depth == 0:
            part = text[start:index]
            start = index + 1
            if part:
                key, value = pair(part)
                if decode:
                    key, value = unquote_plus(key, charset, "replace"), unquote_plus(value, charset, "replace")
                found.append((key, value))
    return found


def unsorted_keys(keys: Iterable[str]) -> bool:
    listed = list(keys)
    return listed != sorted(listed)


def pair_hint(
    sign_names: tuple[str, ...], expected_keys: set[str], received_keys: set[str]
) -> Callable[[str, str], str]:
    """What a differing `k=v` most likely is, for strings where `sign_names` are never signed."""

    def hint(expected: str, received: str) -> str:
        (ours, our_value), (theirs, their_value) = pair(expected), pair(received)
        if received and theirs in sign_names:
            return f"{theirs} is never part of the string to sign"
        if received and not their_value and not expected:
            return f"{theirs} is empty: empty values are left out of the string to sign"
        if expected and received and ours == theirs:
            if unquote_plus(their_value) == our_value:
                return f"the value of {ours} is URL-encoded: sign the raw values, encode only when sending"
            return f"the value of {ours} differs: changed after signing, or taken from elsewhere"
        if (expected and ours in received_keys) or (received and theirs in expected_keys):
            return "the keys are in another order: sort them by key (ASCII)"
        if expected:
            return f"{ours} is in the expected string but not in what was signed"
        return f"{theirs} was signed but is not in the expected string"

    return hint


def pair_differences(expected: str, received: str, sign_names: tuple[str, ...]) -> list[Difference]:
    keys = [{pair(part)[0] for part in text.split("&")} for text in (expected, received)]
    return differences(expected, received, PAIRS, pair_hint(sign_names, *keys))


# -- RSA forensics ------------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def fixture(fixtures_dir: str, relative: str) -> str:
    """A file of the TEST-ONLY demo material (the demo merchant's public key, certificate or API key file)."""
    return (Path(fixtures_dir) / relative).read_text()


def signature_problem(signature: str) -> str | None:
    """Why `signature` is not base64 at all (the most usual ways), or None."""
    if " " in signature.strip():
        return (
            "base64 broken: the signature holds spaces, so a '+' was read as a space (form decoding): URL-encode "
            "the sign when sending, or paste the request as it went over the wire"
        )
    compact = re.sub(r"\s+", "", signature)
    if re.search(r"[-_]", compact) and not re.search(r"[+/]", compact):
        return "base64 broken: the signature is URL-safe base64 (- and _); send standard base64 (+ and /)"
    try:
        base64.b64decode(compact, validate=True)
    except (ValueError, binascii.Error):
        return f"base64 broken: the signature is not base64 ({len(compact)} characters, cut or altered in transit?)"
    return None


def decoded_length(signature: str) -> int:
    return len(base64.b64decode(re.sub(r"\s+", "", signature), validate=True))


class RsaSignature:
    """What a PKCS#1 v1.5 signature says under a public key: whether that key made it, with which hash, over what."""

    def __init__(self, key: crypto.RsaKey, signature: str, hex_first: bool = False) -> None:
        """`hex_first`: the signed bytes are the lower-case hex digest of the message (UnionPay's double hash)."""
        self.key = key
        self.recovered = crypto.recover_digest(key, signature)
        self.hex_first = hex_first

    @property
    def hash_name(self) -> str:
        return self.recovered[0] if self.recovered else ""

    def covers(self, message: bytes) -> bool:
        if self.recovered is None:
            return False
        name, digest = self.recovered
        data = hashlib.new(name.lower(), message).hexdigest().encode() if self.hex_first else message
        return hashlib.new(name.lower(), data).digest() == digest


def first_covered(check: RsaSignature, candidates: Iterable[tuple[str, bytes]]) -> tuple[str, bytes] | None:
    """The first (hint, message) whose message the signature covers."""
    return next(((hint, message) for hint, message in candidates if check.covers(message)), None)


def explain_other_key(diagnosis: Diagnosis, signature: str, key: crypto.RsaKey, demo_pem: str, hex_first: bool) -> None:
    """The registered key did not make the signature: say whether the demo key did, or none the sandbox knows."""
    if decoded_length(signature) != key.size_in_bytes():
        diagnosis.hint(
            f"the signature is {decoded_length(signature)} bytes, but the registered {key.size_in_bytes() * 8}-bit "
            f"key makes signatures of {key.size_in_bytes()}: cut short or altered, or made with a key of another size"
        )
        return
    demo = crypto.load_public_key(demo_pem)
    if demo != key and RsaSignature(demo, signature, hex_first).recovered is not None:
        diagnosis.hint(
            "a signature made with another key: the demo merchant's TEST-ONLY private key (fixtures/) made it, not "
            "the private key of the public key registered for this merchant"
        )
    else:
        diagnosis.hint(
            "a signature made with another key: it verifies against none of the keys the sandbox knows (the private "
            "key does not belong to the registered public key or certificate)"
        )


def forensics(
    result: Diagnosis,
    key: crypto.RsaKey,
    signature: str,
    demo_pem: str,
    signed: bytes,
    candidates: list[tuple[str, bytes]],
    compare: Callable[[str, str], list[Difference]],
    *,
    hex_first: bool = False,
    wrong_hash: Callable[[str], str | None] = lambda name: None,
    encoding: str = "utf-8",
) -> None:
    """Hints for a signature that does not verify over `signed`: another key, another hash, or which of the usual
    mistakes (`candidates`, each a hint and the bytes it would have signed) it covers. The mistake found becomes
    the received string when none was pasted, so its differences show."""
    check = RsaSignature(key, signature, hex_first)
    if check.recovered is None:
        explain_other_key(result, signature, key, demo_pem, hex_first)
        return
    if hint := wrong_hash(check.hash_name):
        result.hint(hint)
    found = first_covered(check, candidates)
    if found is not None:
        hint, message = found
        result.hint(hint)
        if result.received is None:
            result.received = message.decode(encoding, "replace")
            result.differences = compare(result.expected or "", result.received)
    elif result.received is not None and check.covers(result.received.encode(encoding, "replace")):
        result.hint("the signature covers the string you pasted, which is not the expected one: see differences")
    elif not check.covers(signed):
        result.hint(ANOTHER_STRING)


def unknown_merchant(result: Diagnosis, what: str, namespace) -> None:
    result.verdict = UNKNOWN_MERCHANT
    result.message = (
        f"{what} {result.merchant_id} is not registered in namespace {namespace.name}: register it there first, or "
        "ask in the namespace that holds it (X-Sandbox-Namespace)."
    )


def require_merchant(result: Diagnosis) -> None:
    """A pasted string names no merchant of its own: the caller must."""
    if not result.merchant_id:
        raise InvalidParameter("merchant_id", "merchant_id is required to check a signature: the string names none")
