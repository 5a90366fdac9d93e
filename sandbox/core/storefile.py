"""Reading a store file and its journal: each way either can be damaged is a StoreFileError naming the file, what is
wrong with it and what to do, so start-up stops with one clear line instead of a traceback or an empty store."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MOVE_AWAY = "restore it from a backup, or move it away to start a new, empty store"


class StoreFileError(Exception):
    """A store file (or its journal) that cannot be used; str() is the whole explanation, on one line."""

    def __init__(self, path: Path | str, problem: str, advice: str = MOVE_AWAY, what: str = "the data file") -> None:
        self.path = path
        super().__init__(f"cannot use {what} {path}: {problem}; {advice}")


@contextmanager
def contents_checked(path: str | None) -> Iterator[None]:
    """Around reading stored documents into the sandbox: a document it cannot read (a hand-edited store, one of another
    version) is a StoreFileError naming the file (or database), not a traceback."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if not path:
            raise
        problem = f"it holds a document the sandbox did not write ({type(exc).__name__}: {str(exc)[:80]})"
        if "://" in path:  # a database, named as its store shows it (no password)
            raise StoreFileError(path, problem, "give the sandbox a database of its own", what="the database") from None
        raise StoreFileError(Path(path), problem) from None


def journal_of(path: str | Path) -> Path:
    return Path(f"{path}.journal")


def check(path: str | Path) -> None:
    """Read the store file and its journal as the store will, raising StoreFileError if either cannot be used. A file
    its index file describes was written by the sandbox and not changed since: it is not parsed (as on start)."""
    from sandbox.core.store import image  # the store package imports this module

    if not image.describes(Path(path)):
        read_tables(Path(path))
    read_journal(journal_of(path))


def read_tables(path: Path) -> dict | None:
    """The TinyDB data of the store file ({table: {doc id: document}}); None when the file does not exist yet."""
    raw = _read(path)
    return None if raw is None else parse_tables(path, raw)


def open_file(path: Path) -> int | None:
    """A file descriptor on the store file, open for reading; None when the file does not exist yet."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError:
        _read(path)  # raises the StoreFileError that says what is wrong
        raise
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        _read(path)  # raises: it is a directory
    return fd


def read_all(fd: int) -> bytes:
    """The whole of an open file, from its start."""
    parts, offset = [], 0
    while part := os.pread(fd, max(os.fstat(fd).st_size - offset, 1 << 16), offset):
        parts.append(part)
        offset += len(part)
    return b"".join(parts)


def parse_tables(path: Path, raw: bytes) -> dict:
    """The TinyDB data ({table: {doc id: document}}) in the store file's bytes, or the StoreFileError saying why not."""
    if not raw:
        # The sandbox never writes an empty file (it writes whole files atomically): this is a failed copy or write.
        raise StoreFileError(path, "it is empty (0 bytes), which no paysandbox store is")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreFileError(path, f"it is not UTF-8 text (byte {exc.start}), so not a paysandbox store") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StoreFileError(path, f"it is not valid JSON ({exc}): the file is damaged, perhaps cut short") from None
    except RecursionError:
        raise StoreFileError(path, "it is JSON nested too deeply to be a paysandbox store") from None
    problem = tables_problem(data)
    if problem:
        raise StoreFileError(path, f"it is JSON but not a paysandbox store: {problem}")
    return data


def read_journal(journal: Path) -> tuple[list[dict], int]:
    """The journal's changes in order, and how many of its bytes hold them. A last line torn by a crash mid-append
    (unfinished, or not JSON) is left out, and is what follows those bytes; all before it stands."""
    raw = _read(journal)
    if not raw:
        return [], 0
    lines = raw.split(b"\n")
    unfinished = lines.pop()  # what follows the last newline: empty unless the last append was torn
    whole = len(raw) - len(unfinished)
    count = len(lines) + (1 if unfinished else 0)
    changes = []
    for number, line in enumerate(lines, start=1):
        try:
            change = json.loads(line)
        except (ValueError, RecursionError):
            if number == count:
                return changes, whole - len(line) - 1
            change, problem = None, "not valid JSON"
        else:
            problem = change_problem(change)
        if problem:
            raise StoreFileError(
                journal,
                f"line {number} of {count} is not a store change ({problem})",
                "restore the journal from a backup, or delete it to keep the store as its file was last written"
                " whole (losing the changes since)",
                what="the data file's journal",
            )
        changes.append(change)
    return changes, whole


def tables_problem(data: object) -> str:
    """What makes `data` not TinyDB data as the store lays it out ('' when it is): tables named
    `<collection>/<shard>`, each an object of documents under integer ids, each document with its `_key`."""
    if not isinstance(data, dict):
        return f"it holds a JSON {_kind(data)}, not an object of tables"
    for table, documents in data.items():
        if "/" not in table:
            return f"its table {table[:40]!r} is not named <collection>/<shard> (another program's file)"
        if not isinstance(documents, dict):
            return f"the table {table[:40]!r} holds a JSON {_kind(documents)}, not an object of documents"
        for doc_id, document in documents.items():
            if not (doc_id.isascii() and doc_id.isdigit()):
                return f"the table {table[:40]!r} has a document id {doc_id[:20]!r} that is not a number"
            if not isinstance(document, dict) or not isinstance(document.get("_key"), str):
                return f"document {doc_id} of the table {table[:40]!r} has no _key"
    return ""


def change_problem(change: object) -> str:
    """What makes a journal line not a change the store writes ('' when it is one)."""
    if not isinstance(change, dict):
        return "not a JSON object"
    if "drop" in change:
        return "" if isinstance(change["drop"], str) else "drop names no table"
    if not (isinstance(change.get("t"), str) and isinstance(change.get("i"), str)):
        return "it names no table and document id"
    return tables_problem({change["t"]: {change["i"]: change["d"]}}) if "d" in change else ""


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise StoreFileError(
            path, "it is a directory", "give the path of the store file itself, e.g. <directory>/paysandbox.json"
        ) from None
    except PermissionError:
        raise StoreFileError(
            path,
            "permission denied",
            f"make it readable and writable by the user running the sandbox (uid {os.getuid()})",
        ) from None
    except OSError as exc:
        raise StoreFileError(path, exc.strerror or str(exc), "check the path and the disk") from None


def _kind(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )
