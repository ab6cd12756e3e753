"""One iteration of the loop, phase by phase:

    recall → (baseline) → propose → apply (in memory) → evaluate → record → commit

Nothing is written to Ratchet's worktree until the verdict says the change does not regress,
and the attempt is recorded before it is committed. Each phase hands plain data to the next.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ratchet.config import Settings
from ratchet.core import keys
from ratchet.core.outcome import Phase
from ratchet.errors import EditError, EvalError, ModelError, ModelReplyError
from ratchet.evaluate.report import CRASHED, NOT_FOUND, TIMEOUT, SuiteRun, Verdict
from ratchet.memory.base import MemoryStore
from ratchet.model.base import ChatModel
from ratchet.progress import Reporter
from ratchet.records import FAILED_OUTCOMES, KEPT_OUTCOMES, MemoryRecord
from ratchet.types import Need, NoChange, Proposal, Usage
from ratchet.workspace import git as gitops

if TYPE_CHECKING:
    import git

    from ratchet.evaluate.baseline import BaselineCache
    from ratchet.evaluate.sandbox import Sandbox
    from ratchet.evaluate.world import World

ModelFactory = Callable[[list[MemoryRecord]], ChatModel]


@dataclass
class Result:
    """What one iteration did, for the summary, the exit code and (later) the PR."""

    task: str
    attempt: int = 0
    outcome: str = ""
    title: str = ""
    score_before: int | None = None
    score_after: int | None = None
    commit: str = ""
    branch: str = ""
    usage: Usage = field(default_factory=Usage)
    verdict: Verdict | None = None
    detail: str = ""
    records: list[MemoryRecord] = field(default_factory=list)
    diff: str = ""
    test_output: str = ""  # the candidate suite's (capped) output


@dataclass
class Loop:
    settings: Settings
    repo: git.Repo
    store: MemoryStore
    model_factory: ModelFactory
    reporter: Reporter
    run_id: str
    sandbox: Sandbox | None = None
    baseline_dir: Path | None = None
    world: World | None = None
    _asked: tuple[str, ...] = ()  # what the model asked to see in this iteration

    @property
    def branch(self) -> str:
        return keys.branch_of(self.settings.task_key)

    # -- phases ---------------------------------------------------------------------------
    @property
    def command(self) -> str:
        """What runs in the sandbox: the setup command (if any), then the test command."""
        setup = self.settings.config.setup_command
        test = self.settings.test_command
        return f"{setup} && {test}" if setup else test

    def _suite(self, tree: Path, select: tuple[str, ...] = ()) -> SuiteRun:
        from ratchet.evaluate.runner import run_suite

        return run_suite(
            tree,
            self.command,
            timeout=float(self.settings.config.test_timeout),
            junit_path=self.settings.config.junit_path,
            sandbox=self._sandbox(),
            world=self.world,
            select=select or None,
        )

    def _sandbox(self) -> Sandbox:
        if self.sandbox is None:
            from ratchet.evaluate.sandbox import choose_sandbox

            self.sandbox = choose_sandbox()
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

    def baseline(self, tip: str) -> SuiteRun:

        cache = self._cache()
        cached = cache.get(tip, self.cache_key)
        if cached is not None:
            self.reporter.info(f"baseline for {tip[:10]} from cache")
            return cached
        from ratchet.evaluate.trees import exported

        self.reporter.phase(f"running the tests on {tip[:10]} (baseline)", Phase.TEST)
        with exported(self.repo, tip, self.settings.task_key) as tree:
            run = self._suite(tree)
        self.reporter.end_phase()
        if run.status == NOT_FOUND:
            raise EvalError(
                f"the test command was not found: {self.settings.test_command!r}",
                "check test_command (and setup_command) in .github/ratchet.yml or "
                "--test-command; it runs with /bin/sh",
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
        cache.put(tip, self.cache_key, run)
        return run

    def _cache(self) -> BaselineCache:
        from ratchet.evaluate.baseline import BaselineCache

        return BaselineCache(self.baseline_dir or gitops.state_dir(self.repo) / "baseline")

    @property
    def cache_key(self) -> str:
        """The command, where the tests run, and a fingerprint of the toolchain and prepared
        directories they will find, so a baseline is not reused after the environment changed
        (a package installed, another interpreter) or at another path (test ids with paths)."""
        from ratchet.evaluate.fingerprint import environment_fingerprint
        from ratchet.evaluate.trees import tree_path
        from ratchet.evaluate.world import fingerprint_paths

        root = self._sandbox().root(
            tree_path(Path(self.repo.working_dir), self.settings.task_key), self.world
        )
        extra = fingerprint_paths(self.world) if self.world is not None else []
        return f"{self.command}\0{root}\0{environment_fingerprint(extra_paths=extra)}"

    # -- the iteration --------------------------------------------------------------------
    def iterate(self) -> Result:
        from ratchet.evaluate.verdict import judge, needs_rerun, suite_score
        from ratchet.memory.digest import build_digest
        from ratchet.model.prompt import build_messages
        from ratchet.model.propose import ask
        from ratchet.workspace.context import build_context
        from ratchet.workspace.patch import patch_sha256, unified_diff
        from ratchet.workspace.paths import DEFAULT_PROTECTED, plan_changes, write_changes

        s = self.settings
        rep = self.reporter
        res = Result(task=s.task_key, branch=self.branch)

        # recall
        rep.phase("recalling memory", Phase.RECALL)
        history = self.store.records(s.task_key)
        related = [r for r in self.store.search(s.task_text, 5) if r.task != s.task_key]
        rep.end_phase()
        self._show_memory(history)
        attempts_so_far = [r for r in history if r.kind == "attempt"]
        if len(attempts_so_far) >= s.config.budget.attempts:
            res.outcome = "budget"
            res.detail = (
                f"the attempt budget ({s.config.budget.attempts}) for task {s.task_key} is used up"
            )
            return res
        spent = sum(r.tokens for r in attempts_so_far)
        if spent >= s.config.budget.tokens:
            res.outcome = "budget"
            res.detail = f"the token budget ({s.config.budget.tokens}) is used up ({spent} spent)"
            return res
        next_attempt = max((r.attempt for r in history), default=0) + 1

        # baseline on the branch tip (cached by commit + command)
        base_sha = gitops.base_ref(self.repo, s.base_branch or "main", s.base_remote)
        tip = gitops.ensure_branch(self.repo, self.branch, base_sha)
        wt = gitops.worktree(self.repo, self.branch, s.task_key)
        base_run = self.baseline(tip)
        score_before = suite_score(base_run)
        res.score_before = score_before
        rep.info(
            f"tests on {self.branch}: {base_run.passed} passed, "
            f"{base_run.failed + base_run.errors} failing (score {score_before}; "
            f"{_evidence_words(base_run)})"
        )

        # context and proposal
        files = gitops.ls_files(wt)
        hinted = sorted({f for r in history for f in r.files})
        digest = build_digest(history, related)
        context_budget = _context_budget(s.task_text, digest, base_run.output)
        ctx = build_context(
            wt,
            files,
            task_text=s.task_text,
            failing_tests=base_run.failing,
            failure_output=base_run.output,
            hinted_files=hinted,
            budget=context_budget,
        )
        protected = (
            list(s.protected_paths) if s.protected_paths is not None else list(DEFAULT_PROTECTED)
        )
        model = self.model_factory(history)
        note = ""
        rounds = 2  # the first ask, plus one more after a repeat or an unusable edit
        asked: tuple[str, ...] = ()  # what the model asked to see (once per iteration)
        self._asked = ()
        carry = Usage()
        round_number = 0
        while round_number < rounds:
            round_number += 1
            messages = build_messages(
                task_key=s.task_key,
                task_text=s.task_text,
                digest=digest,
                context=ctx.text,
                failing_output=base_run.output,
                constraints=_constraints(s.protected_paths),
                note=note,
            )
            rep.phase(f"asking {getattr(model, 'name', s.model)} for one change", Phase.PROPOSE)
            spent_before = _usage_total(model)
            try:
                answer = ask(model, messages)
            except ModelError as exc:
                rep.end_phase(ok=False)
                tokens = _usage_total(model) - spent_before
                res.usage = res.usage + Usage(completion_tokens=tokens)
                if isinstance(exc, ModelReplyError):
                    # the model answered, but not usably even after the repair call: a
                    # completed attempt with outcome "invalid", not an infrastructure failure
                    self._record(
                        res,
                        next_attempt,
                        "invalid",
                        tokens=tokens,
                        detail=f"unusable reply after the repair call: {exc}",
                        score_before=score_before,
                    )
                    rep.warn(f"{exc}" + (f" — {exc.hint}" if exc.hint else ""))
                    return res
                self._record(
                    res,
                    next_attempt,
                    "error",
                    tokens=tokens,
                    detail=f"{type(exc).__name__}: {exc}",
                    score_before=score_before,
                )
                raise
            rep.end_phase()
            if carry.total_tokens:  # the call that asked for code is part of this attempt
                answer = dataclasses.replace(answer, usage=answer.usage + carry)
                carry = Usage()
            if isinstance(answer.answer, Need) and not asked:
                carry = answer.usage
                asked = answer.answer.items
                self._asked = asked
                rep.info("the model asks to see: " + ", ".join(asked))
                ctx = build_context(
                    wt,
                    files,
                    task_text=s.task_text,
                    failing_tests=base_run.failing,
                    failure_output=base_run.output,
                    hinted_files=hinted,
                    budget=context_budget,
                    needed=asked,
                )
                note = (
                    "You asked to see: " + ", ".join(asked) + ". The context now shows it "
                    "(where it exists). Propose one change now; you cannot ask again."
                )
                rounds += 1  # asking for code does not use up the round for a retry
                continue
            res.usage = res.usage + answer.usage
            if isinstance(answer.answer, Need):  # a second request: once per iteration
                self._record(
                    res,
                    next_attempt,
                    "invalid",
                    tokens=answer.usage.total_tokens,
                    detail="asked to see more code a second time (once per run): "
                    + ", ".join(answer.answer.items),
                    score_before=score_before,
                )
                rep.warn("the model asked for more code twice; nothing was tested")
                return res
            if isinstance(answer.answer, NoChange):
                res.title = ""
                rep.info(f"the model proposes no change: {answer.answer.reason}")
                self._record(
                    res,
                    next_attempt,
                    "no_change",
                    detail=answer.answer.reason,
                    tokens=answer.usage.total_tokens,
                    score_before=score_before,
                )
                return res
            proposal: Proposal = answer.answer
            res.title = proposal.title
            rep.info(f"next action: {proposal.title}", style="bold")
            try:
                changes = plan_changes(
                    wt, proposal.edits, protected=protected, max_files=s.config.max_changed_files
                )
                _refuse_known_secrets(changes)
            except EditError as exc:
                rep.info(f"edit refused ({exc.category}): {str(exc).splitlines()[0]}")
                self._record(
                    res,
                    next_attempt,
                    "invalid",
                    proposal=proposal,
                    detail=str(exc),
                    tokens=answer.usage.total_tokens,
                    score_before=score_before,
                    files=tuple(sorted({e.path for e in proposal.edits})),
                )
                next_attempt += 1
                note = (
                    "Your previous proposal could not be applied, so nothing was tested:\n"
                    f"{exc}\nPropose one change again (you may keep the idea, fix the edit)."
                )
                continue
            psha = patch_sha256(changes)
            same = [r for r in history if r.patch_sha256 == psha and r.outcome in FAILED_OUTCOMES]
            if same:
                prior = same[-1]
                rep.info(f"refused: identical to attempt {prior.attempt} ({prior.outcome})")
                self._record(
                    res,
                    next_attempt,
                    "repeat",
                    proposal=proposal,
                    patch_sha256=psha,
                    files=tuple(sorted(changes)),
                    tokens=answer.usage.total_tokens,
                    detail=f"identical to attempt {prior.attempt} which was {prior.outcome}",
                    score_before=score_before,
                )
                next_attempt += 1
                note = (
                    f"Your previous proposal ({proposal.title!r}) is identical to attempt "
                    f"{prior.attempt}, which was {prior.outcome}. It was not tested again. "
                    "Propose a different change."
                )
                continue
            break
        else:
            return res

        # evaluate the candidate in a fresh export at the same path as the baseline
        from ratchet.evaluate.trees import exported

        res.diff = unified_diff(changes)
        with exported(self.repo, tip, s.task_key) as tree:
            write_changes(tree, changes)
            rep.phase("running the tests on the change", Phase.TEST)
            cand = self._suite(tree)
            rerun = self._rerun(tree, base_run, cand) if needs_rerun(base_run, cand) else None
            rep.end_phase()
        verdict = judge(base_run, cand, rerun)
        res.verdict = verdict
        res.test_output = cand.output
        rep.info(f"verdict: {verdict.outcome} — {verdict.reason}")

        # record, then commit
        rec = self._record(
            res,
            next_attempt,
            verdict.outcome,
            proposal=proposal,
            patch_sha256=psha,
            files=tuple(sorted(changes)),
            tokens=answer.usage.total_tokens,
            score_before=verdict.score_before,
            score_after=verdict.score_after,
            failing=tuple(cand.failing[:50]),
            detail=verdict.reason,
        )
        if verdict.keeps:
            rep.phase(f"committing on {self.branch}", Phase.PUBLISH)
            write_changes(wt, changes)
            msg = gitops.commit_message(
                rec.title,
                rec.rationale,
                rec.attempt,
                verdict.score_before,
                verdict.score_after,
            )
            sha = gitops.commit_all(wt, msg, sorted(changes))
            rep.end_phase()
            res.commit = sha

            self._cache().put(sha, self.cache_key, cand)
            rec = rec.replace(commit=sha)
            try:
                self.store.update(rec)
            except Exception as exc:  # the attempt itself is recorded; the sha is a nicety
                rep.warn(f"could not add the commit to the memory record: {exc}")
            res.records[-1] = rec
        return res

    # -- helpers --------------------------------------------------------------------------
    def _record(
        self,
        res: Result,
        attempt: int,
        outcome: str,
        *,
        proposal: Proposal | None = None,
        **fields: object,
    ) -> MemoryRecord:
        redact = self.reporter.redact  # memory leaves the bot: no secret may reach it
        detail = str(fields.pop("detail", ""))
        if self._asked:
            detail = f"{detail} (asked to see: {', '.join(self._asked)})".strip()
        rec = MemoryRecord(
            kind="attempt",
            task=self.settings.task_key,
            attempt=attempt,
            outcome=outcome,
            title=redact(proposal.title) if proposal else "",
            rationale=redact(proposal.rationale) if proposal else "",
            detail=redact(str(detail)),
            branch=self.branch,
            run_id=self.run_id,
            **fields,  # type: ignore[arg-type]
        )
        stored = self.store.add(rec)
        res.records.append(stored)
        res.attempt = stored.attempt
        res.outcome = outcome
        res.score_before = stored.score_before
        res.score_after = stored.score_after
        res.detail = stored.detail
        return stored

    def _show_memory(self, history: list[MemoryRecord]) -> None:
        attempts = [r for r in history if r.kind == "attempt"]
        if not attempts:
            self.reporter.info("memory: no earlier attempts for this task — starting fresh")
            return
        kept = sum(1 for r in attempts if r.outcome in KEPT_OUTCOMES)
        self.reporter.info(f"memory: {len(attempts)} earlier attempt(s), {kept} kept; most recent:")
        for r in attempts[-4:]:
            score = (
                f" {r.score_before}→{r.score_after}"
                if r.score_before is not None and r.score_after is not None
                else ""
            )
            self.reporter.info(f"  #{r.attempt} {r.outcome:<9}{score}  {r.title or r.detail[:60]}")


def _context_budget(task_text: str, digest: str, output: str) -> int:
    """What the repository context may take of the prompt's budget: the rest after the
    system message, the task, the test output, the digest and a note (each at its cap)."""
    from ratchet.model.prompt import MAX_NOTE, MAX_OUTPUT, MAX_TASK, PROMPT_BUDGET, SYSTEM

    fixed = len(SYSTEM) + 3_000  # headings, fences, constraints
    rest = PROMPT_BUDGET - fixed - min(len(task_text), MAX_TASK) - min(len(output), MAX_OUTPUT)
    rest -= len(digest) + MAX_NOTE
    return max(20_000, rest)


def _evidence_words(run: SuiteRun) -> str:
    if run.per_test:
        return f"per-test results from {run.source}"
    if run.source == "summary":
        return "counts only, from the runner's summary line"
    return "the exit code only"


def _constraints(configured: list[str] | None) -> list[str]:
    """What the prompt says about protected paths (the policy itself is enforced on apply)."""
    if configured is None:
        return [
            "Do not edit tests, test configuration, CI and workflow files, build or dependency "
            "manifests, lock files or anything under .github/: the tests are the judge, and "
            "such edits are refused."
        ]
    shown = ", ".join(configured[:40]) + (" …" if len(configured) > 40 else "")
    return [f"Never edit these paths (edits to them are refused): {shown}"] if configured else []


def _usage_total(model: object) -> int:
    """Tokens a model client has counted so far (0 for clients that do not count)."""
    usage = getattr(model, "usage_total", None)
    return usage.total_tokens if isinstance(usage, Usage) else 0


def _refuse_known_secrets(changes: dict[str, tuple[str | None, str]]) -> None:
    """A change that adds one of this process's secret values (or an encoding of it, or a
    token-shaped string) to the repository is refused: the commit would publish it. The model
    never sees the secrets, so this only trips on an exfiltration attempt or a pasted token."""
    from ratchet.redact import Redactor, secret_values

    redactor = Redactor(secret_values())
    for path, (before, after) in changes.items():
        if redactor(after).count("***") > redactor(before or "").count("***"):
            raise EditError(
                f"{path}: the change would add a credential (or a token-shaped string) to the "
                "repository; it was refused. Propose a change without it.",
                "secret",
                path,
            )
