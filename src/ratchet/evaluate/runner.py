"""Run the repository's test command once, safely, and say what happened.

The command is a shell string run as ``/bin/sh -c <command>`` inside the chosen
:class:`~ratchet.evaluate.sandbox.Sandbox`, in the project root (the user's checkout path
where the sandbox has a mount namespace, else the tree itself), stdin from ``/dev/null``,
stdout and stderr merged, in its own session/process group, with a scrubbed environment
(private ``HOME``/``TMPDIR``, toolchain locations from the :class:`~ratchet.evaluate.world.World`).
Output is read with ``selectors`` and only its head and tail are kept (``output_cap`` bytes in
all). Reading stops when the main process has exited plus a short grace (a grandchild holding
the pipe cannot block us) or at the wall-clock ``timeout``; then the whole process group gets
SIGTERM and, after a grace, SIGKILL (inside a PID namespace the whole namespace dies with its
PID 1).

Results ladder (see :mod:`ratchet.evaluate.runners`):

1. the recognised runner's own machine-readable report (:mod:`~ratchet.evaluate.resolve`
   finds it, also behind ``npm test``, ``uv run`` ...; the runner module adds the options);
   a run whose added options give no results (the runner refused them) is run again with the
   runner's plainer plan (an older version without ``--no-bail``), else as configured;
2. JUnit files at the configured ``junit_path``;
3. a pytest run reached only through the environment (``PYTEST_ADDOPTS``);
4. test names in the console output (libtest, ``go test -v``, ``unittest -v``, TAP);
5. the runner's summary line (counts only, :func:`~ratchet.evaluate.summary.parse_summary`);
6. the exit code.

With ``select`` (test ids), the runner is asked to run only those tests (``partial`` run); a
runner that cannot select runs the whole suite.

Status:

* TIMEOUT — the wall clock ran out (exit code None).
* NOT_FOUND — exit 126/127 (the shell could not find or execute something), or pytest is not
  installed for the interpreter used (``No module named pytest``).
* pytest: exit 0 (all passed), 1 (some failed) and 5 (no tests collected) → RAN;
  2 (interrupted, e.g. collection errors), 3 (internal error), 4 (usage error) and anything
  else, including death by a signal → CRASHED. Per-test results are kept either way, so a
  collection error shows up as an ``error`` entry for the module.
* other commands: exit 0 → RAN. Non-zero with failing tests in the results → RAN; so is a
  non-zero exit after per-test results that name tests, all passing (a coverage threshold, a
  lint step after the tests, an error outside any test: the verdict weighs it against the
  baseline's exit). Non-zero while counts show no failing test, or per-test results name no
  test → CRASHED (something outside the tests failed).
  Non-zero without any results → NOT_FOUND if one of the last output lines says a command was
  not found (``sh: 1: tox: not found``, make's ``Error 127``), CRASHED if it looks like death
  by a signal (negative, or 129–159 from the shell), else RAN with ``source="exit"``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ratchet.environment import current
from ratchet.errors import EvalError
from ratchet.evaluate.capture import collect_output
from ratchet.evaluate.limits import TestLimits
from ratchet.evaluate.limits import apply as apply_limits
from ratchet.evaluate.limits import hit as limits_hit
from ratchet.evaluate.reach import tool_dirs
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
from ratchet.evaluate.resolve import Resolution, resolve
from ratchet.evaluate.runners import OUTPUT_PARSERS, CollectContext, Collected, Instrumented
from ratchet.evaluate.runners import pytest as pytest_runner
from ratchet.evaluate.runners.base import Runner
from ratchet.evaluate.runners.junit_files import collect_reports
from ratchet.evaluate.sandbox import Sandbox, choose_sandbox
from ratchet.evaluate.summary import parse_summary
from ratchet.evaluate.testenv import safe_env
from ratchet.evaluate.world import World
from ratchet.redact import redact

#: seconds we keep reading after the main process exited (for buffered output of children)
EXIT_GRACE = 1.0
#: seconds between SIGTERM and SIGKILL when killing the process tree
KILL_GRACE = 2.0
_PYTEST_OK = (0, 1, 5)
_NO_PYTEST = re.compile(r"No module named pytest\b|No module named '?pytest'?$", re.MULTILINE)
_NOT_FOUND_LINE = re.compile(r"(: (command )?not found|\] Error 12[67])\s*$")


def _results(ctx: CollectContext, runner: Runner | None, junit_path: str | None) -> Collected:
    """The first rung of the results ladder that yields anything."""
    found: Collected | None = runner.collect(ctx) if runner is not None else None
    if found is None and junit_path:
        found = collect_reports(ctx, (junit_path,), "junit")
    if found is None and runner is None:
        found = pytest_runner.collect_addopts(ctx)
    if found is None:
        for _name, parse in OUTPUT_PARSERS:
            found = parse(ctx.output, ctx.root)
            if found is not None:
                break
    if found is not None:
        return found
    summary = parse_summary(ctx.output)
    if summary is not None:
        return Collected({}, "summary", None)
    return Collected({}, "exit", None)


def _counts(tests: Mapping[str, str]) -> dict[str, int]:
    return {
        "passed": sum(s == PASSED for s in tests.values()),
        "failed": sum(s == FAILED for s in tests.values()),
        "errors": sum(s == ERROR for s in tests.values()),
        "skipped": sum(s == SKIPPED for s in tests.values()),
    }


def _status(
    pytest_cmd: bool,
    exit_code: int,
    source: str,
    counts: Mapping[str, int],
    output: str,
    known_runner: bool = False,
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
        failing = counts["failed"] + counts["errors"]
        named = source != "summary" and counts["passed"] + counts["skipped"] > 0
        return RAN if failing or named else CRASHED
    last_lines = [line for line in output.splitlines() if line.strip()][-3:]
    if any(_NOT_FOUND_LINE.search(line) for line in last_lines):
        return NOT_FOUND  # e.g. make: "*** [test] Error 127", "sh: 1: tox: not found"
    if known_runner:
        return CRASHED  # a runner that names its tests failed without naming any: a build
        # error, a missing dependency ... the suite did not run
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
    world: World | None = None,
    select: Sequence[str] | None = None,
    exit_grace: float = EXIT_GRACE,
    kill_grace: float = KILL_GRACE,
    limits: TestLimits | None = None,
) -> SuiteRun:
    """Run ``command`` in ``tree`` and return what happened as a :class:`SuiteRun`.

    ``environ`` is the parent environment the safe child environment is derived from
    (default: the snapshot, :func:`ratchet.environment.current`); secrets in it are never
    passed on, and are redacted from the output with :func:`ratchet.redact.redact` (a
    backstop). ``world`` is what the checkout prepared
    (dependency directories, toolchains); ``select`` asks for a run of those test ids only.
    ``sandbox`` defaults to :func:`choose_sandbox`. Timeouts, crashes and missing commands are
    reported in ``status``; raises EvalError only when the command cannot be started at all
    (no such tree, empty command, the sandbox launcher or ``/bin/sh`` missing).
    """
    tree = Path(tree).resolve()
    if not tree.is_dir():
        raise EvalError(f"cannot run tests: {tree} is not a directory")
    if not command.strip():
        raise EvalError("cannot run tests: the test command is empty", hint="set test.command")
    parent_env = current() if environ is None else environ
    box = sandbox or choose_sandbox(environ=parent_env)
    found = resolve(command, tree)
    with tempfile.TemporaryDirectory(prefix="ratchet-run-", ignore_cleanup_errors=True) as d:
        work = Path(d)
        for sub in ("home", "tmp", "reports"):
            (work / sub).mkdir()
        box.prepare(tree, work, world)
        run = _Run(tree, command, work, box, parent_env, timeout, output_cap, junit_path,
                   world, found, exit_grace, kill_grace, limits or TestLimits())
        return run.once(select=list(select) if select else None, instrument=True)


@dataclass
class _Run:
    tree: Path
    command: str
    work: Path
    box: Sandbox
    parent_env: Mapping[str, str]
    timeout: float
    output_cap: int
    junit_path: str | None
    world: World | None
    found: Resolution
    exit_grace: float
    kill_grace: float
    limits: TestLimits

    def _plan(self, select: list[str] | None, instrument: bool) -> tuple[Instrumented, bool]:
        """(what to run, whether it is a partial run)."""
        out = self.work / "reports"
        runner, inv = self.found.runner, self.found.invocation
        usable = runner is not None and inv is not None and (inv.tail or runner.env_only)
        if instrument and runner is not None and inv is not None and usable:
            if select:
                chosen = runner.select(inv, select, out)
                if chosen is not None:
                    return chosen, True
            plan = runner.instrument(inv, out)
            if plan is not None:
                return plan, False
        elif instrument and runner is None:
            return Instrumented(self.command, env=pytest_runner.addopts_env(out)), False
        return Instrumented(self.command), False

    def _env(self, plan: Instrumented) -> dict[str, str]:
        extra = {"HOME": str(self.work / "home"), "TMPDIR": str(self.work / "tmp")}
        if self.world is not None:
            extra.update(dict(self.world.env))
        env = safe_env(self.parent_env, extra)
        for name, value in plan.env.items():
            if name in _PATH_LIKE and env.get(name):
                sep = os.pathsep if name == "PYTHONPATH" else " "
                env[name] = f"{value}{sep}{env[name]}"
            else:
                env[name] = value
        return env

    def _spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        pairs = self.limits.rlimits()  # computed before the fork: the child only applies them
        try:
            return subprocess.Popen(
                argv,
                cwd=self.tree,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                close_fds=True,
                start_new_session=True,
                preexec_fn=lambda: apply_limits(pairs),  # noqa: PLW1509 - setrlimit only
            )
        except OSError as exc:
            raise EvalError(
                f"cannot start the test command in sandbox {self.box.name!r}: {exc}",
                hint="check that /bin/sh exists, or set RATCHET_SANDBOX=none",
            ) from exc

    def _instead(self, plan: Instrumented, partial: bool, duration: float) -> SuiteRun:
        """The run of ``plan`` gave no per-test results: the runner's plainer plan when it has
        one (an older version may refuse an option silently), else the command as
        configured."""
        if plan.fallback is not None:
            self.timeout = max(1.0, self.timeout - duration)
            return self.once(None, True, planned=(plan.fallback, partial))
        return self._as_configured(plan, duration)

    def _as_configured(self, plan: Instrumented, duration: float) -> SuiteRun:
        """The runner refused what was added (an old version, a plugin disabled in the
        project's config), or the suite saw it (a test parsing the runner's own command line
        in-band): run the command as configured, within the time left."""
        runner = self.found.runner
        self.timeout = max(1.0, self.timeout - duration)
        plain = self.once(select=None, instrument=False)
        what = plan.note or "the added options"
        return dataclasses.replace(plain, output=(
            f"{plain.output}\n[ratchet] {runner.name if runner else 'the runner'} gave no "
            f"per-test results with {what}; the command ran as configured instead"
        ))

    def _context(self, reports: Path, output: str, since: float) -> CollectContext:
        """What the runner's collector reads the results from."""
        inv = self.found.invocation
        return CollectContext(
            out=reports,
            output=output,
            root=self.box.root(self.tree, self.world),
            views=self.box.views(self.tree, self.work, self.world),
            since=since,
            cwd=inv.cwd if inv else "",
            words=inv.words if inv else (),
        )

    def once(
        self, select: list[str] | None, instrument: bool,
        planned: tuple[Instrumented, bool] | None = None,
    ) -> SuiteRun:
        reports = _emptied(self.work / "reports")  # of an earlier attempt of this run
        plan, partial = planned or self._plan(select, instrument)
        env = self._env(plan)
        argv = self.box.argv(["/bin/sh", "-c", plan.command], self.tree, self.work, env,
                             self.world, tmpfs_bytes=self.limits.tmpfs_bytes())
        started_wall, started = time.time(), time.monotonic()
        proc = self._spawn(argv, env)
        raw, timed_out = collect_output(proc, self.timeout, self.output_cap, self.exit_grace,
                                  self.kill_grace)
        duration = time.monotonic() - started
        output = redact(raw, self.parent_env)
        exit_code = proc.returncode
        runner = self.found.runner
        is_pytest = runner is pytest_runner.RUNNER

        if timed_out:
            note = f"[ratchet] timed out after {self.timeout:g}s; the process tree was killed"
            return SuiteRun(TIMEOUT, None, duration, output=f"{output}\n{note}",
                            runner=runner.name if runner else "", partial=partial)

        collected = _results(self._context(reports, output, started_wall), runner,
                             self.junit_path)
        changed = plan.command != self.command or bool(plan.env)
        if changed and not collected.per_test and (
            (runner is not None and exit_code != 0) or _refused_options(exit_code, output)
        ):
            return self._instead(plan, partial, duration)
        if collected.output is not None:
            output = redact(collected.output, self.parent_env)
        counts = (_counts(collected.tests) if collected.source != "summary"
                  else parse_summary(output) or _counts({}))
        status = _status(is_pytest, exit_code, collected.source, counts, output,
                         known_runner=runner is not None)
        note = self._notes(status, exit_code, collected.source, counts, output, env)
        if note:
            output = f"{output}\n{note}"
        return SuiteRun(
            status=status,
            exit_code=exit_code,
            duration=duration,
            tests=collected.tests,
            source=collected.source,
            passed=counts["passed"],
            failed=counts["failed"],
            errors=counts["errors"],
            skipped=counts["skipped"],
            output=output,
            runner=runner.name if runner else "",
            partial=partial,
            failed_outside_tests=_outside(status, exit_code, collected, counts),
        )

    def _notes(self, status: str, exit_code: int, source: str, counts: Mapping[str, int],
               output: str, env: Mapping[str, str]) -> str:  # fmt: skip
        """What the output gets appended: why the run said nothing useful, which directory
        kept the tests from their tools, which test limit the suite ran into."""
        note = _status_note(status, exit_code, source, self.found.runner, self.command)
        if status in (NOT_FOUND, CRASHED):
            note = "\n".join(x for x in (note, unreachable_note(self.box, env)) if x)
        if status != RAN or counts["failed"] or counts["errors"]:
            note = "\n".join(x for x in (note, limits_hit(output, self.limits)) if x)
        return note


def _outside(status: str, exit_code: int, collected: Collected, counts: Mapping[str, int]) -> bool:
    """The command exited non-zero though every test it named passed."""
    failing = counts["failed"] + counts["errors"]
    return status == RAN and exit_code != 0 and collected.per_test and bool(
        collected.tests) and not failing


def _emptied(reports: Path) -> Path:
    for old in reports.iterdir():
        if old.is_file():
            old.unlink()
    return reports


def _status_note(
    status: str, exit_code: int | None, source: str, runner: Runner | None, command: str
) -> str:
    """What the output gets appended when the run says nothing useful by itself."""
    if status == NOT_FOUND:
        return (
            f"[ratchet] the test command could not be run (exit {exit_code}): a program or "
            f"module it needs was not found. Command: {command!r}. Check PATH / test_command."
        )
    if status == CRASHED and exit_code is not None and exit_code < 0:
        return f"[ratchet] the test command was killed by signal {-exit_code}"
    if status == CRASHED and source == "exit" and runner is not None:
        return (f"[ratchet] {runner.name} exited {exit_code} without reporting any test: "
                "the suite did not run (a build error, a missing dependency?)")
    return ""


def unreachable_note(box: Sandbox, env: Mapping[str, str]) -> str:
    """Why the tests' account may not have found its tools: directories of them it cannot
    enter (a mount namespace brings back those behind a private parent, such as /root; the
    none rung cannot)."""
    user = box.user
    if user is None:
        return ""
    dirs = tool_dirs(env)
    if box.name == "none":
        walls = sorted({w for d in dirs if (w := user.blocked(d))})
    else:
        walls = sorted(d for d in dirs if not user.enters(d))
    if not walls:
        return ""
    return (f"[ratchet] the tests run as {user.name} (Ratchet is root), who cannot enter "
            f"{', '.join(walls[:3])}, where the tests' tools live: make them readable by every "
            "account (chmod o+rx), install them elsewhere, use bubblewrap, or set "
            "test_user: root to accept the risk")


_PATH_LIKE = frozenset({"PYTHONPATH", "NODE_OPTIONS"})
_REFUSED = re.compile(
    r"unrecognized arguments|no such option|unknown option|unrecognized option|"
    r"unknown flag|flag provided but not defined|Unknown argument|unexpected argument|"
    r"is not allowed in NODE_OPTIONS|bad option",
    re.IGNORECASE,
)


def _refused_options(exit_code: int | None, output: str) -> bool:
    """True when the runner stopped at once because of an option it does not know."""
    if exit_code in (0, None):
        return False
    tail = "\n".join(output.splitlines()[-40:])
    return bool(_REFUSED.search(tail))
