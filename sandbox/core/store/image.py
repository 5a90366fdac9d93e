"""The store file as last read or written, and the index file beside it that spares a restart parsing it.

A restart with a long history used to parse the whole TinyDB file (100,000 orders: 70 MiB of JSON) and compute every
document's indexes. Each rewrite of the file now also writes `<file>.index`: where each document's JSON text lies in
the file, its place (table, document id), and the entries of every declared index. A restart whose index file
describes the file as it is on disk (same size, modification time and inode) keeps the file's bytes unparsed and
takes the entries as written; a document is parsed when it is read. Any other file (written by TinyDB or an older
sandbox, or changed since) is parsed whole as before, and the file is soon rewritten with its index file.

The index file is JSON lines: a header, then for each collection its keys, places and spans, then index entries. It
is read with orjson, which parses its long arrays of short strings and small integers (all it holds) in about half
the time the json module takes; whatever orjson refuses (a lone surrogate in a key) goes through json.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

log = logging.getLogger("paysandbox.store")
FORMAT = 1


def index_of(path: str | Path) -> Path:
    return Path(f"{path}.index")


@dataclass
class Section:
    """One collection's documents in the file, in the order written: key, place and span of each (by ordinal)."""

    keys: list[str]
    tables: list[str]
    table_of: list[int]
    ids: list[int]
    starts: list[int]
    ends: list[int]


@dataclass
class Persisted:
    """An index's entries as the index file holds them: the fingerprint of the function that computed them, the
    values held by one key and those held by several."""

    fingerprint: str
    one: dict[str, str]
    many: dict[str, list[str]]


class Image:
    """The file's bytes and where each document lies in them; a document held by ordinal is read from here."""

    def __init__(self, raw: bytes, sections: dict[str, Section]) -> None:
        self.raw = raw
        self.sections = sections

    def text(self, collection: str, ordinal: int) -> bytes:
        section = self.sections[collection]
        return self.raw[section.starts[ordinal] : section.ends[ordinal]]

    def place(self, collection: str, ordinal: int) -> tuple[str, str]:
        section = self.sections[collection]
        return section.tables[section.table_of[ordinal]], str(section.ids[ordinal])


@dataclass
class Loaded:
    image: Image
    next_ids: dict[str, int]
    persisted: dict[str, dict[str, Persisted]]  # collection -> index name -> entries


def read(path: Path, raw: bytes, stat: os.stat_result) -> Loaded | None:
    """The index file of the store file whose bytes (and stat) are given, if it describes them; else None (the file
    is then parsed whole). An index file that cannot be read is only a slower start, never an error."""
    try:
        lines = index_of(path).read_bytes().split(b"\n")
        header = _loads(lines[0])
        if header.get("format") != FORMAT or header.get("file") != _identity(stat):
            return None
        sections, persisted = {}, {}
        for collection, info in header["collections"].items():
            keys, table_of, ids, starts, ends = (_loads(lines[n]) for n in info["lines"])
            sections[collection] = Section(keys, info["tables"], table_of, ids, starts, ends)
            persisted[collection] = {
                name: Persisted(mark, *_loads(lines[line])) for name, (mark, line) in info["indexes"].items()
            }
        return Loaded(Image(raw, sections), header["next_ids"], persisted)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.warning("not using the index file of %s (%s): reading the whole file", path, exc)
        return None


def describes(path: Path) -> bool:
    """Whether the index file describes the store file as it is on disk (the gunicorn master's check then need not
    parse the file: the sandbox wrote it and it has not changed since)."""
    try:
        with index_of(path).open("rb") as handle:
            header = _loads(handle.readline())
        return header.get("format") == FORMAT and header.get("file") == _identity(path.stat())
    except (OSError, ValueError, AttributeError):
        return False


# -- writing ------------------------------------------------------------------------------------------


class Layout:
    """The store file being written: its parts, and the section of each collection as they are laid out."""

    def __init__(self) -> None:
        self.parts: list[bytes] = [b"{"]
        self.size = 1
        self.sections: dict[str, Section] = {}
        self._table_numbers: dict[str, dict[str, int]] = {}

    def table(self, table: str, first: bool) -> None:
        self._add(f"{'' if first else '},'}\n{json.dumps(table)}: {{".encode())

    def document(self, collection: str, table: str, doc_id: str, key: str, text: bytes, first: bool) -> None:
        section = self.sections.get(collection)
        if section is None:
            section = self.sections[collection] = Section([], [], [], [], [], [])
            self._table_numbers[collection] = {}
        numbers = self._table_numbers[collection]
        if table not in numbers:
            numbers[table] = len(section.tables)
            section.tables.append(table)
        self._add(f'{"" if first else ", "}"{doc_id}": '.encode())
        section.keys.append(key)
        section.table_of.append(numbers[table])
        section.ids.append(int(doc_id))
        section.starts.append(self.size)
        self._add(text)
        section.ends.append(self.size)

    def end(self, any_table: bool) -> bytes:
        self._add(b"}\n}\n" if any_table else b"\n}\n")
        return b"".join(self.parts)

    def _add(self, part: bytes) -> None:
        self.parts.append(part)
        self.size += len(part)


def index_lines(
    sections: dict[str, Section],
    next_ids: dict[str, int],
    entries: dict[str, dict[str, tuple[str, bytes, bytes]]],
    stat: os.stat_result,
) -> Iterator[bytes]:
    """The index file of a store file just written (`stat` is its stat), as lines. `entries`: collection -> index
    name -> (fingerprint, JSON of the values held by one key, JSON of those held by several)."""
    header: dict = {"format": FORMAT, "file": _identity(stat), "next_ids": next_ids, "collections": {}}
    body: list[bytes] = []
    for collection in sections.keys() | entries.keys():
        section = sections.get(collection) or Section([], [], [], [], [], [])
        first = len(body) + 1
        body += [_dumps(section.keys), *(_dumps(part) for part in (section.table_of, section.ids))]
        body += [_dumps(section.starts), _dumps(section.ends)]
        indexes = {}
        for name, (fingerprint, one, many) in entries.get(collection, {}).items():
            indexes[name] = (fingerprint, len(body) + 1)
            body.append(b"[" + one + b"," + many + b"]")
        header["collections"][collection] = {
            "tables": section.tables,
            "lines": list(range(first, first + 5)),
            "indexes": indexes,
        }
    yield _dumps(header)
    for line in body:
        yield b"\n" + line
    yield b"\n"


def dump_entries(entries: dict) -> bytes:
    """Index entries (text -> key, or text -> set of keys) as JSON."""
    try:
        return orjson.dumps(entries, default=list)
    except TypeError:  # a lone surrogate: json writes it escaped
        return json.dumps(entries, default=list, separators=(",", ":")).encode()


def _identity(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _dumps(value: object) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()


def _loads(data: bytes) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # e.g. an escaped lone surrogate, which json reads
        return json.loads(data)
