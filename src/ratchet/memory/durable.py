"""A memory store that never loses a record: a primary store backed by a local journal.

Writes go to the primary store; when it fails they go to the journal (fsync'd) and are
replayed into the primary at the start of the next run. Reads merge the primary, the journal
and what this process wrote, so a run sees its own records even while the primary is down. A
primary failure is reported once through ``on_warning`` and the rest of the run uses the
journal directly (no repeated retry delays).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from ratchet.errors import MemoryStoreError
from ratchet.memory.base import MemoryStore
from ratchet.memory.journal import RecordJournal
from ratchet.records import MemoryRecord, sort_key

JOURNAL_PREFIX = "journal:"


def warn_stderr(message: str) -> None:
    """Default warning sink: one line on stderr."""
    print(f"ratchet: warning: {message}", file=sys.stderr, flush=True)


class DurableStore:
    """MemoryStore over ``primary`` with ``journal`` as the fallback for writes.

    ``add`` and ``update`` never raise for a primary failure (the record is journaled and
    returned with id ``journal:<key>``); ``records`` and ``search`` degrade to what is known
    locally. ``delete`` raises MemoryStoreError if the primary fails (it is user-initiated).
    """

    def __init__(
        self,
        primary: MemoryStore,
        journal: RecordJournal,
        *,
        mirror: MemoryStore | None = None,
        on_warning: Callable[[str], None] = warn_stderr,
    ) -> None:
        self.primary = primary
        self.journal = journal
        self.mirror = mirror  # gets every record (best effort); read when the primary is down
        self._mirror_ok = True
        self.name = primary.name
        self._warn = on_warning
        self._local: dict[str, MemoryRecord] = {}
        self.degraded = False  # the primary failed in this process; it is bypassed

    # -- start of a run ------------------------------------------------------------------------
    def replay(self) -> tuple[int, int]:
        """Write journaled records to the primary; return (written, still pending)."""
        if self.degraded:
            return 0, len(self._pending())
        try:
            written, pending = self.journal.replay(self.primary)
        except OSError as exc:
            self._warn(f"could not read the memory journal {self.journal.path}: {exc}")
            return 0, 0
        if pending:
            self._degrade(
                f"{pending} journaled record(s) could not be written to {self.name} yet; "
                "they stay in the journal"
            )
        return written, pending

    # -- MemoryStore ---------------------------------------------------------------------------
    def records(self, task: str | None = None) -> list[MemoryRecord]:
        """Primary records merged with journaled and in-process ones (one per key), sorted."""
        merged: dict[str, MemoryRecord] = {}
        for rec in self._pending():
            if task is None or rec.task == task:
                merged[rec.key] = rec.replace(id=JOURNAL_PREFIX + rec.key)
        if not self.degraded:
            try:
                for rec in self.primary.records(task):
                    merged[rec.key] = rec
            except MemoryStoreError as exc:
                self._degrade(f"could not read memory from {self.name}: {_describe(exc)}")
        if self.degraded and self.mirror is not None:
            try:
                for rec in self.mirror.records(task):
                    merged.setdefault(rec.key, rec)
            except MemoryStoreError as exc:
                self._warn(f"could not read the {self.mirror.name} copy of memory either: "
                           f"{_describe(exc)}")
        for rec in self._local.values():
            if task is None or rec.task == task:
                merged[rec.key] = rec
        return sorted(merged.values(), key=sort_key)

    def search(self, query: str, limit: int = 5) -> list[MemoryRecord]:
        """The primary's search; [] while the primary is unavailable."""
        if self.degraded:
            return []
        try:
            return self.primary.search(query, limit)
        except MemoryStoreError as exc:
            self._degrade(f"memory search on {self.name} failed: {_describe(exc)}")
            return []

    def add(self, record: MemoryRecord) -> MemoryRecord:
        """The primary's add; on failure the record is journaled (never raises for that)."""
        known = self._local.get(record.key)
        if known is not None:
            return known
        stored: MemoryRecord | None = None
        if not self.degraded:
            try:
                stored = self.primary.add(record)
            except MemoryStoreError as exc:
                self._degrade(f"could not write memory to {self.name}: {_describe(exc)}")
        if stored is None:
            stored = self._journal(record, "add")
        self._local[stored.key] = stored
        self._mirror_put(stored)
        return stored

    def update(self, record: MemoryRecord) -> MemoryRecord:
        """The primary's update; journaled (as an update) when the record is only in the
        journal or the primary fails."""
        stored: MemoryRecord | None = None
        if not self.degraded and not record.id.startswith(JOURNAL_PREFIX):
            try:
                stored = self.primary.update(record)
            except MemoryStoreError as exc:
                self._degrade(f"could not update memory on {self.name}: {_describe(exc)}")
        if stored is None:
            stored = self._journal(record, "update")
        self._local[stored.key] = stored
        self._mirror_put(stored)
        return stored

    def delete(self, ids: list[str]) -> int:
        """Delete from the journal (``journal:`` ids) and the primary (the others)."""
        journal_keys = {i[len(JOURNAL_PREFIX) :] for i in ids if i.startswith(JOURNAL_PREFIX)}
        others = [i for i in ids if i and not i.startswith(JOURNAL_PREFIX)]
        deleted = self.journal.remove(journal_keys) if journal_keys else 0
        if others:
            deleted += self.primary.delete(others)
        gone = set(ids)
        gone_keys = {r.key for r in self._local.values() if r.id in gone} | journal_keys
        self._local = {k: r for k, r in self._local.items() if r.id not in gone}
        if self.mirror is not None:
            try:
                keys = gone_keys | {r.key for r in self.primary.records() if r.id in gone}
                mine = [r.id for r in self.mirror.records() if r.key in keys]
                if mine:
                    self.mirror.delete(mine)
            except MemoryStoreError as exc:
                self._warn(f"could not delete from the {self.mirror.name} copy: {_describe(exc)}")
        return deleted

    # -- internals -----------------------------------------------------------------------------
    def _mirror_put(self, record: MemoryRecord) -> None:
        """Write-through to the mirror; its ids are its own (derived from the key)."""
        if self.mirror is None or not self._mirror_ok:
            return
        try:
            copy = self.mirror.add(record.replace(id=""))
            wanted = record.replace(id=copy.id)
            if copy != wanted:
                self.mirror.update(wanted)
        except MemoryStoreError as exc:
            self._mirror_ok = False
            self._warn(f"could not copy memory to {self.mirror.name}: {_describe(exc)}")

    def _journal(self, record: MemoryRecord, op: str) -> MemoryRecord:
        try:
            self.journal.append(record, op=op)
        except OSError as exc:
            self._warn(
                f"could not write the memory journal {self.journal.path}: {exc}; "
                "this record is kept only for the current run"
            )
        return record.replace(id=JOURNAL_PREFIX + record.key)

    def _pending(self) -> list[MemoryRecord]:
        try:
            return self.journal.pending()
        except OSError as exc:
            self._warn(f"could not read the memory journal {self.journal.path}: {exc}")
            return []

    def _degrade(self, message: str) -> None:
        if not self.degraded:
            self.degraded = True
            self._warn(
                f"{message}. Memory goes to the journal {self.journal.path} for the rest of "
                "this run and is written on the next one."
            )


class UnavailableStore:
    """A primary that could not even be opened (e.g. Mem0 unreachable at the start of a run):
    every call raises ``error``, so a DurableStore over it journals everything."""

    def __init__(self, name: str, error: MemoryStoreError) -> None:
        self.name = name
        self.error = error

    def records(self, task: str | None = None) -> list[MemoryRecord]:
        raise self.error

    def search(self, query: str, limit: int = 5) -> list[MemoryRecord]:
        raise self.error

    def add(self, record: MemoryRecord) -> MemoryRecord:
        raise self.error

    def update(self, record: MemoryRecord) -> MemoryRecord:
        raise self.error

    def delete(self, ids: list[str]) -> int:
        raise self.error


def _describe(exc: MemoryStoreError) -> str:
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message
