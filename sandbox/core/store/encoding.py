"""How the PostgreSQL store writes documents, keys and index values so that every one reads back exactly as given.

PostgreSQL's text and jsonb refuse two things Python strings may hold, and a fuzzed request does put into a stored
order: NUL (U+0000) and lone surrogates (e.g. from a JSON body's "\\ud800"). A document whose JSON has either is kept
as a jsonb object of one field, WRAPPED, holding its JSON text in ASCII; a key with either is kept as its JSON text.
Both forms are told apart from ordinary ones, so no two values are ever written alike.
"""

from __future__ import annotations

import json
from collections.abc import Hashable

WRAPPED = "$paysandbox:json"


def dump_document(doc: dict) -> str:
    """The document's JSON text for a jsonb column."""
    text = _json(doc)
    if "\\u0000" in text or not _encodable(text) or list(doc) == [WRAPPED]:
        return _json({WRAPPED: json.dumps(doc, separators=(",", ":"))})
    return text


def load_document(value: dict) -> dict:
    """The document as it was put, from what the jsonb column gives back."""
    if len(value) == 1 and WRAPPED in value:
        return json.loads(value[WRAPPED])
    return value


def stored_key(key: str) -> str:
    """The key for a text column: itself, or its JSON text (which starts with a quote, as no key kept as itself
    does) when it has a NUL or lone surrogate."""
    return key if is_plain(key) and not key.startswith('"') else json.dumps(key)


def original_key(stored: str) -> str:
    """The key as given, from what `stored_key` made of it."""
    return json.loads(stored) if stored.startswith('"') else stored


def is_plain(text: str) -> bool:
    """Whether PostgreSQL takes the string as it is (no NUL, no lone surrogate)."""
    return "\x00" not in text and _encodable(text)


def index_value(value: Hashable) -> str:
    """An index value as canonical JSON text (a tuple as an array), the same in every process."""
    text = _json(value)
    return text if _encodable(text) else json.dumps(value, separators=(",", ":"))


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _encodable(text: str) -> bool:
    """Whether the text has no lone surrogate (which UTF-8, and so PostgreSQL, cannot carry)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
