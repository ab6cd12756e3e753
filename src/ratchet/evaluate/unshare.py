"""The argv of the ``unshare`` rung (see sandbox.py): util-linux ``unshare`` gives the test
command new PID, mount, IPC, UTS and network namespaces, and a tiny shell init (running as
root, before the test command) sets up the mounts a bubblewrap run would get: the prepared
directories of the checkout inside the tree, the tree over the checkout's path, the tool
directories the tests' account could not otherwise reach, and the loopback interface up.

PID 1 ignores signals it has no handler for, so the command must not BE PID 1: the init runs
it as a child and exits with its status (128+n when it was killed by signal n, as bwrap
reports it).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

#: brings the new network namespace's loopback interface up (SIOCGIFFLAGS, SIOCSIFFLAGS |
#: IFF_UP), so that tests talking to their own servers on 127.0.0.1 keep working
LOOPBACK_UP = (
    "import fcntl, socket, struct\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "req = struct.pack('16sH22x', b'lo', 0)\n"
    "flags = struct.unpack('16sH', fcntl.ioctl(s, 0x8913, req)[:18])[1]\n"
    "fcntl.ioctl(s, 0x8914, struct.pack('16sH22x', b'lo', flags | 1))\n"
)


def init_script(
    binds: list[tuple[str, str, bool]],
    hide: list[tuple[str, str]],
    stage: Path,
    tree: Path,
    root: Path,
) -> str:
    """The init's shell text. ``binds``: (source, destination, read_only) bind mounts into the
    tree, or ("overlay:<options>", destination, False) for a copy-on-write cache; ``hide``:
    the (op, dir) plan of :func:`ratchet.evaluate.reach.hiding_plan`, staged under ``stage``
    (a directory root creates for itself) before any tmpfs covers the sources: read-only,
    except the directory holding the tree, which keeps the mounts made in it."""
    q = shlex.quote
    lines = ["set -e", f"{q(sys.executable)} -c {q(LOOPBACK_UP)}"]
    for source, dest, read_only in binds:
        if source.startswith("overlay:"):
            opts = source.removeprefix("overlay:")
            lines.append(f"mount -t overlay overlay -o {q(opts)} {q(dest)}")
            continue
        lines.append(f"mkdir -p {q(dest)} && mount --bind {q(source)} {q(dest)}")
        if read_only:
            lines.append(f"mount -o remount,bind,ro {q(dest)}")
    staged = [path for op, path in hide if op == "bind"]
    if staged:
        lines.append(f"mkdir -m 700 -p {q(str(stage))}")
    for i, path in enumerate(staged):
        spot = q(str(stage / str(i)))
        if path == str(tree) or Path(path) in tree.parents:  # the tree, with its mounts
            lines.append(f"mkdir {spot} && mount --rbind {q(path)} {spot}")
        else:
            lines += [f"mkdir {spot} && mount --bind {q(path)} {spot}",
                      f"mount -o remount,bind,ro {spot}"]
    for op, path in hide:
        if op == "tmpfs":
            lines.append(f"mkdir -p {q(path)} && "
                         f"mount -t tmpfs -o mode=0755,size=1m ratchet-hidden {q(path)}")
        else:
            spot = q(str(stage / str(staged.index(path))))
            lines.append(f"mkdir -p {q(path)} && mount --move {spot} {q(path)}")
    if root != tree:
        lines.append(f"mkdir -p {q(str(root))} && mount --rbind {q(str(tree))} {q(str(root))}")
    lines += [f"cd {q(str(root))}", "set +e", '"$@"; exit $?']
    return "\n".join(lines)


def argv(executable: str, script: str, cmd: list[str]) -> list[str]:
    """``unshare`` running ``script`` as the init of new namespaces, with ``cmd`` as "$@"."""
    return [
        executable,
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
        "--ipc",
        "--uts",
        "--net",
        "--",
        "/bin/sh",
        "-c",
        script,
        "ratchet-init",
        *cmd,
    ]


def relative_inside(path: str, root: Path, tree: Path) -> Path:
    """Where ``path`` (inside the project root) is inside the tree mounted there."""
    return tree / os.path.relpath(path, root)
