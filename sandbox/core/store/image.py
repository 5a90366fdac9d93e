"""The store file as last read or written, and the index file beside it that spares a restart parsing it.

A restart with a long history used to parse the whole TinyDB file (100,000 orders: 70 MiB of JSON) and compute every
document's indexes. Each rewrite of the file now also writes `<file>.index`: where each document's JSON text lies in
the file, its place (table, document id), and the entries of every declared index. A restart whose index file
describes the file as it is on disk (same size, modification time and inode) keeps the file open, unread, and takes
the entries as written (each index's when it is first used); a document is read and parsed when it is read. Any
other file (written by TinyDB or an older sandbox, or changed since) is parsed whole as before, and the file is soon
rewritten with its index file.

The index file is a header line (JSON) saying where the parts after it lie, then the parts, each a JSON array: a
collection's keys, places and spans in the file by ordinal, and the entries of its indexes as value texts and the
ordinals of the documents holding them (so a key is held once in memory, and a start parses integers, not keys
again). Each part is parsed in place, when needed, with orjson: it parses these long arrays of short strings and
small integers (all the index file holds) in about half the time the json module takes, and whatever it refuses (a
lone surrogate in a key) goes through json.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from sandbox.core import storefile

log = logging.getLogger("paysandbox.store")
FORMAT = 2
Text = bytes | memoryview
Span = tuple[int, int]  # of a part, from the end of the header line


def index_of(path: str | Path) -> Path:
    return Path(f"{path}.index")


@dataclass
class Section:
    """One collection's documents in the file, in the order written: key, place and span of each (by ordinal). The
    places (table and id) of a file read are parsed when first needed: only a write or a rewrite needs them."""

    keys: list[str]
    tables: list[str]
    _table_of: array | None
    _ids: array | None
    starts: array
    ends: array
    _unparsed: tuple[memoryview, memoryview] | None = None

    @property
    def table_of(self) -> array:
        self._parse_places()
        return self._table_of

    @property
    def ids(self) -> array:
        self._parse_places()
        return self._ids

    def _parse_places(self) -> None:
        if self._unparsed is not None:
            self._table_of, self._ids = map(_array, self._unparsed)
            self._unparsed = None


@dataclass
class Persisted:
    """An index's entries as the index file holds them, parsed when the index is declared: the fingerprint of the
    function that computed them, and where its value texts and document ordinals lie."""

    fingerprint: str
    parts: list[Span]  # texts held by one document, their ordinals, texts held by several, their ordinals
    body: memoryview

    def entries(self, keys: list[str]) -> tuple[dict[str, str], dict[str, set[str]]]:
        """(text -> key, text -> keys) for the collection whose keys by ordinal are `keys`."""
        one_texts, one_ordinals, many_texts, many_ordinals = (_loads(self.body[a:b]) for a, b in self.parts)
        key = keys.__getitem__
        one = dict(zip(one_texts, map(key, one_ordinals), strict=True))
        return one, {text: set(map(key, ordinals)) for text, ordinals in zip(many_texts, many_ordinals, strict=True)}


class Image:
    """The file, open, and where each document lies in it; a document held by ordinal is read from here when it is
    read (the page cache holds the file, not this process). The descriptor keeps the file read even once a rewrite
    has renamed a new one over it."""

    def __init__(self, fd: int, sections: dict[str, Section]) -> None:
        self._file = os.fdopen(fd, "rb", buffering=0)  # closed with it, should the store never be closed
        self.fd = fd
        self.sections = sections

    def text(self, collection: str, ordinal: int) -> bytes:
        section = self.sections[collection]
        start, end = section.starts[ordinal], section.ends[ordinal]
        text = os.pread(self.fd, end - start, start)
        if len(text) != end - start:  # the sandbox never writes the file in place: another program cut it short
            raise OSError(errno.EIO, "the store file was cut short while the sandbox ran (another program wrote it)")
        return text

    def contents(self) -> bytes:
        return storefile.read_all(self.fd)

    def close(self) -> None:
        self._file.close()

    def place(self, collection: str, ordinal: int) -> tuple[str, str]:
        section = self.sections[collection]
        return section.tables[section.table_of[ordinal]], str(section.ids[ordinal])


@dataclass
class Loaded:
    image: Image
    next_ids: dict[str, int]
    persisted: dict[str, dict[str, Persisted]]  # collection -> index name -> entries


def read(path: Path, fd: int) -> Loaded | None:
    """The store file open on `fd` as its index file describes it, if it does; else None (the file is then parsed
    whole). An index file that cannot be read is only a slower start, never an error."""
    try:
        data = index_of(path).read_bytes()
        end = data.index(b"\n")
        header, body = _loads(data[:end]), memoryview(data)[end + 1 :]
        if header.get("format") != FORMAT or header.get("file") != _identity(os.fstat(fd)):
            return None
        sections, persisted = {}, {}
        for collection, info in header["collections"].items():
            keys, table_of, ids, starts, ends = (body[a:b] for a, b in info["parts"])
            places = (table_of, ids)
            section = Section(_loads(keys), info["tables"], None, None, _array(starts), _array(ends), places)
            sections[collection] = section
            persisted[collection] = {
                name: Persisted(mark, parts, body) for name, (mark, parts) in info["indexes"].items()
            }
        return Loaded(Image(fd, sections), header["next_ids"], persisted)
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
    """The store file being written, in one buffer, and the section of each collection as it is laid out. One buffer
    and arrays of integers, not a part and an integer object per document: a rewrite every minute or two otherwise
    scatters long-lived small objects among its short-lived ones, and the process's memory grows in pieces it cannot
    give back."""

    def __init__(self) -> None:
        self.text = bytearray(b"{")
        self.sections: dict[str, Section] = {}
        self._table_numbers: dict[str, dict[str, int]] = {}

    def table(self, table: str, first: bool) -> None:
        self._add(f"{'' if first else '},'}\n{json.dumps(table)}: {{".encode())

    def document(self, collection: str, table: str, doc_id: str, key: str, text: Text, first: bool) -> None:
        section = self.sections.get(collection)
        if section is None:
            section = self.sections[collection] = Section([], [], _array(), _array(), _array(), _array())
            self._table_numbers[collection] = {}
        numbers = self._table_numbers[collection]
        if table not in numbers:
            numbers[table] = len(section.tables)
            section.tables.append(table)
        self.text += f'{"" if first else ", "}"{doc_id}": '.encode()
        section.keys.append(key)
        section.table_of.append(numbers[table])
        section.ids.append(int(doc_id))
        section.starts.append(len(self.text))
        self.text += text
        section.ends.append(len(self.text))

    def end(self, any_table: bool) -> list[bytearray]:
        self.text += b"}\n}\n" if any_table else b"\n}\n"
        return [self.text]

    def _add(self, part: Text) -> None:
        self.text += part


Entries = tuple[str, dict[str, str], dict[str, list[str]]]  # an index's fingerprint, text -> key, text -> keys


def index_parts(
    sections: dict[str, Section], next_ids: dict[str, int], indexes: dict[str, dict[str, Entries]], stat: os.stat_result
) -> Iterator[bytes]:
    """The index file of a store file just written (`stat` is its stat): the header line, then the parts."""
    header: dict = {"format": FORMAT, "file": _identity(stat), "next_ids": next_ids, "collections": {}}
    body: list[bytes] = []
    size = 0

    def part(value: object) -> Span:
        nonlocal size
        text = _dumps(value) + b"\n"
        body.append(text)
        size += len(text)
        return size - len(text), size - 1

    for collection in sections.keys() | indexes.keys():
        section = sections.get(collection) or Section([], [], _array(), _array(), _array(), _array())
        arrays = (section.keys, *(list(a) for a in (section.table_of, section.ids, section.starts, section.ends)))
        info = header["collections"][collection] = {"tables": section.tables, "parts": [part(a) for a in arrays]}
        ordinal_of = dict(zip(section.keys, range(len(section.keys)), strict=True))
        info["indexes"] = {}
        for name, (mark, one, many) in indexes.get(collection, {}).items():
            try:
                one_ordinals = list(map(ordinal_of.__getitem__, one.values()))
                many_ordinals = [list(map(ordinal_of.__getitem__, keys)) for keys in many.values()]
            except KeyError as exc:  # never expected: the entries and documents are copied under one lock
                log.warning("index %s of %s names %s, not in the file: not written", name, collection, exc)
                continue
            info["indexes"][name] = (mark, [part(list(one)), part(one_ordinals), part(list(many)), part(many_ordinals)])
    yield _dumps(header) + b"\n"
    yield from body


def _array(data: memoryview | None = None) -> array:
    """Integers held in one buffer (from their JSON array, if given)."""
    return array("q", _loads(data)) if data is not None else array("q")


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
