"""DurableStore: a Mem0 outage never loses a record, and the next run writes it exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ratchet.errors import MemoryStoreError
from ratchet.memory.durable import DurableStore, UnavailableStore
from ratchet.memory.journal import Journal
from ratchet.memory.mem0_store import Mem0Store
from ratchet.records import MemoryRecord
from tests.fakes.mem0_server import DEFAULT_KEY, FakeMem0Server
from tests.fakes.stores import ListStore

UID = "ratchet:octo/app"


@pytest.fixture
def server() -> Iterator[FakeMem0Server]:
    with FakeMem0Server() as srv:
        yield srv


def mem0(server: FakeMem0Server, tmp_path: Path, **kw: Any) -> Mem0Store:
    opts: dict[str, Any] = {"timeout": 0.5, "max_attempts": 2, "backoff_base": 0.0}
    opts.update(kw)
    return Mem0Store(
        DEFAULT_KEY,
        host=server.url,
        user_id=UID,
        state_dir=tmp_path / "state",
        sleep=lambda s: None,
        **opts,
    )


def rec(n: int, task: str = "issue-1", run: str = "run-1", **kw: Any) -> MemoryRecord:
    return MemoryRecord(
        kind="attempt",
        task=task,
        attempt=n,
        run_id=run,
        outcome="improved",
        title=f"idea {n}",
        created_at=f"2025-02-01T00:00:{n:02d}.000000Z",
        **kw,
    )


def test_an_outage_journals_and_the_next_run_writes_exactly_once(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "state" / "memory-journal.jsonl")
    warnings: list[str] = []

    # run 1: Mem0 goes down after the store was opened
    run1 = DurableStore(mem0(server, tmp_path), journal, on_warning=warnings.append)
    assert run1.replay() == (0, 0)
    server.outage = True
    stored = run1.add(rec(1))
    assert stored.id == f"journal:{stored.key}"
    assert run1.degraded and len(warnings) == 1 and "journal" in warnings[0]
    requests_before = len(server.requests)
    second = run1.add(rec(2))  # straight to the journal: no more retry delays this run
    assert second.id.startswith("journal:") and len(server.requests) == requests_before
    assert [r.attempt for r in run1.records("issue-1")] == [1, 2]
    assert run1.search("idea") == []
    assert len(journal.pending()) == 2 and server.memories == {}

    # run 2: Mem0 is back; the journal is replayed, then the run sees everything
    server.outage = False
    run2 = DurableStore(mem0(server, tmp_path), journal, on_warning=warnings.append)
    assert run2.replay() == (2, 0)
    assert journal.pending() == []
    assert sorted(m["metadata"]["attempt"] for m in server.memories_of(UID)) == [1, 2]
    got = run2.records("issue-1")
    assert [r.attempt for r in got] == [1, 2] and not got[0].id.startswith("journal:")

    # run 3: nothing left to replay, nothing duplicated
    run3 = DurableStore(mem0(server, tmp_path), journal)
    assert run3.replay() == (0, 0)
    run3.add(rec(1))
    assert len(server.memories_of(UID)) == 2


def test_a_replayed_write_that_had_landed_is_not_duplicated(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    """The write reached Mem0 but every reply was lost: journaled, replayed, still one memory."""
    journal = Journal(tmp_path / "j.jsonl")
    server.hang(2.0, times=1, path="/v3/memories/add/", apply=True)
    server.hang(2.0, times=5, path="/v3/memories/", after=1)  # the check before the write passes
    run1 = DurableStore(mem0(server, tmp_path, timeout=0.2), journal, on_warning=lambda m: None)
    assert run1.add(rec(1)).id.startswith("journal:")
    assert len(server.memories_of(UID)) == 1
    server.faults.clear()
    run2 = DurableStore(mem0(server, tmp_path), journal)
    assert run2.replay() == (1, 0)
    assert len(server.memories_of(UID)) == 1


def test_mem0_unreachable_at_start_still_keeps_records(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(rec(1, run="run-0"))
    warnings: list[str] = []
    store = DurableStore(
        UnavailableStore("mem0", MemoryStoreError("cannot connect to http://x")),
        journal,
        on_warning=warnings.append,
    )
    assert store.replay() == (0, 1)
    assert store.add(rec(2)).id.startswith("journal:")
    assert [r.attempt for r in store.records("issue-1")] == [1, 2]
    assert store.search("anything") == []
    assert len(warnings) == 1 and "1 journaled record(s)" in warnings[0]


def test_failed_recall_degrades_to_journal_and_own_records(tmp_path: Path) -> None:
    primary = ListStore()
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(rec(1, run="run-0"))
    store = DurableStore(primary, journal, on_warning=lambda m: None)
    store.add(rec(2))
    primary.stored[rec(3).key] = rec(3).replace(id="p3")

    assert [r.attempt for r in store.records("issue-1")] == [1, 2, 3]
    assert [r.attempt for r in store.records("other")] == []

    def broken(task: str | None = None) -> list[MemoryRecord]:
        raise MemoryStoreError("down")

    primary.records = broken  # type: ignore[method-assign]
    assert [r.attempt for r in store.records("issue-1")] == [1, 2]
    assert store.degraded


def test_primary_records_win_over_journal_copies(tmp_path: Path) -> None:
    primary = ListStore()
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(rec(1))
    primary.add(rec(1))
    [only] = DurableStore(primary, journal).records()
    assert only.id == f"id-{rec(1).key}"


def test_updating_a_journaled_record_journals_the_update(tmp_path: Path) -> None:
    primary = ListStore(fail_after=0)
    journal = Journal(tmp_path / "j.jsonl")
    store = DurableStore(primary, journal, on_warning=lambda m: None)
    stored = store.add(rec(1))
    updated = store.update(stored.replace(commit="abc"))
    assert updated.id == stored.id and store.records()[0].commit == "abc"

    primary.fail_after = None
    assert DurableStore(primary, journal).replay() == (1, 0)
    assert primary.stored[rec(1).key].commit == "abc"


def test_a_failed_update_is_journaled(tmp_path: Path) -> None:
    primary = ListStore(fail_after=1)
    journal = Journal(tmp_path / "j.jsonl")
    store = DurableStore(primary, journal, on_warning=lambda m: None)
    stored = store.add(rec(1))
    assert stored.id == f"id-{rec(1).key}"
    updated = store.update(stored.replace(pr=9))
    assert updated.id.startswith("journal:")
    primary.fail_after = None
    assert DurableStore(primary, journal).replay() == (1, 0)
    assert primary.stored[rec(1).key].pr == 9


def test_delete_removes_journaled_records_and_asks_the_primary(tmp_path: Path) -> None:
    primary = ListStore(fail_after=0)
    journal = Journal(tmp_path / "j.jsonl")
    store = DurableStore(primary, journal, on_warning=lambda m: None)
    journaled = store.add(rec(1))
    assert store.delete([journaled.id]) == 1
    assert journal.pending() == [] and store.records() == []
