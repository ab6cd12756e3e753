"""The task branch follows its base (workspace/follow.py), on real git repositories: rebased
when its commits pick cleanly, rebuilt through the edit engine when git's merge conflicts but
the change still applies, restarted when nothing can be carried over."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ratchet.workspace import follow
from tests.conftest import git, make_repo

NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven")
#: eight small functions that read differently (as real code does: the edit engine refuses a
#: block it finds in several places nearly equally well)
OPS = "".join(
    f"def f{i}(x):\n    \"\"\"Add {NAMES[i]} to x, {'then' if i % 2 else 'and'} log it.\"\"\"\n"
    f"    log_{NAMES[i]}(x)\n    return x + {i}\n\n\n" for i in range(8)
)


def _commit(repo: Path, path: str, text: str, message: str) -> str:
    (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def _repo(tmp_path: Path) -> tuple[Path, str]:
    """main with ops.py; a task branch with two commits (f1 and f6 changed)."""
    repo = make_repo(tmp_path / "r", {"ops.py": OPS, "README.md": "calc\n"})
    git(repo, "checkout", "-q", "-b", "ratchet/t")
    _commit(repo, "ops.py", OPS.replace("x + 1\n", "x + 100\n"), "Change f1")
    tip = _commit(repo, "ops.py", (repo / "ops.py").read_text().replace("x + 6\n", "x * 6\n"),
                  "Change f6")  # fmt: skip
    git(repo, "checkout", "-q", "main")
    return repo, tip


def _file_at(repo: Path, sha: str, path: str = "ops.py") -> str:
    return git(repo, "show", f"{sha}:{path}") + "\n"


def test_a_base_that_has_not_moved_is_left_alone(tmp_path: Path) -> None:
    repo, tip = _repo(tmp_path)
    base = git(repo, "rev-parse", "main")
    assert follow.follow(repo, tip, base) == follow.Followed(follow.CURRENT, tip)


def test_unrelated_work_on_the_base_rebases_the_task(tmp_path: Path) -> None:
    repo, tip = _repo(tmp_path)
    base = _commit(repo, "README.md", "calc, a calculator\n", "Docs")
    got = follow.follow(repo, tip, base)
    assert got.how == follow.REBASED and got.carried == ("Change f1", "Change f6")
    assert git(repo, "merge-base", "--is-ancestor", base, got.tip) == ""
    text = _file_at(repo, got.tip)
    assert "x + 100\n" in text and "x * 6\n" in text
    assert git(repo, "worktree", "list").count("\n") == 0  # the scratch worktree is gone


def test_a_neighbouring_change_rebuilds_the_task_through_the_edit_engine(tmp_path: Path) -> None:
    repo, tip = _repo(tmp_path)
    # the line right above f1's changed line changes on main: git's merge conflicts (adjacent
    # lines); the edit engine finds the block and keeps the base's own line
    base = _commit(repo, "ops.py", OPS.replace("    log_one(x)\n", "    log_one(x, 'f1')\n"),
                   "Note f1")  # fmt: skip
    git(repo, "checkout", "-q", "-b", "probe", base)
    assert subprocess.run(["git", "cherry-pick", f"{tip}~1"], cwd=repo,
                          capture_output=True).returncode != 0  # fmt: skip
    git(repo, "cherry-pick", "--abort")
    git(repo, "checkout", "-q", "main")
    got = follow.follow(repo, tip, base)
    assert got.how == follow.REBUILT and got.carried == ("Change f1", "Change f6")
    text = _file_at(repo, got.tip)
    assert "    log_one(x, 'f1')\n    return x + 100\n" in text and "x * 6\n" in text
    assert text.replace("log_one(x, 'f1')", "log_one(x)").rstrip() == OPS.replace(
        "x + 1\n", "x + 100\n").replace("x + 6\n", "x * 6\n").rstrip()  # nothing else changed


def test_a_conflicting_change_drops_only_the_commit_it_conflicts_with(tmp_path: Path) -> None:
    repo, tip = _repo(tmp_path)
    base = _commit(repo, "ops.py", OPS.replace("x + 1\n", "x - 1\n"), "Fix f1 upstream")
    got = follow.follow(repo, tip, base)
    assert got.how == follow.REBUILT
    assert got.carried == ("Change f6",) and got.dropped == ("Change f1",)
    text = _file_at(repo, got.tip)
    assert "x - 1\n" in text and "x * 6\n" in text and "x + 100" not in text
    assert git(repo, "log", "-1", "--format=%s", got.tip) == "Change f6"


def test_nothing_carried_over_restarts_from_the_base(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"ops.py": OPS})
    git(repo, "checkout", "-q", "-b", "ratchet/t")
    tip = _commit(repo, "ops.py", OPS.replace("x + 1\n", "x + 100\n"), "Change f1")
    git(repo, "checkout", "-q", "main")
    base = _commit(repo, "ops.py", OPS.replace("x + 1\n", "x - 1\n"), "Fix f1 upstream")
    got = follow.follow(repo, tip, base)
    assert got == follow.Followed(follow.RESTARTED, base, (), ("Change f1",))


_TWO = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
_FIXED = _TWO.replace("a - b", "a + b", 1)


@pytest.mark.parametrize(
    ("old", "new", "sides", "expected"),
    [
        ("a\nb\nc\n", "a\nB\nc\n", (2, 2), [("a\nb\nc\n", "a\nB\nc\n")]),
        ("".join(f"{i}\n" for i in range(10)), "".join(f"{i}\n" for i in range(10)).replace(
            "1\n", "one\n").replace("8\n", "eight\n"), (2, 2),
         [("0\n1\n2\n3\n", "0\none\n2\n3\n"), ("6\n7\n8\n9\n", "6\n7\neight\n9\n")]),
        # context counts lines with code: the blank lines between two functions place nothing
        (_TWO, _FIXED, (0, 1), [("    return a - b\n\n\ndef sub(a, b):\n",
                                 "    return a + b\n\n\ndef sub(a, b):\n")]),
        (_TWO, _FIXED, (1, 0), [("def add(a, b):\n    return a - b\n",
                                 "def add(a, b):\n    return a + b\n")]),
        # blocks whose context would overlap are one block
        ("a\nb\nc\nd\n", "A\nb\nc\nD\n", (1, 1), [("a\nb\nc\nd\n", "A\nb\nc\nD\n")]),
    ],
)
def test_hunks_carry_context(
    old: str, new: str, sides: tuple[int, int], expected: list[tuple[str, str]]
) -> None:
    assert follow.hunks(old, new, *sides) == expected


def test_a_look_alike_block_elsewhere_is_never_taken_for_the_changed_one(tmp_path: Path) -> None:
    """main rewrote add; sub has add's old lines (but its own name): the commit that fixed add
    is dropped, not applied to sub."""
    ops = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
    repo = make_repo(tmp_path / "r", {"ops.py": ops})
    git(repo, "checkout", "-q", "-b", "ratchet/t")
    tip = _commit(repo, "ops.py", ops.replace("return a - b", "return a + b", 1), "Fix add")
    git(repo, "checkout", "-q", "main")
    rewritten = ops.replace("    return a - b", "    t = a\n    t -= b\n    return t", 1)
    base = _commit(repo, "ops.py", rewritten, "Rewrite add")
    got = follow.follow(repo, tip, base)
    assert got == follow.Followed(follow.RESTARTED, base, (), ("Fix add",))


@pytest.mark.parametrize(
    ("current", "result", "expected"),
    [
        ("a\nX\nb\nc\n", "a\nX\nB\nc\n", True),  # the changed line, where it now sits
        ("a\nb\nc\nz\nb\nc\n", "a\nb\nc\nz\nB\nc\n", False),  # its look-alike further down
        ("q\na\nb\nc\n", "q\na\nB\nc\n", True),  # the base added a line above: moved
    ],
)
def test_in_place(current: str, result: str, expected: bool) -> None:
    assert follow.in_place("a\nb\nc\n", "a\nB\nc\n", current, result) is expected
