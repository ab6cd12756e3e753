"""jest (also ``react-scripts test``): per-test results from ``--json --outputFile``.

Ids are ``<file relative to the project root>::<describe> > <test>``; a test file that fails
to run (a syntax or import error) is ``<file>`` with status error. The console output stays
jest's own.

Select: ``-t '^(<full name>|...)$'`` (jest matches it against the describe titles and the test
title joined by spaces) plus the test files as path patterns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from ratchet.evaluate import shell
from ratchet.evaluate.report import ERROR, FAILED, PASSED, SKIPPED
from ratchet.evaluate.runners.base import (
    CollectContext,
    Collected,
    Instrumented,
    Invocation,
    Runner,
    has_option,
    merge,
    undoing,
)

REPORT = "jest.json"
MAX_BYTES = 64 * 1024 * 1024
_STATUS = {"passed": PASSED, "failed": FAILED}
SEP = " > "


def name_pattern(ids: Sequence[str]) -> tuple[str, list[str]]:
    """(``-t`` regex over full names, file path patterns) for the ids ``file::a > b``."""
    names, files = [], []
    for test_id in ids:
        file, _, name = test_id.partition("::")
        names.append(re.escape(" ".join(name.split(SEP))))
        files.append(re.escape(file) + "$")
    return "^(" + "|".join(sorted(set(names))) + ")$", sorted(set(files))


def read_json(path: Path) -> object | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def parse_report(data: object, relative) -> dict[str, str] | None:  # noqa: ANN001
    """``{id: status}`` from jest's JSON result object; None if it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("testResults"), list):
        return None
    tests: dict[str, str] = {}
    for suite in data["testResults"]:
        if not isinstance(suite, dict):
            continue
        file = relative(str(suite.get("name") or suite.get("testFilePath") or "?"))
        cases = suite.get("assertionResults") or []
        for case in cases if isinstance(cases, list) else []:
            if not isinstance(case, dict):
                continue
            titles = [str(t) for t in case.get("ancestorTitles") or []]
            titles.append(str(case.get("title", "")))
            status = _STATUS.get(str(case.get("status")), SKIPPED)
            merge(tests, f"{file}::{SEP.join(titles)}", status)
        if suite.get("status") == "failed" and (suite.get("testExecError") or not cases):
            merge(tests, file, ERROR)
    return tests


class Jest(Runner):
    name = "jest"
    results_via = "jest --json --outputFile"

    def matches(self, prog: shell.Program) -> bool:
        if prog.name in ("jest", "jest.js"):
            return True
        return prog.name in ("react-scripts", "craco") and prog.words[1:2] == ("test",)

    def _plan(self, inv: Invocation, extra: list[str], note: str) -> Instrumented:
        return undoing(inv, extra, note, ("--bail", "-b"), "--bail=0")

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        if has_option(inv.args, "--json", "--outputFile", "--watch", "--watchAll"):
            return None
        return self._plan(inv, ["--json", f"--outputFile={out / REPORT}"], "--json --outputFile")

    def collect(self, ctx: CollectContext) -> Collected | None:
        tests = parse_report(read_json(ctx.out / REPORT), ctx.relative)
        return Collected(tests, "jest json") if tests is not None else None

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids or any("::" not in i for i in ids) or self.instrument(inv, out) is None:
            return None
        pattern, files = name_pattern(ids)
        return self._plan(inv, ["--json", f"--outputFile={out / REPORT}", "-t", pattern, *files],
                          f"rerun of {len(ids)} test(s) with -t")


RUNNER = Jest()
