"""The test suite as the driver sees it: the baseline of a commit (cached), and a candidate change
run in a fresh export at the same path, re-run where the verdict needs it.

What the tests run in (sandbox, prepared directories) is chosen by the caller; the baseline
cache lives in Ratchet's state directory, keyed by commit, command, tree path and a fingerprint
of the toolchain, so a baseline is never reused after the environment changed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ratchet.config import Settings
from ratchet.core.outcome import Phase
from ratchet.errors import EvalError
from ratchet.evaluate.report import CRASHED, NOT_FOUND, TIMEOUT, SuiteRun
from ratchet.progress import Reporter
from ratchet.workspace import git as gitops

if TYPE_CHECKING:
    import git

    from ratchet.evaluate.baseline import BaselineCache
    from ratchet.evaluate.sandbox import Sandbox
    from ratchet.evaluate.world import World


class Trial(NamedTuple):
    """A candidate's runs: the suite with the change, its re-run (None when the verdict needs
    none) and the probe of the baseline for the tests it never ran (None when there are none)."""

    cand: SuiteRun
    rerun: SuiteRun | None
    probe: SuiteRun | None


@dataclass
class TestBed:
    __test__ = False  # not a pytest test class

    settings: Settings
    repo: git.Repo
    reporter: Reporter
    sandbox: Sandbox | None = None
    world: World | None = None
    env: Mapping[str, str] | None = None  # the process's environment (default: the snapshot)
    cached: bool = False  # the last baseline came from the cache (no new run)

    @property
    def command(self) -> str:
        """What runs in the sandbox: the setup command (if any), then the test command."""
        setup = self.settings.config.setup_command
        test = self.settings.test_command
        return f"{setup} && {test}" if setup else test

    def baseline(self, tip: str) -> SuiteRun:
        """The suite on commit ``tip`` (from the cache when it was run there before). Raises
        EvalError when the command cannot be found or the suite does not finish."""
        cache = self._cache()
        cached = cache.get(tip, self.cache_key)
        self.cached = cached is not None
        if cached is not None:
            self.reporter.info(f"baseline for {tip[:10]} from cache")
            return cached
        from ratchet.evaluate.trees import exported

        self.reporter.phase(f"running the tests on {tip[:10]} (baseline)", Phase.TEST)
        with exported(self.repo, tip, self.settings.task_key) as tree:
            run = self._suite(tree)
        self.reporter.end_phase()
        self._refuse_unusable(run, tip)
        cache.put(tip, self.cache_key, run)
        return run

    def candidate(
        self,
        tip: str,
        changes: dict[str, tuple[str | None, str]],
        base_run: SuiteRun,
        ignore: frozenset[str] = frozenset(),
    ) -> Trial:
        """The suite on ``tip`` plus ``changes``, its re-run when the verdict needs one, and a
        probe of the baseline for the tests that fail with the change and did not run there
        (:func:`~ratchet.evaluate.verdict.unseen_failing`).
        Tests in ``ignore`` (known flaky) are never a reason to re-run."""
        from ratchet.core.flaky import without
        from ratchet.evaluate.trees import exported
        from ratchet.evaluate.verdict import needs_rerun, unseen_failing
        from ratchet.workspace.paths import write_changes

        with exported(self.repo, tip, self.settings.task_key) as tree:
            write_changes(tree, changes)
            self.reporter.phase("running the tests on the change", Phase.TEST)
            cand = self._suite(tree)
            judged = without(cand, ignore)
            assert judged is not None
            rerun = self._rerun(tree, base_run, judged) if needs_rerun(base_run, judged) else None
            self.reporter.end_phase()
        unseen = unseen_failing(base_run, judged)
        if not unseen:
            return Trial(cand, rerun, None)
        self.reporter.phase(
            f"running the {len(unseen)} failing test(s) the baseline did not run on "
            f"{tip[:10]}, to see whether they passed there", Phase.TEST,
        )
        with exported(self.repo, tip, self.settings.task_key) as tree:
            probe = self._suite(tree, unseen)
        self.reporter.end_phase()
        return Trial(cand, rerun, probe)

    def remember(self, sha: str, run: SuiteRun) -> None:
        """``run`` is the baseline of the new commit ``sha`` (the next run starts there)."""
        self._cache().put(sha, self.cache_key, run)

    @property
    def cache_key(self) -> str:
        """The command, where and as whom the tests run, and a fingerprint of the toolchain and
        prepared directories they will find, so a baseline is not reused after the environment
        changed (a package installed, another interpreter), at another path (test ids with
        paths) or by another account (a test that needs root's files)."""
        from ratchet.evaluate.fingerprint import environment_fingerprint
        from ratchet.evaluate.trees import tree_path
        from ratchet.evaluate.world import fingerprint_paths

        box = self._sandbox()
        root = box.root(tree_path(Path(self.repo.working_dir), self.settings.task_key), self.world)
        who = box.user.uid if box.user is not None else os.geteuid()
        extra = fingerprint_paths(self.world) if self.world is not None else []
        fingerprint = environment_fingerprint(self._env(), extra_paths=extra)
        return f"{self.command}\0{root}\0{who}\0{fingerprint}"

    # -- pieces ---------------------------------------------------------------------------------
    def _suite(self, tree: Path, select: tuple[str, ...] = ()) -> SuiteRun:
        from ratchet.evaluate.limits import TestLimits
        from ratchet.evaluate.runner import run_suite

        return run_suite(
            tree,
            self.command,
            timeout=float(self.settings.config.test_timeout),
            limits=TestLimits(**self.settings.config.test_limits.model_dump()),
            junit_path=self.settings.config.junit_path,
            sandbox=self._sandbox(),
            world=self.world,
            select=select or None,
            environ=self._env(),
        )

    def _env(self) -> Mapping[str, str]:
        from ratchet.environment import current

        return self.env if self.env is not None else current()

    def _sandbox(self) -> Sandbox:
        if self.sandbox is None:
            from ratchet.evaluate.sandbox import choose_sandbox

            self.sandbox = choose_sandbox(
                environ=self._env(), test_user=self.settings.config.test_user
            )
        return self.sandbox

    def _rerun(self, tree: Path, base_run: SuiteRun, cand: SuiteRun) -> SuiteRun:
        """The candidate once more: only the tests whose outcome changed where the runner can
        select them by id, else (or when the selection did not take) the whole suite."""
        from ratchet.evaluate.verdict import changed_tests

        changed = changed_tests(base_run, cand)
        if changed:
            self.reporter.phase(
                f"re-running the {len(changed)} test(s) whose outcome changed, to rule out "
                "flaky results",
                Phase.TEST,
            )
            rerun = self._suite(tree, changed)
            if not rerun.partial or (rerun.ok and all(t in rerun.tests for t in changed)):
                return rerun
        self.reporter.phase("re-running the tests to rule out flaky failures", Phase.TEST)
        return self._suite(tree)

    def _refuse_unusable(self, run: SuiteRun, tip: str) -> None:
        if run.status == NOT_FOUND:
            hint = (
                "check test_command (and setup_command) in .github/ratchet.yml or "
                "--test-command; it runs with /bin/sh"
            )
            root = str(Path(self.repo.working_dir).resolve())
            if self._sandbox().name == "bwrap" and _names_private_tmp(self.command, root):
                hint += (
                    "; the sandbox has a /tmp of its own, so a program under /tmp outside the "
                    "repository is not there (put the virtual environment or tool in the "
                    "repository, e.g. .venv/, or elsewhere)"
                )
            raise EvalError(
                f"the test command was not found: {self.settings.test_command!r}", hint
            )
        if run.status == TIMEOUT:
            raise EvalError(
                f"the test suite did not finish within {self.settings.config.test_timeout}s "
                "on the base commit",
                "raise test_timeout in .github/ratchet.yml, or fix the hanging test",
            )
        if run.status == CRASHED:
            lines = [x for x in run.output.strip().splitlines() if not x.startswith("[ratchet]")]
            tail = "\n".join(lines[-6:])
            self.reporter.warn(
                f"the test suite does not run on {tip[:10]} (the baseline): nothing the change "
                f"does can be compared with it; only a change that makes it run is kept.\n{tail}"
            )

    def _cache(self) -> BaselineCache:
        from ratchet.evaluate.baseline import BaselineCache

        return BaselineCache(gitops.state_dir(self.repo) / "baseline")


def _names_private_tmp(command: str, root: str) -> bool:
    """True if the command names a path under /tmp (which bubblewrap replaces) outside the
    repository at ``root``."""
    return any(
        word.startswith("/tmp/") and not word.startswith(root + "/")
        for word in command.replace("=", " ").split()
    )
