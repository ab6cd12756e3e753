"""Where the repository's test command runs: a scrubbed environment inside the best isolation
this machine offers.

Environment: see :mod:`ratchet.evaluate.testenv` (:func:`safe_env`, an allowlist; credential-looking
names and values are never passed).

Isolation ladder (chosen once per process, reported by ``ratchet doctor``):

``bwrap``
    bubblewrap, if installed and a probe run works: ``/`` bound read-only, the work tree and a
    private temp directory bound read-write, a private ``/tmp``, fresh ``/proc`` and ``/dev``,
    new PID/IPC/UTS/network namespaces (only loopback, which works), ``--die-with-parent``,
    ``--new-session``, ``--clearenv`` plus the safe environment, all capabilities dropped when
    running as root, and well-known credential files and directories (``~/.ssh``, ``~/.aws``,
    ``~/.git-credentials``, ``~/.netrc``, ``~/.docker``, ``~/.config/gh``, ``~/.mem0``, the
    Docker socket, the GitHub Actions file-command files ...) hidden behind empty mounts, and
    every unix socket under ``/run`` and ``/var/run`` (docker, containerd, dbus ...) behind
    ``/dev/null``. ``/tmp`` and ``/dev/shm`` are capped (``test_limits.tmp_mb``); limits on
    processes, file size and core dumps apply on every rung (:mod:`ratchet.evaluate.limits`).
    The parent process (which holds the API keys) is not visible: ``/proc/$PPID/environ`` shows
    only the sandbox's own init.
``unshare``
    util-linux ``unshare --pid --fork --mount-proc --kill-child --net`` (plus IPC/UTS), only
    when running as root (see unshare.py). Hides the parent's ``/proc/<pid>/environ``, cuts
    the network (loopback only) and kills the whole process tree with its PID 1. It does NOT
    make the file system read-only or hide credential files: the tests running as another
    account (below) is what keeps them off root's files.
``none``
    a plain subprocess in its own session. The environment is still scrubbed, but a test
    running as Ratchet's user CAN read the parent's secrets from ``/proc/$PPID/environ`` and
    the credential files in the real home directory; a grandchild that calls ``setsid``
    survives the kill. ``ratchet doctor`` warns about this.

When Ratchet is root, every rung runs the tests as an unprivileged account (``nobody``; the
``test_user`` setting; see identity.py) with no capabilities: bubblewrap keeps only what the
switch needs, and toolchains behind a private directory (``/root``) are bound back for that
account (reach.py). Build caches are then not shared (the overlay's files are root's).
Whether a rung may run the tests while this process holds credentials: exposure.py.

``RATCHET_SANDBOX=auto|bwrap|unshare|none`` overrides the choice (``auto`` = best available).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ratchet.environment import current
from ratchet.errors import ConfigError, EvalError
from ratchet.evaluate import unshare
from ratchet.evaluate.identity import TestUser, choose_user
from ratchet.evaluate.reach import (
    hiding_plan,
    host_sockets,
    inside,
    inside_strict,
    private_tool_dirs,
    tool_dirs,
    with_parents,
)
from ratchet.evaluate.testenv import credential_paths
from ratchet.evaluate.world import Shared, World

CHOICES = ("auto", "bwrap", "unshare", "none")


@dataclass(frozen=True)
class Sandbox:
    """One rung of the isolation ladder.

    ``name`` is "bwrap", "unshare" or "none"; ``description`` is one line for ``ratchet
    doctor``; ``warning`` is non-empty when the isolation is weak; ``overlays`` is True when
    this rung can share a build cache copy-on-write (bubblewrap ≥ 0.9, or unshare as root);
    ``user`` is the account the tests run as when Ratchet is root (see identity.py).
    """

    name: str
    description: str
    warning: str = ""
    executable: str = ""
    masks: tuple[str, ...] = field(default=())
    overlays: bool = False
    user: TestUser | None = None

    @property
    def shares_caches(self) -> bool:
        """True when build caches are shared copy-on-write: an overlay this rung can make,
        and tests running as Ratchet's own user (the cache's files are its, and another
        account could not write them through the overlay)."""
        return self.overlays and self.name != "none" and self.user is None

    # -- where the tests run ---------------------------------------------------------------
    def root(self, tree: Path, world: World | None) -> str:
        """The absolute path the tests see as the project root. With a mount namespace it is
        the user's checkout itself (so paths in test ids, snapshots and installed packages
        are the ones the workflow prepared); without one it is ``tree``."""
        if world is not None and self.name in ("bwrap", "unshare"):
            return world.checkout
        return str(tree)

    def _overlay_dirs(self, tmp: Path, index: int) -> tuple[Path, Path]:
        base = tmp / "overlay" / str(index)
        return base / "upper", base / "work"

    def views(self, tree: Path, tmp: Path, world: World | None) -> tuple[tuple[Path, str], ...]:
        """Host directories holding what the tests wrote: the tree, then the upper layer of
        each build cache shared through an overlay (with the tree-relative path it serves)."""
        views: list[tuple[Path, str]] = [(Path(tree), "")]
        if world is not None and self.shares_caches:
            for i, shared in enumerate(world.caches):
                views.append((self._overlay_dirs(tmp, i)[0], shared.rel))
        return tuple(views)

    def prepare(self, tree: Path, tmp: Path, world: World | None) -> None:
        """Make the prepared paths reachable in ``tree`` before a run: mount points (bwrap,
        unshare) or symlinks to the checkout (none; the tests can then write through them,
        like everything else without a sandbox), then hand the tree and ``tmp`` over to the
        tests' account, if they run as another one."""
        for shared in world.shared if world is not None else ():
            assert world is not None
            target = Path(tree) / shared.rel
            source = Path(world.checkout) / shared.rel
            if target.exists() or target.is_symlink():
                continue  # tracked content of the commit wins
            if self.name == "none":
                if not shared.cache:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.symlink_to(source, target_is_directory=source.is_dir())
                continue
            if shared.cache and not self.shares_caches:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                target.mkdir()
            else:
                target.touch()
            if shared.cache:
                for d in self._overlay_dirs(tmp, world.caches.index(shared)):
                    d.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            self.user.hand_over(Path(tree), Path(tmp))
            self._check_reachable(Path(tree), Path(tmp))

    def _check_reachable(self, tree: Path, tmp: Path) -> None:
        """Raise EvalError when the tests' account could not enter its own directories (a
        mount namespace brings the tree back to it; nothing brings back ``tmp``)."""
        assert self.user is not None
        for path in (tmp, tree) if self.name == "none" else (tmp,):
            wall = self.user.blocked(str(path))
            if wall is not None:
                raise EvalError(
                    f"the tests run as {self.user.name}, who cannot enter {wall} on the way "
                    f"to {path}",
                    "set TMPDIR to a directory every account may enter (such as /tmp), or "
                    "accept running the tests as root with test_user: root",
                )

    def argv(
        self,
        command_argv: Sequence[str],
        tree: Path,
        tmp: Path,
        env: Mapping[str, str] | None = None,
        world: World | None = None,
        tmpfs_bytes: int | None = None,
    ) -> list[str]:
        """The full argv that runs ``command_argv`` in the project root (see :meth:`root`)
        inside this sandbox, as :attr:`user` when there is one.

        ``tree`` and ``tmp`` are the only writable places under bwrap. ``env`` (the output of
        :func:`safe_env`) is installed with ``--clearenv``/``--setenv`` under bwrap; the caller
        must ALSO pass it as the process environment, so that the sandbox launcher itself holds
        no secrets. ``world`` (prepared paths of the checkout) is mounted as :meth:`prepare`
        set it up. Raises ValueError for a relative ``tree``/``tmp``.
        """
        tree, tmp = Path(tree), Path(tmp)
        if not (tree.is_absolute() and tmp.is_absolute()):
            raise ValueError("tree and tmp must be absolute paths")
        cmd = [*(self.user.drop() if self.user else ()), *command_argv]
        if self.name == "none":
            return cmd
        root = Path(self.root(tree, world))
        tools = [p for p in private_tool_dirs(env or {}, root) if not inside(tree, p)]
        run = _Launch(cmd, tree, tmp, root, world, tools, env or {}, tmpfs_bytes)
        return self._unshare_argv(run) if self.name == "unshare" else self._bwrap_argv(run)

    def _bwrap_argv(self, run: _Launch) -> list[str]:
        cmd, tree, tmp, root, world, tools, env = (run.cmd, run.tree, run.tmp, run.root,
                                                   run.world, run.tools, run.env)
        tmpfs_bytes = run.tmpfs_bytes
        args = [self.executable, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        size = ["--size", str(tmpfs_bytes)] if tmpfs_bytes else []
        size += ["--perms", "1777"] if self.user is not None else []  # root's, else 0755
        args += [*size, "--tmpfs", "/tmp", *size, "--tmpfs", "/dev/shm"]
        args += self._reach_args(env, root, tmp, tools)
        args += self._mask_args(tree, tmp, root)
        for sock in host_sockets():  # a docker/containerd socket is the host
            if not (inside(tree, sock) or inside(tmp, sock) or inside_strict(root, sock)):
                args += ["--ro-bind", "/dev/null", sock]
        args += ["--bind", str(tmp), str(tmp), "--bind", str(tree), str(root)]
        for i, shared in enumerate(self._mounted(world)):
            assert world is not None  # _mounted(None) is empty
            source, dest = os.path.join(world.checkout, shared.rel), str(root / shared.rel)
            if shared.cache:
                upper, work = self._overlay_dirs(tmp, i)
                args += ["--overlay-src", source, "--overlay", str(upper), str(work), dest]
            else:
                args += ["--ro-bind", source, dest]
        for path in tools:
            args += ["--ro-bind", path, path]
        args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net"]
        args += ["--die-with-parent", "--new-session"]
        if os.geteuid() == 0:
            args += ["--cap-drop", "ALL"]
            if self.user is not None:  # setpriv needs these to switch, then drops them all
                args += [arg for cap in SWITCH_CAPS for arg in ("--cap-add", cap)]
        args += ["--clearenv"]
        for name, value in sorted(env.items()):
            args += ["--setenv", name, value]
        args += ["--chdir", str(root), "--", *cmd]
        return args

    def _reach_args(self, env: Mapping[str, str], root: Path, tmp: Path,
                    tools: list[str]) -> list[str]:
        """bwrap options that let the tests' account (when it is not Ratchet's) reach its
        tools and directories: see :func:`hiding_plan` and :func:`with_parents`."""
        if self.user is None:
            return []
        plan = hiding_plan(self.user, tool_dirs(env), [str(root), str(tmp)], fresh=FRESH)
        args: list[str] = []
        for op, path in with_parents(plan, [str(root), str(tmp), *tools]):
            if op == "tmpfs":
                args += ["--tmpfs", path]
            elif op == "dir":
                args += ["--perms", "0755", "--dir", path]
            else:
                args += ["--ro-bind", path, path]
        return args

    def _mask_args(self, tree: Path, tmp: Path, root: Path) -> list[str]:
        """bwrap options hiding the credential files and directories (an empty directory or
        ``/dev/null`` over each) that the tests could otherwise read."""
        args: list[str] = []
        masks = set(self.masks) | set(credential_paths(current()))
        for path in sorted(masks):
            if path.startswith(("/tmp/", "/dev/", "/proc/")) or not os.path.exists(path):
                continue  # /tmp, /dev and /proc are fresh inside the sandbox anyway
            if inside(tree, path) or inside(tmp, path) or Path(path) == root:
                continue
            if inside_strict(root, path):
                continue  # hidden anyway: the tree is mounted over the project root
            if os.path.isdir(path):
                args += ["--tmpfs", path]
            else:
                args += ["--ro-bind", "/dev/null", path]
        return args

    def _mounted(self, world: World | None) -> list[Shared]:
        """The shared paths mounted in this rung, caches (in ``world.caches`` order) first."""
        if world is None:
            return []
        caches = list(world.caches) if self.shares_caches else []
        return caches + list(world.dependencies)

    def _unshare_argv(self, run: _Launch) -> list[str]:
        cmd, tree, tmp, root, world, tools, env = (run.cmd, run.tree, run.tmp, run.root,
                                                   run.world, run.tools, run.env)
        binds: list[tuple[str, str, bool]] = []
        for i, shared in enumerate(self._mounted(world)):
            assert world is not None
            source, dest = os.path.join(world.checkout, shared.rel), str(tree / shared.rel)
            if shared.cache:
                upper, work = self._overlay_dirs(tmp, i)
                binds.append((f"overlay:lowerdir={source},upperdir={upper},workdir={work}",
                              dest, False))
            else:
                binds.append((source, dest, True))
        for path in tools:
            if inside(root, path) and not inside(tree, path):
                binds.append((path, str(unshare.relative_inside(path, root, tree)), True))
        hide = hiding_plan(self.user, [*tool_dirs(env), str(tree)], [str(root)])
        script = unshare.init_script(binds, hide, tmp / ".ratchet-stage", tree, root)
        return unshare.argv(self.executable, script, cmd)


@dataclass(frozen=True)
class _Launch:
    """What one launch of the test command in a sandbox is made of (see Sandbox.argv)."""

    cmd: list[str]
    tree: Path
    tmp: Path
    root: Path
    world: World | None
    tools: list[str]
    env: Mapping[str, str]
    tmpfs_bytes: int | None


#: the capabilities bubblewrap keeps (as root) to enter the tests' directories (their
#: account's now) and for setpriv to switch to it; setpriv then empties every set, the
#: bounding set included, before the test command starts
SWITCH_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_DAC_READ_SEARCH")
#: directories bubblewrap creates anew (the parents of mount points under its private /tmp
#: are made enterable: see with_parents)
FRESH = ("/tmp", "/dev", "/proc")



_NONE = Sandbox(
    name="none",
    description="plain subprocess in its own session (environment scrubbed)",
    warning=(
        "no isolation: tests run as this user and can read the parent's secrets via "
        "/proc/$PPID/environ and credential files in the home directory, reach the network, "
        "and a grandchild that calls setsid survives the kill. Install bubblewrap (bwrap)."
    ),
)
_NONE_AS_OTHER = (
    "weak isolation: the tests run as {name}, who cannot read this process's environment or "
    "root's files, but they reach the network and the files every account may read, and a "
    "grandchild that calls setsid survives the kill. Install bubblewrap (bwrap)."
)

_chosen: dict[tuple[str, str], Sandbox] = {}


def _probe(sandbox: Sandbox, overlay: bool = False, user: bool = False) -> bool:
    """Run a no-op inside ``sandbox``; True if that worked. With ``overlay``, the probe shares a
    build cache through an overlay and checks that a write lands in the private layer only;
    with ``user``, that the command runs as ``sandbox.user`` and may write its tree."""
    with tempfile.TemporaryDirectory(prefix="ratchet-probe-") as d:
        os.chmod(d, 0o711)
        checkout, tree, tmp = Path(d, "checkout"), Path(d, "tree"), Path(d, "tmp")
        for p in (checkout, tree, tmp):
            p.mkdir()
        world = None
        script = "exit 0"
        if user and sandbox.user is not None:
            script = f'test "$(id -u)" = {sandbox.user.uid} && echo y > probe'
            sandbox.prepare(tree, tmp, None)
        if overlay:
            (checkout / "target").mkdir()
            (checkout / "target" / "seen").write_text("x")
            world = World(checkout=str(checkout), shared=(Shared("target", cache=True),))
            script = "test -f target/seen && echo y > target/new"
            sandbox.prepare(tree, tmp, world)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp)}
        argv = sandbox.argv(["/bin/sh", "-c", script], tree, tmp, env, world)
        try:
            done = subprocess.run(
                argv,
                env=env,
                cwd=tree,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        if user:
            return done.returncode == 0 and (tree / "probe").is_file()
        if overlay:
            upper = sandbox.views(tree, tmp, world)[-1][0]
            return (
                done.returncode == 0
                and (upper / "new").is_file()
                and not (checkout / "target" / "new").exists()
            )
        return done.returncode == 0


def _with_overlays(box: Sandbox) -> Sandbox:
    """``box`` with ``overlays`` on when an overlay probe works in it."""
    if box.name == "bwrap":
        try:
            helptext = subprocess.run(
                [box.executable, "--help"], capture_output=True, text=True, timeout=10
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return box
        if "--overlay-src" not in helptext:
            return box  # bubblewrap before 0.9
    candidate = dataclasses.replace(box, overlays=True)
    return candidate if _probe(candidate, overlay=True) else box


def _bwrap(environ: Mapping[str, str]) -> Sandbox | None:
    exe = shutil.which("bwrap")
    if not exe:
        return None
    box = Sandbox(
        name="bwrap",
        description=(
            f"bubblewrap ({exe}): read-only /, private /tmp, PID/IPC/UTS/network namespaces "
            "(loopback only), credential files and host sockets hidden"
        ),
        executable=exe,
        masks=tuple(credential_paths(environ)),
    )
    return _with_overlays(box) if _probe(box) else None


def _unshare() -> Sandbox | None:
    exe = shutil.which("unshare")
    if not exe or os.geteuid() != 0:
        return None
    box = Sandbox(
        name="unshare",
        description=(
            f"unshare ({exe}): PID, mount and network namespaces (loopback only) with a "
            "private /proc, tree killed with PID 1"
        ),
        warning=(
            "partial isolation: the whole file system is visible to the tests, and a test "
            "running as root could undo the namespaces. Install bubblewrap (bwrap)."
        ),
        executable=exe,
    )
    return _with_overlays(box) if _probe(box) else None


def _as_user(box: Sandbox, user: TestUser | None) -> Sandbox:
    """``box`` running its tests as ``user``, checked by a probe. Raises ConfigError when
    the switch does not work here."""
    if user is None:
        return box
    warning = box.warning
    if box.name == "none":
        warning = _NONE_AS_OTHER.format(name=user.name)
    elif box.name == "unshare":
        warning = ("partial isolation: the tests see the whole file system (as "
                   f"{user.name}, without privileges). Install bubblewrap (bwrap).")
    switched = dataclasses.replace(box, user=user, warning=warning)
    if not _probe(switched, user=True):
        raise ConfigError(
            f"the tests cannot be run as {user.name} (uid {user.uid}) in the {box.name!r} "
            "sandbox on this machine",
            "check that setpriv works here (util-linux), or set test_user to another account,"
            " or to root to accept the risk (RATCHET_TEST_USER)",
        )
    return switched


def choose_sandbox(prefer: str = "auto", environ: Mapping[str, str] | None = None,
                   test_user: str = "auto") -> Sandbox:
    """The sandbox to run tests in, chosen once per process and preference.

    ``prefer`` is "auto" (best available: bwrap → unshare → none), or one rung by name.
    ``RATCHET_SANDBOX`` in ``environ`` (default: the environment snapshot) overrides ``prefer``.
    When Ratchet is root the tests run as ``test_user`` (see identity.py). Raises ConfigError
    for an unknown name, when a named rung is not available here, or when the tests cannot be
    run as that account.
    """
    env = current() if environ is None else environ
    choice = (env.get("RATCHET_SANDBOX") or prefer or "auto").strip().lower()
    if choice not in CHOICES:
        raise ConfigError(
            f"unknown sandbox {choice!r}",
            hint="RATCHET_SANDBOX / sandbox must be one of: " + ", ".join(CHOICES),
        )
    user = choose_user(test_user, env)
    key = (choice, f"{user.uid}:{user.gid}" if user else "")
    if key in _chosen:
        return _chosen[key]
    box: Sandbox | None
    if choice == "none":
        box = _NONE
    elif choice == "bwrap":
        box = _bwrap(env)
    elif choice == "unshare":
        box = _unshare()
    else:
        box = _bwrap(env) or _unshare() or _NONE
    if box is None:
        raise ConfigError(
            f"sandbox {choice!r} is not usable on this machine",
            hint="install bubblewrap, run as root for unshare, or set RATCHET_SANDBOX=auto",
        )
    box = _as_user(box, user)
    _chosen[key] = box
    return box
