"""The on-disk cache of baseline runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ratchet.evaluate.baseline import BaselineCache, cache_key
from ratchet.evaluate.report import FAILED, PASSED, RAN, TIMEOUT, SuiteRun

SHA = "0123456789abcdef0123456789abcdef01234567"
RUN = SuiteRun(
    status=RAN,
    exit_code=1,
    duration=2.5,
    tests={"tests/test_a.py::test_x": PASSED, "tests/test_a.py::test_y[1]": FAILED},
    source="junit",
    passed=1,
    failed=1,
    output="1 failed, 1 passed in 0.1s — ünïcode",
)


def test_roundtrip_and_keys(tmp_path: Path) -> None:
    cache = BaselineCache(tmp_path / "cache")
    assert cache.get(SHA, "pytest") is None
    assert cache.put(SHA, "pytest", RUN) is True
    assert cache.get(SHA, "pytest") == RUN
    assert cache.get(SHA, "pytest -q") is None  # another command
    assert cache.get("f" * 40, "pytest") is None  # another commit
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert files == [f"{cache_key(SHA, 'pytest')}.json"]  # no temporary files left behind
    assert cache_key(SHA, "pytest") != cache_key(SHA + "p", "ytest")


def test_overwrite_replaces(tmp_path: Path) -> None:
    cache = BaselineCache(tmp_path)
    cache.put(SHA, "pytest", RUN)
    newer = SuiteRun(RAN, 0, 1.0, tests={"t": PASSED}, source="junit", passed=1)
    cache.put(SHA, "pytest", newer)
    assert cache.get(SHA, "pytest") == newer


def test_incomplete_runs_are_not_cached(tmp_path: Path) -> None:
    cache = BaselineCache(tmp_path)
    assert cache.put(SHA, "pytest", SuiteRun(TIMEOUT, None, 900.0)) is False
    assert cache.get(SHA, "pytest") is None


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"schema": 999}',
        "",
        "\udcff",
    ],
)
def test_corrupt_files_are_misses(tmp_path: Path, content: str) -> None:
    cache = BaselineCache(tmp_path)
    path = tmp_path / f"{cache_key(SHA, 'pytest')}.json"
    path.write_bytes(content.encode("utf-8", errors="surrogateescape"))
    assert cache.get(SHA, "pytest") is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tests", {"t": "exploded"}),
        ("passed", "3"),
        ("exit_code", "1"),
        ("status", None),
    ],
)
def test_tampered_fields_are_misses(tmp_path: Path, field: str, value: object) -> None:
    cache = BaselineCache(tmp_path)
    cache.put(SHA, "pytest", RUN)
    path = tmp_path / f"{cache_key(SHA, 'pytest')}.json"
    data = json.loads(path.read_text())
    data["run"][field] = value
    path.write_text(json.dumps(data))
    assert cache.get(SHA, "pytest") is None
    data["run"].pop(field)
    path.write_text(json.dumps(data))
    assert cache.get(SHA, "pytest") is None


def test_a_file_for_another_key_is_a_miss(tmp_path: Path) -> None:
    cache = BaselineCache(tmp_path)
    cache.put(SHA, "pytest", RUN)
    src = tmp_path / f"{cache_key(SHA, 'pytest')}.json"
    (tmp_path / f"{cache_key(SHA, 'make test')}.json").write_text(src.read_text())
    assert cache.get(SHA, "make test") is None
