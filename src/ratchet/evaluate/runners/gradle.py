"""Gradle (``gradle``, ``./gradlew``): per-test results from the JUnit reports its test tasks
write by default (``build/test-results/<task>/TEST-*.xml``, in every project).

Ids are ``<class>::<method>``. Select: ``--tests Class.method`` per test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ratchet.evaluate import shell
from ratchet.evaluate.runners.base import (
    CollectContext,
    Collected,
    Instrumented,
    Invocation,
    Runner,
    has_option,
)
from ratchet.evaluate.runners.junit_files import collect_reports

TASKS = frozenset({"test", "check", "build"})
PATTERNS = ("build/test-results/**/TEST-*.xml", "**/build/test-results/**/TEST-*.xml")


class Gradle(Runner):
    name = "gradle"
    results_via = "Gradle JUnit reports"

    def matches(self, prog: shell.Program) -> bool:
        return prog.name in ("gradle", "gradlew", "gradlew.bat") and any(
            w.split(":")[-1] in TASKS for w in prog.words[1:] if not w.startswith("-")
        )

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        return Instrumented(inv.command)

    def collect(self, ctx: CollectContext) -> Collected | None:
        return collect_reports(ctx, PATTERNS, "gradle junit")

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids or any("::" not in i for i in ids) or has_option(inv.args, "--tests"):
            return None
        extra: list[str] = []
        for test_id in sorted(set(ids)):
            cls, _, method = test_id.partition("::")
            extra += ["--tests", f"{cls}.{method.split('(')[0]}"]
        return Instrumented(inv.append(extra), note=f"rerun of {len(ids)} test(s) with --tests")


RUNNER = Gradle()
