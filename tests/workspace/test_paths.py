"""Path policy and file I/O for edits: protection globs, safe reads, planning, atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ratchet.errors import EditError
from ratchet.types import Edit
from ratchet.workspace.paths import (
    ALWAYS_PROTECTED,
    DEFAULT_PROTECTED,
    check_relpath,
    is_protected,
    plan_changes,
    read_for_edit,
    write_changes,
)


def make(root: Path, rel: str, data: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))
    else:
        path.write_bytes(data)
    return path


def category_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(EditError) as info:
        call()
    return info.value.category


# --- check_relpath -----------------------------------------------------------------------------


def test_check_relpath_normalises_and_refuses() -> None:
    assert check_relpath("./app//models.py") == "app/models.py"
    for bad in ("/abs.py", "../up.py", ".git/config", "x/.GIT/HEAD", "a\\b.py", "C:/x", ""):
        assert category_of(lambda bad=bad: check_relpath(bad)) == "unsafe_path"


# --- is_protected ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_app.py",
        "tests/data/fixture.json",
        "test/helpers.py",
        "pkg/tests/test_x.py",
        "src/pkg/test_models.py",
        "test_top.py",
        "pkg/models_test.py",
        "conftest.py",
        "src/pkg/conftest.py",
        "pytest.ini",
        "tox.ini",
        "setup.cfg",
        "noxfile.py",
        "pyproject.toml",
        ".github/dependabot.yml",
        ".ci/run.sh",
        ".pre-commit-config.yaml",
        ".gitmodules",
        ".gitattributes",
        "web/src/app.test.ts",
        "go/pkg/server_test.go",
        "requirements-dev.txt",
        "package.json",
        "Makefile",
        "TESTS/Upper.py",
    ],
)
def test_default_protection_covers_tests_config_and_ci(path: str) -> None:
    assert is_protected(path, DEFAULT_PROTECTED)


@pytest.mark.parametrize(
    "path",
    [
        "src/app/models.py",
        "app/recipes.py",
        "README.md",
        "docs/testing-guide.md",
        "src/contest.py",
        "src/pkg/attest.py",
        "latest/notes.txt",
        ".gitignore",
        "src/testament.py",
    ],
)
def test_default_protection_leaves_code_editable(path: str) -> None:
    assert not is_protected(path, DEFAULT_PROTECTED)


def test_always_protected_paths() -> None:
    assert is_protected(".github/workflows/ci.yml", ALWAYS_PROTECTED)
    assert is_protected(".github/ratchet.yml", ALWAYS_PROTECTED)
    assert is_protected(".git/hooks/pre-commit", ALWAYS_PROTECTED)
    assert not is_protected(".github/ISSUE_TEMPLATE.md", ALWAYS_PROTECTED)


def test_glob_semantics() -> None:
    assert is_protected("a/b/c/d.lock", ["**/*.lock"])
    assert is_protected("d.lock", ["**/*.lock"])
    assert is_protected("x/d.lock", ["*.lock"])  # no slash: any depth
    assert not is_protected("x/d.lock", ["/*.lock"])  # leading slash: root only
    assert is_protected("docs/a/b.md", ["docs/"])  # directory covers its contents
    assert not is_protected("docs", ["docs/"])  # trailing slash: directories only
    assert is_protected("src/gen/x.py", ["src/gen"])
    assert not is_protected("lib/src/gen/x.py", ["src/gen"])  # slash inside: anchored
    assert is_protected("data/v1.csv", ["data/v[0-9].csv"])
    assert not is_protected("data/v10.csv", ["data/v?.csv"])
    assert not is_protected("a/b.py", ["a*b.py"])  # * stays within a component
    assert not is_protected("anything.py", ["", "# comment"])


def test_negation_unprotects_and_last_match_wins() -> None:
    patterns = [*DEFAULT_PROTECTED, "!Makefile", "!tests/fixtures/**"]
    assert not is_protected("Makefile", patterns)
    assert not is_protected("tests/fixtures/data.json", patterns)
    assert is_protected("tests/test_a.py", patterns)
    assert is_protected("tests/fixtures/x.py", [*patterns, "tests/fixtures/*.py"])


# --- read_for_edit -----------------------------------------------------------------------------


def test_read_missing_returns_none(tmp_path: Path) -> None:
    assert read_for_edit(tmp_path, "nope.py") is None
    assert read_for_edit(tmp_path, "new/dir/nope.py") is None


def test_read_keeps_bom_and_crlf(tmp_path: Path) -> None:
    make(tmp_path, "w.py", b"\xef\xbb\xbfa = 1\r\nb = 2\r\n")
    assert read_for_edit(tmp_path, "w.py") == "\ufeffa = 1\r\nb = 2\r\n"


def test_read_refuses_symlinked_file_and_parent(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    make(outside, "secret.txt", "s\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.txt").symlink_to(outside / "secret.txt")
    (repo / "linkdir").symlink_to(outside)
    make(repo, "real.txt", "r\n")
    (repo / "inner.txt").symlink_to(repo / "real.txt")  # even inside the repo
    assert category_of(lambda: read_for_edit(repo, "link.txt")) == "unsafe_path"
    assert category_of(lambda: read_for_edit(repo, "linkdir/secret.txt")) == "unsafe_path"
    assert category_of(lambda: read_for_edit(repo, "linkdir/new.txt")) == "unsafe_path"
    assert category_of(lambda: read_for_edit(repo, "inner.txt")) == "unsafe_path"


def test_read_refuses_directories_and_fifos(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    os.mkfifo(tmp_path / "pipe")
    assert category_of(lambda: read_for_edit(tmp_path, "pkg")) == "invalid"
    assert category_of(lambda: read_for_edit(tmp_path, "pipe")) == "invalid"


def test_read_refuses_file_used_as_directory(tmp_path: Path) -> None:
    make(tmp_path, "README.md", "x\n")
    assert category_of(lambda: read_for_edit(tmp_path, "README.md/x.py")) == "invalid"


def test_read_refuses_binary_non_utf8_and_large(tmp_path: Path) -> None:
    make(tmp_path, "img.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    make(tmp_path, "latin.txt", "caf\xe9\n".encode("latin-1"))
    make(tmp_path, "big.txt", "x" * 2000)
    assert category_of(lambda: read_for_edit(tmp_path, "img.png")) == "binary"
    assert category_of(lambda: read_for_edit(tmp_path, "latin.txt")) == "binary"
    assert category_of(lambda: read_for_edit(tmp_path, "big.txt", max_bytes=1000)) == "too_large"
    assert read_for_edit(tmp_path, "big.txt", max_bytes=2000) == "x" * 2000


# --- plan_changes ------------------------------------------------------------------------------


def test_plan_groups_by_path_in_order(tmp_path: Path) -> None:
    make(tmp_path, "app/a.py", "A = 1\nB = 2\n")
    make(tmp_path, "app/b.py", "C = 3\n")
    changes = plan_changes(
        tmp_path,
        [
            Edit("app/a.py", "A = 1", "A = 10"),
            Edit("./app/b.py", "C = 3", "C = 30"),
            Edit("app//a.py", "A = 10", "A = 100"),  # applies after the first edit
            Edit("app/new.py", "", "D = 4\n"),
        ],
    )
    assert list(changes) == ["app/a.py", "app/b.py", "app/new.py"]
    assert changes["app/a.py"] == ("A = 1\nB = 2\n", "A = 100\nB = 2\n")
    assert changes["app/b.py"] == ("C = 3\n", "C = 30\n")
    assert changes["app/new.py"] == (None, "D = 4\n")
    assert (tmp_path / "app/a.py").read_text() == "A = 1\nB = 2\n"  # nothing written


def test_plan_refuses_protected_paths(tmp_path: Path) -> None:
    make(tmp_path, "tests/test_a.py", "def test_a():\n    assert False\n")
    err_cat = category_of(
        lambda: plan_changes(tmp_path, [Edit("tests/test_a.py", "assert False", "assert True")])
    )
    assert err_cat == "unsafe_path"
    # Unprotected by configuration:
    changes = plan_changes(
        tmp_path, [Edit("tests/test_a.py", "assert False", "assert True")], protected=()
    )
    assert changes["tests/test_a.py"][1].endswith("assert True\n")


def test_plan_refuses_always_protected_even_when_unprotected(tmp_path: Path) -> None:
    make(tmp_path, ".github/workflows/ci.yml", "on: push\n")
    with pytest.raises(EditError) as info:
        plan_changes(
            tmp_path,
            [Edit(".github/workflows/ci.yml", "on: push", "on: pull_request")],
            protected=("!.github/**",),
        )
    assert info.value.category == "unsafe_path"
    assert "never" in str(info.value)


def test_plan_refuses_too_many_files(tmp_path: Path) -> None:
    edits = [Edit(f"src/m{i}.py", "", f"X = {i}\n") for i in range(4)]
    assert category_of(lambda: plan_changes(tmp_path, edits, max_files=3)) == "too_large"
    assert len(plan_changes(tmp_path, edits, max_files=4)) == 4


def test_plan_is_all_or_nothing(tmp_path: Path) -> None:
    make(tmp_path, "a.py", "A = 1\n")
    make(tmp_path, "b.py", "B = 1\n")
    with pytest.raises(EditError) as info:
        plan_changes(tmp_path, [Edit("a.py", "A = 1", "A = 2"), Edit("b.py", "Q = 1", "Q = 2")])
    assert info.value.category == "not_found"
    assert info.value.path == "b.py"


def test_plan_refuses_oversized_result(tmp_path: Path) -> None:
    make(tmp_path, "a.txt", "x\n")
    cat = category_of(lambda: plan_changes(tmp_path, [Edit("a.txt", "x", "y" * 50)], max_bytes=20))
    assert cat == "too_large"


def test_plan_refuses_empty_proposal_and_unsafe_paths(tmp_path: Path) -> None:
    assert category_of(lambda: plan_changes(tmp_path, [])) == "invalid"
    assert category_of(lambda: plan_changes(tmp_path, [Edit("../x.py", "", "x")])) == (
        "unsafe_path"
    )


# --- write_changes -----------------------------------------------------------------------------


def test_write_round_trip_keeps_crlf_bom_and_mode(tmp_path: Path) -> None:
    script = make(tmp_path, "bin/run.sh", "#!/bin/sh\r\necho hi\r\n")
    script.chmod(0o755)
    make(tmp_path, "bom.txt", "\ufeffone\n")
    changes = plan_changes(
        tmp_path,
        [
            Edit("bin/run.sh", "echo hi\n", "echo hello\necho bye\n"),
            Edit("bom.txt", "one", "two"),
            Edit("pkg/sub/new.py", "", "N = 1\n"),
        ],
    )
    write_changes(tmp_path, changes)
    assert script.read_bytes() == b"#!/bin/sh\r\necho hello\r\necho bye\r\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert (tmp_path / "bom.txt").read_bytes() == b"\xef\xbb\xbftwo\n"
    assert (tmp_path / "pkg/sub/new.py").read_text() == "N = 1\n"
    leftovers = [p.name for p in tmp_path.rglob("*") if ".ratchet-" in p.name]
    assert leftovers == []


def test_write_new_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_changes(tmp_path, {"n.txt": (None, "x\n")})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n.txt").stat().st_mode) == 0o644


def test_write_refuses_symlink_swapped_in_after_planning(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = tmp_path / "repo"
    make(repo, "a.txt", "a\n")
    changes = plan_changes(repo, [Edit("a.txt", "a", "b"), Edit("d/new.txt", "", "n\n")])
    (repo / "d").symlink_to(outside)
    with pytest.raises(EditError) as info:
        write_changes(repo, changes)
    assert info.value.category == "unsafe_path"
    assert (repo / "a.txt").read_text() == "a\n"  # checks run before any write
    assert list(outside.iterdir()) == []


def test_write_refuses_stale_plan(tmp_path: Path) -> None:
    make(tmp_path, "a.txt", "a\n")
    changes = plan_changes(tmp_path, [Edit("a.txt", "a", "b")])
    make(tmp_path, "a.txt", "changed meanwhile\n")
    assert category_of(lambda: write_changes(tmp_path, changes)) == "invalid"
    assert (tmp_path / "a.txt").read_text() == "changed meanwhile\n"
    new_plan = plan_changes(tmp_path, [Edit("n.txt", "", "n\n")])
    make(tmp_path, "n.txt", "appeared\n")
    assert category_of(lambda: write_changes(tmp_path, new_plan)) == "invalid"


def test_write_rolls_back_when_a_later_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(tmp_path, "a.txt", "a\n")
    make(tmp_path, "b.txt", "b\n")
    real_replace = os.replace
    calls: list[str] = []

    def flaky_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    changes = {"a.txt": ("a\n", "A\n"), "b.txt": ("b\n", "B\n"), "c.txt": (None, "c\n")}
    with pytest.raises(OSError):
        write_changes(tmp_path, changes)
    monkeypatch.undo()
    assert (tmp_path / "a.txt").read_text() == "a\n"  # restored
    assert (tmp_path / "b.txt").read_text() == "b\n"  # never replaced
    assert not (tmp_path / "c.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if ".ratchet-" in p.name] == []
