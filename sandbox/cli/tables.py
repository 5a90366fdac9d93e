"""Plain-text tables and field lists for the CLI: aligned columns, yuan, short times, long values cut short (…)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

ELLIPSIS = "…"
GAP = "  "


@dataclass(frozen=True)
class Column:
    """One column: a title, the row's key (or a function of the row), and the widest a cell may be."""

    title: str
    cell: str | Callable[[dict], object]
    width: int = 40
    right: bool = False

    def text(self, row: dict) -> str:
        value = row.get(self.cell) if isinstance(self.cell, str) else self.cell(row)
        return clip(text(value), self.width)


def table(rows: Iterable[dict], columns: Sequence[Column]) -> str:
    """The rows under a header line, each column as wide as its widest cell."""
    cells = [[c.title for c in columns]] + [[c.text(row) for c in columns] for row in rows]
    widths = [max(width(line[i]) for line in cells) for i in range(len(columns))]
    lines = []
    for line in cells:
        padded = [_pad(cell, w, c.right) for cell, w, c in zip(line, widths, columns, strict=True)]
        lines.append(GAP.join(padded).rstrip())
    return "\n".join(lines)


def fields(pairs: Iterable[tuple[str, object]], limit: int = 100) -> str:
    """`label  value` lines, labels aligned; empty values are left out so a record reads at a glance."""
    shown = [(label, clip(text(value), limit)) for label, value in pairs if value not in (None, "", [], {})]
    if not shown:
        return ""
    pad = max(width(label) for label, _ in shown)
    return "\n".join(f"{_pad(label, pad, False)}  {value}".rstrip() for label, value in shown)


def yuan(fen: int | None) -> str:
    """Integer fen as yuan with two decimals (990 -> 9.90), exactly: no float rounding."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def when(iso: str | None) -> str:
    """An ISO 8601 time as YYYY-MM-DD HH:MM:SS (the offset is the sandbox's, Beijing time)."""
    if not iso:
        return ""
    return iso.replace("T", " ")[:19]


def pairs(mapping: dict | None) -> str:
    """A small dict on one line: k=v k=v, nested values as JSON, empty ones left out."""
    return " ".join(
        f"{k}={json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v}"
        for k, v in (mapping or {}).items()
        if v not in (None, "", [], {})
    )


def text(value: object) -> str:
    """A value as one line of text: None is blank, whitespace (newlines in bodies) collapses to one space."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return pairs(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def width(value: str) -> int:
    """Terminal columns: CJK characters (subjects, names) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)


def clip(value: str, limit: int) -> str:
    """At most `limit` columns, ending in an ellipsis when cut."""
    if width(value) <= limit:
        return value
    kept, used = [], 0
    for ch in value:
        used += width(ch)
        if used > limit - 1:
            break
        kept.append(ch)
    return "".join(kept) + ELLIPSIS


def _pad(cell: str, size: int, right: bool) -> str:
    fill = " " * (size - width(cell))
    return fill + cell if right else cell + fill
