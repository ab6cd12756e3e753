"""The house rules that keep the code readable: small modules, short functions. A long
function is allowed only where it is a pure decision table (listed here, with the reason)."""

from __future__ import annotations

import ast
from pathlib import Path

import ratchet

SRC = Path(ratchet.__file__).parent
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
#: pure tables: one branch per case, easier to read whole than split
TABLES = {
    ("edits/engine.py", "apply_edits_with_stages"),  # the stages of the edit engine, in order
    ("edits/splice.py", "_splice"),  # the 3-way splice's cases
    ("evaluate/verdict.py", "judge"),  # the verdict table
    ("github/errors.py", "translate_error"),  # GitHub statuses → what to tell the user
    ("intent.py", "parse_event"),  # webhook events → intents
}


def test_no_source_file_is_over_500_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES}
    assert long == {}


def test_no_function_is_over_60_lines_except_the_decision_tables() -> None:
    long = set()
    for p in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.add((str(p.relative_to(SRC)), node.name))
    assert long <= TABLES, long - TABLES
