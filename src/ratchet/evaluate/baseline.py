"""A cache of baseline test runs, so an unchanged base commit is not tested twice.

One JSON file per (commit, command), named ``sha256(commit + "\\0" + command).json``, written
atomically (temporary file + ``os.replace``). A missing, unreadable, corrupt or mismatching
file is a miss, never an error. Only completed runs (status ``ran``) are stored: a timeout or
crash may be transient and is retried next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ratchet.evaluate.report import ERROR, FAILED, PASSED, SKIPPED, SuiteRun

SCHEMA_VERSION = 3
_STATUSES = frozenset({PASSED, FAILED, ERROR, SKIPPED})
_FIELDS = {f.name: f for f in fields(SuiteRun)}


def cache_key(commit: str, command: str) -> str:
    """The file stem for (commit, command): a hex sha256."""
    return hashlib.sha256(f"{commit}\0{command}".encode()).hexdigest()


def _decode(data: Any, commit: str, command: str) -> SuiteRun | None:
    """A SuiteRun from the stored JSON object, or None if anything is off."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
        return None
    if data.get("commit") != commit or data.get("command") != command:
        return None
    run = data.get("run")
    if not isinstance(run, dict) or set(run) != set(_FIELDS):
        return None
    tests = run["tests"]
    if not isinstance(tests, dict) or not all(
        isinstance(k, str) and v in _STATUSES for k, v in tests.items()
    ):
        return None
    ints = ("passed", "failed", "errors", "skipped")
    if not all(isinstance(run[k], int) and not isinstance(run[k], bool) for k in ints):
        return None
    if not (
        isinstance(run["status"], str)
        and isinstance(run["source"], str)
        and isinstance(run["output"], str)
        and isinstance(run["duration"], int | float)
        and (run["exit_code"] is None or isinstance(run["exit_code"], int))
        and isinstance(run["runner"], str)
        and isinstance(run["partial"], bool)
        and isinstance(run["failed_outside_tests"], bool)
    ):
        return None
    return SuiteRun(**run)


class BaselineCache:
    """Baseline runs on disk under ``directory`` (created on first write)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, commit: str, command: str) -> Path:
        return self.directory / f"{cache_key(commit, command)}.json"

    def get(self, commit: str, command: str) -> SuiteRun | None:
        """The stored run for (commit, command), or None on a miss or an unusable file."""
        try:
            text = self._path(commit, command).read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, ValueError):
            return None
        try:
            return _decode(data, commit, command)
        except (TypeError, KeyError):
            return None

    def put(self, commit: str, command: str, run: SuiteRun) -> bool:
        """Store ``run`` for (commit, command) atomically.

        Returns True if stored, False if the run did not complete (not cached on purpose).
        Raises OSError if the directory cannot be created or written.
        """
        if not run.ok:
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {"schema": SCHEMA_VERSION, "commit": commit, "command": command,
                   "run": asdict(run)}
        target = self._path(commit, command)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return True
