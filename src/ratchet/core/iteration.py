"""The decisions of one iteration, on plain values (the driver gathers them and acts on them).

- :func:`plan`: may this task make another attempt (budget), and which number is it?
- :func:`on_need`: the model asked to see code: show it (once), or record a second ask?
- :func:`review`: a planned change against history: a repeat of a failed patch is refused.
- :func:`attempt_record`: the memory record of an attempt, redacted.
- :func:`result_of`: what the iteration did, from the records it wrote.
- prompt material: :func:`context_budget`, :func:`constraints`, the retry notes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ratchet.core import flaky, money, steering
from ratchet.core.outcome import FAILED, KEPT, NoAttempt, Outcome
from ratchet.errors import BudgetExceeded, ModelError, ModelReplyError
from ratchet.evaluate.report import SuiteRun, Verdict
from ratchet.model.prompt import MAX_NOTE, MAX_OUTPUT, MAX_TASK, PROMPT_BUDGET, SYSTEM
from ratchet.records import MemoryRecord
from ratchet.types import Usage

#: proposal rounds per iteration: the first ask, plus one after a repeat or an unusable edit
#: (asking to see code does not use a round up)
ROUNDS = 2


@dataclass(frozen=True)
class Result:
    """What one iteration did, for the summary, the exit code and the pull request."""

    task: str
    branch: str
    attempt: int = 0
    outcome: str = ""
    title: str = ""
    score_before: int | None = None
    score_after: int | None = None
    commit: str = ""
    usage: Usage = field(default_factory=Usage)
    verdict: Verdict | None = None
    detail: str = ""
    records: tuple[MemoryRecord, ...] = ()
    diff: str = ""
    test_output: str = ""  # the candidate suite's (capped) output
    cost_usd: float | None = None  # what this iteration's model calls cost (None: unpriced)
    known_flaky: tuple[flaky.Known, ...] = ()  # the repository's, after this iteration
    failing_left: int | None = None  # tests failing on the task branch after it (None: unknown)


def result_of(
    task: str,
    branch: str,
    records: Sequence[MemoryRecord],
    *,
    score_before: int | None = None,
    usage: Usage | None = None,
    title: str = "",
    verdict: Verdict | None = None,
    commit: str = "",
    diff: str = "",
    test_output: str = "",
    stopped: str = "",
    rate: money.Rate | None = None,
    known_flaky: Sequence[flaky.Known] = (),
    failing_left: int | None = None,
) -> Result:
    """The iteration's result: outcome, attempt, scores and detail are the last record's,
    unless it ``stopped`` before a model call (a budget): then the outcome is
    ``NoAttempt.BUDGET``."""
    last = records[-1] if records else None
    u = usage or Usage()
    return Result(
        task=task,
        branch=branch,
        attempt=last.attempt if last else 0,
        outcome=NoAttempt.BUDGET if stopped else (last.outcome if last else ""),
        score_before=last.score_before if last else score_before,
        score_after=last.score_after if last else None,
        detail=stopped or (last.detail if last else ""),
        records=tuple(records),
        usage=u,
        cost_usd=money.cost_of(u.prompt_tokens, u.completion_tokens, rate),
        known_flaky=tuple(known_flaky),
        failing_left=failing_left,
        title=title,
        verdict=verdict,
        commit=commit,
        diff=diff,
        test_output=test_output,
    )


# -- before the model is asked ------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """No attempt this time: the task is paused, or a budget is used up."""

    outcome: NoAttempt
    detail: str


@dataclass(frozen=True)
class Go:
    attempt: int  # the number of the next attempt
    hinted: tuple[str, ...]  # files earlier attempts changed


def plan(
    history: Sequence[MemoryRecord],
    *,
    task_key: str,
    limits: money.Limits,
    rate: money.Rate | None = None,
) -> Stop | Go:
    """Whether the task may make another attempt (not paused, within its budgets), and its
    number. Forgotten attempts still count against the budgets; they hint no files."""
    state = steering.state_of(history)
    if state.paused:
        by = f" by {state.paused_by}" if state.paused_by else ""
        return Stop(
            NoAttempt.PAUSED,
            f"task {task_key} is paused{by}; resume it to continue (`ratchet resume --task "
            f"{task_key}`, or the resume command in a comment)",
        )
    reason = money.exhausted(money.spent(history), limits, rate, task_key)
    if reason is not None:
        return Stop(NoAttempt.BUDGET, reason)
    number = max((r.attempt for r in history), default=0) + 1
    hinted = {f for r in steering.in_force(history) for f in r.files}
    return Go(number, tuple(sorted(hinted)))


def memory_lines(history: Sequence[MemoryRecord]) -> list[str]:
    """What the run says about the task's memory before it starts."""
    done = [r for r in history if r.kind == "attempt"]
    if not done:
        return ["memory: no earlier attempts for this task — starting fresh"]
    kept = sum(1 for r in done if r.outcome in KEPT)
    lines = [f"memory: {len(done)} earlier attempt(s), {kept} kept; most recent:"]
    for r in done[-4:]:
        score = (
            f" {r.score_before}→{r.score_after}"
            if r.score_before is not None and r.score_after is not None
            else ""
        )
        lines.append(f"  #{r.attempt} {r.outcome:<9}{score}  {r.title or r.detail[:60]}")
    return lines


def context_budget(task_text: str, digest: str, output: str) -> int:
    """What the repository context may take of the prompt's budget: the rest after the
    system message, the task, the test output, the digest and a note (each at its cap)."""
    fixed = len(SYSTEM) + 3_000  # headings, fences, constraints
    rest = PROMPT_BUDGET - fixed - min(len(task_text), MAX_TASK) - min(len(output), MAX_OUTPUT)
    rest -= len(digest) + MAX_NOTE
    return max(20_000, rest)


def constraints(configured: Sequence[str] | None) -> list[str]:
    """What the prompt says about protected paths (the policy itself is enforced on apply)."""
    if configured is None:
        return [
            "Do not edit tests, test configuration, CI and workflow files, build or dependency "
            "manifests, lock files or anything under .github/: the tests are the judge, and "
            "such edits are refused."
        ]
    shown = ", ".join(configured[:40]) + (" …" if len(configured) > 40 else "")
    return [f"Never edit these paths (edits to them are refused): {shown}"] if configured else []


def evidence_words(run: SuiteRun) -> str:
    """How much the run's results say, in words."""
    if run.per_test:
        return f"per-test results from {run.source}"
    if run.source == "summary":
        return "counts only, from the runner's summary line"
    return "the exit code only"


# -- the model's answer -------------------------------------------------------------------------


@dataclass(frozen=True)
class Show:
    """Show the asked-for code in the next round, with this note."""

    items: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class AskedTwice:
    """A second request in one iteration: recorded as invalid, nothing tested."""

    detail: str


def on_need(asked_before: Sequence[str], items: Sequence[str]) -> Show | AskedTwice:
    if asked_before:
        return AskedTwice(
            "asked to see more code a second time (once per run): " + ", ".join(items)
        )
    return Show(
        tuple(items),
        "You asked to see: " + ", ".join(items) + ". The context now shows it "
        "(where it exists). Propose one change now; you cannot ask again.",
    )


def unusable_note(error: str) -> str:
    """The next round's note after an edit that could not be applied."""
    return (
        "Your previous proposal could not be applied, so nothing was tested:\n"
        f"{error}\nPropose one change again (you may keep the idea, fix the edit)."
    )


@dataclass(frozen=True)
class Accepted:
    patch_sha256: str


@dataclass(frozen=True)
class Repeat:
    """The same patch as an attempt that failed: not tested again."""

    prior: MemoryRecord
    detail: str
    note: str


def review(history: Sequence[MemoryRecord], patch_sha256: str, title: str) -> Accepted | Repeat:
    """A planned change against what the task tried before."""
    same = [r for r in history if r.patch_sha256 == patch_sha256 and r.outcome in FAILED]
    if not same:
        return Accepted(patch_sha256)
    prior = same[-1]
    return Repeat(
        prior,
        f"identical to attempt {prior.attempt} which was {prior.outcome}",
        f"Your previous proposal ({title!r}) is identical to attempt {prior.attempt}, which "
        f"was {prior.outcome}. It was not tested again. Propose a different change.",
    )


# -- records ------------------------------------------------------------------------------------


def attempt_record(
    *,
    task: str,
    branch: str,
    run_id: str,
    attempt: int,
    outcome: Outcome | str,
    redact: Callable[[str], str],
    title: str = "",
    rationale: str = "",
    detail: str = "",
    asked: Sequence[str] = (),
    **fields: object,
) -> MemoryRecord:
    """The record of one attempt. Memory leaves the bot, so every free text is redacted."""
    if asked:
        detail = f"{detail} (asked to see: {', '.join(asked)})".strip()
    return MemoryRecord(
        kind="attempt",
        task=task,
        attempt=attempt,
        outcome=str(outcome),
        title=redact(title),
        rationale=redact(rationale),
        detail=redact(detail),
        branch=branch,
        run_id=run_id,
        **fields,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class AskFailed:
    """What a failed question to the model leaves: the record (``outcome`` None: none), the
    reason the run stops (``stop``), and whether the failure goes on up (``reraise``)."""

    outcome: Outcome | None
    detail: str
    stop: str = ""
    reraise: bool = False


def ask_failed(error: ModelError, tokens_used: int) -> AskFailed:
    """A budget that does not allow the call stops the run (an unusable first reply whose
    repair call it refused is recorded as invalid); a reply still unusable after the repair
    call is an ``invalid`` attempt; anything else (the model unavailable) is an ``error``
    attempt and is raised."""
    if isinstance(error, BudgetExceeded):
        if not tokens_used:
            return AskFailed(None, "", stop=str(error))
        return AskFailed(Outcome.INVALID, f"unusable reply; {error}", stop=str(error))
    if isinstance(error, ModelReplyError):
        return AskFailed(Outcome.INVALID, f"unusable reply after the repair call: {error}")
    return AskFailed(Outcome.ERROR, f"{type(error).__name__}: {error}", reraise=True)
