"""A durable, append-only journal of records the primary memory store could not take.

One JSON object per line: ``{"v": 1, "op": "add"|"update", "key": ..., "metadata": {...},
"text": ...}``. Appends are
fsync'd, so a record survives a crash right after ``append`` returns. A torn last line (a crash
mid-write) is ignored when reading, and the next append starts on a fresh line. Lines that
cannot be parsed are copied to ``<journal>.rejected`` when the journal is rewritten, never
silently dropped. Writers of the same journal (two runs on one runner) take a lock file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

from ratchet.errors import MemoryStoreError
from ratchet.memory.base import MemoryStore
from ratchet.records import MemoryRecord

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: single writer assumed
    fcntl = None  # type: ignore[assignment]

VERSION = 1
OPS = ("add", "update")
log = logging.getLogger(__name__)


class RecordJournal(Protocol):
    """What :class:`~ratchet.memory.durable.DurableStore` needs of its journal: a
    :class:`Journal` (a local file) or a
    :class:`~ratchet.memory.ledger_journal.LedgerJournal` (the git ledger)."""

    @property
    def path(self) -> Path: ...  # named in messages

    def append(self, record: MemoryRecord, *, op: str = "add") -> None: ...

    def pending(self) -> list[MemoryRecord]: ...

    def replay(self, store: MemoryStore) -> tuple[int, int]: ...

    def remove(self, keys: set[str]) -> int: ...


class Journal:
    """Records waiting to be written to the primary store, in the file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rejected_path = self.path.with_name(self.path.name + ".rejected")
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    # -- writing ------------------------------------------------------------------------------
    def append(self, record: MemoryRecord, *, op: str = "add") -> None:
        """Append ``record`` durably (fsync'd). A later append of the same key supersedes it;
        ``op="update"`` makes replay also rewrite an already stored copy of the record.
        Raises OSError only if the disk itself fails."""
        if op not in OPS:
            raise ValueError(f"unknown journal op {op!r}")
        line = _encode(record, op)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                prefix = b"" if _ends_with_newline(fd) else b"\n"  # seal a torn last line
                os.write(fd, prefix + line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.path.parent)

    # -- reading ------------------------------------------------------------------------------
    def pending(self) -> list[MemoryRecord]:
        """The journaled records in order, one per key (the latest append wins)."""
        entries, _ = self._read()
        return [e.record for e in entries]

    def _read(self) -> tuple[list[_Entry], list[str]]:
        """(entries one per key, unparseable lines)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        lines = data.split(b"\n")
        torn = lines.pop() if lines else b""  # text after the last newline: a torn write
        if torn.strip():
            log.warning("journal %s: ignoring a torn last line", self.path)
        by_key: dict[str, _Entry] = {}
        bad: list[str] = []
        for raw in lines:
            if not raw.strip():
                continue
            try:
                entry = _decode(raw)
            except ValueError:
                bad.append(raw.decode("utf-8", "replace"))
                continue
            earlier = by_key.pop(entry.record.key, None)  # re-insert: latest append's place
            if earlier is not None and earlier.op == "update":
                entry = _Entry(entry.record, "update")
            by_key[entry.record.key] = entry
        if torn.strip():
            bad.append(torn.decode("utf-8", "replace"))
        return list(by_key.values()), bad

    # -- replay -------------------------------------------------------------------------------
    def replay(self, store: MemoryStore) -> tuple[int, int]:
        """Write every pending record to ``store`` (whose ``add`` is idempotent by key) and
        rewrite the journal atomically with what is still pending. Stops at the first failure
        (the store is down; the rest waits for the next run). Returns (written, still pending).
        """
        with self._locked():
            entries, bad = self._read()
            if not entries and not bad:
                return 0, 0
            written = 0
            remaining: list[_Entry] = []
            for i, entry in enumerate(entries):
                try:
                    stored = store.add(entry.record)
                    if entry.op == "update":
                        store.update(entry.record.replace(id=stored.id))
                except MemoryStoreError as exc:
                    log.warning("journal replay stopped: %s", exc)
                    remaining = entries[i:]
                    break
                written += 1
            self._rewrite(remaining, bad)
            return written, len(remaining)

    def remove(self, keys: set[str]) -> int:
        """Drop the records with these keys from the journal; return how many were dropped."""
        with self._locked():
            entries, bad = self._read()
            keep = [e for e in entries if e.record.key not in keys]
            if len(keep) != len(entries) or bad:
                self._rewrite(keep, bad)
            return len(entries) - len(keep)

    def _rewrite(self, entries: list[_Entry], bad: list[str]) -> None:
        if bad:
            with self.rejected_path.open("a", encoding="utf-8") as f:
                f.write("".join(line.rstrip("\n") + "\n" for line in bad))
                f.flush()
                os.fsync(f.fileno())
        if not entries:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            _fsync_dir(self.path.parent)
            return
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b"".join(_encode(e.record, e.op) for e in entries))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.path.parent)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


class _Entry(NamedTuple):
    record: MemoryRecord
    op: str


def _encode(record: MemoryRecord, op: str) -> bytes:
    entry = {"v": VERSION, "op": op, "key": record.key, "metadata": record.to_metadata()}
    entry["text"] = record.sentence()
    return (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _decode(raw: bytes) -> _Entry:
    """The entry on one journal line; ValueError if the line is not a journal entry."""
    entry = json.loads(raw)  # JSONDecodeError is a ValueError
    if not isinstance(entry, dict) or not isinstance(entry.get("metadata"), dict):
        raise ValueError("not a journal entry")
    op = entry.get("op", "add")
    if op not in OPS:
        raise ValueError(f"unknown journal op {op!r}")
    # the metadata is complete; ``text`` is for people reading the file (passing it would turn
    # an empty ``detail`` into the sentence and change the record's key)
    return _Entry(MemoryRecord.from_metadata(entry["metadata"]), op)


def _ends_with_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    if size == 0:
        return True
    return os.pread(fd, 1, size - 1) == b"\n"


def _fsync_dir(directory: Path) -> None:
    """Make a file creation/rename durable (best effort: not every platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
