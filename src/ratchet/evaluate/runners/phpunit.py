"""PHPUnit (``phpunit``, ``vendor/bin/phpunit``): per-test results from ``--log-junit``.

Ids are ``<test file>::<method>`` (data sets keep their ``with data set`` suffix).
Select: ``--filter '/::(method|...)( with data set .*)?$/'``.
"""

from __future__ import annotations

import re
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

REPORT = "phpunit.xml"


def _relative_id(ctx: CollectContext, test_id: str) -> str:
    file, sep, name = test_id.partition("::")
    return ctx.relative(file) + sep + name


class PHPUnit(Runner):
    name = "phpunit"
    results_via = "phpunit --log-junit"

    def matches(self, prog: shell.Program) -> bool:
        return prog.name in ("phpunit", "phpunit.phar")

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        if has_option(inv.args, "--log-junit"):
            return None
        return Instrumented(inv.append(["--log-junit", str(out / REPORT)]), note="--log-junit")

    def collect(self, ctx: CollectContext) -> Collected | None:
        if not (ctx.out / REPORT).is_file():
            return None
        try:
            tests = parse_junit([ctx.out / REPORT])
        except JUnitError:
            return None
        return Collected({_relative_id(ctx, k): v for k, v in tests.items()}, "phpunit junit")

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        if not ids or any("::" not in i for i in ids) or has_option(inv.args, "--filter"):
            return None
        methods = {i.partition("::")[2].split(" with data set")[0] for i in ids}
        names = "|".join(sorted(re.escape(m) for m in methods))
        return Instrumented(
            inv.append(["--log-junit", str(out / REPORT), "--filter",
                        f"/::({names})( with data set .*)?$/"]),
            note=f"rerun of {len(ids)} test(s) with --filter",
        )


RUNNER = PHPUnit()
