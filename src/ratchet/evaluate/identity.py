"""Who the tests run as.

When Ratchet runs as root (a container job, a self-hosted runner, ``sudo``), the repository's
tests (code the model wrote) do not: they run as an unprivileged account, ``nobody`` unless
``test_user:`` (or ``RATCHET_TEST_USER``) names another, with no supplementary groups, no
capabilities (bounding set emptied) and ``no_new_privs`` (a setuid program cannot give them
back). util-linux's ``setpriv`` makes the switch as the last step before the test command,
after the sandbox has set up its mounts as root. Such a test cannot read root's files or the
bot's ``/proc/<pid>/environ``, write the bot's checkout, ``.git`` or ``/etc``, undo the
sandbox's mounts, or signal processes outside its own; the process limit of ``test_limits``
binds it (the kernel exempts root).

``test_user: root`` keeps root (accepting the risk). A Ratchet that is not root has no
privileges to drop and the tests run as its own user, whatever the setting.

What the tests must reach is handed over to that account (the tree and the run's private
directory are chowned to it); a directory on the way to a toolchain that the account cannot
enter (``/root`` is mode 0700) is hidden behind an empty, enterable one inside the sandbox's
mount namespace, with the toolchain directories bound back read-only (see sandbox.py).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ratchet.environment import current
from ratchet.errors import ConfigError

DEFAULT = "nobody"
#: the conventional uid/gid of ``nobody``, used when the account database lacks one
NOBODY_ID = 65534
#: where util-linux installs setpriv, looked in after PATH (Ratchet runs it, not the tests)
SYSTEM_BIN = "/usr/bin:/bin:/usr/sbin:/sbin"
_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?$|^[0-9]{1,10}$")


@dataclass(frozen=True)
class TestUser:
    """The account the tests run as (never root)."""

    __test__ = False  # not a pytest test class

    name: str
    uid: int
    gid: int
    setpriv: str

    def drop(self) -> list[str]:
        """The argv prefix that runs the rest as this account, without any privilege."""
        return [
            self.setpriv,
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]

    def enters(self, directory: str) -> bool:
        """True if this account may pass through ``directory`` (search permission)."""
        try:
            info = os.stat(directory)
        except OSError:
            return True  # a missing path is nobody's obstacle; the sandbox creates it
        if info.st_uid == self.uid:
            return bool(info.st_mode & stat.S_IXUSR)
        if info.st_gid == self.gid:
            return bool(info.st_mode & stat.S_IXGRP)
        return bool(info.st_mode & stat.S_IXOTH)

    def blocked(self, path: str) -> str | None:
        """The outermost directory on the way to ``path`` (itself included) that this account
        cannot enter, or None when it can reach ``path``."""
        parts = Path(path).parts
        for i in range(1, len(parts) + 1):
            here = os.path.join(*parts[:i])
            if not self.enters(here):
                return here
        return None

    def hand_over(self, *roots: Path) -> None:
        """Make everything under ``roots`` this account's (symlinks are not followed)."""
        for root in roots:
            os.lchown(root, self.uid, self.gid)
            for base, dirs, files in os.walk(root):
                for name in dirs + files:
                    os.lchown(os.path.join(base, name), self.uid, self.gid)

    def describe(self) -> str:
        return (f"{self.name} (uid {self.uid}): Ratchet runs as root; the tests run without its "
                "privileges (no capabilities, no_new_privs)")


def _account(choice: str) -> tuple[str, int, int] | None:
    try:
        entry = pwd.getpwuid(int(choice)) if choice.isdigit() else pwd.getpwnam(choice)
    except (KeyError, ValueError):
        if choice.isdigit():
            return choice, int(choice), int(choice)
        return None
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def choose_user(configured: str = "auto", environ: Mapping[str, str] | None = None,
                euid: int | None = None) -> TestUser | None:
    """The account for the tests (None: Ratchet's own). ``RATCHET_TEST_USER`` overrides
    ``configured`` ("auto" = :data:`DEFAULT`, "root" = keep root, a name or a uid). Raises
    ConfigError for an unknown account or a missing ``setpriv``."""
    env = environ if environ is not None else current()
    choice = (env.get("RATCHET_TEST_USER") or configured or "auto").strip()
    if (os.geteuid() if euid is None else euid) != 0 or choice == "root":
        return None
    if not _NAME.match(choice) and choice != "auto":
        raise ConfigError(f"test_user {choice!r} is not an account name or uid",
                          "set test_user to auto, root, an account name (e.g. nobody) or a uid")
    wanted = DEFAULT if choice == "auto" else choice
    found = _account(wanted)
    if found is None and choice == "auto":
        found = (DEFAULT, NOBODY_ID, NOBODY_ID)
    if found is None:
        raise ConfigError(f"test_user {choice!r}: no such account on this machine",
                          "create it (useradd --system NAME), or set test_user: auto (nobody)")
    name, uid, gid = found
    if uid == 0:
        return None
    exe = shutil.which("setpriv", path=f"{env.get('PATH') or os.defpath}:{SYSTEM_BIN}")
    if not exe:
        raise ConfigError(
            "Ratchet runs as root and would run the tests as root: util-linux's setpriv, "
            "which drops to an unprivileged account, is not installed",
            "install util-linux (apt-get install util-linux), or accept the risk with "
            "`test_user: root` in .github/ratchet.yml or RATCHET_TEST_USER=root",
        )
    return TestUser(name=name, uid=uid, gid=gid, setpriv=exe)


def outermost(paths: Iterable[str]) -> list[str]:
    """``paths`` without those inside another one of them (sorted)."""
    tops = sorted(set(paths))
    return [p for p in tops if not any(p != o and p.startswith(o.rstrip("/") + "/")
                                       for o in tops)]
