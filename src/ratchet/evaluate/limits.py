"""What the test run may use, so that a runaway (or hostile) suite stops itself instead of the
runner: processes, the size of any one file it writes, the private ``/tmp`` and ``/dev/shm``
(memory-backed under bubblewrap), and core dumps (none).

Applied to the test command's process and inherited by everything it starts, as hard limits
it cannot raise. A suite that hits one fails or crashes like any other (``fork: Resource
temporarily unavailable``, ``File too large``, ``No space left on device``) and the verdict
says ``broken``. The process limit counts the user's processes across the machine and does
not bind root (the kernel exempts it); under bubblewrap the PID namespace dies with the suite
either way.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class TestLimits:
    """``test_limits:`` in the config (see the module docstring); 0 leaves one unlimited."""

    __test__ = False  # not a pytest test class

    processes: int = 4096
    file_mb: int = 4096
    tmp_mb: int = 2048

    def rlimits(self) -> list[tuple[int, int]]:
        """(resource, value) pairs for :func:`apply`."""
        out = [(resource.RLIMIT_CORE, 0)]
        if self.processes:
            out.append((resource.RLIMIT_NPROC, self.processes))
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
