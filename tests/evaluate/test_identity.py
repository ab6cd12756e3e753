"""Who the tests run as when Ratchet is root, and what the sandboxes mount so that account
reaches its tools (identity.py, reach.py): table tests on real directories with real modes,
and a real switch where this suite runs as root."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ratchet.errors import ConfigError
from ratchet.evaluate import identity
from ratchet.evaluate.identity import TestUser, choose_user
from ratchet.evaluate.reach import hiding_plan, with_parents

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (it switches accounts)")


def _other() -> TestUser:
    """An account that owns none of the test's directories and is in none of their groups."""
    uid = 65533 if os.geteuid() == 65534 else 65534
    return TestUser(name="other", uid=uid, gid=uid, setpriv="/usr/bin/setpriv")


def _dirs(base: Path, modes: dict[str, int]) -> None:
    for rel in sorted(modes):
        (base / rel).mkdir(parents=True, exist_ok=True)
    for rel, mode in modes.items():
        (base / rel).chmod(mode)


def test_choosing_the_account() -> None:
    assert choose_user("auto", {}, euid=1000) is None  # nothing to drop
    assert choose_user("nobody", {}, euid=1000) is None
    assert choose_user("root", {}, euid=0) is None  # the risk accepted by name
    assert choose_user("auto", {"RATCHET_TEST_USER": "root"}, euid=0) is None
    user = choose_user("auto", {}, euid=0)
    assert user is not None and user.uid != 0 and user.name == "nobody"
    assert choose_user("0", {}, euid=0) is None  # uid 0 is root by another name
    numeric = choose_user("4242", {}, euid=0)  # a uid without an account is usable as is
    assert numeric is not None and (numeric.uid, numeric.gid) == (4242, 4242)
    with pytest.raises(ConfigError) as err:
        choose_user("no-such-account-x", {}, euid=0)
    assert "no such account" in str(err.value) and "test_user" in err.value.hint
    with pytest.raises(ConfigError) as bad:
        choose_user("Robert'); DROP", {}, euid=0)
    assert "not an account name" in str(bad.value)


def test_a_missing_setpriv_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity, "SYSTEM_BIN", "/nonexistent")
    with pytest.raises(ConfigError) as err:
        choose_user("auto", {"PATH": "/nonexistent"}, euid=0)
    assert "setpriv" in str(err.value) and "test_user: root" in err.value.hint


def test_the_switch_drops_every_privilege() -> None:
    user = TestUser(name="nobody", uid=65534, gid=65534, setpriv="/usr/bin/setpriv")
    assert user.drop() == [
        "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
    ]  # fmt: skip


def test_which_directories_the_account_can_enter(tmp_path: Path) -> None:
    _dirs(tmp_path, {"open": 0o755, "walk": 0o711, "shut": 0o700, "shut/in": 0o755,
                     "group": 0o750})  # fmt: skip
    user = _other()
    assert user.enters(str(tmp_path / "open")) and user.enters(str(tmp_path / "walk"))
    assert not user.enters(str(tmp_path / "shut")) and not user.enters(str(tmp_path / "group"))
    assert user.blocked(str(tmp_path / "open")) is None
    assert user.blocked(str(tmp_path / "shut" / "in")) == str(tmp_path / "shut")
    owner = TestUser("me", os.geteuid(), os.getegid(), "/usr/bin/setpriv")
    assert owner.enters(str(tmp_path / "shut"))  # its own 0700 directory


def test_a_tool_behind_a_private_directory_is_bound_back(tmp_path: Path) -> None:
    home = tmp_path / "home"  # like /root: 0700, with toolchains readable inside
    _dirs(tmp_path, {"home": 0o700, "home/.pyenv/versions/3.12/bin": 0o755,
                     "home/.cargo/bin": 0o755, "home/.ssh": 0o700, "usr/bin": 0o755,
                     "home/.local/priv": 0o700, "home/.local/priv/bin": 0o755,
                     "home/secret": 0o700})  # fmt: skip
    user = _other()
    py, cargo = home / ".pyenv/versions/3.12", home / ".cargo/bin"
    priv = home / ".local/priv/bin"
    sources = [str(py), str(py / "bin"), str(cargo), str(tmp_path / "usr/bin"), str(priv),
               str(home / "secret")]  # fmt: skip
    plan = hiding_plan(user, sources, destinations=[str(home / "work" / "repo")])
    assert plan == [
        ("tmpfs", str(home)),
        ("tmpfs", str(home / ".local/priv")),
        ("bind", str(cargo)),
        ("bind", str(priv)),
        ("bind", str(py)),  # py/bin is inside it: one mount
    ]  # the open directory needs nothing; "secret" (0700 itself) stays out of reach
    assert hiding_plan(None, sources) == []
    full = with_parents(plan, [str(home / "work" / "repo")], created=())
    dirs = [p for op, p in full if op == "dir"]
    assert dirs == [str(home / ".cargo"), str(home / ".local"), str(home / ".pyenv"),
                    str(home / "work"), str(home / ".pyenv/versions")]  # fmt: skip
    # each directory is made before what is mounted in it, each tmpfs before its contents
    order = [p for _, p in full]
    assert order.index(str(home)) < order.index(str(home / ".pyenv")) < order.index(str(py))
    assert order.index(str(home / ".local/priv")) < order.index(str(priv))


def test_paths_the_sandbox_makes_anew_are_left_alone(tmp_path: Path) -> None:
    _dirs(tmp_path, {"shut": 0o700, "shut/tool": 0o755})
    tool = str(tmp_path / "shut" / "tool")
    assert hiding_plan(_other(), [tool], fresh=[str(tmp_path)]) == []
    created = with_parents([], ["/tmp/pytest-of-x/a/repo"])
    assert created == [("dir", "/tmp/pytest-of-x"), ("dir", "/tmp/pytest-of-x/a")]


@root_only
def test_handing_the_tree_over(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "mod.py").write_text("x = 1\n")
    (tree / "link").symlink_to("/etc/hostname")
    user = choose_user("auto", {})
    assert user is not None
    user.hand_over(tree)
    for path in (tree, tree / "pkg", tree / "pkg" / "mod.py"):
        assert os.lstat(path).st_uid == user.uid
    assert os.lstat(tree / "link").st_uid == user.uid
    assert os.stat("/etc/hostname").st_uid == 0  # a symlink's target is never touched
    done = subprocess.run([*user.drop(), "sh", "-c", "id -u; echo y > pkg/new"], cwd=tree,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(user.uid) and (tree / "pkg" / "new").exists()
