"""Counts from runners' summary lines."""

from __future__ import annotations

import pytest

from ratchet.evaluate.summary import parse_summary, strip_ansi


def c(passed: int = 0, failed: int = 0, errors: int = 0, skipped: int = 0) -> dict[str, int]:
    return {"passed": passed, "failed": failed, "errors": errors, "skipped": skipped}


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        # pytest, default and -q forms
        ("...\n===== 3 failed, 5 passed, 1 skipped in 0.12s =====\n", c(5, 3, 0, 1)),
        ("2 failed, 4 passed, 1 skipped, 1 xfailed, 2 errors in 0.07s\n", c(4, 2, 2, 2)),
        ("== 7 passed, 1 xpassed, 3 warnings in 1.50s (0:00:01) ==", c(8, 0, 0, 0)),
        ("== 1 error in 0.20s ==", c(0, 0, 1, 0)),
        ("== 4 passed, 2 deselected in 0.01s ==", c(4, 0, 0, 0)),
        ("=== no tests ran in 0.01s ===", c()),
        ("\x1b[31m=== \x1b[1m1 failed\x1b[0m, \x1b[32m2 passed\x1b[0m in 0.1s ===", c(2, 1)),
        # the LAST summary wins (an earlier run's line in the log does not count)
        ("== 1 failed in 1s ==\nrerunning\n== 1 passed in 1s ==\n", c(1)),
        # generic
        ("results: see below\n10 passed, 2 failed\n", c(10, 2)),
        # unittest
        ("....\n----\nRan 4 tests in 0.001s\n\nOK\n", c(4)),
        ("Ran 6 tests in 0.1s\n\nOK (skipped=1, expected failures=1)\n", c(4, 0, 0, 2)),
        ("Ran 5 tests in 0.1s\n\nFAILED (failures=2, errors=1)\n", c(2, 2, 1)),
        ("Ran 3 tests in 0.1s\n\nFAILED (unexpected successes=1)\n", c(2, 1)),
        # cargo: summed over test binaries
        (
            "test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out\n"
            "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n",
            c(7, 1, 0, 1),
        ),
        # jest / vitest
        ("Tests:       1 failed, 2 skipped, 5 passed, 8 total\n", c(5, 1, 0, 2)),
        ("      Tests  1 failed | 5 passed (6)\n", c(5, 1)),
        # mocha
        ("\n  5 passing (10ms)\n  2 failing\n  1 pending\n", c(5, 2, 0, 1)),
        # go test -v
        (
            "=== RUN   TestA\n--- PASS: TestA (0.00s)\n--- FAIL: TestB (0.00s)\n"
            "    --- PASS: TestB/sub (0.00s)\n--- SKIP: TestC (0.00s)\nFAIL\n",
            c(2, 1, 0, 1),
        ),
    ],
)
def test_parse_summary(output: str, expected: dict[str, int]) -> None:
    assert parse_summary(output) == expected


@pytest.mark.parametrize(
    "output",
    [
        "",
        "compiling...\nerror: could not compile `x`\n",
        "Traceback (most recent call last):\n  File 'x'\nValueError: 3 passed\n",
        "== 3 potatoes in 0.1s ==",
        "Found 5 errors in 2 files",
    ],
)
def test_no_summary(output: str) -> None:
    assert parse_summary(output) is None


def test_strip_ansi() -> None:
    assert strip_ansi("\x1b[1;31mred\x1b[0m\r\nline\x1b]0;title\x07") == "red\nline"
