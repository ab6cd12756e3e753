"""go test: per-test results from ``go test -json`` (test2json events).

Instrument: append ``-json`` (not after ``-args``, whose words go to the test binary), and
``-failfast=false`` when the command has ``-failfast`` (it would hide the tests after the
first failure). The
events' ``Output`` fields are joined back into the plain text ``go test -v`` would print, which
is what the run's output then shows. Ids are ``<import path>::<Test>[/<subtest>]``; a package
that does not build (``FAIL pkg [build failed]``, or a package-level failure without any test)
is ``<import path>`` with status error.

Without ``-json`` (``make test`` running ``go test -v``), :func:`parse_verbose` reads the
``=== RUN`` / ``--- PASS:`` lines and the package result lines.

Select: ``-run '^(TestA|TestB)$'`` (the top-level test names; their subtests run with them).
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
)
from ratchet.evaluate.summary import strip_ansi

_ACTIONS = {"pass": PASSED, "fail": FAILED, "skip": SKIPPED}
_PKG_FAILED = re.compile(r"^FAIL\s+(?P<pkg>\S+)\s+\[(build|setup) failed\]")
_PKG_LINE = re.compile(r"^(?P<word>ok|FAIL|---)\s+(?P<pkg>[\w./~-]+)(\s|$)")
_V_RESULT = re.compile(r"^\s*--- (?P<word>PASS|FAIL|SKIP): (?P<name>\S+) \(")


def parse_json(output: str) -> Collected | None:
    """Results and readable text from ``go test -json`` output (stderr lines mixed in)."""
    tests: dict[str, str] = {}
    tested: set[str] = set()
    failed_pkgs: list[str] = []
    text: list[str] = []
    events = 0
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                ev = json.loads(line)
            except ValueError:
                ev = None
            if isinstance(ev, dict) and "Action" in ev:
                events += 1
                out = ev.get("Output")
                if isinstance(out, str):
                    text.append(out.rstrip("\n"))
                pkg, name, action = ev.get("Package") or "", ev.get("Test"), ev.get("Action")
                if action in _ACTIONS:
                    if name:
                        tested.add(pkg)
                        merge(tests, f"{pkg}::{name}", _ACTIONS[str(action)])
                    elif action == "fail" and (ev.get("FailedBuild") or pkg not in tested):
                        failed_pkgs.append(pkg)
                continue
        text.append(line)
        m = _PKG_FAILED.match(line)
        if m:
            failed_pkgs.append(m["pkg"])
    if not events and not failed_pkgs:
        return None
    for pkg in failed_pkgs:
        if pkg not in tested:
            merge(tests, pkg, ERROR)
    return Collected(tests, "go test -json", output="\n".join(text))


def parse_verbose(output: str, root: str = "") -> Collected | None:
    """Per-test results from ``go test -v`` text; None unless it has ``=== RUN`` lines."""
    lines = strip_ansi(output).splitlines()
    if not any(line.startswith("=== RUN") for line in lines):
        return None
    tests: dict[str, str] = {}
    waiting: list[tuple[str, str]] = []
    for line in lines:
        m = _V_RESULT.match(line)
        if m:
            waiting.append((m["name"], {"PASS": PASSED, "FAIL": FAILED}.get(m["word"], SKIPPED)))
            continue
        m = _PKG_FAILED.match(line)
        if m:
            merge(tests, m["pkg"], ERROR)
            continue
        m = _PKG_LINE.match(line)
        if m and m["word"] in ("ok", "FAIL") and waiting is not None:
            for name, status in waiting:
                merge(tests, f"{m['pkg']}::{name}", status)
            waiting = []
    for name, status in waiting:  # no package line seen (one package, output cut)
        merge(tests, f"?::{name}", status)
    return Collected(tests, "go test -v") if tests else None


class GoTest(Runner):
    name = "go test"
    results_via = "go test -json"

    def matches(self, prog: shell.Program) -> bool:
        return prog.name == "go" and prog.words[1:2] == ("test",)

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        if "-args" in inv.args or "--args" in inv.args:
            return None
        extra = [*_json(inv), *_no_failfast(inv)]
        return Instrumented(inv.append(extra), note=" ".join(extra))

    def collect(self, ctx: CollectContext) -> Collected | None:
        return parse_json(ctx.output) or parse_verbose(ctx.output)

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        base = self.instrument(inv, out)
        if base is None or not ids or any("::" not in i for i in ids):
            return None
        if has_option(inv.args, "-run", "--run"):
            return None
        names = sorted({re.escape(i.partition("::")[2].split("/")[0]) for i in ids})
        extra = [*_json(inv), *_no_failfast(inv)]
        return Instrumented(
            inv.append([*extra, "-run", "^(" + "|".join(names) + ")$"]),
            note=f"rerun of {len(ids)} test(s) with -run",
        )


def _json(inv: Invocation) -> list[str]:
    return [] if has_option(inv.args, "-json", "--json") else ["-json"]


def _no_failfast(inv: Invocation) -> list[str]:
    """``-failfast`` stops at the first failing test and hides those after it: undone."""
    return ["-failfast=false"] if has_option(inv.args, "-failfast", "--failfast") else []


RUNNER = GoTest()
