"""The split workflow's jobs (see ratchet/split.py for the artifacts between them).

* :func:`propose` — inside ``ratchet action`` with ``RATCHET_STAGE=propose``: recall, plan and
  ask the model as one iteration does, but stop once a change is chosen (nothing is tested:
  the tests' last results come from memory) and write the proposal and a bundle of the two
  commits it starts from. Refusals (a repeat, an unusable edit, no change) are recorded here.
* :func:`cmd_evaluate` — ``ratchet evaluate``: in a clone of the bundle, with no secrets and no
  token, apply the edits, run the suite on the tip and on the change in the sandbox, judge.
* :func:`publish` — inside ``ratchet action`` with ``RATCHET_STAGE=publish``: re-apply the
  edits on the tip origin still has, check both artifacts against the patch (by hash), record
  the attempt, commit, push with a lease and update the PR, as a one-job run does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ratchet import split
from ratchet.config import Settings
from ratchet.core import iteration, keys, money
from ratchet.core.iteration import Result
from ratchet.core.outcome import KEPT, Outcome
from ratchet.environment import Environment
from ratchet.errors import ConfigError
from ratchet.evaluate.report import FAILED, SuiteRun
from ratchet.progress import Reporter
from ratchet.records import MemoryRecord
from ratchet.redact import redactor_from_env
from ratchet.types import Edit, Usage

if TYPE_CHECKING:
    from ratchet.commands.action import Action
    from ratchet.github.branch import RemoteBranch


class RememberedBed:
    """The test bed of a job that runs no repository code: the baseline is what memory says
    the last attempt left failing (the prompt then has no fresh test output)."""

    cached = True  # nothing was observed here (no flaky bookkeeping)

    def __init__(self, history: list[MemoryRecord]) -> None:
        attempts = [r for r in history if r.kind == "attempt" and r.score_before is not None]
        self.last = max(attempts, key=lambda r: r.created_at, default=None)

    def baseline(self, tip: str) -> SuiteRun:
        failing = tuple(self.last.failing) if self.last else ()
        note = ("(the tests were not run in this job: the split workflow runs them in the "
                "evaluate job; failing after the last attempt: "
                + (", ".join(failing[:50]) if failing else "none known") + ")")  # fmt: skip
        return SuiteRun("ran", 1 if failing else 0, 0.0, {t: FAILED for t in failing},
                        source="memory" if failing else "summary", failed=len(failing),
                        output=note)  # fmt: skip

    def candidate(self, *_a: object, **_k: object) -> tuple[SuiteRun, SuiteRun | None]:
        raise AssertionError("the propose job never tests a change")

    def remember(self, sha: str, run: SuiteRun) -> None:
        pass


def _edits(edits: tuple[split.EditIn, ...]) -> tuple[Edit, ...]:
    return tuple(Edit(e.path, e.search, e.replace) for e in edits)


def _plan(root: Path, settings: Settings, edits: tuple[Edit, ...]) -> dict[str, Any]:
    """The files the edits produce on ``root`` (every check a one-job run makes)."""
    from ratchet.workspace.paths import DEFAULT_PROTECTED, plan_changes

    protected = settings.protected_paths
    return plan_changes(root, edits, max_files=settings.config.max_changed_files,
                        protected=list(protected) if protected is not None
                        else list(DEFAULT_PROTECTED))  # fmt: skip


# -- propose ---------------------------------------------------------------------------------
def propose(host: Action, key: str, settings: Settings, store: Any, remote: RemoteBranch) -> int:
    from ratchet.commands.wiring import make_model_factory
    from ratchet.driver import Driver
    from ratchet.workspace import git as gitops
    from ratchet.workspace.gitcmd import git

    out = _artifacts(host)
    bed = RememberedBed(store.records(key))
    driver = Driver(settings, host.repo, store, make_model_factory(settings, None),
                    host.reporter, host._run_id(), bed, handoff=True)  # type: ignore[arg-type]
    with gitops.task_lock(host.repo, key):
        result = driver.iterate()
    host.reporter.close()
    h = driver.proposed
    if h is None:
        host.outputs.update(outcome=result.outcome, proposed="false")
        print(host.redact(f"ratchet: {result.outcome}: {result.detail}; nothing to evaluate"))
        return 0
    p, u = h.chosen.proposal, h.chosen.usage
    proposal = split.ProposalFile(
        schema=1, task_key=key, base_sha=h.base_sha, tip_sha=h.tip, remote_sha=remote.sha,
        attempt=h.attempt, title=p.title[:500], rationale=p.rationale[:20_000],
        edits=tuple(split.EditIn(path=e.path, search=e.search, replace=e.replace)
                    for e in p.edits),
        patch_sha256=h.chosen.patch_sha256, asked=h.asked, tokens_in=u.prompt_tokens,
        tokens_out=u.completion_tokens,
        cost_usd=money.cost_of(u.prompt_tokens, u.completion_tokens, h.rate),
        known_flaky=h.known_flaky, run_id=host._run_id(),
    )  # fmt: skip
    split.write_json(out / split.PROPOSAL, proposal)
    root = Path(host.repo.working_dir)
    refs = {"ratchet-split-base": h.base_sha, "ratchet-split-tip": h.tip}
    for name, sha in refs.items():
        git(root, "update-ref", f"refs/heads/{name}", sha)
    git(root, "bundle", "create", str(out / split.BUNDLE), *(f"refs/heads/{n}" for n in refs))
    for name in refs:
        git(root, "update-ref", "-d", f"refs/heads/{name}")
    host.outputs.update(outcome="proposed", proposed="true")
    print(host.redact(f"ratchet: proposed attempt {h.attempt}: {p.title}"))
    return 0


def _artifacts(host: Action) -> Path:
    if not host.aenv.artifacts:
        raise ConfigError("RATCHET_STAGE needs RATCHET_ARTIFACTS, the artifact directory",
                          "set the action's `artifacts` input")  # fmt: skip
    path = Path(host.aenv.artifacts)
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- evaluate --------------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace, env: Environment) -> int:
    """``ratchet evaluate --proposal DIR --out DIR``: judge a proposal in this checkout (a
    clone of its bundle), with the real suite in the sandbox."""
    from ratchet.commands.wiring import choose_and_report_sandbox, prepare_evaluation
    from ratchet.evaluate.testbed import TestBed
    from ratchet.evaluate.verdict import judge
    from ratchet.session import RunOptions, build_settings
    from ratchet.workspace import git as gitops
    from ratchet.workspace.gitcmd import git
    from ratchet.workspace.patch import patch_sha256

    artifacts = env.value("RATCHET_ARTIFACTS")
    if (args.proposal is None or args.out is None) and not artifacts:
        raise ConfigError("ratchet evaluate needs --proposal DIR and --out DIR",
                          "or RATCHET_ARTIFACTS (the action's `artifacts` input)")  # fmt: skip
    proposal_dir = args.proposal or Path(str(artifacts)) / "proposal"
    out_dir = args.out or Path(str(artifacts)) / "evaluation"
    proposal, proposal_sha = split.read_proposal(proposal_dir)
    reporter = Reporter(redact=redactor_from_env(env))
    repo = gitops.open_repo(args.repo.resolve())
    root = Path(repo.working_dir)
    git(root, "branch", "-f", "ratchet-split-base", proposal.base_sha)
    settings = build_settings(RunOptions(repo=root, task="(evaluation of a proposal)",
                                         task_key=proposal.task_key,
                                         base_branch="ratchet-split-base"), repo, env)  # fmt: skip
    sandbox = choose_and_report_sandbox(
        reporter, env, settings.config.sandbox, settings.config.test_user
    )
    bed = TestBed(settings, repo, reporter, sandbox=sandbox,
                  world=prepare_evaluation(settings, repo, reporter, sandbox, env), env=env)
    with gitops.scratch_dir("ratchet-evaluate-") as tree:
        gitops.export_commit(repo, proposal.tip_sha, tree)
        changes = _plan(tree, settings, _edits(proposal.edits))
    patch = patch_sha256(changes)
    if patch != proposal.patch_sha256:
        raise ConfigError("refusing to evaluate: the proposal's edits do not make the patch it "
                          "names", "the artifact was changed between jobs")  # fmt: skip
    ignore = frozenset(proposal.known_flaky)
    from ratchet.core.flaky import without

    base_run = without(bed.baseline(proposal.tip_sha), ignore)
    assert base_run is not None
    cand, rerun, probe = (without(run, ignore)
                          for run in bed.candidate(proposal.tip_sha, changes, base_run, ignore))
    assert cand is not None
    verdict = judge(base_run, cand, rerun, probe)
    reporter.close()
    left = len(cand.failing) if cand.ok and cand.per_test else None
    evaluation = split.EvaluationFile(
        schema=1, proposal_sha256=proposal_sha, patch_sha256=patch,
        outcome=verdict.outcome,  # type: ignore[arg-type]  # judge says one of the four
        score_before=verdict.score_before, score_after=verdict.score_after,
        reason=reporter.redact(verdict.reason)[:4000], failing=tuple(cand.failing[:50]),
        failing_left=left, flaky=verdict.flaky[:500],
        test_output=reporter.redact(cand.output)[-300_000:],
    )  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    split.write_json(out_dir / split.EVALUATION, evaluation)
    print(f"ratchet: {verdict.outcome} — {verdict.reason}", file=sys.stderr)
    return 0


# -- publish ---------------------------------------------------------------------------------
def publish(host: Action, key: str, settings: Settings, store: Any, remote: RemoteBranch) -> Result:
    """The attempt of the artifacts, verified, recorded and (when kept) committed on the task
    branch; the caller pushes and updates the PR."""
    from ratchet.workspace import git as gitops
    from ratchet.workspace.gitcmd import git
    from ratchet.workspace.patch import patch_sha256, unified_diff
    from ratchet.workspace.paths import write_changes

    directory = _artifacts(host)
    proposal, proposal_sha = split.read_proposal(directory / "proposal")
    if not (directory / "evaluation" / split.EVALUATION).exists():
        return _unevaluated(host, key, proposal, store)
    evaluation = split.read_evaluation(directory / "evaluation")
    if proposal.task_key != key:
        raise ConfigError(f"the proposal is for task {proposal.task_key!r}, not {key!r}",
                          "pass the same task_key to every job")  # fmt: skip
    if remote.sha != proposal.remote_sha:
        raise ConfigError(f"refusing to publish: {keys.branch_of(key)} moved on origin since "
                          "the proposal was made", "nothing was pushed; the next run starts "
                          "from the new tip")  # fmt: skip
    branch = keys.branch_of(key)
    root = Path(host.repo.working_dir)
    git(root, "update-ref", f"refs/heads/{branch}", proposal.tip_sha)
    wt = gitops.worktree(host.repo, branch, key)
    changes = _plan(wt, settings, _edits(proposal.edits))
    split.check_evaluated(proposal_sha, proposal, evaluation, patch_sha256(changes))
    usage = Usage(proposal.tokens_in, proposal.tokens_out)
    rec = _record(host, store, key, proposal, evaluation.outcome, evaluation.reason,
                  files=tuple(sorted(changes)), score_before=evaluation.score_before,
                  score_after=evaluation.score_after, failing=evaluation.failing,
                  flaky=evaluation.flaky)  # fmt: skip
    commit = ""
    if evaluation.outcome in KEPT:
        write_changes(wt, changes)
        msg = gitops.commit_message(rec.title, rec.rationale, rec.attempt,
                                    evaluation.score_before, evaluation.score_after)
        commit = gitops.commit_all(wt, msg, sorted(changes))
        rec = store.update(rec.replace(commit=commit))
    return Result(task=key, branch=branch, attempt=rec.attempt, outcome=evaluation.outcome,
                  title=rec.title, score_before=evaluation.score_before,
                  score_after=evaluation.score_after, commit=commit, usage=usage,
                  detail=evaluation.reason, records=(rec,), diff=unified_diff(changes),
                  test_output=evaluation.test_output, cost_usd=proposal.cost_usd,
                  failing_left=evaluation.failing_left)  # fmt: skip


def _unevaluated(host: Action, key: str, proposal: split.ProposalFile, store: Any) -> Result:
    """The evaluate job ended without a verdict (the suite could not be set up, the job was
    cancelled): the attempt is recorded as an error, nothing is published."""
    branch = keys.branch_of(key)
    detail = "the evaluate job produced no evaluation (see its log); nothing was published"
    rec = _record(host, store, key, proposal, Outcome.ERROR, detail)
    return Result(task=key, branch=branch, attempt=rec.attempt, outcome=Outcome.ERROR,
                  title=rec.title, detail=detail, usage=Usage(proposal.tokens_in,
                  proposal.tokens_out), records=(rec,), cost_usd=proposal.cost_usd)  # fmt: skip


def _record(host: Action, store: Any, key: str, proposal: split.ProposalFile, outcome: str,
            detail: str, **fields: object) -> MemoryRecord:  # fmt: skip
    """The proposal's attempt, recorded with ``outcome`` (and the verdict's ``fields``)."""
    return store.add(iteration.attempt_record(
        task=key, branch=keys.branch_of(key), run_id=proposal.run_id, attempt=proposal.attempt,
        outcome=outcome, redact=host.redact, title=proposal.title,
        rationale=proposal.rationale, detail=detail, asked=proposal.asked,
        patch_sha256=proposal.patch_sha256, tokens=proposal.tokens_in + proposal.tokens_out,
        tokens_in=proposal.tokens_in, tokens_out=proposal.tokens_out,
        cost_usd=proposal.cost_usd, **fields,
    ))  # fmt: skip
