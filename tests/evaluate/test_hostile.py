"""A hostile test suite (stdlib only) run by `run_suite` in every rung this machine has: each of
its tests tries one way out and passes only when the attempt fails. Canaries on the host side
say whether anything got through: a unix socket under /run that counts connections, a server
on the host's loopback, a file of the host outside the tree. Where Ratchet is root the suite
also checks that it runs as another account without any privilege. The suite hitting a limit
is the suite failing, never the runner."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ratchet.evaluate.limits import TestLimits
from ratchet.evaluate.runner import run_suite
from ratchet.evaluate.sandbox import host_sockets
from tests.conftest import needs_sandbox, rung_box, sandbox_usable

HOSTILE = '''
import os, resource, socket, subprocess, sys

SOCK = os.environ.get("CANARY_SOCK") or {sock!r}


def test_runs_without_privileges():
    if {uid} is None:
        return  # Ratchet is not root (or test_user: root): nothing to drop
    assert (os.getuid(), os.geteuid(), os.getgid()) == ({uid}, {uid}, {gid})
    assert os.getgroups() in ([], [{gid}])
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[field], 16) == 0, field
    assert status["NoNewPrivs"].strip() == "1"


def test_host_files_stay_untouched():
    try:
        with open({canary_file!r}, "a") as fh:
            fh.write("planted")
    except OSError:
        return
    assert os.geteuid() == 0 and {rung!r} == "none", "wrote a file of the host"


def test_the_host_loopback_is_unreachable():
    if {rung!r} == "none":
        return  # no network namespace
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    except OSError:
        return
    raise AssertionError("reached a server on the host's loopback")


def test_a_huge_allocation_is_refused():
    try:
        hog = bytearray({memory_bytes} + 64 * 1024 * 1024)
    except MemoryError:
        return
    del hog
    raise AssertionError("allocated past the memory limit")


def test_no_core_dumps():
    assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)


def test_cannot_raise_the_file_size_limit_back():
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    assert hard == {file_bytes}
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    except (ValueError, OSError):
        return
    assert os.geteuid() == 0 and {rung!r} != "bwrap", "raised its own hard limit"


def test_a_huge_file_is_refused(tmp_path):
    with open(tmp_path / "big", "wb") as fh:
        try:
            fh.write(b"x" * ({file_bytes} + 1024 * 1024))
            fh.flush()
        except OSError as exc:
            assert exc.errno == 27  # EFBIG: File too large
            return
    raise AssertionError("wrote past the file size limit")


def test_the_private_tmp_is_capped():
    if {rung!r} != "bwrap":
        return  # only bubblewrap gives the tests a private /tmp
    written = 0
    try:
        for i in range({tmp_mb} * 4):  # files of 1 MiB each: under the file size limit
            with open(f"/tmp/fill{{i}}", "wb") as fh:
                fh.write(b"y" * 1024 * 1024)
            written += 1
    except OSError as exc:
        assert exc.errno == 28  # ENOSPC
        assert written <= {tmp_mb}
        return
    raise AssertionError("filled /tmp past its cap")


def test_host_daemon_sockets_are_unreachable():
    if not SOCK or {rung!r} != "bwrap":
        return
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(SOCK)
    except OSError:
        return
    raise AssertionError("connected to a host socket")


def test_a_fork_bomb_stops_at_the_process_limit():
    if os.geteuid() == 0:
        return  # the kernel exempts root from RLIMIT_NPROC
    kids = []
    try:
        for _ in range({procs} + 64):
            kids.append(subprocess.Popen(["sleep", "30"]))
    except OSError as exc:
        assert exc.errno == 11  # EAGAIN: Resource temporarily unavailable
        return
    finally:
        for k in kids:
            k.kill()
            k.wait()
    raise AssertionError("started more processes than the limit")
'''


class _Listener:
    """A unix socket on the host that counts the connections it accepts."""

    def __init__(self, path: Path) -> None:
        self.path, self.accepted = path, 0
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        self.path.unlink(missing_ok=True)


@pytest.fixture
def canary_socket() -> Iterator[_Listener | None]:
    """A daemon-like socket under /run (only root may create one there)."""
    path = Path(f"/run/ratchet-canary-{os.getpid()}.sock")
    try:
        listener = _Listener(path)
    except OSError:
        yield None
        return
    host_sockets.cache_clear()
    try:
        yield listener
    finally:
        listener.close()
        host_sockets.cache_clear()


RUNGS = [
    pytest.param("bwrap", marks=needs_sandbox("bwrap")),
    pytest.param("unshare", marks=needs_sandbox("unshare")),
    "none",
]


@pytest.mark.parametrize("rung", RUNGS)
def test_a_hostile_suite_gets_nowhere(rung: str, tmp_path: Path,
                                      canary_socket: _Listener | None) -> None:
    if rung != "none" and not sandbox_usable(rung):
        pytest.skip(f"{rung} does not start here")
    limits = TestLimits(processes=len(os.listdir("/proc")) + 256, memory_mb=512, file_mb=2,
                        tmp_mb=8)
    sock = str(canary_socket.path) if canary_socket else ""
    box = rung_box(rung)
    host = tmp_path / "host"
    host.mkdir()
    canary_file = host / "canary"
    canary_file.write_text("host\n")  # root's, mode 0644 when Ratchet is root
    server = socket.create_server(("127.0.0.1", 0))
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "tests" / "test_hostile.py").write_text(HOSTILE.format(
        sock=sock, file_bytes=limits.file_mb * 1024 * 1024, tmp_mb=limits.tmp_mb,
        procs=limits.processes, rung=rung, uid=box.user.uid if box.user else None,
        gid=box.user.gid if box.user else None, canary_file=str(canary_file),
        port=server.getsockname()[1], memory_bytes=limits.memory_mb * 1024 * 1024))
    if canary_socket is not None:
        # proof the canary is reachable from the host: the attack would work without masks
        probe = socket.socket(socket.AF_UNIX)
        probe.connect(sock)
        probe.close()
    import sys

    with server:
        run = run_suite(tree, f"{sys.executable} -m pytest -q -p no:cacheprovider tests",
                        sandbox=box, limits=limits, timeout=120)
    assert run.status == "ran", run.output[-2000:]
    assert run.failing == [], run.output[-3000:]
    assert run.passed == 10
    if box.user is not None or rung != "none":
        assert canary_file.read_text() == "host\n"
    if canary_socket is not None:
        assert canary_socket.accepted == 1  # the host's own probe, nothing from the suite
        if rung == "bwrap":
            assert sock in host_sockets()


def test_a_suite_that_runs_into_a_limit_says_which(tmp_path: Path) -> None:
    """A suite that allocates past ``memory_mb`` fails like any other, and the run's output names
    the limit and where to raise it."""
    import sys

    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "tests" / "test_hog.py").write_text(
        "def test_hog():\n    data = bytearray(600 * 1024 * 1024)\n    assert data\n"
        "def test_fine():\n    assert True\n"
    )
    limits = TestLimits(memory_mb=512)
    run = run_suite(tree, f"{sys.executable} -m pytest -q -p no:cacheprovider tests",
                    sandbox=rung_box("bwrap" if sandbox_usable("bwrap") else "none"),
                    limits=limits, timeout=120)
    assert run.failing == ["tests/test_hog.py::test_hog"], run.output[-2000:]
    assert "test_limits.memory_mb (memory per process: 512 MiB)" in run.output
    assert ".github/ratchet.yml" in run.output


@pytest.mark.parametrize(
    ("output", "named"),
    [
        ("E   MemoryError", ["memory_mb"]),
        ("fatal runtime error: memory allocation of 4096 bytes failed", ["memory_mb"]),
        ("bash: fork: Resource temporarily unavailable", ["processes"]),
        ("OSError: [Errno 27] File too large", ["file_mb"]),
        ("OSError: [Errno 28] No space left on device: '/tmp/x'", ["tmp_mb"]),
        ("AssertionError: assert 1 == 2", []),
    ],
)
def test_the_limit_a_run_ran_into_is_named(output: str, named: list[str]) -> None:
    from ratchet.evaluate.limits import hit

    note = hit(f"...\n{output}\n1 failed", TestLimits())
    assert [k for k in ("processes", "memory_mb", "file_mb", "tmp_mb") if f".{k} " in note] == named
    assert hit(output, TestLimits(processes=0, memory_mb=0, file_mb=0, tmp_mb=0)) == ""
