"""node:test (``node --test``): per-test results from a small reporter module.

Instrument: ``NODE_OPTIONS`` adds the ``spec`` reporter on stdout (what a person reads) and
Ratchet's own reporter, which writes one JSON line per finished test with its file (node's
built-in JUnit reporter has no file, so tests of the same name in two files would collide).
``NODE_OPTIONS`` rather than arguments, because options after the file arguments of
``node --test`` are taken for files. Ids are ``<file>::<describe> > <test>``.

Select: ``--test-name-pattern`` with the tests' own names (node matches it per test).
"""

from __future__ import annotations

import json
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
    has_option,
    merge,
)

REPORT = "node-test.jsonl"
REPORTER = "ratchet-node-reporter.mjs"
MAX_LINES = 200_000
SEP = " > "

_REPORTER_SOURCE = """// Written by Ratchet: one JSON line per test event, with file and nesting.
export default async function* ratchetReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:start' && event.type !== 'test:pass' && event.type !== 'test:fail') {
      continue;
    }
    const d = event.data || {};
    yield JSON.stringify({
      event: event.type, name: d.name, nesting: d.nesting, file: d.file || null,
      suite: !!(d.details && d.details.type === 'suite'), skip: !!d.skip, todo: !!d.todo,
    }) + '\\n';
  }
}
"""


def node_options(args: Sequence[str]) -> str:
    """``args`` as node reads ``NODE_OPTIONS``: space-separated, double quotes around a value
    with spaces (``\\`` escapes inside them)."""
    out = []
    for a in args:
        if re.search(r'[\s"\\]', a):
            a = '"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append(a)
    return " ".join(out)


def _visible_test_flag(words: Sequence[str]) -> bool:
    for w in words[1:]:
        if w == "--test":
            return True
        if not w.startswith("-"):
            return False  # a script: node script.js --test is the script's argument
    return False


def parse_events(text: str, relative) -> dict[str, str]:  # noqa: ANN001
    tests: dict[str, str] = {}
    stacks: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines()):
        if n >= MAX_LINES:
            break
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if not isinstance(ev, dict):
            continue
        file = relative(str(ev.get("file") or "?"))
        depth = ev.get("nesting") if isinstance(ev.get("nesting"), int) else 0
        stack = stacks.setdefault(file, [])
        name = str(ev.get("name", ""))
        if ev.get("event") == "test:start":
            del stack[depth:]
            stack.append(name)
            continue
        if ev.get("suite"):
            continue
        path = [*stack[:depth], name]
        status = PASSED if ev.get("event") == "test:pass" else FAILED
        if ev.get("skip") or ev.get("todo"):
            status = SKIPPED
        merge(tests, f"{file}::{SEP.join(path)}", status)
    return tests


class NodeTest(Runner):
    name = "node:test"
    results_via = "a node --test reporter (NODE_OPTIONS)"
    env_only = True

    def matches(self, prog: shell.Program) -> bool:
        return prog.name in ("node", "nodejs") and _visible_test_flag(prog.words)

    def _options(self, out: Path) -> list[str]:
        (out / REPORTER).write_text(_REPORTER_SOURCE, encoding="utf-8")
        return [
            "--test-reporter=spec", "--test-reporter-destination=stdout",
            f"--test-reporter={out / REPORTER}", f"--test-reporter-destination={out / REPORT}",
        ]

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        if has_option(inv.args, "--test-reporter", "--test-reporter-destination", "--watch"):
            return None
        return Instrumented(
            inv.command, env={"NODE_OPTIONS": node_options(self._options(out))},
            note="NODE_OPTIONS=--test-reporter",
        )

    def collect(self, ctx: CollectContext) -> Collected | None:
        try:
            text = (ctx.out / REPORT).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return Collected(parse_events(text, ctx.relative), "node:test reporter")

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids or any("::" not in i for i in ids) or self.instrument(inv, out) is None:
            return None
        if not inv.tail:
            return None
        names = set()
        for test_id in ids:
            names.update(test_id.partition("::")[2].split(SEP))
        pattern = "^(" + "|".join(sorted(re.escape(n) for n in names)) + ")$"
        # --test-name-pattern is not allowed in NODE_OPTIONS, and options after file arguments
        # are taken for files: append it when node --test has no file arguments, else insert
        # it after `node` when the command can be rebuilt
        option = f"--test-name-pattern={pattern}"
        if not any(not w.startswith("-") for w in inv.args):
            command = inv.append([option])
        else:
            command = inv.rebuild([inv.words[0], option, *inv.args]) or ""
        if not command:
            return None
        return Instrumented(
            command, env={"NODE_OPTIONS": node_options(self._options(out))},
            note=f"rerun of {len(ids)} test(s) with --test-name-pattern",
        )


RUNNER = NodeTest()
