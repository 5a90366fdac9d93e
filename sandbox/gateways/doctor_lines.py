"""The doctor's help for the v3 APIs' strings to sign: lines that each end with \\n, and bodies sent as JSON."""

from __future__ import annotations

import json
from dataclasses import replace

from sandbox.core import crypto
from sandbox.core.signdiff import LINES, Difference, differences
from sandbox.gateways import doctor

METHOD, URL, TIMESTAMP, NONCE, BODY, AUTH_STRING, TOKEN = (
    "HTTP method",
    "URL",
    "timestamp",
    "nonce",
    "body",
    "authString",
    "app auth token",
)
TRAILING_NEWLINE = "missing trailing newline: every line ends with \\n, the last one (the body, even empty) too"
CRLF = "\\r\\n line endings: each line ends with \\n alone"
BODY_DIFFERS = (
    "the body differs from what was signed (e.g. JSON re-serialised, or keys reordered): sign the exact bytes you send"
)


def line_differences(expected: str, received: str, names: tuple[str, ...]) -> list[Difference]:
    """The differing lines, each with a hint named after what that line holds (`names`, in order)."""
    found = []
    for difference in differences(expected, received, LINES):
        name = names[difference.line - 1] if difference.line and difference.line <= len(names) else ""
        found.append(replace(difference, hint=line_hint(name, difference.expected, difference.received)))
    return found


def line_hint(name: str, expected: str, received: str) -> str:
    if "\r\n" in received and received.replace("\r\n", "\n") == expected:
        return CRLF
    if expected.endswith("\n") and received == expected[:-1]:
        return TRAILING_NEWLINE
    if not expected and received:
        return "an extra line: the string has one line per part and nothing after the last \\n"
    if name == URL:
        ours, theirs = expected.rstrip("\n"), received.rstrip("\n")
        if theirs.startswith(("http://", "https://")):
            return "the URL line is the path and query (/v3/...), not the full URL"
        if "?" in ours and theirs == ours.partition("?")[0]:
            return "query string missing from the URL line: sign the path with its query, as on the request line"
        return "the URL line differs: sign the path and query exactly as sent, same encoding"
    if name in (TIMESTAMP, NONCE):
        return f"wrong {name}: sign the {name} the Authorization header carries"
    if name == METHOD:
        return "the HTTP method differs: sign the method you send, in upper case"
    if name == BODY:
        return BODY_DIFFERS
    if name == AUTH_STRING:
        return "the authString line must be the Authorization header's text before ',sign=', pairs in the same order"
    if name == TOKEN:
        return "the app auth token line: sign the alipay-app-auth-token header's value when you send one, else nothing"
    return f"the {name or 'line'} differs"


def body_variants(body: bytes) -> list[bytes]:
    """The same JSON as other serialisers write it (spaces, \\u escapes, sorted keys): what a signer re-serialised."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return []
    found = []
    for separators in ((",", ":"), (", ", ": ")):
        for ascii_only in (False, True):
            for sort_keys in (False, True):
                text = json.dumps(value, separators=separators, ensure_ascii=ascii_only, sort_keys=sort_keys)
                found.append(text.encode("utf-8"))
    found.append(json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8"))
    return [variant for variant in dict.fromkeys(found) if variant != body]


def string_parts(text: str, count: int) -> tuple[list[str], list[str]]:
    """A pasted line-based string cut into its `count` parts (the last keeps any newlines of its own), and what is
    wrong with its shape."""
    problems = []
    if "\r\n" in text:
        problems.append(CRLF)
        text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    else:
        problems.append(TRAILING_NEWLINE)
    parts = text.split("\n", count - 1)
    if len(parts) < count:
        problems.append(
            f"the string has {len(parts)} lines where {count} are needed (an empty body is an empty line, "
            "still followed by \\n)"
        )
        parts += [""] * (count - len(parts))
    return parts, problems


def judge(result, key, signature: str, signed: bytes, wrong: str | None, demo_pem: str, mistakes, names, api: str):
    """Both v3 APIs sign their lines with SHA256withRSA: the verdict (`wrong`: why a signature that verifies is
    still refused, e.g. another serial_no), or, when it does not verify, the forensics of what it was made over."""
    if crypto.verify(key, signed, signature):
        result.verdict = doctor.INVALID if wrong else doctor.VALID
        result.message = (
            f"The signature is right, but {wrong}."
            if wrong
            else "The signature verifies: SHA256withRSA over the expected string, with the registered key."
        )
        return
    result.verdict = doctor.INVALID
    result.message = "The signature does not verify as SHA256withRSA over the expected string with the registered key."
    doctor.forensics(
        result,
        key,
        signature,
        demo_pem,
        signed,
        mistakes,
        lambda expected, received: line_differences(expected, received, names),
        wrong_hash=lambda name: None if name == "SHA256" else f"signed with {name}withRSA: {api} is SHA256withRSA",
    )
