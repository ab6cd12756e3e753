"""Maven (``mvn``, ``./mvnw``): per-test results from Surefire's and Failsafe's JUnit reports
(``target/surefire-reports/TEST-*.xml``, in every module), which Maven writes by default.

Ids are ``<class>::<method>``. Select: ``-Dtest=Class#a+b,Other#c`` (Surefire), without
failing modules that have none of them.
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

GOALS = frozenset({"test", "verify", "install", "package", "integration-test", "deploy"})
PATTERNS = (
    "target/surefire-reports/TEST-*.xml",
    "**/target/surefire-reports/TEST-*.xml",
    "target/failsafe-reports/TEST-*.xml",
    "**/target/failsafe-reports/TEST-*.xml",
)


class Maven(Runner):
    name = "maven"
    results_via = "Surefire JUnit reports"

    def matches(self, prog: shell.Program) -> bool:
        return prog.name in ("mvn", "mvnw", "mvnd", "mvn.cmd") and any(
            w.split(":")[-1] in GOALS for w in prog.words[1:] if not w.startswith("-")
        )

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        return Instrumented(inv.command)

    def collect(self, ctx: CollectContext) -> Collected | None:
        return collect_reports(ctx, PATTERNS, "surefire junit")

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids or any("::" not in i for i in ids) or has_option(inv.args, "-Dtest"):
            return None
        by_class: dict[str, list[str]] = {}
        for test_id in ids:
            cls, _, method = test_id.partition("::")
            by_class.setdefault(cls, []).append(method.split("(")[0].split("[")[0])
        spec = ",".join(f"{c}#{'+'.join(sorted(set(m)))}" for c, m in sorted(by_class.items()))
        return Instrumented(
            inv.append([f"-Dtest={spec}", "-Dsurefire.failIfNoSpecifiedTests=false",
                        "-DfailIfNoTests=false"]),
            note=f"rerun of {len(ids)} test(s) with -Dtest",
        )


RUNNER = Maven()
