"""What the test run may use, so that a runaway (or hostile) suite stops itself instead of the
runner: processes, the memory each process may allocate (``RLIMIT_DATA``: heap and private
writable mappings; address space merely reserved, as Go, V8 and the JVM do, is not counted),
the size of any one file it writes, the private ``/tmp`` and ``/dev/shm`` (memory-backed
under bubblewrap), and core dumps (none).

Applied to the test command's process and inherited by everything it starts, as hard limits
it cannot raise. A suite that hits one fails or crashes like any other (``fork: Resource
temporarily unavailable``, ``MemoryError``, ``File too large``, ``No space left on device``)
and the verdict says ``broken``; :func:`hit` names the limit in the run's output. The process
limit counts the account's processes across the machine and does not bind root (the kernel
exempts it; the tests do not run as root unless ``test_user: root``); under bubblewrap the
PID namespace dies with the suite either way. Memory is limited per process: cgroups, which
could cap the whole run, are not available to an unprivileged CI job.
"""

from __future__ import annotations

import re
import resource
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class TestLimits:
    """``test_limits:`` in the config (see the module docstring); 0 leaves one unlimited."""

    __test__ = False  # not a pytest test class

    processes: int = 4096
    memory_mb: int = 8192
    file_mb: int = 4096
    tmp_mb: int = 2048

    def rlimits(self) -> list[tuple[int, int]]:
        """(resource, value) pairs for :func:`apply`."""
        out = [(resource.RLIMIT_CORE, 0)]
        if self.processes:
            out.append((resource.RLIMIT_NPROC, self.processes))
        if self.memory_mb:
            out.append((resource.RLIMIT_DATA, self.memory_mb * MIB))
        if self.file_mb:
            out.append((resource.RLIMIT_FSIZE, self.file_mb * MIB))
        return out

    def tmpfs_bytes(self) -> int | None:
        """The size of the private ``/tmp`` and ``/dev/shm`` (None: the kernel's default,
        half the memory)."""
        return self.tmp_mb * MIB if self.tmp_mb else None


def apply(pairs: list[tuple[int, int]]) -> None:
    """Lower each limit (soft and hard) to its value, never raising one already lower. Runs
    in the child between fork and exec: no allocation-heavy work, no locks."""
    for which, value in pairs:
        soft, hard = resource.getrlimit(which)
        top = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(which, (min(top, soft) if soft != resource.RLIM_INFINITY
                                       else top, top))  # fmt: skip
        except (ValueError, OSError):
            pass  # a limit the platform does not have


#: (what the output says, the setting it points at, what it limits)
SIGNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"MemoryError|Cannot allocate memory|out of memory|allocation fail|"
                r"failed to allocate|memory allocation of \d+ bytes failed", re.I),
     "memory_mb", "memory per process"),
    (re.compile(r"fork.*Resource temporarily unavailable|can't fork|"
                r"Resource temporarily unavailable.*(fork|thread|spawn)", re.I),
     "processes", "processes"),
    (re.compile(r"File too large|EFBIG", re.I), "file_mb", "the size of one file"),
    (re.compile(r"No space left on device|ENOSPC", re.I), "tmp_mb", "the private /tmp"),
)


def hit(output: str, limits: TestLimits) -> str:
    """A note naming the limits the run's output says it ran into ("" for none), with the
    setting to raise."""
    tail = output[-20_000:]
    found = [f"test_limits.{key} ({what}: {_value(limits, key)})"
             for sign, key, what in SIGNS if getattr(limits, key) and sign.search(tail)]
    if not found:
        return ""
    return (f"[ratchet] the tests may have run into {', '.join(found)}: a suite that needs "
            "more can be given it in .github/ratchet.yml")


def _value(limits: TestLimits, key: str) -> str:
    n = getattr(limits, key)
    return str(n) if key == "processes" else f"{n} MiB"
