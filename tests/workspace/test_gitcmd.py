"""ratchet.workspace.gitcmd: the hardened git runner, against real git."""

from __future__ import annotations

import base64
import http.server
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ratchet.errors import GitError
from ratchet.workspace import gitcmd
from ratchet.workspace.gitcmd import AUTHOR_EMAIL, GitCommandError, auth_env, git
from tests.conftest import plain_git

TOKEN = "ghs_TestTokenValue1234567890abcdefXYZ"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    plain_git(path, "init", "-q", "-b", "main")
    (path / "a.txt").write_text("hello\n")
    plain_git(path, "add", "a.txt")
    plain_git(path, "commit", "-q", "-m", "init")
    return path


def plant_hooks(repo: Path, marker: Path) -> None:
    """Hooks and an fsmonitor that would each write to ``marker`` if git ran them."""
    script = f"#!/bin/sh\necho \"$0\" >> {marker}\n"
    hooks = repo / ".git" / "hooks"
    custom = repo / "custom-hooks"
    custom.mkdir()
    for d in (hooks, custom):
        for name in ("reference-transaction", "pre-commit", "post-commit", "pre-push"):
            hook = d / name
            hook.write_text(script)
            hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    monitor = repo / "monitor.sh"
    monitor.write_text(script)
    monitor.chmod(0o755)
    plain_git(repo, "config", "core.hooksPath", str(custom))
    plain_git(repo, "config", "core.fsmonitor", str(monitor))


def test_runs_git_and_returns_text_output(repo: Path) -> None:
    res = git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    assert res.returncode == 0
    assert res.stdout.strip() == "main"
    assert res.args[:2] == ["git", "-c"]
    assert isinstance(res.stdout, str)


def test_input_as_str_and_bytes(repo: Path) -> None:
    a = git(repo, "hash-object", "--stdin", input="abc\n").stdout.strip()
    b = git(repo, "hash-object", "--stdin", input=b"abc\n").stdout.strip()
    expected = plain_git(repo, "rev-parse", "HEAD:a.txt")  # sanity: a different blob
    assert a == b and len(a) == 40 and a != expected.strip()


def test_fixed_identity_and_caller_override(repo: Path) -> None:
    tree = git(repo, "write-tree").stdout.strip()
    c1 = git(repo, "commit-tree", tree, "-m", "x").stdout.strip()
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", c1).stdout.strip() == (
        f"Ratchet <{AUTHOR_EMAIL}>|Ratchet <{AUTHOR_EMAIL}>"
    )
    env = {"GIT_AUTHOR_NAME": "Someone", "GIT_AUTHOR_EMAIL": "s@example.com"}
    c2 = git(repo, "commit-tree", tree, "-m", "y", env=env).stdout.strip()
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn", c2).stdout.strip() == (
        "Someone <s@example.com>|Ratchet"
    )


def test_failure_raises_git_error_with_args_code_and_stderr(repo: Path) -> None:
    with pytest.raises(GitError) as info:
        git(repo, "rev-parse", "--verify", "no-such-ref", env={"SOME_VAR": "env-value-xyz"})
    err = info.value
    assert isinstance(err, GitCommandError)
    assert err.returncode == 128
    assert err.command == ("rev-parse", "--verify", "no-such-ref")
    assert "git rev-parse --verify no-such-ref" in str(err)
    assert "exit 128" in str(err)
    assert "Needed a single revision" in str(err)
    assert "env-value-xyz" not in str(err)


def test_check_false_returns_the_failure(repo: Path) -> None:
    res = git(repo, "rev-parse", "--verify", "--quiet", "nope", check=False)
    assert res.returncode == 1


def test_missing_directory_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="does not exist"):
        git(tmp_path / "absent", "status")


def test_timeout_is_a_git_error(repo: Path) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    try:
        with pytest.raises(GitError, match="timed out") as info:
            git(repo, "ls-remote", f"http://127.0.0.1:{port}/x.git", timeout=0.5)
        assert info.value.returncode == -1  # type: ignore[attr-defined]
    finally:
        srv.close()


def test_hooks_and_fsmonitor_do_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    plant_hooks(repo, marker)
    (repo / "a.txt").write_text("changed\n")
    git(repo, "status", "--porcelain")
    git(repo, "update-ref", "refs/heads/other", "HEAD")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "with hooks planted")
    assert not marker.exists()
    # control: the same operations without the hardening do run them
    plain_git(repo, "update-ref", "refs/heads/third", "HEAD")
    assert marker.exists()


def test_file_transport_only_for_remote_commands(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    plain_git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "fetch", "-q", "origin")  # user-driven transport to the configured remote: allowed
    git(repo, "push", "-q", "origin", "HEAD:refs/heads/pushed")
    assert "refs/heads/pushed" in git(repo, "ls-remote", "origin").stdout
    with pytest.raises(GitError, match="transport 'file' not allowed"):
        git(tmp_path, "clone", "-q", str(bare), str(tmp_path / "copy"))


def test_submodule_file_urls_are_refused(repo: Path, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    plain_git(sub, "init", "-q")
    plain_git(sub, "commit", "-q", "--allow-empty", "-m", "s")
    plain_git(repo, "submodule", "add", "-q", str(sub), "vendored")
    plain_git(repo, "commit", "-q", "-m", "add submodule")
    clone = tmp_path / "clone"
    plain_git(tmp_path, "clone", "-q", str(repo), str(clone))
    with pytest.raises(GitError, match="transport 'file' not allowed"):
        git(clone, "submodule", "update", "--init")
    assert not (clone / "vendored" / ".git").exists()


def test_inherited_repository_and_config_variables_are_dropped(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    plain_git(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'user.name'='Injected'")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.email")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "injected@example.com")
    top = git(repo, "rev-parse", "--show-toplevel").stdout.strip()
    assert Path(top).resolve() == repo.resolve()
    assert git(repo, "config", "--get", "user.name", check=False).stdout.strip() != "Injected"
    assert "injected" not in git(repo, "config", "--get", "user.email", check=False).stdout


def test_auth_env_header_value() -> None:
    env = auth_env(TOKEN)
    assert env["GIT_CONFIG_COUNT"] == "1"
    assert env["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraheader"
    scheme, _, value = env["GIT_CONFIG_VALUE_0"].partition(": ")
    assert scheme == "AUTHORIZATION"
    kind, _, b64 = value.partition(" ")
    assert kind == "basic"
    assert base64.b64decode(b64).decode() == f"x-access-token:{TOKEN}"
    assert auth_env(TOKEN, "https://ghe.example.com/")["GIT_CONFIG_KEY_0"] == (
        "http.https://ghe.example.com/.extraheader"
    )
    with pytest.raises(ValueError):
        auth_env("")
    with pytest.raises(ValueError):
        auth_env("abc\nAUTHORIZATION: evil")


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        type(self).seen.append({"path": self.path, **headers})
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_auth_header_reaches_the_server_but_never_argv_or_config(
    repo: Path, http_server: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = http_server
    argvs: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(argv: list[str], *a: object, **kw: object) -> object:
        argvs.append(list(argv))
        return real_run(argv, *a, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(gitcmd.subprocess, "run", recording_run)
    env = auth_env(TOKEN, server_url=url)
    b64 = env["GIT_CONFIG_VALUE_0"].split()[-1]
    git(repo, "remote", "add", "origin", f"{url}/owner/repo.git")
    with pytest.raises(GitError) as info:
        git(repo, "ls-remote", "origin", env=env)
    # the server saw the credential, as basic auth for x-access-token
    assert seen, "git never reached the fake server"
    assert seen[0]["path"].startswith("/owner/repo.git/info/refs")
    assert seen[0]["authorization"] == f"basic {b64}"
    # ... but it was in no argv, in no config file and in no error message
    assert len(argvs) == 2
    for argv in argvs:
        assert not any(TOKEN in a or b64 in a for a in argv)
    assert TOKEN not in (repo / ".git" / "config").read_text()
    assert TOKEN not in str(info.value) and b64 not in str(info.value)
