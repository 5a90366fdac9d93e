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
