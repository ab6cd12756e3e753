"""Test counts from the summary lines test runners print, when no JUnit report exists.

Recognised (ANSI colour codes are stripped first), first match in this order wins:

* jest ``Tests:  1 failed, 2 skipped, 5 passed, 8 total`` and vitest ``Tests  1 failed | 5
  passed (6)`` — the last such line;
* cargo/libtest ``test result: FAILED. 5 passed; 1 failed; 2 ignored; ...`` — summed over all
  test binaries;
* unittest ``Ran N tests in Xs`` followed by ``OK``/``OK (skipped=1)``/``FAILED (failures=1,
  errors=2, skipped=1, expected failures=1, unexpected successes=1)``;
* pytest ``== 3 failed, 5 passed, 1 skipped, 1 xfailed in 0.1s ==`` (also the bare ``-q``
  form, ``no tests ran``) and any other line made only of ``N passed``/``N failed``-style
  items — the last such line;
* mocha ``N passing`` / ``N failing`` / ``N pending``;
* ``go test -v`` ``--- PASS:`` / ``--- FAIL:`` / ``--- SKIP:`` lines (subtests included).

xfailed/expected failures count as skipped, xpassed as passed, unexpected successes as failed.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[@-Z\\-_]")

_KEYS = ("passed", "failed", "errors", "skipped")

#: word in a count item → which bucket it adds to (None: ignored)
_WORDS: dict[str, str | None] = {
    "passed": "passed",
    "xpassed": "passed",
    "failed": "failed",
    "error": "errors",
    "errors": "errors",
    "skipped": "skipped",
    "xfailed": "skipped",
    "deselected": None,
    "warning": None,
    "warnings": None,
    "rerun": None,
}

_ITEM = re.compile(r"(\d+) (passed|xpassed|failed|errors?|skipped|xfailed|deselected|"
                   r"warnings?|rerun)")
_PYTEST_LINE = re.compile(
    r"^=*\s*(?P<items>(?:\d+ [a-z]+(?:, )?)+|no tests ran)"
    r"(?:\s+in\s+[\d.]+\s*s(?:econds)?(?:\s*\([^)]*\))?)?\s*=*$"
)
_JEST = re.compile(r"^Tests:\s+(?P<items>.*\d+ total)\s*$")
_VITEST = re.compile(r"^\s*Tests\s+(?P<items>(?:\d+ [a-z]+\s*\|?\s*)+)\((?P<total>\d+)\)\s*$")
_CARGO = re.compile(
    r"^test result: \w+\. (?P<passed>\d+) passed; (?P<failed>\d+) failed; (?P<ignored>\d+) "
    r"ignored"
)
_UNITTEST_RAN = re.compile(r"^Ran (?P<n>\d+) tests? in ")
_UNITTEST_END = re.compile(r"^(?P<word>OK|FAILED)(?: \((?P<detail>[^)]*)\))?\s*$")
_MOCHA = re.compile(r"^\s*(?P<n>\d+) (?P<word>passing|failing|pending)\b")
_GO = re.compile(r"^\s*--- (?P<word>PASS|FAIL|SKIP): ")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences and carriage returns."""
    return _ANSI.sub("", text).replace("\r", "")


def _empty() -> dict[str, int]:
    return dict.fromkeys(_KEYS, 0)


def _count_items(items: str) -> dict[str, int] | None:
    counts = _empty()
    found = False
    for n, word in _ITEM.findall(items):
        bucket = _WORDS.get(word)
        found = True
        if bucket:
            counts[bucket] += int(n)
    return counts if found else None


def _jest(lines: list[str]) -> dict[str, int] | None:
    for line in reversed(lines):
        m = _JEST.match(line.strip())
        if m:
            counts = _empty()
            for n, word in re.findall(r"(\d+) (passed|failed|skipped|todo|pending)", m["items"]):
                key = {"passed": "passed", "failed": "failed"}.get(word, "skipped")
                counts[key] += int(n)
            return counts
        m = _VITEST.match(line)
        if m:
            counts = _empty()
            for n, word in re.findall(r"(\d+) (passed|failed|skipped|todo)", m["items"]):
                key = {"passed": "passed", "failed": "failed"}.get(word, "skipped")
                counts[key] += int(n)
            return counts
    return None


def _cargo(lines: list[str]) -> dict[str, int] | None:
    counts, found = _empty(), False
    for line in lines:
        m = _CARGO.match(line.strip())
        if m:
            found = True
            counts["passed"] += int(m["passed"])
            counts["failed"] += int(m["failed"])
            counts["skipped"] += int(m["ignored"])
    return counts if found else None


def _unittest(lines: list[str]) -> dict[str, int] | None:
    for i in range(len(lines) - 1, -1, -1):
        ran = _UNITTEST_RAN.match(lines[i].strip())
        if not ran:
            continue
        for line in lines[i + 1 : i + 6]:
            end = _UNITTEST_END.match(line.strip())
            if not end:
                continue
            detail = dict(
                (k.strip(), int(v))
                for k, v in re.findall(r"([a-z ]+)=(\d+)", end["detail"] or "")
            )
            counts = _empty()
            counts["failed"] = detail.get("failures", 0) + detail.get("unexpected successes", 0)
            counts["errors"] = detail.get("errors", 0)
            counts["skipped"] = detail.get("skipped", 0) + detail.get("expected failures", 0)
            rest = int(ran["n"]) - counts["failed"] - counts["errors"] - counts["skipped"]
            counts["passed"] = max(0, rest)
            return counts
    return None


def _pytest(lines: list[str]) -> dict[str, int] | None:
    for line in reversed(lines):
        m = _PYTEST_LINE.match(line.strip())
        if not m:
            continue
        if m["items"] == "no tests ran":
            return _empty()
        words = re.findall(r"\d+ ([a-z]+)", m["items"])
        if all(w in _WORDS for w in words):
            counts = _count_items(m["items"])
            if counts is not None:
                return counts
    return None


def _mocha(lines: list[str]) -> dict[str, int] | None:
    counts, found = _empty(), False
    key = {"passing": "passed", "failing": "failed", "pending": "skipped"}
    for line in lines:
        m = _MOCHA.match(line)
        if m and line.startswith("  "):
            found = True
            counts[key[m["word"]]] = int(m["n"])
    return counts if found and (counts["passed"] or counts["failed"]) else None


def _go(lines: list[str]) -> dict[str, int] | None:
    counts, found = _empty(), False
    key = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped"}
    for line in lines:
        m = _GO.match(line)
        if m:
            found = True
            counts[key[m["word"]]] += 1
    return counts if found else None


def parse_summary(output: str) -> dict[str, int] | None:
    """Counts ``{"passed", "failed", "errors", "skipped"}`` from a runner's summary lines in
    ``output``, or None if no known summary is present. Raises nothing."""
    lines = strip_ansi(output).splitlines()
    for parser in (_jest, _cargo, _unittest, _pytest, _mocha, _go):
        counts = parser(lines)
        if counts is not None:
            return counts
    return None
