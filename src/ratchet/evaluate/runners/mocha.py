"""mocha: per-test results from its JSON reporter.

Instrument: append ``--reporter json --reporter-options output=<out>/mocha.json`` (the
spelling every version knows; mocha 6+ also reads ``--reporter-option``). The JSON
reporter prints nothing readable, so Ratchet writes the readable part itself (counts, then
each failure with its message and stack) as the run's output. Ids are
``<file>::<full title>``; a failing hook (``"before each" hook for ...``) is an error.

An older mocha ignores the ``output`` option and prints the JSON on stdout (after whatever
the tests print themselves): then the report is read from the output.

A run that stops at the first failure (``--bail``) hides the tests after it, so ``--no-bail``
is added when the command bails; mocha before 6 does not know it (it exits at once) and gets
the plan without.

Select: ``--grep '^(<full title>|...)$'`` (mocha matches it against each test's full title).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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
from ratchet.evaluate.runners.jest import read_json

REPORT = "mocha.json"
_HOOK = re.compile(r'"(before|after) (all|each)" hook')
_MAX_FAILURES_SHOWN = 30


def _id(entry: dict[str, Any], relative: Callable[[str], str]) -> str:
    file = relative(str(entry.get("file") or "?"))
    return f"{file}::{entry.get('fullTitle', entry.get('title', ''))}"


def _readable(data: dict[str, Any]) -> str:
    raw_stats = data.get("stats")
    stats = raw_stats if isinstance(raw_stats, dict) else {}
    lines = [
        f"  {stats.get('passes', 0)} passing",
        f"  {stats.get('failures', 0)} failing",
        f"  {stats.get('pending', 0)} pending",
        "",
    ]
    raw_failures = data.get("failures")
    failures = raw_failures if isinstance(raw_failures, list) else []
    for n, entry in enumerate(failures[:_MAX_FAILURES_SHOWN], 1):
        if not isinstance(entry, dict):
            continue
        raw_err = entry.get("err")
        err = raw_err if isinstance(raw_err, dict) else {}
        lines.append(f"  {n}) {entry.get('fullTitle', '')}:")
        text = str(err.get("stack") or err.get("message") or "")
        lines += [f"     {line}" for line in text.splitlines()[:40]]
        lines.append("")
    return "\n".join(lines)


_DECODER = json.JSONDecoder()
_REPORT_START = re.compile(r'^\{\s*"stats"\s*:', re.MULTILINE)


def report_in_output(output: str) -> object | None:
    """The JSON report an older mocha printed on stdout, or None."""
    for start in _REPORT_START.finditer(output):
        try:
            data, _end = _DECODER.raw_decode(output, start.start())
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def parse_report(data: object, relative: Callable[[str], str]) -> Collected | None:
    if not isinstance(data, dict) or not isinstance(data.get("stats"), dict):
        return None
    tests: dict[str, str] = {}
    for key, status in (("passes", PASSED), ("pending", SKIPPED), ("failures", FAILED)):
        entries = data.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                hook = _HOOK.search(str(entry.get("fullTitle", "")))
                merge(tests, _id(entry, relative), ERROR if hook else status)
    return Collected(tests, "mocha json", output=_readable(data))


class Mocha(Runner):
    name = "mocha"
    results_via = "mocha JSON reporter"

    def matches(self, prog: shell.Program) -> bool:
        return prog.name in ("mocha", "_mocha", "mocha.js")

    def _options(self, out: Path) -> list[str]:
        return ["--reporter", "json", "--reporter-options", f"output={out / REPORT}"]

    def _plan(self, inv: Invocation, extra: list[str], note: str) -> Instrumented:
        return undoing(inv, extra, note, ("--bail", "-b"), "--no-bail")

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        if has_option(inv.args, "--watch", "-w", "--reporter-option", "--reporter-options", "-O"):
            return None
        return self._plan(inv, self._options(out), "--reporter json")

    def collect(self, ctx: CollectContext) -> Collected | None:
        data = read_json(ctx.out / REPORT)
        if data is None:
            data = report_in_output(ctx.output)
        return parse_report(data, ctx.relative)

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids or self.instrument(inv, out) is None:
            return None
        titles = sorted({re.escape(i.partition("::")[2]) for i in ids})
        return self._plan(inv, [*self._options(out), "--grep", "^(" + "|".join(titles) + ")$"],
                          f"rerun of {len(ids)} test(s) with --grep")


RUNNER = Mocha()
