"""vitest: per-test results from its built-in JUnit reporter.

Instrument: append ``--reporter=default --reporter=junit --outputFile.junit=<out>/vitest.xml``
(the console keeps the default reporter). Ratchet sets ``CI=true``, so a bare ``vitest`` runs
once instead of watching. Ids are ``<file>::<describe> > <test>``; a file that fails to load is
reported by vitest as a failing case named after the file.

Select: the test files plus ``-t '^(<describe> <test>|...)$'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ratchet.evaluate import shell
from ratchet.evaluate.junit import JUnitError, parse_junit
from ratchet.evaluate.runners.base import (
    CollectContext,
    Collected,
    Instrumented,
    Invocation,
    Runner,
    has_option,
)
from ratchet.evaluate.runners.jest import name_pattern

REPORT = "vitest.xml"


class Vitest(Runner):
    name = "vitest"
    results_via = "vitest JUnit reporter"

    def matches(self, prog: shell.Program) -> bool:
        return prog.name in ("vitest", "vitest.mjs")

    def _options(self, out: Path) -> list[str]:
        return ["--reporter=default", "--reporter=junit", f"--outputFile.junit={out / REPORT}"]

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        if has_option(inv.args, "--watch", "-w", "--outputFile", "--ui"):
            return None
        return Instrumented(inv.append(self._options(out)), note="--reporter=junit")

    def collect(self, ctx: CollectContext) -> Collected | None:
        report = ctx.out / REPORT
        if not report.is_file():
            return None
        try:
            tests = parse_junit([report], root=None)
        except JUnitError:
            return None
        return Collected({ctx.relative(k): v for k, v in tests.items()}, "vitest junit")

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids or any("::" not in i for i in ids) or self.instrument(inv, out) is None:
            return None
        pattern, _ = name_pattern(ids)
        files = sorted({i.partition("::")[0] for i in ids})
        return Instrumented(
            inv.append([*self._options(out), "-t", pattern, *files]),
            note=f"rerun of {len(ids)} test(s) with -t",
        )


RUNNER = Vitest()
