"""The test command's environment and isolation: nothing secret must reach it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ratchet.errors import ConfigError
from ratchet.evaluate.sandbox import Sandbox, choose_sandbox
from ratchet.evaluate.testenv import (
    credential_paths,
    is_secret_name,
    looks_secret_value,
    safe_env,
)
from tests.conftest import needs_sandbox

SRC = Path(__file__).resolve().parents[2] / "src"
needs_bwrap = needs_sandbox("bwrap")
needs_root = needs_sandbox("unshare")

CANARY = "s3cr3t-canary-7f3a9c"


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A directory NOT under /tmp (the sandbox replaces /tmp, which would hide anything)."""
    base = Path("/var/tmp")
    if not os.access(base, os.W_OK):
        pytest.skip("/var/tmp is not writable")
    path = Path(tempfile.mkdtemp(prefix="ratchet-test-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- safe_env


def test_safe_env_keeps_allowlisted_names_only(tmp_path: Path) -> None:
    parent = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "VIRTUAL_ENV": "/work/.venv",
        "SHELL": "/bin/bash",
        "LD_PRELOAD": "/evil.so",
        "PYTEST_ADDOPTS": "-x",
        "TERM": "xterm-256color",
        "HOME": "/root",
    }
    env = safe_env(parent, {"HOME": str(tmp_path / "h"), "TMPDIR": str(tmp_path / "t")})
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["LANG"] == "C.UTF-8" and env["TZ"] == "UTC"
    assert env["VIRTUAL_ENV"] == "/work/.venv"
    assert env["HOME"] == str(tmp_path / "h") and env["TMPDIR"] == str(tmp_path / "t")
    assert env["TERM"] == "dumb"
    assert env["PYTHONHASHSEED"] == "0" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["CI"] == "true"
    for name in ("SHELL", "LD_PRELOAD", "PYTEST_ADDOPTS"):
        assert name not in env


def test_safe_env_never_passes_secret_names_even_via_extra(tmp_path: Path) -> None:
    parent = {
        "PATH": "/usr/bin",
        "GITHUB_TOKEN": "ghs_x",
        "MINIMAX_API_KEY": "k",
        "MEM0_API_KEY": "k",
        "ACTIONS_RUNTIME_TOKEN": "t",
        "RUNNER_TEMP": "/r",
    }
    extra = {
        "HOME": str(tmp_path),
        "OPENAI_API_KEY": "sk-x",
        "DB_PASSWORD": "hunter2",
        "MY_SECRET_THING": "x",
        "GITHUB_WORKSPACE": "/w",
        "DJANGO_SETTINGS_MODULE": "app.settings",
    }
    env = safe_env(parent, extra)
    assert env["DJANGO_SETTINGS_MODULE"] == "app.settings"
    for name in list(parent)[1:] + ["OPENAI_API_KEY", "DB_PASSWORD", "MY_SECRET_THING",
                                    "GITHUB_WORKSPACE"]:
        assert name not in env, name


def test_safe_env_drops_secret_looking_values_and_relative_path_entries(tmp_path: Path) -> None:
    parent = {
        "PATH": ".:/usr/bin::bin:/usr/bin:/opt/tool/bin",
        "PYTHONPATH": "https://user:pa55word@example.com/simple",
        "VIRTUAL_ENV": "/home/u/.venv",
    }
    env = safe_env(parent, {"HOME": str(tmp_path), "TOOL_OPTS": "ghp_" + "a1" * 15})
    assert env["PATH"] == "/usr/bin:/opt/tool/bin"
    assert "PYTHONPATH" not in env
    assert "TOOL_OPTS" not in env
    assert env["VIRTUAL_ENV"] == "/home/u/.venv"


def test_safe_env_never_reuses_the_parent_home() -> None:
    env = safe_env({"PATH": "/usr/bin", "HOME": "/root"})
    try:
        assert env["HOME"] != "/root"
        assert Path(env["HOME"]).is_dir()
        assert env["TMPDIR"] == env["HOME"]
    finally:
        shutil.rmtree(env["HOME"], ignore_errors=True)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("GITHUB_TOKEN", True),
        ("GH_TOKEN", True),
        ("MINIMAX_API_KEY", True),
        ("MINIMAX_GROUP", True),
        ("MEM0_ORG", True),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", True),
        ("RUNNER_TEMP", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("SSH_AUTH_SOCK", True),
        ("PGPASSWORD", True),
        ("HTTP_AUTH", True),
        ("PATH", False),
        ("LANG", False),
        ("VIRTUAL_ENV", False),
        ("GIT_AUTHOR_NAME", False),
        ("KEYBOARD_LAYOUT", False),
    ],
)
def test_is_secret_name(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("ghp_" + "A1b2" * 9, True),
        ("github_pat_" + "x1" * 20, True),
        ("sk-proj-abcdefghijklmnop1234", True),
        ("https://u:p4ss@host/x", True),
        ("dGhpcyBpcyBhIHZlcnkgbG9uZyBzZWNyZXQga2V5IDEyMzQ=", True),
        ("/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages", False),
        ("/usr/local/bin:/usr/bin:/bin", False),
        ("C.UTF-8", False),
        ("app.settings.production_settings_module_name", False),
    ],
)
def test_looks_secret_value(value: str, secret: bool) -> None:
    assert looks_secret_value(value) is secret


# --------------------------------------------------------------------------- choosing


def test_choose_sandbox_env_override_and_unknown_name() -> None:
    box = choose_sandbox("auto", environ={"RATCHET_SANDBOX": "none"})
    assert box.name == "none" and box.warning
    drop = box.user.drop() if box.user else []  # Ratchet as root: setpriv to nobody first
    assert box.argv(["/bin/sh", "-c", "true"], Path("/t"), Path("/x")) == [
        *drop,
        "/bin/sh",
        "-c",
        "true",
    ]
    with pytest.raises(ConfigError) as err:
        choose_sandbox("auto", environ={"RATCHET_SANDBOX": "docker"})
    assert "docker" in str(err.value) and "bwrap" in err.value.hint


@needs_bwrap
def test_auto_prefers_bwrap_when_it_works() -> None:
    box = choose_sandbox("auto", environ={})
    assert box.name == "bwrap"
    assert box.warning == ""
    assert "bubblewrap" in box.description


def test_argv_rejects_relative_paths() -> None:
    box = choose_sandbox("none", environ={})
    with pytest.raises(ValueError):
        box.argv(["true"], Path("rel"), Path("/tmp"))


# --------------------------------------------------------------------------- bwrap isolation


def _bwrap_box(environ: dict[str, str]) -> Sandbox:
    return Sandbox(
        name="bwrap",
        description="test",
        executable=shutil.which("bwrap") or "bwrap",
        masks=tuple(credential_paths(environ)),
    )


def _run_in(box: Sandbox, script: str, tree: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = safe_env({"PATH": "/usr/bin:/bin"}, {"HOME": str(tmp), "TMPDIR": str(tmp)})
    argv = box.argv(["/bin/sh", "-c", script], tree, tmp, env)
    return subprocess.run(
        argv, env=env, cwd=tree, capture_output=True, text=True, timeout=30, check=False
    )


@needs_bwrap
def test_bwrap_hides_credential_files(tmp_path: Path, outside_tmp: Path) -> None:
    home = outside_tmp / "fakehome"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY MATERIAL\n")
    (home / ".config" / "gh").mkdir(parents=True)
    (home / ".config" / "gh" / "hosts.yml").write_text("oauth_token: gho_xyz\n")
    (home / ".git-credentials").write_text("https://x:tok@github.com\n")
    (home / ".netrc").write_text("machine api.github.com password tok\n")
    masks = credential_paths({"HOME": str(home)})
    for rel in (".ssh", ".config/gh", ".git-credentials", ".netrc"):
        assert str(home / rel) in masks
    tree, tmp = tmp_path / "tree", tmp_path / "tmp"
    tree.mkdir()
    tmp.mkdir()
    script = (
        f"cat {home}/.ssh/id_ed25519 {home}/.config/gh/hosts.yml {home}/.git-credentials "
        f"{home}/.netrc 2>&1; ls -A {home}/.ssh; echo done"
    )
    visible = _run_in(Sandbox(name="none", description=""), script, tree, tmp)
    assert "PRIVATE KEY" in visible.stdout  # the probe does see them without masks
    done = _run_in(_bwrap_box({"HOME": str(home)}), script, tree, tmp)
    assert done.returncode == 0, done.stderr
    assert "PRIVATE KEY" not in done.stdout
    assert "gho_xyz" not in done.stdout and "x:tok@" not in done.stdout
    assert "password tok" not in done.stdout
    assert done.stdout.strip().endswith("done")


@needs_bwrap
def test_bwrap_filesystem_is_read_only_except_tree_and_tmp(
    tmp_path: Path, outside_tmp: Path
) -> None:
    tree, tmp = tmp_path / "tree", tmp_path / "tmp"
    tree.mkdir()
    tmp.mkdir()
    outside = outside_tmp / "outside.txt"
    script = (
        f"echo t > {tree}/in-tree && echo ok-tree; echo t > {tmp}/in-tmp && echo ok-tmp; "
        f"echo t > /usr/ratchet-probe 2>/dev/null || echo no-usr; "
        f"echo t > {outside} 2>/dev/null || echo no-outside; "
        f"ls /tmp"
    )
    done = _run_in(_bwrap_box({}), script, tree, tmp)
    out = done.stdout.split()
    assert {"ok-tree", "ok-tmp", "no-usr", "no-outside"} <= set(out)
    assert (tree / "in-tree").exists() and (tmp / "in-tmp").exists()
    assert not outside.exists()
    assert not Path("/usr/ratchet-probe").exists()


@needs_bwrap
def test_bwrap_cuts_the_network_but_keeps_loopback(tmp_path: Path) -> None:
    tree, tmp = tmp_path / "tree", tmp_path / "tmp"
    tree.mkdir()
    tmp.mkdir()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    probe = (
        "import socket\n"
        "s = socket.socket(); s.settimeout(2)\n"
        f"print('host', s.connect_ex(('127.0.0.1', {port})))\n"
        "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)\n"
        "c = socket.create_connection(srv.getsockname(), timeout=2)\n"
        "print('inner', 'ok')\n"
    )
    (tree / "probe.py").write_text(probe)
    try:
        done = _run_in(_bwrap_box({}), f"{sys.executable} probe.py", tree, tmp)
    finally:
        server.close()
    assert "inner ok" in done.stdout, done.stdout + done.stderr
    host = [line for line in done.stdout.splitlines() if line.startswith("host")]
    assert host and host[0] != "host 0"  # the host's listening socket is unreachable


# --------------------------------------------------------------------------- end to end


_CHILD = """
import json, sys
from pathlib import Path
from ratchet.evaluate.runner import run_suite
from ratchet.evaluate.sandbox import choose_sandbox
run = run_suite(Path(sys.argv[1]), sys.argv[3], sandbox=choose_sandbox(sys.argv[2]), timeout=60)
print(json.dumps({"status": run.status, "output": run.output}))
"""

# grep for the canary without the literal value appearing in any command line
_PROBE = (
    "echo ENV_HITS=$(env | grep -c 's3cr3t-canary-7f3a9[c]'); "
    "echo PPID_HITS=$(tr '\\0' '\\n' < /proc/$PPID/environ | grep -c 's3cr3t-canary-7f3a9[c]'); "
    "echo ALL_HITS=$(cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' "
    "| grep -c 's3cr3t-canary-7f3a9[c]')"
)


def _probe_secret(sandbox: str, tmp_path: Path, **extra: str) -> dict[str, int]:
    """Run the runner in a child whose real (exec-time) environment holds secrets."""
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "HOME": str(tmp_path),
        "MINIMAX_API_KEY": CANARY,
        "GITHUB_TOKEN": CANARY,
        "CANARY_SECRET": CANARY,
        **extra,
    }
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tree), sandbox, _PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["status"] == "ran", result
    assert CANARY not in result["output"]
    hits = {}
    for line in result["output"].splitlines():
        name, _, value = line.partition("=")
        if name.endswith("_HITS"):
            hits[name] = int(value)
    assert set(hits) == {"ENV_HITS", "PPID_HITS", "ALL_HITS"}, result["output"]
    return hits


@needs_bwrap
def test_secret_invisible_under_bwrap_via_env_and_proc(tmp_path: Path) -> None:
    assert _probe_secret("bwrap", tmp_path) == {"ENV_HITS": 0, "PPID_HITS": 0, "ALL_HITS": 0}


@needs_root
def test_secret_invisible_under_unshare_via_env_and_proc(tmp_path: Path) -> None:
    assert _probe_secret("unshare", tmp_path) == {"ENV_HITS": 0, "PPID_HITS": 0, "ALL_HITS": 0}


def test_without_sandbox_env_is_clean_but_parent_proc_leaks(tmp_path: Path) -> None:
    """Documents the risk of the plain-subprocess rung (and proves the probe can see a leak),
    which running the tests as another account (Ratchet as root) closes."""
    hits = _probe_secret("none", tmp_path)
    assert hits["ENV_HITS"] == 0
    if os.geteuid() == 0:  # the tests ran as nobody: root's /proc/<pid>/environ is not theirs
        assert hits == {"ENV_HITS": 0, "PPID_HITS": 0, "ALL_HITS": 0}
        kept = _probe_secret("none", tmp_path, RATCHET_TEST_USER="root")  # the risk accepted
        assert kept["PPID_HITS"] >= 1
    else:
        assert hits["PPID_HITS"] >= 1


def test_fail_closed_where_the_rung_cannot_hide_credentials() -> None:
    from ratchet.errors import ConfigError
    from ratchet.evaluate.exposure import refuse_exposure
    from ratchet.evaluate.sandbox import _NONE, Sandbox

    creds = {"MINIMAX_API_KEY": "mm-secret-123", "INPUT_GITHUB_TOKEN": "ghs_abcdef123456",
             "PATH": "/usr/bin", "SHORT_KEY": "x"}  # fmt: skip
    with pytest.raises(ConfigError) as err:
        refuse_exposure(_NONE, creds)
    msg = str(err.value)
    assert "INPUT_GITHUB_TOKEN, MINIMAX_API_KEY" in msg and "SHORT_KEY" not in msg
    assert "mm-secret" not in msg + err.value.hint  # names, never values
    assert "bubblewrap" in err.value.hint and "sandbox: none" in err.value.hint
    unshare = Sandbox(name="unshare", description="", warning="partial")
    with pytest.raises(ConfigError):
        refuse_exposure(unshare, creds)
    # named by the user: the risk is accepted; no credentials: nothing to steal; bwrap hides them
    refuse_exposure(_NONE, {**creds, "RATCHET_SANDBOX": "none"})
    refuse_exposure(_NONE, creds, configured="none")
    refuse_exposure(_NONE, {"PATH": "/usr/bin", "HOME": "/root"})
    refuse_exposure(Sandbox(name="bwrap", description=""), creds)
