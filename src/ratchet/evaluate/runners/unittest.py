"""unittest (``python -m unittest``): per-test results from its verbose output.

Instrument: append ``-v``; every test then prints ``name (module.Class.name) ... ok`` (the
docstring's first line may come between), and failures add ``FAIL: name (id)`` headers
(subtests included). Ids are the dotted test ids, ``tests.test_x.TestK.test_y``; a module that
fails to import is ``tests.test_x``.

Select: ``-k <id>`` per test (unittest matches it as a substring of the id; extra matches run
but are not read).
"""

from __future__ import annotations

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
)
from ratchet.evaluate.summary import strip_ansi

_HEAD = re.compile(r"^(?P<name>[\w.]+) \((?P<where>[\w.]+)\)(?P<rest>.*)$")
_STATUS = re.compile(
    r"\.\.\. (?P<status>ok|FAIL|ERROR|skipped\b.*|expected failure|unexpected success)\s*$"
)
_BLOCK = re.compile(
    r"^(?P<kind>FAIL|ERROR|UNEXPECTED SUCCESS): (?P<name>\S+) \((?P<where>[\w.]+)\)"
)
_FAILED_IMPORT = "unittest.loader._FailedTest."
_WORDS = {"ok": PASSED, "FAIL": FAILED, "ERROR": ERROR, "expected failure": SKIPPED,
          "unexpected success": FAILED}


def _id(name: str, where: str) -> str:
    if where.startswith(_FAILED_IMPORT):
        return where[len(_FAILED_IMPORT) :]
    if where == name or where.endswith("." + name):
        return where  # Python 3.11+: the full id
    return f"{where}.{name}"  # Python ≤3.10: module.Class


def parse_verbose(output: str, root: str = "") -> Collected | None:
    """Per-test results from ``unittest -v`` output; None without any verbose test line."""
    tests: dict[str, str] = {}
    pending: str | None = None
    for line in strip_ansi(output).splitlines():
        block = _BLOCK.match(line)
        if block:
            kind = ERROR if block["kind"] == "ERROR" else FAILED
            merge(tests, _id(block["name"], block["where"]), kind)
            pending = None
            continue
        head = _HEAD.match(line)
        if head:
            pending = _id(head["name"], head["where"])
            line = head["rest"]
        if pending is None:
            continue
        status = _STATUS.search(line)
        if status:
            word = status["status"]
            merge(tests, pending, SKIPPED if word.startswith("skipped") else _WORDS[word])
            pending = None
        elif line.rstrip().endswith(" ..."):
            merge(tests, pending, PASSED)  # subtests follow: their FAIL blocks override
            pending = None
    return Collected(tests, "unittest -v") if tests else None


class Unittest(Runner):
    name = "unittest"
    results_via = "verbose output (-v)"

    def matches(self, prog: shell.Program) -> bool:
        return prog.name == "unittest" and "python" in " ".join(prog.via)

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        if has_option(inv.args, "-v", "--verbose"):
            return Instrumented(inv.command)
        return Instrumented(inv.append(["-v"]), note="-v")

    def collect(self, ctx: CollectContext) -> Collected | None:
        return parse_verbose(ctx.output)

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids:
            return None
        extra = [] if has_option(inv.args, "-v", "--verbose") else ["-v"]
        for test_id in ids:
            extra += ["-k", test_id]
        return Instrumented(inv.append(extra), note=f"rerun of {len(ids)} test(s) with -k")


RUNNER = Unittest()
