"""One process's output, read safely: head and tail kept within a cap, reading stopped when the
process has exited (plus a grace, so a grandchild holding the pipe cannot block us) or at a
wall-clock deadline, and the whole process group killed afterwards (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time


class HeadTail:
    """Keeps the first quarter and the last three quarters of ``cap`` bytes of a stream."""

    def __init__(self, cap: int) -> None:
        self.head_cap = max(0, cap // 4)
        self.tail_cap = max(0, cap - self.head_cap)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.tail_cap:
                del self.tail[: len(self.tail) - self.tail_cap]

    def text(self) -> str:
        omitted = self.total - len(self.head) - len(self.tail)
        head = self.head.decode("utf-8", errors="replace")
        tail = self.tail.decode("utf-8", errors="replace")
        if omitted <= 0:
            return head + tail
        return f"{head}\n[... {omitted} bytes of output omitted ...]\n{tail}"


def _exited(pid: int) -> bool:
    """True if ``pid`` has exited, WITHOUT reaping it (so its process group id stays ours)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def kill_tree(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the process group, wait up to ``grace``, SIGKILL it, reap the main process."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        if sig == signal.SIGTERM:
            end = time.monotonic() + grace
            while not _exited(proc.pid) and time.monotonic() < end:
                time.sleep(0.02)
    proc.wait()


def collect_output(
    proc: subprocess.Popen[bytes], timeout: float, cap: int, exit_grace: float, kill_grace: float
) -> tuple[str, bool]:
    """Read ``proc``'s output until it exits (+ grace) or ``timeout``; kill its tree.

    Returns (capped output text, timed_out)."""
    assert proc.stdout is not None
    buf = HeadTail(cap)
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    deadline = time.monotonic() + timeout
    exited_at: float | None = None
    eof = timed_out = False
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                now = time.monotonic()
                if exited_at is None and _exited(proc.pid):
                    exited_at = now
                if exited_at is not None and (eof or now >= exited_at + exit_grace):
                    break
                if now >= deadline:
                    timed_out = exited_at is None
                    break
                limit = deadline if exited_at is None else min(deadline, exited_at + exit_grace)
                wait = max(0.0, min(limit - now, 0.05))
                if eof:
                    time.sleep(wait)
                    continue
                for _key, _events in sel.select(wait):
                    try:
                        chunk = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    if chunk:
                        buf.add(chunk)
                    else:
                        eof = True
                        sel.unregister(fd)
    finally:
        kill_tree(proc, kill_grace)
        proc.stdout.close()
    return buf.text(), timed_out
