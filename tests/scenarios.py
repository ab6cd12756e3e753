"""The calculator scenario the end-to-end tests share: a package with one wrong, one right and
one missing function, its tests, its config, and the model replies that fix, break and implement
them (as the fake MiniMax serves them)."""

from __future__ import annotations

import json

from tests.fakes.minimax_server import Reply

OPS = """def add(a, b):
    return a - b


def sub(a, b):
    return a - b


def mul(a, b):
    raise NotImplementedError
"""

TESTS = """from calc.ops import add, mul, sub


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2


def test_mul():
    assert mul(4, 3) == 12
"""

CONFIG = """task: Make the calculator correct
test_command: python -m pytest -q
"""


def proposal(title: str, path: str, search: str, replace: str) -> Reply:
    return Reply(
        content=json.dumps(
            {
                "title": title,
                "rationale": f"{title}: the failing test shows it.",
                "edits": [{"path": path, "search": search, "replace": replace}],
            }
        )
    )


FIX_ADD = proposal(
    "Fix add", "calc/ops.py", "def add(a, b):\n    return a - b", "def add(a, b):\n    return a + b"
)
BREAK_SUB = proposal(
    "Make sub symmetric",
    "calc/ops.py",
    "def sub(a, b):\n    return a - b",
    "def sub(a, b):\n    return a + b",
)
IMPL_MUL = proposal(
    "Implement mul", "calc/ops.py", "    raise NotImplementedError", "    return a * b"
)


def calc_files(config: str = CONFIG) -> dict[str, str]:
    return {
        "calc/__init__.py": "",
        "calc/ops.py": OPS,
        "tests/test_ops.py": TESTS,
        ".github/ratchet.yml": config,
        "pytest.ini": "[pytest]\npythonpath = .\n",
    }


#: the calculator with a third bug (``neg``), for runs that make several attempts in a row
OPS3 = OPS + '''

def neg(a):
    return a
'''
TESTS3 = TESTS.replace("import add, mul, sub", "import add, mul, neg, sub") + '''

def test_neg():
    assert neg(2) == -2
'''
FIX_NEG = proposal(
    "Fix neg", "calc/ops.py", "def neg(a):\n    return a", "def neg(a):\n    return -a"
)


def calc3_files(config: str = CONFIG) -> dict[str, str]:
    return {**calc_files(config), "calc/ops.py": OPS3, "tests/test_ops.py": TESTS3}
