"""Run the repository's test command once, safely, and say what happened.

The command is a shell string run as ``/bin/sh -c <command>`` inside the chosen
:class:`~ratchet.evaluate.sandbox.Sandbox`, with cwd = the tree, stdin from ``/dev/null``,
stdout and stderr merged, in its own session/process group, with a scrubbed environment
(private ``HOME``/``TMPDIR``). Output is read with ``selectors`` and only its head and tail are
kept (``output_cap`` bytes in all). Reading stops when the main process has exited plus a
short grace (a grandchild holding the pipe cannot block us) or at the wall-clock ``timeout``;
then the whole process group gets SIGTERM and, after a grace, SIGKILL (inside a PID namespace
the whole namespace dies with its PID 1).

Results ladder: JUnit XML → summary line → exit code.

* If the command's last step runs pytest, ``--junitxml=<private file> -o junit_family=xunit2``
  is appended (see :func:`~ratchet.evaluate.detect.pytest_with_junit`). Otherwise the
  configured ``junit_path`` (relative to the tree, glob allowed; only files written during this
  run are read) or a ``--junitxml`` path already in the command is used.
* Else :func:`~ratchet.evaluate.summary.parse_summary` on the output gives counts.
* Else only the exit code is known.

Status:

* TIMEOUT — the wall clock ran out (exit code None).
* NOT_FOUND — exit 126/127 (the shell could not find or execute something), or pytest is not
  installed for the interpreter used (``No module named pytest``).
* pytest commands: exit 0 (all passed), 1 (some failed) and 5 (no tests collected) → RAN;
  2 (interrupted, e.g. collection errors), 3 (internal error), 4 (usage error) and anything
  else, including death by a signal → CRASHED. Per-test results are kept either way, so a
  collection error shows up as an ``error`` entry for the module.
* other commands: exit 0 → RAN. Non-zero with failing tests in the results → RAN. Non-zero
  while the results show no failing test → CRASHED (something outside the tests failed).
  Non-zero without any results → NOT_FOUND if one of the last output lines says a command was
  not found (``sh: 1: tox: not found``, make's ``Error 127``), CRASHED if it looks like death
  by a signal (negative, or 129–159 from the shell), else RAN with ``source="exit"``.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from ratchet.errors import EvalError
from ratchet.evaluate.detect import explicit_junitxml, is_pytest_command, pytest_with_junit
from ratchet.evaluate.junit import JUnitError, parse_junit
from ratchet.evaluate.report import (
    CRASHED,
    ERROR,
    FAILED,
    NOT_FOUND,
    PASSED,
    RAN,
    SKIPPED,
    TIMEOUT,
    SuiteRun,
)
from ratchet.evaluate.sandbox import Sandbox, choose_sandbox, safe_env
from ratchet.evaluate.summary import parse_summary
from ratchet.redact import redact

#: seconds we keep reading after the main process exited (for buffered output of children)
EXIT_GRACE = 1.0
#: seconds between SIGTERM and SIGKILL when killing the process tree
KILL_GRACE = 2.0
#: most JUnit files read for a configured ``junit_path`` glob
MAX_REPORT_FILES = 1000

_PYTEST_OK = (0, 1, 5)
_NO_PYTEST = re.compile(r"No module named pytest\b|No module named '?pytest'?$", re.MULTILINE)
_NOT_FOUND_LINE = re.compile(r"(: (command )?not found|\] Error 12[67])\s*$")


class _HeadTail:
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


def _kill_tree(proc: subprocess.Popen[bytes], grace: float) -> None:
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


def _collect(
    proc: subprocess.Popen[bytes], timeout: float, cap: int, exit_grace: float, kill_grace: float
) -> tuple[str, bool]:
    """Read ``proc``'s output until it exits (+ grace) or ``timeout``; kill its tree.

    Returns (capped output text, timed_out)."""
    assert proc.stdout is not None
    buf = _HeadTail(cap)
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
        _kill_tree(proc, kill_grace)
        proc.stdout.close()
    return buf.text(), timed_out


def _reports(tree: Path, pattern: str, since: float) -> list[Path]:
    """Files matching ``pattern`` under ``tree`` that were written at/after ``since``."""
    root = tree.resolve()
    if os.path.isabs(pattern):
        try:
            pattern = Path(pattern).resolve().relative_to(root).as_posix()
        except ValueError:
            return []
    if not pattern or ".." in Path(pattern).parts:
        return []
    found: list[Path] = []
    for path in sorted(root.glob(pattern)):
        try:
            real = path.resolve()
            real.relative_to(root)
            if real.is_file() and real.stat().st_mtime >= since - 2:
                found.append(real)
        except (OSError, ValueError):
            continue
        if len(found) >= MAX_REPORT_FILES:
            break
    return found


def _results(
    tree: Path, reports: list[Path], output: str
) -> tuple[dict[str, str], str, dict[str, int], str]:
    """(tests, source, counts, note) from the results ladder."""
    note = ""
    if reports:
        try:
            tests = parse_junit(reports, root=tree)
        except JUnitError as exc:
            note = f"[ratchet] ignored the JUnit report: {exc}"
        else:
            counts = {
                "passed": sum(s == PASSED for s in tests.values()),
                "failed": sum(s == FAILED for s in tests.values()),
                "errors": sum(s == ERROR for s in tests.values()),
                "skipped": sum(s == SKIPPED for s in tests.values()),
            }
            return tests, "junit", counts, note
    summary = parse_summary(output)
    if summary is not None:
        return {}, "summary", summary, note
    return {}, "exit", {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}, note


def _status(
    pytest_cmd: bool, exit_code: int, source: str, counts: Mapping[str, int], output: str
) -> str:
    if exit_code in (126, 127):
        return NOT_FOUND
    if pytest_cmd:
        if exit_code == 1 and _NO_PYTEST.search(output):
            return NOT_FOUND
        return RAN if exit_code in _PYTEST_OK else CRASHED
    if exit_code == 0:
        return RAN
    if source != "exit":
        return RAN if counts["failed"] + counts["errors"] > 0 else CRASHED
    last_lines = [line for line in output.splitlines() if line.strip()][-3:]
    if any(_NOT_FOUND_LINE.search(line) for line in last_lines):
        return NOT_FOUND  # e.g. make: "*** [test] Error 127", "sh: 1: tox: not found"
    return CRASHED if exit_code < 0 or 128 < exit_code < 160 else RAN


def run_suite(
    tree: Path,
    command: str,
    *,
    timeout: float = 900,
    output_cap: int = 256 * 1024,
    junit_path: str | None = None,
    sandbox: Sandbox | None = None,
    environ: Mapping[str, str] | None = None,
    exit_grace: float = EXIT_GRACE,
    kill_grace: float = KILL_GRACE,
) -> SuiteRun:
    """Run ``command`` in ``tree`` and return what happened as a :class:`SuiteRun`.

    ``environ`` is the parent environment the safe child environment is derived from (default
    ``os.environ``); secrets in it are never passed on, and are redacted from the output with
    :func:`ratchet.redact.redact` (a backstop).
    ``sandbox`` defaults to :func:`choose_sandbox`. Timeouts, crashes and missing commands are
    reported in ``status``; raises EvalError only when the command cannot be started at all
    (no such tree, empty command, the sandbox launcher or ``/bin/sh`` missing).
    """
    tree = Path(tree).resolve()
    if not tree.is_dir():
        raise EvalError(f"cannot run tests: {tree} is not a directory")
    if not command.strip():
        raise EvalError("cannot run tests: the test command is empty", hint="set test.command")
    parent_env = os.environ if environ is None else environ
    box = sandbox or choose_sandbox(environ=parent_env)
    with tempfile.TemporaryDirectory(prefix="ratchet-run-", ignore_cleanup_errors=True) as d:
        work = Path(d)
        for sub in ("home", "tmp", "reports"):
            (work / sub).mkdir()
        return _run_once(
            tree, command, work, box, parent_env, timeout, output_cap, junit_path,
            exit_grace, kill_grace, inject=True,
        )


def _run_once(
    tree: Path,
    command: str,
    work: Path,
    box: Sandbox,
    parent_env: Mapping[str, str],
    timeout: float,
    output_cap: int,
    junit_path: str | None,
    exit_grace: float,
    kill_grace: float,
    inject: bool,
) -> SuiteRun:
    env = safe_env(parent_env, {"HOME": str(work / "home"), "TMPDIR": str(work / "tmp")})
    xml = work / "reports" / "junit.xml"
    xml.unlink(missing_ok=True)
    injected = pytest_with_junit(command, str(xml)) if inject else None
    argv = box.argv(["/bin/sh", "-c", injected or command], tree, work, env)
    started_wall, started = time.time(), time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            close_fds=True,
            start_new_session=True,
        )
    except OSError as exc:
        raise EvalError(
            f"cannot start the test command in sandbox {box.name!r}: {exc}",
            hint="check that /bin/sh exists, or set RATCHET_SANDBOX=none",
        ) from exc
    raw, timed_out = _collect(proc, timeout, output_cap, exit_grace, kill_grace)
    duration = time.monotonic() - started
    output = redact(raw, parent_env)
    exit_code = proc.returncode
    pytest_cmd = is_pytest_command(command)

    if (
        injected
        and exit_code == 4
        and "--junitxml" in output
        and ("unrecognized arguments" in output or "no such option" in output)
    ):  # the junitxml plugin is disabled in the project's config: run it as configured
        return _run_once(
            tree, command, work, box, parent_env, max(1.0, timeout - duration), output_cap,
            junit_path, exit_grace, kill_grace, inject=False,
        )

    if timed_out:
        note = f"[ratchet] timed out after {timeout:g}s; the process tree was killed"
        return SuiteRun(TIMEOUT, None, duration, output=f"{output}\n{note}")

    if injected and xml.is_file():
        reports = [xml]
    else:
        pattern = junit_path or explicit_junitxml(command)
        reports = _reports(tree, pattern, started_wall) if pattern else []
    tests, source, counts, note = _results(tree, reports, output)
    status = _status(pytest_cmd, exit_code, source, counts, output)
    if status == NOT_FOUND:
        note = (
            f"[ratchet] the test command could not be run (exit {exit_code}): a program or "
            f"module it needs was not found. Command: {command!r}. Check PATH / test.command."
        )
    elif status == CRASHED and exit_code < 0:
        note = f"[ratchet] the test command was killed by signal {-exit_code}"
    if note:
        output = f"{output}\n{note}"
    return SuiteRun(
        status=status,
        exit_code=exit_code,
        duration=duration,
        tests=tests,
        source=source,
        passed=counts["passed"],
        failed=counts["failed"],
        errors=counts["errors"],
        skipped=counts["skipped"],
        output=output,
    )
