"""What a task has used and what steers it, as Markdown: the ``/agent status`` reply, the
replies to forget/stop/resume, and the budget and flaky-test lines that the status comment, the
PR body and the job summary share. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ratchet.core import money, steering
from ratchet.core.flaky import Known
from ratchet.core.markdown import code, finish, inline, quote
from ratchet.core.outcome import FAILED, KEPT
from ratchet.core.render import attempt_table
from ratchet.records import MemoryRecord

Redact = Callable[[str], str]


@dataclass(frozen=True)
class Account:
    """What a task has spent against its limits."""

    spent: money.Spent
    limits: money.Limits
    rate: money.Rate | None

    @classmethod
    def of(cls, history: Sequence[MemoryRecord], limits: money.Limits,
           rate: money.Rate | None) -> Account:  # fmt: skip
        return cls(money.spent(history), limits, rate)

    def cost_text(self) -> str:
        """``$0.0123``; ``at most $0.05 (...)`` when some attempts had no cost (older records,
        an unpriced model such as the offline stand-in): their tokens are counted at the
        output price, the bound the money budget uses."""
        s = self.spent
        if self.rate is None and s.usd == 0:
            return "unknown (the model has no price; add it under `pricing:`)"
        bound = s.usd_bound(self.rate)
        if not (s.unpriced_tokens and self.rate is not None):
            return money.usd(bound)
        return (f"at most {money.usd(bound)} ({money.usd(s.usd)} priced, and "
                f"{s.unpriced_tokens:,} tokens without a price counted at the output price)")

    def budget_line(self) -> str:
        s, lim = self.spent, self.limits
        money_part = (
            f"{self.cost_text()} of {money.usd(lim.usd)}"
            if lim.usd is not None
            else f"{self.cost_text()} (no money limit; set `budget.usd`)"
        )
        return (
            f"attempts {s.attempts} of {lim.attempts} · tokens {s.tokens:,} of {lim.tokens:,}"
            f" · cost {money_part}"
        )


def flaky_lines(known: Sequence[Known], forget_after: int, limit: int = 20) -> list[str]:
    if not known:
        return ["_No known flaky tests._"]
    lines = [
        f"- `{k.test[:200]}`: last flaky {k.last_seen[:10]}; passed {k.green_runs} of the"
        f" {forget_after} runs that take it off the list"
        for k in known[:limit]
    ]
    if len(known) > limit:
        lines.append(f"- … and {len(known) - limit} more")
    return lines


@dataclass(frozen=True)
class StatusView:
    task_key: str
    history: Sequence[MemoryRecord]  # everything of the task, forgotten included
    account: Account
    known_flaky: Sequence[Known]
    forget_after: int
    trigger_phrase: str


def status_reply(view: StatusView, redact: Redact) -> str:
    """The ``/agent status`` reply (also ``ratchet status``)."""
    base, _ = steering.command_base(view.trigger_phrase)
    state = steering.state_of(view.history)
    force = steering.in_force(view.history)
    forgotten = {
        r.attempt for r in view.history
        if r.kind == "attempt" and steering.is_forgotten(r, state)
    }  # fmt: skip
    if state.paused:
        who = f" by {steering.who(state.paused_by)}" if state.paused_by else ""
        run = f"⏸️ paused{who} since {state.paused_at[:16].replace('T', ' ')} UTC;"
        run += f" `{base} resume` continues it"
    else:
        run = "▶️ running"
    attempts = [r for r in force if r.kind == "attempt"]
    kept = [r for r in attempts if r.outcome in KEPT and r.commit]
    failed = [r for r in attempts if r.outcome in FAILED]
    feedback = [r for r in force if r.kind == "feedback"]
    parts = [
        f"### Ratchet status · {code(view.task_key, redact)}",
        "",
        f"**State:** {run}  \n**Budget:** {view.account.budget_line()}",
        "",
        "#### Attempts",
        "",
        attempt_table(view.history, redact=redact, forgotten=forgotten),
        "",
        "#### Kept",
        "",
        *([f"- #{r.attempt} {inline(r.title, redact, 120)} (`{r.commit[:7]}`)" for r in kept[-10:]]
          or ["_Nothing kept yet._"]),
        "",
        "#### Ideas that failed (not tried again)",
        "",
        *([f"- #{r.attempt} {inline(r.title or r.detail, redact, 120)}: {r.outcome}"
           for r in failed[-10:]] or ["_None._"]),
        "",
        "#### Reviewers' feedback in force",
        "",
        *([quote(r.detail, redact, 400) + "\n" for r in feedback[-3:]] or ["_None._"]),
        "",
        "#### Known flaky tests (this repository)",
        "",
        *flaky_lines(view.known_flaky, view.forget_after),
    ]  # fmt: skip
    if forgotten:
        parts += ["", f"_Forgotten (kept in history, not in prompts): {_numbers(forgotten)}._"]
    return finish("\n".join(parts) + "\n", redact)


def _numbers(ns: set[int]) -> str:
    return ", ".join(f"#{n}" for n in sorted(ns))


def command_reply(
    verb: str, target: int | None, actor: str, trigger_phrase: str, cli_task: str = ""
) -> str:
    """What a carried-out forget/stop/resume says back (``cli_task``: phrased for the CLI)."""
    base, next_word = steering.command_base(trigger_phrase)
    by = steering.who(actor)
    nxt = f"{base} {next_word}".strip() if next_word else base
    resume = f"{base} resume"
    if cli_task:
        nxt, resume = f"ratchet run --task-key {cli_task}", f"ratchet resume --task {cli_task}"
    if verb == steering.FORGET:
        what = f"attempt {target}" if target else "everything this task remembered so far"
        return (
            f"Forgot {what} at the request of {by}: it no longer shapes prompts or the "
            "repeat guard (the same change may be tried again). It still counts against the "
            "budget, and `ratchet history` still shows it."
        )
    if verb == steering.STOP:
        return (
            f"Paused by {by}: the schedule, reviews and `{nxt}` do nothing for this task "
            f"until `{resume}`."
        )
    return f"Resumed by {by}: the next scheduled run or `{nxt}` continues the task."
