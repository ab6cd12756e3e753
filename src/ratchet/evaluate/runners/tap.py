"""TAP (Test Anything Protocol) in the console output: node's default reporter when stdout is
not a terminal, tape, prove ... Used only when the output declares ``TAP version``.

Ids are the test names, nested subtests joined by `` > `` (``# Subtest:`` headers and
indentation give the nesting). ``# SKIP`` and ``# TODO`` count as skipped.
"""

from __future__ import annotations

import re

from ratchet.evaluate.report import FAILED, PASSED, SKIPPED
from ratchet.evaluate.runners.base import Collected, merge
from ratchet.evaluate.summary import strip_ansi

_VERSION = re.compile(r"^\s*TAP version \d+\s*$", re.MULTILINE)
_RESULT = re.compile(
    r"^(?P<indent>\s*)(?P<not>not )?ok\b(?:\s+\d+)?(?:\s*-)?\s*(?P<name>[^#]*?)\s*"
    r"(?:#\s*(?P<directive>SKIP|TODO)\b.*)?$",
    re.IGNORECASE,
)
_SUBTEST = re.compile(r"^(?P<indent>\s*)# Subtest: (?P<name>.*)$")


def parse_tap(output: str, root: str = "") -> Collected | None:
    text = strip_ansi(output)
    if not _VERSION.search(text):
        return None
    tests: dict[str, str] = {}
    parents: dict[int, str] = {}  # indentation -> the subtest header opened there
    for line in text.splitlines():
        sub = _SUBTEST.match(line)
        if sub:
            depth = len(sub["indent"])
            parents = {d: n for d, n in parents.items() if d < depth}
            parents[depth] = sub["name"].strip()
            continue
        m = _RESULT.match(line)
        if not m:
            continue
        depth = len(m["indent"])
        path = [n for d, n in sorted(parents.items()) if d < depth]
        name = m["name"].strip() or "(unnamed)"
        if m["directive"]:
            status = SKIPPED
        else:
            status = FAILED if m["not"] else PASSED
        merge(tests, " > ".join([*path, name]), status)
        parents = {d: n for d, n in parents.items() if d < depth}
    return Collected(tests, "TAP output") if tests else None
