"""One iteration, top to bottom: each step is an adapter call, then a decision of
``ratchet.core.iteration``, then the adapter call that carries it out.

    recall → plan → check out → baseline → propose (≤ 2 rounds, + 1 to see code) → review
           → evaluate → judge → record → commit

Nothing is written to Ratchet's worktree until the verdict says the change does not regress,
and the attempt is recorded in memory before it is committed. ``ratchet run`` and
``ratchet action`` wire the same driver (``commands/wiring.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ratchet.config import Settings
from ratchet.core import flaky, iteration, keys, money, steering
from ratchet.core.iteration import Result
from ratchet.core.outcome import Outcome, Phase
from ratchet.errors import EditError, ModelError
from ratchet.evaluate.report import SuiteRun, Verdict
from ratchet.evaluate.testbed import TestBed
from ratchet.memory.base import MemoryStore
from ratchet.model.base import ChatModel
from ratchet.progress import Reporter
from ratchet.records import STEERING_KINDS, MemoryRecord
from ratchet.types import Need, NoChange, Proposal, Usage
from ratchet.workspace import git as gitops

if TYPE_CHECKING:
    import git

    from ratchet.model.propose import Answer

ModelFactory = Callable[[list[MemoryRecord]], ChatModel]
Changes = dict[str, tuple[str | None, str]]


@dataclass
class _Attempt:
    """What the iteration has done so far: the records it wrote and the tokens it spent."""

    number: int
    score_before: int | None = None
    records: list[MemoryRecord] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    asked: tuple[str, ...] = ()
    title: str = ""
    flaky: tuple[str, ...] = ()  # known flaky tests: left out of the verdict both ways
    stopped: str = ""  # why the iteration ended before a model call (a budget)
    rate: money.Rate | None = None  # the price of the model answering (None: unpriced)
    repository: list[MemoryRecord] = field(default_factory=list)  # all records, at recall
    failing_left: int | None = None  # tests failing on the branch as the iteration leaves it


@dataclass(frozen=True)
class _Chosen:
    proposal: Proposal
    changes: Changes
    patch_sha256: str
    usage: Usage


@dataclass(frozen=True)
class Handoff:
    """The change chosen by a driver that stops before the tests (the split workflow)."""

    attempt: int
    chosen: _Chosen
    base_sha: str
    tip: str
    asked: tuple[str, ...]
    rate: money.Rate | None
    known_flaky: tuple[str, ...]


@dataclass
class Driver:
    settings: Settings
    repo: git.Repo
    store: MemoryStore
    model_factory: ModelFactory
    reporter: Reporter
    run_id: str
    testbed: TestBed
    #: stop once a change is chosen, without testing it (``proposed`` holds it)
    handoff: bool = False
    proposed: Handoff | None = None

    @property
    def branch(self) -> str:
        return keys.branch_of(self.settings.task_key)

    def iterate(self) -> Result:
        from ratchet.evaluate.verdict import judge, suite_score
        from ratchet.workspace.patch import unified_diff

        s = self.settings
        history, related, repository = self._recall()
        known = flaky.known_flaky(repository, s.config.flaky_forget_after)
        step = iteration.plan(history, task_key=s.task_key, limits=s.limits, rate=s.rate)
        if isinstance(step, iteration.Stop):
            self.reporter.info(step.detail)
            return Result(task=s.task_key, branch=self.branch, outcome=step.outcome,
                          detail=step.detail, known_flaky=tuple(known))  # fmt: skip
        in_force = steering.in_force(history)

        base_sha = gitops.base_ref(self.repo, s.base_branch or "main", s.base_remote)
        tip = gitops.ensure_branch(self.repo, self.branch, base_sha)
        wt = gitops.worktree(self.repo, self.branch, s.task_key)
        raw_base = self.testbed.baseline(tip)
        ignore = frozenset(k.test for k in known)
        base_run = flaky.without(raw_base, ignore)
        assert base_run is not None
        att = _Attempt(step.attempt, suite_score(base_run), repository=repository,
                       failing_left=_failing(base_run))
        base_seen = [] if self.testbed.cached else [raw_base]  # a cached run was counted
        att.flaky = flaky.observed(base_seen, (), ignore)
        self.reporter.info(
            f"tests on {self.branch}: {base_run.passed} passed, "
            f"{base_run.failed + base_run.errors} failing (score {att.score_before}; "
            f"{iteration.evidence_words(base_run)})"
            + (f"; {len(ignore)} known flaky test(s) not counted" if ignore else "")
        )

        chosen = self._propose(att, wt, in_force, related, base_run, step.hinted, history)
        if chosen is None:
            return self._result(att)
        if self.handoff:  # the split workflow's propose job: another job runs the tests
            self.proposed = Handoff(att.number, chosen, base_sha, tip, att.asked, att.rate,
                                    tuple(sorted(ignore)))  # fmt: skip
            return self._result(att)
        trial = self.testbed.candidate(tip, chosen.changes, base_run, ignore)
        cand, rerun, probe = (flaky.without(run, ignore) for run in trial)
        assert cand is not None
        verdict = judge(base_run, cand, rerun, probe)
        self.reporter.info(f"verdict: {verdict.outcome} — {verdict.reason}")
        att.flaky = flaky.observed([*base_seen, trial.cand, trial.rerun], verdict.flaky, ignore)
        rec = self._record(
            att, verdict.outcome, proposal=chosen.proposal, patch_sha256=chosen.patch_sha256,
            files=tuple(sorted(chosen.changes)), usage=chosen.usage,
            score_before=verdict.score_before, score_after=verdict.score_after,
            failing=tuple(cand.failing[:50]), detail=verdict.reason,
        )  # fmt: skip
        commit = ""
        if verdict.keeps:
            commit = self._commit(
                wt, rec, chosen.changes, verdict.score_before, verdict.score_after, cand
            )
            att.records[-1] = rec.replace(commit=commit)
            att.failing_left = _failing(cand)
        return self._result(att, verdict=verdict, commit=commit, diff=unified_diff(chosen.changes),
                            test_output=cand.output)  # fmt: skip

    def _recall(self) -> tuple[list[MemoryRecord], list[MemoryRecord], list[MemoryRecord]]:
        """The task's history, related records of other tasks, and every record of the
        repository (its known flaky tests come from them)."""
        s, rep = self.settings, self.reporter
        rep.phase("recalling memory", Phase.RECALL)
        history = self.store.records(s.task_key)
        related = [
            r for r in self.store.search(s.task_text, 5)
            if r.task != s.task_key and r.kind not in STEERING_KINDS
        ]  # fmt: skip
        repository = self.store.records(None)
        rep.end_phase()
        for line in iteration.memory_lines(history):
            rep.info(line)
        known = flaky.known_flaky(repository, s.config.flaky_forget_after)
        if known:
            rep.info("known flaky tests (not counted): " + ", ".join(k.test for k in known[:5])
                     + (f", +{len(known) - 5} more" if len(known) > 5 else ""))  # fmt: skip
        return history, related, repository

    # -- propose: at most ROUNDS rounds, plus one to see the code the model asked for ----------
    def _propose(
        self,
        att: _Attempt,
        wt: Path,
        history: list[MemoryRecord],
        related: list[MemoryRecord],
        base_run: SuiteRun,
        hinted: tuple[str, ...],
        everything: list[MemoryRecord],
    ) -> _Chosen | None:
        """The change to evaluate, or None when the iteration ends without one (recorded).
        ``history`` is what is in force (not forgotten); ``everything`` counts the budget."""
        from ratchet.memory.digest import build_digest
        from ratchet.model.guard import BudgetedModel

        s = self.settings
        digest = build_digest(history, related)
        budget = iteration.context_budget(s.task_text, digest, base_run.output)
        context = _Context(wt, gitops.ls_files(wt), s.task_text, base_run, hinted, budget)
        inner = self.model_factory(history)
        # the configured model's price, unless another one answers (the offline stand-in)
        att.rate = s.rate if getattr(inner, "name", s.model) == s.model else None
        model = BudgetedModel(inner, money.spent(everything), s.limits, att.rate)
        note, rounds, done, carry = "", iteration.ROUNDS, 0, Usage()
        while done < rounds:
            done += 1
            answer = self._ask(att, model, digest, context.text(att.asked), base_run, note)
            if answer is None:
                return None
            answer = dataclasses.replace(answer, usage=answer.usage + carry)
            carry = Usage()
            if isinstance(answer.answer, Need):
                shown = self._on_need(att, answer, answer.answer)
                if shown is None:
                    return None
                carry, note = answer.usage, shown
                rounds += 1  # asking for code does not use up the round for a retry
                continue
            att.usage = att.usage + answer.usage
            step = self._consider(att, answer, wt, history)
            if not isinstance(step, str):
                return step
            note = step  # the next round's note: why this proposal was not tested
        return None

    def _on_need(self, att: _Attempt, answer: Answer, need: Need) -> str | None:
        """The note for the round that shows the code asked for, or None after a second ask
        (recorded as invalid)."""
        decision = iteration.on_need(att.asked, need.items)
        if isinstance(decision, iteration.Show):
            att.asked = decision.items
            self.reporter.info("the model asks to see: " + ", ".join(decision.items))
            return decision.note
        att.usage = att.usage + answer.usage
        self._record(att, Outcome.INVALID, usage=answer.usage, detail=decision.detail)
        self.reporter.warn("the model asked for more code twice; nothing was tested")
        return None

    def _consider(
        self, att: _Attempt, answer: Answer, wt: Path, history: list[MemoryRecord]
    ) -> _Chosen | str | None:
        """A change or no change from the model: the change to test, None when the model
        proposes nothing (recorded), or the note for another round (refused, recorded)."""
        from ratchet.workspace.patch import patch_sha256

        rep, usage = self.reporter, answer.usage
        if isinstance(answer.answer, NoChange):
            att.title = ""
            rep.info(f"the model proposes no change: {answer.answer.reason}")
            self._record(att, Outcome.NO_CHANGE, detail=answer.answer.reason, usage=usage)
            return None
        assert isinstance(answer.answer, Proposal)
        proposal = answer.answer
        att.title = proposal.title
        rep.info(f"next action: {proposal.title}", style="bold")
        try:
            changes = self._plan_changes(wt, proposal)
        except EditError as exc:
            rep.info(f"edit refused ({exc.category}): {str(exc).splitlines()[0]}")
            files = tuple(sorted({e.path for e in proposal.edits}))
            self._record(
                att, Outcome.INVALID, proposal=proposal, detail=str(exc), usage=usage, files=files
            )
            att.number += 1
            return iteration.unusable_note(str(exc))
        sha = patch_sha256(changes)
        verdict = iteration.review(history, sha, proposal.title)
        if isinstance(verdict, iteration.Repeat):
            prior = verdict.prior
            rep.info(f"refused: identical to attempt {prior.attempt} ({prior.outcome})")
            self._record(
                att,
                Outcome.REPEAT,
                proposal=proposal,
                patch_sha256=sha,
                files=tuple(sorted(changes)),
                usage=usage,
                detail=verdict.detail,
            )
            att.number += 1
            return verdict.note
        return _Chosen(proposal, changes, sha, usage)

    def _ask(
        self,
        att: _Attempt,
        model: ChatModel,
        digest: str,
        context: str,
        base_run: SuiteRun,
        note: str,
    ) -> Answer | None:
        """One question to the model (with its repair call). A reply that stays unusable is
        recorded as ``invalid`` (None); a failing model is recorded as ``error`` and raised."""
        from ratchet.model.prompt import build_messages
        from ratchet.model.propose import ask

        s, rep = self.settings, self.reporter
        messages = build_messages(
            task_key=s.task_key,
            task_text=s.task_text,
            digest=digest,
            context=context,
            failing_output=base_run.output,
            constraints=iteration.constraints(s.protected_paths),
            note=note,
        )
        rep.phase(f"asking {getattr(model, 'name', s.model)} for one change", Phase.PROPOSE)
        spent_before = _usage_total(model)
        try:
            answer = ask(model, messages)
        except ModelError as exc:
            rep.end_phase(ok=False)
            usage = _usage_total(model) - spent_before
            att.usage = att.usage + usage
            failed = iteration.ask_failed(exc, usage.total_tokens)
            if failed.outcome is not None:
                self._record(att, failed.outcome, usage=usage, detail=failed.detail)
            if failed.reraise:
                raise
            att.stopped = failed.stop or att.stopped
            rep.warn(f"{exc}" + (f" — {exc.hint}" if exc.hint and not failed.stop else ""))
            return None
        rep.end_phase()
        return answer

    def _plan_changes(self, wt: Path, proposal: Proposal) -> Changes:
        """The files the proposal's edits produce (read from the worktree, nothing written).
        Raises EditError for an edit that cannot be applied safely or that adds a secret."""
        from ratchet.workspace.paths import DEFAULT_PROTECTED, plan_changes

        s = self.settings
        protected = (
            list(s.protected_paths) if s.protected_paths is not None else list(DEFAULT_PROTECTED)
        )
        changes = plan_changes(
            wt, proposal.edits, protected=protected, max_files=s.config.max_changed_files
        )
        _refuse_known_secrets(changes)
        return changes

    # -- record and commit ----------------------------------------------------------------------
    def _record(
        self,
        att: _Attempt,
        outcome: Outcome | str,
        *,
        proposal: Proposal | None = None,
        usage: Usage | None = None,
        **fields: object,
    ) -> MemoryRecord:
        fields.setdefault("score_before", att.score_before)
        u = usage or Usage()
        rec = iteration.attempt_record(
            task=self.settings.task_key,
            branch=self.branch,
            run_id=self.run_id,
            attempt=att.number,
            outcome=outcome,
            redact=self.reporter.redact,
            title=proposal.title if proposal else "",
            rationale=proposal.rationale if proposal else "",
            asked=att.asked,
            tokens=u.total_tokens,
            tokens_in=u.prompt_tokens,
            tokens_out=u.completion_tokens,
            cost_usd=money.cost_of(u.prompt_tokens, u.completion_tokens, att.rate),
            flaky=att.flaky,
            **fields,  # type: ignore[arg-type]
        )
        stored = self.store.add(rec)
        att.records.append(stored)
        return stored

    def _commit(
        self,
        wt: Path,
        rec: MemoryRecord,
        changes: Changes,
        before: int,
        after: int,
        cand: SuiteRun,
    ) -> str:
        from ratchet.workspace.paths import write_changes

        rep = self.reporter
        rep.phase(f"committing on {self.branch}", Phase.PUBLISH)
        write_changes(wt, changes)
        msg = gitops.commit_message(rec.title, rec.rationale, rec.attempt, before, after)
        sha = gitops.commit_all(wt, msg, sorted(changes))
        rep.end_phase()
        self.testbed.remember(sha, cand)
        try:
            self.store.update(rec.replace(commit=sha))
        except Exception as exc:  # the attempt itself is recorded; the sha is a nicety
            rep.warn(f"could not add the commit to the memory record: {exc}")
        return sha

    def _result(
        self,
        att: _Attempt,
        *,
        verdict: Verdict | None = None,
        commit: str = "",
        diff: str = "",
        test_output: str = "",
    ) -> Result:
        return iteration.result_of(
            self.settings.task_key,
            self.branch,
            att.records,
            score_before=att.score_before,
            usage=att.usage,
            title=att.title,
            verdict=verdict,
            commit=commit,
            diff=diff,
            test_output=test_output,
            stopped=att.stopped,
            rate=att.rate,
            failing_left=att.failing_left,
            known_flaky=flaky.known_flaky(
                [*att.repository, *att.records], self.settings.config.flaky_forget_after
            ),
        )


@dataclass
class _Context:
    """The repository context for the prompt, rebuilt when the model asked to see code."""

    wt: Path
    files: list[str]
    task_text: str
    base_run: SuiteRun
    hinted: tuple[str, ...]
    budget: int
    _cache: dict[tuple[str, ...], str] = field(default_factory=dict)

    def text(self, needed: tuple[str, ...]) -> str:
        from ratchet.workspace.context import build_context

        if needed not in self._cache:
            self._cache[needed] = build_context(
                self.wt,
                self.files,
                task_text=self.task_text,
                failing_tests=self.base_run.failing,
                failure_output=self.base_run.output,
                hinted_files=list(self.hinted),
                budget=self.budget,
                needed=needed,
            ).text
        return self._cache[needed]


def _failing(run: SuiteRun) -> int | None:
    """How many tests fail in ``run`` (None when the suite did not run; from the exit code
    alone: 0 or 1)."""
    if not run.ok:
        return None
    if run.per_test:
        return len(run.failing)
    if run.source == "summary":
        return run.failed + run.errors
    return 0 if run.exit_code == 0 else 1


def _usage_total(model: object) -> Usage:
    """What a model client has counted so far (nothing for clients that do not count)."""
    usage = getattr(model, "usage_total", None)
    return usage if isinstance(usage, Usage) else Usage()


def _refuse_known_secrets(changes: Changes) -> None:
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
