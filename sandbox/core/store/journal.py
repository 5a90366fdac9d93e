"""The file store on disk: the TinyDB JSON file plus `<file>.journal`, appended with group commit and rewritten whole.

A change is durable once its journal line is written and fsynced. Concurrent committers share one append: the
first to take the commit lock writes and fsyncs every change recorded so far (its own and those of the threads that
queued behind it), and those find their changes already durable when their turn comes. So a request costs at most
one fsync, and concurrent requests share theirs.

Replaying a change the TinyDB file already holds is harmless (a change sets or removes a whole document, or drops a
table), so the journal may start before the point the file was written at, never after. That lets the file be
rewritten while appends go on: write the file as of a point, then keep only the journal's lines from that point.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from sandbox.core import storefile
from sandbox.core.store import image

MIN_COMPACTION_BYTES = 4 * 1024 * 1024

# A recorded change: (table, doc id, key, the document's JSON text with its _key) puts, (table, doc id, None, None)
# deletes, (table,) drops.
Change = tuple
IndexParts = Callable[[os.stat_result], Iterable[bytes]]  # the index file, made from the new file's stat


class Journal:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.journal_path = storefile.journal_of(path)
        self._lock = threading.Lock()  # guards the recorded changes and their count
        self._commit_lock = threading.Lock()  # one writer of the journal at a time
        self._changes: list[Change] = []
        self._recorded = 0
        self._durable = 0
        self._fd: int | None = None
        self._base_bytes = 0
        self._journal_bytes = 0

    def load(self) -> tuple[int | None, list[dict]]:
        """A file descriptor on the store file (None when there is none yet), and the journal's changes to replay over
        it. A last journal line torn by a crash mid-append (never acknowledged: an append is, once whole and fsynced)
        is cut off the file, so the next append starts on a line of its own."""
        base = storefile.open_file(self.path)
        if base is not None:
            self._base_bytes = os.fstat(base).st_size
        changes, whole = storefile.read_journal(self.journal_path)
        if self.journal_path.exists():
            if self.journal_path.stat().st_size > whole:
                _truncate(self.journal_path, whole)
            self._journal_bytes = whole
        return base, changes

    # -- committing ------------------------------------------------------------------------------

    def record(self, change: Change) -> None:
        """Queue a change for the next commit (called by the store while it holds its own lock, so in order)."""
        with self._lock:
            self._changes.append(change)
            self._recorded += 1

    def commit(self) -> None:
        """Return once every change recorded so far is written and fsynced (group commit)."""
        target = self._recorded
        if self._durable >= target:
            return
        with self._commit_lock:
            if self._durable < target:  # else a commit made while this thread waited took its changes along
                self._append_recorded()

    def _append_recorded(self) -> None:
        with self._lock:
            changes, self._changes = self._changes, []
            upto = self._recorded
        if changes:
            text = b"".join(_line(change) for change in changes)
            try:
                _write_all(self._journal_fd(), text)
                os.fdatasync(self._fd)
            except OSError:
                self._undo_append(changes)
                raise
            self._journal_bytes += len(text)
        self._durable = upto

    def _undo_append(self, changes: list[Change]) -> None:
        """After a failed append (a full disk): cut what part of it was written, keep its changes for the next."""
        with self._lock:
            self._changes[:0] = changes
        with contextlib.suppress(OSError):  # else the journal is cut on load, as after a crash mid-append
            os.ftruncate(self._fd, self._journal_bytes)

    def _journal_fd(self) -> int:
        if self._fd is None:
            created = not self.journal_path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if created:
                _sync_directory(self.path.parent)
        return self._fd

    # -- rewriting the file ------------------------------------------------------------------------

    def grown(self) -> bool:
        """Whether the journal has outgrown the file, so rewriting the file is worth it."""
        return self._journal_bytes > max(MIN_COMPACTION_BYTES, self._base_bytes)

    def commit_point(self) -> int:
        """Commit every change recorded so far; the journal's size then. Called while the store holds its lock (so
        nothing is recorded meanwhile), it marks where the journal stands at the moment of a snapshot."""
        with self._commit_lock:
            self._append_recorded()
            return self._journal_bytes

    def rewrite(self, parts: Iterable[bytes], index_parts: IndexParts, journal_bytes: int) -> int:
        """Write `parts` (the store as of the point the journal had `journal_bytes`) as the TinyDB file, and its index
        file (image.py: made from the new file's stat), then keep only the journal's lines after that point. Appends
        go on meanwhile, and wait only while the tail is copied. The index file goes second: a crash between leaves
        one that does not describe the file, which is then read whole. Answers a file descriptor on the new file."""
        self._base_bytes = _write_atomically(self.path, parts)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            _write_atomically(image.index_of(self.path), index_parts(os.fstat(fd)))
            with self._commit_lock:
                self._drop_journal_head(journal_bytes)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _drop_journal_head(self, size: int) -> None:
        """Keep only the journal's lines after its first `size` bytes (the file holds those)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._journal_bytes == size:
            self.journal_path.unlink(missing_ok=True)  # a crash before this only means a harmless replay
            _sync_directory(self.path.parent)
        else:
            with self.journal_path.open("rb") as journal:
                journal.seek(size)
                tail = journal.read()
            _write_atomically(self.journal_path, [tail])
        self._journal_bytes -= size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _line(change: Change) -> bytes:
    if len(change) == 1:
        return json.dumps({"drop": change[0]}, ensure_ascii=False).encode() + b"\n"
    table, doc_id, _, text = change
    head = f'{{"t": {json.dumps(table)}, "i": {json.dumps(doc_id)}'.encode()
    return head + (b"}\n" if text is None else b', "d": ' + text + b"}\n")


def _write_atomically(path: Path, parts) -> int:
    """Write a new file in place of `path` (fsynced, then renamed over it, then the folder fsynced); its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".paysandbox-", dir=path.parent)
    size = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
                size += len(part)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return size


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _truncate(path: Path, size: int) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory(folder: Path) -> None:
    """Make a file's creation, rename or removal in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
