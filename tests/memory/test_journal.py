"""The durable journal: fsync'd appends, torn lines, atomic replay."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ratchet.memory.journal import Journal
from ratchet.records import MemoryRecord
from tests.fakes.stores import ListStore


def rec(n: int, **kw: object) -> MemoryRecord:
    return MemoryRecord(
        kind="attempt",
        task="t",
        attempt=n,
        run_id="r1",
        title=f"idea {n}",
        created_at=f"2025-01-01T00:00:{n:02d}.000000Z",
        **kw,
    )  # type: ignore[arg-type]


def test_append_and_pending_roundtrip(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state" / "journal.jsonl")
    assert journal.pending() == []
    a = rec(1, files=("a.py", "b.py"), score_before=10, score_after=12, pr=3)
    journal.append(a)
    journal.append(rec(2))
    assert journal.pending() == [a, rec(2)]
    lines = journal.path.read_text().splitlines()
    assert [json.loads(x)["key"] for x in lines] == [a.key, rec(2).key]


def test_appends_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    Journal(tmp_path / "j.jsonl").append(rec(1))
    assert len(synced) >= 2  # the file, and the directory that now holds it


def test_the_latest_append_of_a_key_wins(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(rec(1))
    journal.append(rec(2))
    journal.append(rec(1, commit="abc"))
    assert [(r.attempt, r.commit) for r in journal.pending()] == [(2, ""), (1, "abc")]


def test_a_torn_last_line_is_ignored_and_sealed(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(rec(1))
    with journal.path.open("ab") as f:
        f.write(b'{"v":1,"op":"add","key":"attempt:t:r1:2","metadata":{"kind":"att')  # crash
    assert journal.pending() == [rec(1)]
    journal.append(rec(3))
    assert journal.pending() == [rec(1), rec(3)]
    written, pending = journal.replay(ListStore())
    assert (written, pending) == (2, 0)
    assert 'kind":"att' in journal.rejected_path.read_text()  # kept for a person to inspect


def test_replay_writes_everything_once_and_empties_the_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    for n in (1, 2, 3):
        journal.append(rec(n))
    store = ListStore()
    assert journal.replay(store) == (3, 0)
    assert not journal.path.exists() and journal.pending() == []
    assert sorted(store.stored) == sorted(rec(n).key for n in (1, 2, 3))
    assert journal.replay(store) == (0, 0)
    assert store.calls == 3


def test_replay_stops_at_the_first_failure_and_keeps_the_rest(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    for n in (1, 2, 3):
        journal.append(rec(n))
    store = ListStore(fail_after=1)
    assert journal.replay(store) == (1, 2)
    assert store.calls == 2  # did not hammer a store that is down
    assert journal.pending() == [rec(2), rec(3)]
    store.fail_after = None
    assert journal.replay(store) == (2, 0)
    assert len(store.stored) == 3


def test_replay_of_an_update_rewrites_a_stored_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    store = ListStore()
    store.add(rec(1))
    journal.append(rec(1, commit="abc"), op="update")
    assert journal.replay(store) == (1, 0)
    assert store.stored[rec(1).key].commit == "abc"
    assert [u.commit for u in store.updates] == ["abc"]


def test_an_add_then_update_replays_as_an_update(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(rec(1), op="update")
    journal.append(rec(1, pr=5))  # a later plain append keeps the pending update
    store = ListStore()
    assert journal.replay(store) == (1, 0)
    assert store.stored[rec(1).key].pr == 5 and len(store.updates) == 1


def test_a_corrupt_middle_line_is_moved_aside(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(rec(1))
    with journal.path.open("a") as f:
        f.write("not json at all\n")
    journal.append(rec(2))
    assert journal.pending() == [rec(1), rec(2)]
    assert journal.replay(ListStore(fail_after=0)) == (0, 2)
    assert journal.pending() == [rec(1), rec(2)]
    assert journal.rejected_path.read_text() == "not json at all\n"
    assert "not json" not in journal.path.read_text()


def test_records_of_every_kind_keep_their_key(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    originals = [
        rec(1, detail="x" * 100),
        MemoryRecord(kind="feedback", task="t", run_id="r", detail="please use a helper"),
        MemoryRecord(kind="outcome", task="t", run_id="r", outcome="accepted"),  # empty detail
    ]
    for r in originals:
        journal.append(r)
    assert [r.key for r in journal.pending()] == [r.key for r in originals]


def test_remove_drops_keys(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(rec(1))
    journal.append(rec(2))
    assert journal.remove({rec(1).key, "nope"}) == 1
    assert journal.pending() == [rec(2)]
