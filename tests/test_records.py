from __future__ import annotations

import pytest

from ratchet.records import MemoryRecord


def test_metadata_round_trip() -> None:
    r = MemoryRecord(kind="attempt", task="t", attempt=3, outcome="improved", title="Add search",
                     score_before=10, score_after=40, patch_sha256="ab" * 32,
                     files=("a.py", "b.py"), failing=("tests/x.py::y",), run_id="r1")
    meta = r.to_metadata()
    assert all(not isinstance(v, (list, dict)) for v in meta.values())
    back = MemoryRecord.from_metadata(meta, id="m1")
    assert back.replace(id="") == r
    assert back.id == "m1"


def test_hand_written_and_old_records_are_tolerated() -> None:
    r = MemoryRecord.from_metadata({"kind": "attempt", "task": "t", "attempt": "2",
                                    "score_before": "x", "files": ["a", 3]})
    assert r.attempt == 2 and r.score_before is None and r.files == ("a", "3")


@pytest.mark.parametrize("meta", [{}, {"kind": "note", "task": "t"}, {"kind": "attempt"}, "x"])
def test_foreign_records_are_refused(meta: object) -> None:
    with pytest.raises(ValueError):
        MemoryRecord.from_metadata(meta)  # type: ignore[arg-type]


def test_sentence_is_unique_per_run_and_attempt() -> None:
    a = MemoryRecord(kind="attempt", task="t", attempt=1, outcome="regressed", run_id="r1")
    b = a.replace(attempt=2)
    assert a.sentence() != b.sentence()
    assert a.key != b.key
    assert "regressed" in a.sentence()
