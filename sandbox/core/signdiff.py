"""Where two strings to sign part ways: the first differing character, and the differing k=v pairs or lines."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

PAIRS, LINES = "&", "\n"  # how a string to sign is cut: k=v pairs joined by &, or lines that each end with \n
MAX_DIFFERENCES = 20  # a string from another request altogether differs everywhere; the first ones say enough
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


@dataclass(frozen=True)
class Difference:
    """One place the strings part: `at` is the offset in the expected string of the first differing character;
    `expected` and `received` are the whole pairs (or lines) around it, either possibly empty."""

    at: int
    expected: str
    received: str
    line: int | None = None
    hint: str = ""

    def view(self) -> dict:
        view: dict = {"at": self.at, "expected": self.expected, "received": self.received}
        if self.line is not None:
            view["line"] = self.line
        view["hint"] = self.hint
        return view


def first_difference(expected: str, received: str) -> int | None:
    """The offset of the first character that differs (the shorter one's length if one is a prefix); None if equal."""
    if expected == received:
        return None
    return next(
        (i for i, (a, b) in enumerate(zip(expected, received, strict=False)) if a != b),
        min(len(expected), len(received)),
    )


def segments(text: str, separator: str) -> list[str]:
    """The pairs (without their `&`) or the lines (with their `\\n`, so a missing final newline shows)."""
    if separator == LINES:
        return _LINE.findall(text)
    return text.split(separator) if text else []


def differences(
    expected: str, received: str, separator: str, hint: Callable[[str, str], str] | None = None
) -> list[Difference]:
    """The pairs or lines that differ, in order; `hint(expected, received)` says what each one likely is."""
    ours, theirs = segments(expected, separator), segments(received, separator)
    joiner = "" if separator == LINES else separator
    starts, offset = [], 0
    for part in ours:
        starts.append(offset)
        offset += len(part) + len(joiner)
    found = []
    matcher = SequenceMatcher(None, ours, theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # As many parts replaced as replace them: one difference each, so each gets its own hint.
        spans = zip(range(i1, i2), range(j1, j2), strict=True) if i2 - i1 == j2 - j1 else [(i1, j1)]
        for i, j in spans:
            end_i, end_j = (i + 1, j + 1) if i2 - i1 == j2 - j1 else (i2, j2)
            mine, yours = joiner.join(ours[i:end_i]), joiner.join(theirs[j:end_j])
            start = starts[i] if i < len(starts) else len(expected)
            at = min(start + (first_difference(mine, yours) or 0), len(expected))
            line = i + 1 if separator == LINES else None
            found.append(Difference(at, mine, yours, line, hint(mine, yours) if hint else ""))
            if len(found) == MAX_DIFFERENCES:
                return found
    return found


def pair(text: str) -> tuple[str, str]:
    """`k=v` as (k, v); a part without `=` is a key with no value."""
    key, _, value = text.partition("=")
    return key, value
