from __future__ import annotations

import json
import threading
from pathlib import Path

from ratchet.memory.local import LocalStore
from ratchet.records import MemoryRecord


def rec(task: str, n: int, **kw: object) -> MemoryRecord:
    return MemoryRecord(kind="attempt", task=task, attempt=n, outcome="improved", run_id="r",
                        title=f"step {n}", **kw)  # type: ignore[arg-type]


def test_add_is_idempotent_and_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    s = LocalStore(path)
    a = s.add(rec("t", 1))
    again = s.add(rec("t", 1))
    assert a.id == again.id
    s.add(rec("t", 2))
    s.add(rec("other", 1))
    fresh = LocalStore(path)
    assert [r.attempt for r in fresh.records("t")] == [1, 2]
    assert len(fresh.records()) == 3


def test_update_delete_and_search(tmp_path: Path) -> None:
    s = LocalStore(tmp_path / "m.jsonl")
    a = s.add(rec("t", 1, detail="favorites persisted to json"))
    s.update(a.replace(commit="abc123"))
    assert s.records("t")[0].commit == "abc123"
    s.add(rec("u", 1, detail="search by ingredient"))
    hits = s.search("ingredient search", 5)
    assert [h.task for h in hits] == ["u"]
    assert s.delete([a.id, "nope"]) == 1
    assert s.records("t") == []


def test_corrupt_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    s = LocalStore(path)
    s.add(rec("t", 1))
    with open(path, "a") as fh:
        fh.write("{not json\n")
        fh.write(json.dumps({"id": "x", "metadata": {"kind": "zzz"}}) + "\n")
    assert len(s.records("t")) == 1
    assert s.skipped == 2


def test_concurrent_adds_all_survive(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"

    def worker(task: str) -> None:
        store = LocalStore(path)
        for n in range(1, 16):
            store.add(rec(task, n))

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(LocalStore(path).records()) == 45
