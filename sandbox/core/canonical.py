"""The key=value strings that providers sign: one builder, used by the server and the merchant client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def sorted_query(params: Mapping[str, object], exclude: Iterable[str] = ("sign",), drop_empty: bool = True) -> str:
    """Sort by key, join `k=v` with `&`, raw (not URL-encoded) values; the string both sides sign."""
    skip = set(exclude)
    pairs = (
        (key, str(value))
        for key, value in params.items()
        if key not in skip and not (drop_empty and (value is None or value == ""))
    )
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def split_pairs(text: str) -> dict[str, str]:
    """Read unencoded `k=v&k=v` text (UnionPay's answers): split on `&` outside {} and [], each part on its first
    `=`. Nothing is URL-decoded, so values may hold `=`, braced `&` and PEM newlines."""
    fields: dict[str, str] = {}
    depth, start = 0, 0
    for index, char in enumerate(text + "&"):
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth = max(0, depth - 1)
        elif char == "&" and depth == 0:
            part = text[start:index]
            if part:
                key, _, value = part.partition("=")
                fields[key] = value
            start = index + 1
    return fields
