"""The local memory store: a JSON-lines file under the repository's git directory.

It survives restarts (it lives in ``.git/ratchet/memory.jsonl``, outside the working tree),
writes are atomic (temp file + rename under an exclusive lock), and adds are idempotent by
``MemoryRecord.key``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ratchet.errors import MemoryStoreError
from ratchet.memory.rank import rank
from ratchet.records import MemoryRecord, sort_key

MAX_LINE = 64 * 1024


def record_id(key: str) -> str:
    return "loc-" + hashlib.sha256(key.encode()).hexdigest()[:20]


class LocalStore:
    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped = 0  # unreadable lines seen by the last read

    # -- file handling ---------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, MemoryRecord]:
        out: dict[str, MemoryRecord] = {}
        self.skipped = 0
        try:
            fh = open(self.path, encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return out
        with fh:
            for line in fh:
                if len(line) > MAX_LINE:
                    self.skipped += 1
                    continue
                try:
                    obj = json.loads(line)
                    rec = MemoryRecord.from_metadata(obj["metadata"], id=obj["id"])
                except (ValueError, KeyError, TypeError):
                    self.skipped += 1
                    continue
                out[rec.id] = rec
        return out

    def _write(self, records: dict[str, MemoryRecord]) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                for rec in sorted(records.values(), key=lambda r: (r.task, *sort_key(r), r.id)):
                    line = {"id": rec.id, "text": rec.sentence(), "metadata": rec.to_metadata()}
                    fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise MemoryStoreError(
                f"could not write the local memory file {self.path}: {exc}",
                "check the disk space and permissions of the repository's .git directory",
            ) from exc

    # -- MemoryStore -----------------------------------------------------------------------
    def records(self, task: str | None = None) -> list[MemoryRecord]:
        recs = [r for r in self._read().values() if task is None or r.task == task]
        return sorted(recs, key=lambda r: (*sort_key(r), r.id))

    def search(self, query: str, limit: int = 5) -> list[MemoryRecord]:
        return rank(list(self._read().values()), query, limit)

    def add(self, record: MemoryRecord) -> MemoryRecord:
        rec = record.replace(id=record_id(record.key))
        with self._locked():
            records = self._read()
            if rec.id in records:
                return records[rec.id]
            records[rec.id] = rec
            self._write(records)
        return rec

    def update(self, record: MemoryRecord) -> MemoryRecord:
        if not record.id:
            raise MemoryStoreError("cannot update a record without an id")
        with self._locked():
            records = self._read()
            records[record.id] = record
            self._write(records)
        return record

    def delete(self, ids: list[str]) -> int:
        with self._locked():
            records = self._read()
            n = 0
            for i in ids:
                if records.pop(i, None) is not None:
                    n += 1
            if n:
                self._write(records)
        return n
