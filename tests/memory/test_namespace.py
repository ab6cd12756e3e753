"""repo_namespace: one memory namespace per repository, in Actions and locally."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ratchet.memory.namespace import parse_remote_url, repo_namespace


def git_repo(path: Path, origin: str | None = None) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if origin is not None:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", origin], check=True)
    return path


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/Octo/App", "octo/app"),
        ("https://github.com/octo/app.git", "octo/app"),
        ("https://github.com/octo/app/", "octo/app"),
        ("http://github.com/octo/my.app.git", "octo/my.app"),
        ("https://x-access-token:ghs_secret@github.com/octo/app.git", "octo/app"),
        ("git@github.com:octo/app.git", "octo/app"),
        ("github.com:octo/app", "octo/app"),
        ("ssh://git@github.com/octo/app.git", "octo/app"),
        ("ssh://git@github.com:22/octo/app.git", "octo/app"),
        ("git://github.com/octo/app.git", "octo/app"),
        ("https://ghe.example.com/team/service.git", "team/service"),
        ("git@ghe.example.com:team/service.git", "team/service"),
        ("https://ghe.example.com/prefix/team/service", "team/service"),
    ],
)
def test_hosted_remote_urls(url: str, slug: str) -> None:
    assert parse_remote_url(url) == slug


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/srv/git/app.git",
        "../app.git",
        "file:///srv/git/app.git",
        "https://github.com/just-one",
        "C:\\repos\\app",
        "https://github.com/octo/bad name",
    ],
)
def test_local_or_odd_remotes_are_not_namespaces(url: str) -> None:
    assert parse_remote_url(url) is None


def test_github_repository_wins(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "checkout", "git@github.com:someone/fork.git")
    env = {"GITHUB_REPOSITORY": "Octo/App"}
    assert repo_namespace(repo, env) == "ratchet:octo/app"


def test_origin_remote_when_not_in_actions(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "checkout", "https://github.com/octo/app.git")
    assert repo_namespace(repo, {}) == "ratchet:octo/app"
    assert repo_namespace(repo, {"GITHUB_REPOSITORY": "not a slug"}) == "ratchet:octo/app"


def test_local_checkout_without_hosted_remote(tmp_path: Path) -> None:
    plain = git_repo(tmp_path / "My Project", origin=str(tmp_path / "bare.git"))
    assert repo_namespace(plain, {}) == "ratchet:local/my-project"
    no_git = tmp_path / "scratch"
    no_git.mkdir()
    assert repo_namespace(no_git, {}) == "ratchet:local/scratch"


def test_default_is_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = git_repo(tmp_path / "here", "git@github.com:octo/here.git")
    monkeypatch.chdir(repo)
    assert repo_namespace(None, {}) == "ratchet:octo/here"
