"""Structural mutations: fields dropped, duplicated, reordered or renamed, and raw bodies truncated or mis-encoded."""

from __future__ import annotations

import random

from sandbox.testing.fuzz import values

Pairs = list[tuple[str, str]]
MAX_HEADER = 4000  # characters of a mutated header value
MAX_TARGET = 4000  # characters of a path and query (gunicorn refuses a request line over 4094 before the app)


def mutate_pairs(rng: random.Random, pairs: Pairs, common: tuple[str, ...] = ()) -> tuple[Pairs, str]:
    """One change to key=value fields (which may then hold a key twice); answers the fields and what was done.

    Fields named in `common` (the envelope every request has) are picked less often than the method's own."""
    pairs = list(pairs)
    op = rng.randrange(10)
    own = [i for i, (name, _) in enumerate(pairs) if name not in common]
    index = rng.choice(own) if own and rng.random() < 0.75 else rng.randrange(len(pairs)) if pairs else 0
    name = pairs[index][0] if pairs else ""
    if op == 0 and pairs:
        pairs.pop(index)
        return pairs, f"drop {name}"
    if op == 1 and pairs:
        copy = pairs[index][1] if rng.random() < 0.5 else values.text(rng)
        pairs.insert(rng.randrange(len(pairs) + 1), (name, copy))
        return pairs, f"duplicate {name}"
    if op == 2:
        rng.shuffle(pairs)
        return pairs, "reorder"
    if op == 3:
        extra = rng.choice(("", " ", name.upper(), name + " ", values.text(rng)[:20], "sign", "__proto__"))
        pairs.append((extra, values.text(rng)))
        return pairs, "add field"
    if op == 4 and pairs:
        pairs[index] = (name, "")
        return pairs, f"empty {name}"
    if pairs:
        pairs[index] = (name, values.mutate_text(rng, pairs[index][1]))
        return pairs, f"value {name}"
    return pairs, "none"


def mutate_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """The encoded body broken at the byte level: cut, mis-encoded, or with bytes that are not UTF-8."""
    op = rng.randrange(7)
    at = rng.randrange(len(data) + 1)
    if op == 0:
        return data[:at], "truncate"
    if op == 1:
        bad = rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x00"))
        return data[:at] + bad + data[at:], "bad byte"
    if op == 2:
        text = data.decode("utf-8", "replace")
        return text.encode(rng.choice(("gbk", "utf-16", "latin-1", "utf-32")), "replace"), "other encoding"
    if op == 3:
        return b"\xef\xbb\xbf" + data, "bom"
    if op == 4:
        return data + rng.choice((b"\x00", b"garbage", b"&&&", b"}}}", b"</xml>", b"\r\n\r\n")), "trailing garbage"
    if op == 5:
        return b"", "empty body"
    flipped = bytearray(data)
    if flipped:
        flipped[min(at, len(flipped) - 1)] ^= 1 << rng.randrange(8)
    return bytes(flipped), "bit flip"


def mutate_content_type(rng: random.Random, content_type: str) -> str:
    return rng.choice(
        (
            "",
            "text/plain",
            "application/octet-stream",
            "multipart/form-data; boundary=x",
            content_type + "; charset=gbk",
            content_type + "; charset=nonsense",
            content_type.upper(),
            "application/json" if "json" not in content_type else "application/x-www-form-urlencoded",
            latin1(values.text(rng))[:200],
        )
    )


def latin1(text: str) -> str:
    """A header value as a client sends a non-Latin-1 one, its UTF-8 bytes (WSGI reads headers as Latin-1); without
    control characters, which HTTP servers refuse before the app (gunicorn and h11 answer 400, and no client sends a
    line break), and no longer than they take (gunicorn: 8190 bytes a header)."""
    raw = text.encode("utf-8", "surrogatepass").decode("latin-1")
    return "".join(char for char in raw if char == "\t" or not (char < " " or char == "\x7f"))[:MAX_HEADER]
