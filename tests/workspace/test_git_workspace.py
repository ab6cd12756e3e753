from __future__ import annotations

from pathlib import Path

import pytest

from ratchet.errors import GitError
from ratchet.workspace import git as gitops
from tests.conftest import git, make_repo


def test_worktree_branch_and_commit_leave_checkout_alone(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n", "README": "hi\n"})
    (root / "untracked.txt").write_text("mine\n")
    repo = gitops.open_repo(root)
    base = gitops.resolve_base_branch(repo, None)
    assert base == "main"
    sha = gitops.base_ref(repo, base)
    tip = gitops.ensure_branch(repo, "ratchet/t", sha)
    assert tip == sha
    wt = gitops.worktree(repo, "ratchet/t", "t")
    assert wt.is_relative_to(Path(repo.git_dir))
    (wt / "a.py").write_text("x = 2\n")
    msg = gitops.commit_message("Change x", "because", 1, 10, 20)
    new = gitops.commit_all(wt, msg, ["a.py"])
    assert git(root, "rev-parse", "ratchet/t") == new
    body = git(root, "log", "-1", "--format=%B", "ratchet/t")
    assert body.splitlines()[0] == "Change x"
    assert "Ratchet-Attempt: 1" in body and "Ratchet-Score: 10 -> 20" in body
    # the user's checkout: same branch, same files, untracked file untouched
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert (root / "a.py").read_text() == "x = 1\n"
    assert (root / "untracked.txt").read_text() == "mine\n"
    assert git(root, "status", "--porcelain") == "?? untracked.txt"


def test_worktree_is_reset_when_dirty(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    repo = gitops.open_repo(root)
    gitops.ensure_branch(repo, "ratchet/t", gitops.base_ref(repo, "main"))
    wt = gitops.worktree(repo, "ratchet/t", "t")
    (wt / "a.py").write_text("half-applied\n")
    (wt / "junk.txt").write_text("junk\n")
    wt2 = gitops.worktree(repo, "ratchet/t", "t")
    assert wt2 == wt
    assert (wt / "a.py").read_text() == "x = 1\n"
    assert not (wt / "junk.txt").exists()


def test_export_commit_has_no_git_dir(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"pkg/a.py": "x = 1\n"})
    repo = gitops.open_repo(root)
    dest = gitops.export_commit(repo, gitops.base_ref(repo, "main"), tmp_path / "out")
    assert (dest / "pkg" / "a.py").read_text() == "x = 1\n"
    assert not (dest / ".git").exists()


def test_hooks_do_not_run(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    marker = tmp_path / "hook-ran"
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    repo = gitops.open_repo(root)
    gitops.ensure_branch(repo, "ratchet/t", gitops.base_ref(repo, "main"))
    wt = gitops.worktree(repo, "ratchet/t", "t")
    (wt / "a.py").write_text("x = 3\n")
    gitops.commit_all(wt, "c\n", ["a.py"])
    assert not marker.exists()


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitError, match="not a git repository") as info:
        gitops.open_repo(tmp_path / "plain")
    assert "git init" in info.value.hint
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    repo = gitops.open_repo(empty)
    with pytest.raises(GitError, match="no base branch"):
        gitops.resolve_base_branch(repo, None)
    root = make_repo(tmp_path / "r", {"a": "1\n"})
    with pytest.raises(GitError, match="does not exist"):
        gitops.resolve_base_branch(gitops.open_repo(root), "develop")


def test_a_moved_repository_gets_a_fresh_worktree(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    repo = gitops.open_repo(root)
    gitops.ensure_branch(repo, "ratchet/t", gitops.base_ref(repo, "main"))
    gitops.worktree(repo, "ratchet/t", "t")
    moved = root.rename(tmp_path / "moved")
    repo2 = gitops.open_repo(moved)
    wt = gitops.worktree(repo2, "ratchet/t", "t")
    assert (wt / "a.py").read_text() == "x = 1\n"
    assert wt.is_relative_to(moved)


def test_a_branch_named_ratchet_is_explained(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    git(root, "branch", "ratchet")
    repo = gitops.open_repo(root)
    with pytest.raises(GitError, match="could not create branch") as info:
        gitops.ensure_branch(repo, "ratchet/t", gitops.base_ref(repo, "main"))
    assert "rename" in info.value.hint


def test_task_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    repo = gitops.open_repo(root)
    with gitops.task_lock(repo, "t"):
        with pytest.raises(GitError, match="another ratchet process"):
            with gitops.task_lock(gitops.open_repo(root), "t"):
                pass
    with gitops.task_lock(repo, "t"):  # released
        pass


def test_gitpython_and_gitcmd_share_one_hardening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository that asks for commit signing and an inherited GIT_CONFIG_* injection that
    would set a hooks path change nothing for either way Ratchet runs git."""
    from ratchet.workspace import gitcmd

    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    git(root, "config", "commit.gpgSign", "true")
    git(root, "config", "gpg.program", str(tmp_path / "no-such-signer"))
    hooks = tmp_path / "planted-hooks"
    hooks.mkdir()
    marker = tmp_path / "hook-ran"
    hook = hooks / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks))
    repo = gitops.open_repo(root)
    gitops.ensure_branch(repo, "ratchet/t", gitops.base_ref(repo, "main"))
    wt = gitops.worktree(repo, "ratchet/t", "t")
    (wt / "a.py").write_text("x = 2\n")
    gitops.commit_all(wt, gitops.commit_message("Change", "", 1, 0, 1), ["a.py"])  # GitPython
    (wt / "a.py").write_text("x = 3\n")
    gitcmd.git(wt, "commit", "-q", "-am", "again")  # gitcmd
    assert not marker.exists()
    assert git(root, "log", "-1", "--format=%s", "ratchet/t") == "again"
    # both paths set the same options
    env = gitcmd.gitpython_env()
    pairs = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"]
             for i in range(int(env["GIT_CONFIG_COUNT"]))}
    argv = gitcmd.git_argv("log")
    assert {f"{k}={v}" for k, v in pairs.items()} == set(argv[2:-1:2])
    assert pairs["protocol.file.allow"] == "never" and pairs["protocol.ext.allow"] == "never"


def test_the_cli_scrubs_redirecting_git_variables() -> None:
    from ratchet.workspace.gitcmd import scrub_environ

    environ = {"GIT_DIR": "/elsewhere", "GIT_CONFIG_KEY_3": "x", "GIT_AUTHOR_NAME": "me",
               "PATH": "/bin", "GIT_INDEX_FILE": "/tmp/i"}
    assert sorted(scrub_environ(environ)) == ["GIT_CONFIG_KEY_3", "GIT_DIR", "GIT_INDEX_FILE"]
    assert environ == {"GIT_AUTHOR_NAME": "me", "PATH": "/bin"}
