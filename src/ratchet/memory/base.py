"""The memory-store interface. Every backend (local file, Mem0, git ledger) implements it."""

from __future__ import annotations

from typing import Protocol

from ratchet.records import MemoryRecord


class MemoryStore(Protocol):
    #: short name shown to users: "local", "mem0", "ledger"
    name: str

    def records(self, task: str | None = None) -> list[MemoryRecord]:
        """Every record (of one task, or all), sorted by (attempt, created_at). Deterministic."""
        ...

    def search(self, query: str, limit: int = 5) -> list[MemoryRecord]:
        """The most relevant repository-wide records for ``query`` (any task), best first."""
        ...

    def add(self, record: MemoryRecord) -> MemoryRecord:
        """Store ``record`` idempotently (same ``record.key`` → same stored record) and return
        it with its ``id`` set. Raises MemoryStoreError when the backend fails."""
        ...

    def update(self, record: MemoryRecord) -> MemoryRecord:
        """Replace the stored record with the same id (e.g. to add the commit or PR number)."""
        ...

    def delete(self, ids: list[str]) -> int:
        """Delete records by id; return how many were deleted."""
        ...
