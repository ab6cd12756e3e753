"""Shared by the runners that write JUnit XML files of their own (Maven, Gradle, a configured
``junit_path``): read the reports written during the run, wherever the tests wrote them."""

from __future__ import annotations

from pathlib import Path

from ratchet.evaluate.junit import JUnitError, parse_junit
from ratchet.evaluate.runners.base import CollectContext, Collected

#: most report files read for one run
MAX_FILES = 1000


def collect_reports(
    ctx: CollectContext, patterns: tuple[str, ...], source: str
) -> Collected | None:
    """Per-test results from the JUnit files matching ``patterns`` (relative to the project
    root) that were written during the run; None when there are none or they do not parse."""
    files: list[Path] = []
    for pattern in patterns:
        files += ctx.find(pattern, MAX_FILES - len(files))
    if not files:
        return None
    try:
        tests = parse_junit(sorted(set(files)), root=ctx.tree)
    except JUnitError:
        return None
    return Collected(tests, source)
