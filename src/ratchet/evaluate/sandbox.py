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
    util-linux ``unshare --pid --fork --mount-proc --kill-child`` (plus IPC/UTS), only when
    running as root. Hides the parent's ``/proc/<pid>/environ`` and kills the whole process
    tree with its PID 1. It does NOT cut the network, make the file system read-only or hide
    credential files.
``none``
    a plain subprocess in its own session. The environment is still scrubbed, but a test runs
    as the same user and CAN read the parent's secrets from ``/proc/$PPID/environ`` and the
    credential files in the real home directory; a grandchild that calls ``setsid`` survives
    the kill. ``ratchet doctor`` warns about this.

``RATCHET_SANDBOX=auto|bwrap|unshare|none`` overrides the choice (``auto`` = best available).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ratchet.core.secrets import credentials_in
from ratchet.environment import current
from ratchet.errors import ConfigError
from ratchet.evaluate.testenv import credential_paths
from ratchet.evaluate.world import Shared, World

CHOICES = ("auto", "bwrap", "unshare", "none")


@dataclass(frozen=True)
class Sandbox:
    """One rung of the isolation ladder.

    ``name`` is "bwrap", "unshare" or "none"; ``description`` is one line for ``ratchet
    doctor``; ``warning`` is non-empty when the isolation is weak; ``overlays`` is True when
    this rung can share a build cache copy-on-write (bubblewrap ≥ 0.9, or unshare as root).
    """

    name: str
    description: str
    warning: str = ""
    executable: str = ""
    masks: tuple[str, ...] = field(default=())
    overlays: bool = False

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
        if world is not None and self.overlays and self.name != "none":
            for i, shared in enumerate(world.caches):
                views.append((self._overlay_dirs(tmp, i)[0], shared.rel))
        return tuple(views)

    def prepare(self, tree: Path, tmp: Path, world: World | None) -> None:
        """Make the prepared paths reachable in ``tree`` before a run: mount points (bwrap,
        unshare) or symlinks to the checkout (none; the tests can then write through them,
        like everything else without a sandbox)."""
        if world is None:
            return
        for shared in world.shared:
            target = Path(tree) / shared.rel
            source = Path(world.checkout) / shared.rel
            if target.exists() or target.is_symlink():
                continue  # tracked content of the commit wins
            if self.name == "none":
                if not shared.cache:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.symlink_to(source, target_is_directory=source.is_dir())
                continue
            if shared.cache and not self.overlays:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                target.mkdir()
            else:
                target.touch()
            if shared.cache:
                for d in self._overlay_dirs(tmp, world.caches.index(shared)):
                    d.mkdir(parents=True, exist_ok=True)

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
        inside this sandbox.

        ``tree`` and ``tmp`` are the only writable places under bwrap. ``env`` (the output of
        :func:`safe_env`) is installed with ``--clearenv``/``--setenv`` under bwrap; the caller
        must ALSO pass it as the process environment, so that the sandbox launcher itself holds
        no secrets. ``world`` (prepared paths of the checkout) is mounted as :meth:`prepare`
        set it up. Raises ValueError for a relative ``tree``/``tmp``.
        """
        tree, tmp = Path(tree), Path(tmp)
        if not (tree.is_absolute() and tmp.is_absolute()):
            raise ValueError("tree and tmp must be absolute paths")
        cmd = list(command_argv)
        if self.name == "none":
            return cmd
        root = Path(self.root(tree, world))
        tools = [p for p in _tool_dirs(env or {}, root) if not _inside(tree, p)]
        if self.name == "unshare":
            return self._unshare_argv(cmd, tree, tmp, root, world, tools)
        args = [self.executable, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        size = ["--size", str(tmpfs_bytes)] if tmpfs_bytes else []
        args += [*size, "--tmpfs", "/tmp", *size, "--tmpfs", "/dev/shm"]
        args += self._mask_args(tree, tmp, root)
        for sock in host_sockets():  # a docker/containerd socket is the host
            if not (_inside(tree, sock) or _inside(tmp, sock) or _inside_strict(root, sock)):
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
        args += ["--clearenv"]
        for name, value in sorted((env or {}).items()):
            args += ["--setenv", name, value]
        args += ["--chdir", str(root), "--", *cmd]
        return args

    def _mask_args(self, tree: Path, tmp: Path, root: Path) -> list[str]:
        """bwrap options hiding the credential files and directories (an empty directory or
        ``/dev/null`` over each) that the tests could otherwise read."""
        args: list[str] = []
        masks = set(self.masks) | set(credential_paths(current()))
        for path in sorted(masks):
            if path.startswith(("/tmp/", "/dev/", "/proc/")) or not os.path.exists(path):
                continue  # /tmp, /dev and /proc are fresh inside the sandbox anyway
            if _inside(tree, path) or _inside(tmp, path) or Path(path) == root:
                continue
            if _inside_strict(root, path):
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
        caches = list(world.caches) if self.overlays else []
        return caches + list(world.dependencies)

    def _unshare_argv(
        self,
        cmd: list[str],
        tree: Path,
        tmp: Path,
        root: Path,
        world: World | None,
        tools: list[str],
    ) -> list[str]:
        # PID 1 ignores signals it has no handler for, so the command must not BE PID 1: a
        # tiny shell init mounts the prepared paths, runs the command as a child and exits
        # with its status (128+n when it was killed by signal n, as bwrap reports it)
        q = shlex.quote
        lines = ["set -e"]
        for i, shared in enumerate(self._mounted(world)):
            assert world is not None
            source, dest = os.path.join(world.checkout, shared.rel), str(tree / shared.rel)
            if shared.cache:
                upper, work = self._overlay_dirs(tmp, i)
                opts = f"lowerdir={source},upperdir={upper},workdir={work}"
                lines.append(f"mount -t overlay overlay -o {q(opts)} {q(dest)}")
            else:
                lines.append(f"mount --bind {q(source)} {q(dest)}")
                lines.append(f"mount -o remount,bind,ro {q(dest)}")
        for path in tools:
            if _inside(root, path) and not _inside(tree, path):
                inner = tree / os.path.relpath(path, root)
                lines.append(f"mkdir -p {q(str(inner))} && mount --bind {q(path)} {q(str(inner))}")
        if root != tree:
            lines.append(f"mount --rbind {q(str(tree))} {q(str(root))}")
        lines += [f"cd {q(str(root))}", "set +e", '"$@"; exit $?']
        return [
            self.executable,
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "--ipc",
            "--uts",
            "--",
            "/bin/sh",
            "-c",
            "\n".join(lines),
            "ratchet-init",
            *cmd,
        ]


#: where daemons keep their unix sockets (docker, containerd, dbus, systemd ...)
SOCKET_DIRS = ("/run", "/var/run")
MAX_SOCKET_SCAN = 5000  # directory entries looked at, at most


@functools.lru_cache(maxsize=1)
def host_sockets(dirs: tuple[str, ...] = SOCKET_DIRS, depth: int = 5) -> tuple[str, ...]:
    """The unix sockets under ``dirs`` (at most ``depth`` levels, symlinks not followed), which
    bubblewrap's read-only view of ``/`` would otherwise leave reachable: each gets
    ``/dev/null`` bound over it, so ``connect`` is refused."""
    found: list[str] = []
    seen = 0
    stack = [(d, 0) for d in dirs if os.path.isdir(d) and not os.path.islink(d)]
    while stack and seen < MAX_SOCKET_SCAN:
        path, level = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for e in entries:
            seen += 1
            try:
                if e.is_dir(follow_symlinks=False) and level < depth:
                    stack.append((e.path, level + 1))
                elif stat.S_ISSOCK(e.stat(follow_symlinks=False).st_mode):
                    found.append(e.path)
            except OSError:
                continue
    return tuple(sorted(set(found)))


def _tool_dirs(env: Mapping[str, str], root: Path) -> list[str]:
    """Existing PATH/VIRTUAL_ENV/PYTHONPATH directories under /tmp (which the sandbox's private
    /tmp would otherwise hide) or inside the project root (which the tree mounted there would
    hide); they are made visible read-only. A ``bin`` directory of a virtual environment brings
    the whole environment (its ``lib`` holds the packages), and the interpreter running
    Ratchet is included too (a test command may name it)."""
    dirs = [p for name in ("PATH", "PYTHONPATH") for p in env.get(name, "").split(os.pathsep)]
    dirs += [env.get("VIRTUAL_ENV", ""), sys.prefix]
    found: set[str] = set()
    for d in dirs:
        if not (os.path.isabs(d) and os.path.isdir(d)):
            continue
        for path in (d, os.path.realpath(d)):
            parent = os.path.dirname(path.rstrip("/"))
            if os.path.isfile(os.path.join(parent, "pyvenv.cfg")):
                path = parent
            found.add(path)
    tops = sorted(d for d in found if d.startswith("/tmp/") or _inside_strict(root, d))
    return [d for d in tops if not any(d != o and d.startswith(o + "/") for o in tops)]


def _inside_strict(root: Path, path: str) -> bool:
    return Path(path) != root and root in Path(path).parents


def _inside(root: Path, path: str) -> bool:
    """True if ``path`` is ``root`` or one of its ancestors/descendants (never mask those)."""
    p, r = Path(path), root
    return p == r or r in p.parents or p in r.parents


_NONE = Sandbox(
    name="none",
    description="plain subprocess in its own session (environment scrubbed)",
    warning=(
        "no isolation: tests run as this user and can read the parent's secrets via "
        "/proc/$PPID/environ and credential files in the home directory, reach the network, "
        "and a grandchild that calls setsid survives the kill. Install bubblewrap (bwrap)."
    ),
)

_chosen: dict[str, Sandbox] = {}


def refuse_exposure(box: Sandbox, environ: Mapping[str, str], configured: str = "auto") -> None:
    """Fail closed: tests (model-written code) must not run where they could read this
    process's credentials. Only bubblewrap hides the parent's environment from a test (the
    unshare rung keeps a root test's capabilities; none hides nothing), so with credentials in
    the environment a weaker rung is refused unless it was chosen by name (``sandbox:`` in
    the config or RATCHET_SANDBOX): an explicit choice accepts the risk. Raises ConfigError."""
    choice = (environ.get("RATCHET_SANDBOX") or configured or "auto").strip().lower()
    exposed = credentials_in(environ)
    if box.name == "bwrap" or choice != "auto" or not exposed:
        return
    shown = ", ".join(exposed[:6]) + (f" and {len(exposed) - 6} more" if len(exposed) > 6 else "")
    raise ConfigError(
        f"the tests would run in the {box.name!r} sandbox, where a test (code the model wrote) "
        f"can read this process's {shown}; nothing was run",
        "install bubblewrap (apt-get install bubblewrap; in a container, run it with "
        "--privileged or allow user namespaces), or accept the risk by naming the sandbox: "
        f"`sandbox: {box.name}` in .github/ratchet.yml or RATCHET_SANDBOX={box.name}",
    )


def _probe(sandbox: Sandbox, overlay: bool = False) -> bool:
    """Run a no-op inside ``sandbox``; True if that worked. With ``overlay``, the probe shares a
    build cache through an overlay and checks that a write lands in the private layer only."""
    with tempfile.TemporaryDirectory(prefix="ratchet-probe-") as d:
        checkout, tree, tmp = Path(d, "checkout"), Path(d, "tree"), Path(d, "tmp")
        for p in (checkout, tree, tmp):
            p.mkdir()
        world = None
        script = "exit 0"
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
            f"unshare ({exe}): PID and mount namespaces with private /proc, tree killed with "
            "PID 1"
        ),
        warning=(
            "partial isolation: the network, the whole file system and credential files in "
            "the home directory are reachable from tests. Install bubblewrap (bwrap)."
        ),
        executable=exe,
    )
    return _with_overlays(box) if _probe(box) else None


def choose_sandbox(prefer: str = "auto", environ: Mapping[str, str] | None = None) -> Sandbox:
    """The sandbox to run tests in, chosen once per process and preference.

    ``prefer`` is "auto" (best available: bwrap → unshare → none), or one rung by name.
    ``RATCHET_SANDBOX`` in ``environ`` (default: the environment snapshot) overrides ``prefer``.
    Raises ConfigError for an unknown name, or when a named rung is not available here.
    """
    env = current() if environ is None else environ
    choice = (env.get("RATCHET_SANDBOX") or prefer or "auto").strip().lower()
    if choice not in CHOICES:
        raise ConfigError(
            f"unknown sandbox {choice!r}",
            hint="RATCHET_SANDBOX / sandbox must be one of: " + ", ".join(CHOICES),
        )
    if choice in _chosen:
        return _chosen[choice]
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
    _chosen[choice] = box
    return box
