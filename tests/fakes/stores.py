"""In-process doubles of the MemoryStore interface."""

from __future__ import annotations

from ratchet.errors import MemoryStoreError
from ratchet.records import MemoryRecord


class ListStore:
    """A small in-memory MemoryStore; ``fail_after`` adds succeed, then it is down."""

    name = "list"

    def __init__(self, fail_after: int | None = None) -> None:
        self.stored: dict[str, MemoryRecord] = {}
        self.updates: list[MemoryRecord] = []
        self.fail_after = fail_after
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise MemoryStoreError("store is down")

    def records(self, task: str | None = None) -> list[MemoryRecord]:
        return [r for r in self.stored.values() if task is None or r.task == task]

    def search(self, query: str, limit: int = 5) -> list[MemoryRecord]:
        return []

    def add(self, record: MemoryRecord) -> MemoryRecord:
        self._check()
        return self.stored.setdefault(record.key, record.replace(id=f"id-{record.key}"))

    def update(self, record: MemoryRecord) -> MemoryRecord:
        self._check()
        self.updates.append(record)
        self.stored[record.key] = record.replace(id=f"id-{record.key}")
        return self.stored[record.key]

    def delete(self, ids: list[str]) -> int:
        return 0
