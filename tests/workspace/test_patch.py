"""Unified diffs that git applies byte for byte, and the normalised patch hash."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ratchet.workspace.patch import normalised_changes, patch_sha256, unified_diff

CHANGES: dict[str, tuple[str | None, str]] = {
    "src/app.py": (
        "import os\n\n\ndef f():\n    return 1\n",
        "import os\n\n\ndef f():\n    return 2\n",
    ),
    "README.md": ("# App\n", "# App\n\nNow with docs.\n"),
    "pkg/new.py": (None, "VALUE = 1\n"),
}


def git_apply(tmp_path: Path, changes: dict[str, tuple[str | None, str]], diff: str) -> None:
    """Write the ``before`` files to a fresh repo, ``git apply`` the diff, compare to ``after``."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.autocrlf=false"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    for path, (before, _after) in changes.items():
        if before is not None:
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(before.encode("utf-8"))
    (tmp_path / "p.diff").write_bytes(diff.encode("utf-8"))
    subprocess.run(
        [*git, "apply", "--whitespace=nowarn", str(tmp_path / "p.diff")],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    for path, (_before, after) in changes.items():
        assert (repo / path).read_bytes() == after.encode("utf-8"), path


def test_diff_has_git_headers_sorted_by_path() -> None:
    diff = unified_diff(CHANGES)
    heads = [line for line in diff.splitlines() if line.startswith("diff --git")]
    assert heads == [
        "diff --git a/README.md b/README.md",
        "diff --git a/pkg/new.py b/pkg/new.py",
        "diff --git a/src/app.py b/src/app.py",
    ]
    assert "new file mode 100644\n--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+VALUE = 1\n" in (
        diff
    )
    assert "-    return 1\n+    return 2\n" in diff


def test_git_applies_the_diff_exactly(tmp_path: Path) -> None:
    git_apply(tmp_path, CHANGES, unified_diff(CHANGES))


def test_git_applies_crlf_bom_and_missing_final_newline(tmp_path: Path) -> None:
    changes: dict[str, tuple[str | None, str]] = {
        "win.txt": ("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"),
        "bom.py": ("\ufeffx = 1\n", "\ufeffx = 2\n"),
        "tail.txt": ("one\ntwo", "one\nTWO"),
        "grow.txt": ("one", "one\ntwo\n"),
        "formfeed.txt": ("a\x0cb\nc\n", "a\x0cb\nC\n"),
    }
    diff = unified_diff(changes)
    assert "\\ No newline at end of file\n" in diff
    git_apply(tmp_path, changes, diff)


def test_unchanged_paths_are_left_out() -> None:
    assert unified_diff({"same.py": ("x\n", "x\n")}) == ""


def test_empty_new_file_header(tmp_path: Path) -> None:
    changes: dict[str, tuple[str | None, str]] = {"pkg/__init__.py": (None, "")}
    diff = unified_diff(changes)
    assert diff == "diff --git a/pkg/__init__.py b/pkg/__init__.py\nnew file mode 100644\n"


def test_hash_ignores_whitespace_line_endings_and_context() -> None:
    base = "def f():\n    x = 1\n    return x\n"
    a = {"m.py": (base, "def f():\n    x = 2\n    return x\n")}
    trailing = {"m.py": (base, "def f():\n    x = 2   \n    return x\n")}
    crlf = {"m.py": (base.replace("\n", "\r\n"), "def f():\r\n    x = 2\r\n    return x\r\n")}
    blank = {"m.py": (base, "def f():\n    x = 2\n\n    return x\n")}
    # Same change, code moved down by a header the base gained since the first attempt:
    moved_base = "# header\n\n" + base
    moved = {"m.py": (moved_base, "# header\n\n" + a["m.py"][1])}
    digest = patch_sha256(a)
    assert len(digest) == 64
    assert digest == patch_sha256(trailing) == patch_sha256(crlf) == patch_sha256(blank)
    assert digest == patch_sha256(moved)


def test_hash_distinguishes_real_differences() -> None:
    base = "def f():\n    x = 1\n    return x\n"
    a = patch_sha256({"m.py": (base, base.replace("x = 1", "x = 2"))})
    assert a != patch_sha256({"m.py": (base, base.replace("x = 1", "x = 3"))})
    assert a != patch_sha256({"n.py": (base, base.replace("x = 1", "x = 2"))})
    assert a != patch_sha256({"m.py": (base, base.replace("x = 1", "  x = 2"))})  # indentation
    assert a != patch_sha256({})


def test_hash_is_order_independent_and_stable() -> None:
    forward = dict(CHANGES)
    backward = dict(reversed(list(CHANGES.items())))
    assert patch_sha256(forward) == patch_sha256(backward)
    # Pinned: the rule is part of the memory format; changing it must be deliberate.
    assert normalised_changes({"a.py": ("a\nx = 1\nb\n", "a\nx = 2\nb\n")}) == [
        ["a.py", [["a", ["x = 1"], ["x = 2"], "b"]]]
    ]
    expected = hashlib.sha256(
        json.dumps(
            ["ratchet-patch-v2", [["a.py", [["", ["x = 1"], ["x = 2"], ""]]]]],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
    ).hexdigest()
    assert patch_sha256({"a.py": ("x = 1\n", "x = 2\n")}) == expected


def test_whitespace_only_change_hashes_like_no_change() -> None:
    assert patch_sha256({"m.py": ("x = 1\n", "x = 1   \n")}) == patch_sha256({})
    assert normalised_changes({"new.py": (None, "")}) == [["new.py", []]]


def test_same_line_change_in_two_places_hashes_differently() -> None:
    ops = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
    fix_add = ops.replace("return a - b", "return a + b", 1)
    break_sub = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n"
    assert patch_sha256({"ops.py": (ops, fix_add)}) != patch_sha256({"ops.py": (ops, break_sub)})
