"""The journal of last resort in CI: records Mem0 could not take go to the git ledger.

A GitHub-hosted runner's disk is thrown away after the job, so a file journal would not survive
to the next run. This adapter gives :class:`DurableStore` the Journal interface on top of a
:class:`LedgerStore` (a separate file on the ``ratchet/ledger`` branch, pushed to origin), and
falls back to a local file journal when even the push fails.
"""

from __future__ import annotations

from pathlib import Path

from ratchet.errors import MemoryStoreError
from ratchet.memory.base import MemoryStore
from ratchet.memory.journal import Journal
from ratchet.memory.ledger import LedgerStore
from ratchet.records import MemoryRecord


class LedgerJournal:
    def __init__(self, ledger: LedgerStore, local: Journal) -> None:
        self.ledger = ledger
        self.local = local
        self.path: Path = local.path  # for messages

    def append(self, record: MemoryRecord, *, op: str = "add") -> None:
        try:
            if op == "update":
                self.ledger.update(self.ledger.add(record).replace(**_fields(record)))
            else:
                self.ledger.add(record)
        except MemoryStoreError:
            self.local.append(record, op=op)

    def pending(self) -> list[MemoryRecord]:
        merged = {r.key: r for r in self._ledger_records()}
        for r in self.local.pending():
            merged[r.key] = r
        return list(merged.values())

    def replay(self, store: MemoryStore) -> tuple[int, int]:
        written, pending = self.local.replay(store)
        if pending:
            return written, pending + len(self._ledger_records())
        done: list[str] = []
        left = 0
        for rec in self._ledger_records():
            try:
                stored = store.add(rec)
                if rec.commit or rec.pr is not None:
                    store.update(rec.replace(id=stored.id))
            except MemoryStoreError:
                left += 1
                break
            done.append(rec.id)
            written += 1
        if done:
            try:
                self.ledger.delete(done)
            except MemoryStoreError:
                pass  # written again next time: adds are idempotent by key
        return written, left

    def remove(self, keys: set[str]) -> int:
        n = self.local.remove(keys)
        ids = [r.id for r in self._ledger_records() if r.key in keys]
        if ids:
            try:
                n += self.ledger.delete(ids)
            except MemoryStoreError as exc:
                raise OSError(str(exc)) from exc
        return n

    def _ledger_records(self) -> list[MemoryRecord]:
        try:
            return self.ledger.records()
        except MemoryStoreError as exc:
            raise OSError(str(exc)) from exc


def _fields(record: MemoryRecord) -> dict[str, object]:
    return {"commit": record.commit, "pr": record.pr}
