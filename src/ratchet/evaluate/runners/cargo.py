"""cargo test (libtest): per-test results from the ``test <name> ... ok`` lines it prints.

Instrument: add ``--no-fail-fast`` (without it cargo stops at the first test binary that fails,
so the tests of the next binaries would be missing from a red baseline and a break there would
go unseen). Ids are ``<target source>::<test path>`` — ``src/lib.rs::tests::adds``,
``tests/api.rs::roundtrip`` — and ``doc-tests <crate>::<item>`` for doctests, whose
``(line N)`` is dropped (it moves whenever lines are added above it).

Select: the test names after ``--`` with ``--exact`` (doctests are not selected: a change
among them reruns the whole suite).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ratchet.evaluate import shell
from ratchet.evaluate.report import FAILED, PASSED, SKIPPED
from ratchet.evaluate.runners.base import (
    CollectContext,
    Collected,
    Instrumented,
    Invocation,
    Runner,
    merge,
)
from ratchet.evaluate.summary import strip_ansi

_RUNNING = re.compile(r"^\s*Running (?:unittests )?(?P<src>\S+)(?: \((?P<bin>[^)]*)\))?\s*$")
_DOCTESTS = re.compile(r"^\s*Doc-tests (?P<crate>\S+)\s*$")
_TEST = re.compile(r"^test (?P<name>.+?) \.\.\. (?P<status>ok|FAILED|ignored)\b")
_LINE_NO = re.compile(r" \(line \d+\)$")
_STATUS = {"ok": PASSED, "FAILED": FAILED, "ignored": SKIPPED}
DOC_PREFIX = "doc-tests "


def parse_output(output: str, root: str = "") -> Collected | None:
    """Per-test results from ``cargo test`` output; None without any libtest test line."""
    tests: dict[str, str] = {}
    target = "?"
    for line in strip_ansi(output).splitlines():
        m = _RUNNING.match(line)
        if m:
            target = m["src"]
            continue
        m = _DOCTESTS.match(line)
        if m:
            target = DOC_PREFIX + m["crate"]
            continue
        m = _TEST.match(line)
        if m:
            name = m["name"]
            if target.startswith(DOC_PREFIX):
                name = _LINE_NO.sub("", name)
            merge(tests, f"{target}::{name}", _STATUS[m["status"]])
    return Collected(tests, "libtest output") if tests else None


def _cargo_test(words: Sequence[str]) -> bool:
    rest = [w for w in words[1:] if not w.startswith("+")]  # cargo +nightly test
    return rest[:1] == ["test"]


class CargoTest(Runner):
    name = "cargo test"
    results_via = "libtest's per-test lines"

    def matches(self, prog: shell.Program) -> bool:
        return prog.name == "cargo" and _cargo_test(prog.words)

    def _with_no_fail_fast(self, inv: Invocation, tail: Sequence[str] = ()) -> str | None:
        words = list(inv.words)
        if "--no-fail-fast" in words:
            if not tail:
                return inv.command
            return inv.append(list(tail) if "--" in words else ["--", *tail])
        if "--" not in words:
            return inv.append(["--no-fail-fast", *(["--", *tail] if tail else [])])
        at = words.index("--")
        return inv.rebuild([*words[:at], "--no-fail-fast", *words[at:], *tail])

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        command = self._with_no_fail_fast(inv)
        return Instrumented(command, note="--no-fail-fast") if command else None

    def collect(self, ctx: CollectContext) -> Collected | None:
        return parse_output(ctx.output)

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids or any("::" not in i or i.startswith(DOC_PREFIX) for i in ids):
            return None
        names = sorted({i.partition("::")[2] for i in ids})
        command = self._with_no_fail_fast(inv, [*names, "--exact"])
        if command is None:
            return None
        return Instrumented(command, note=f"rerun of {len(ids)} test(s) with --exact")


RUNNER = CargoTest()
