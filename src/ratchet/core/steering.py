"""Steering a task: the commands people write in comments, and the state they leave in memory.
Pure: no I/O.

Commands start a comment with the trigger phrase's base (``/agent`` for the default
``/agent next``): ``next [instructions]``, ``status``, ``forget <N>|all``, ``stop``,
``resume``, ``help``. Anything else after the base gets the help reply. A one-word phrase
(``@ratchet``) is its own base and means next: there a verb counts only alone on its line
(``forget`` with its argument), so ``@ratchet stop using globals`` is an instruction. A
command only counts at the very start of a new comment: quoted (``>``) or in code (fenced,
indented or inline) it is text, not a command.

What commands leave behind are records, never deletions: ``forget`` records (attempt N, or 0
for all), and ``control`` records (paused / resumed). :func:`in_force` is the history that
shapes prompts and the repeat guard; the budget and ``ratchet history`` see everything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ratchet.records import PAUSED, RESUMED, STEERING_KINDS, MemoryRecord

NEXT, STATUS, FORGET, STOP, RESUME, HELP = "next", "status", "forget", "stop", "resume", "help"
VERBS = (NEXT, STATUS, FORGET, STOP, RESUME, HELP)
#: the verbs that only read memory or write a record (no model call, no test run)
STEERING = frozenset({STATUS, FORGET, STOP, RESUME, HELP})


@dataclass(frozen=True)
class Command:
    verb: str  # one of VERBS
    argument: str = ""  # instructions for ``next``, ``<N>|all`` for ``forget``
    unknown: str = ""  # the word that was not a command (the reply is the help)


def command_base(trigger_phrase: str) -> tuple[str, str]:
    """(the base every command starts with, the word that means ``next``): ``/agent next`` →
    (``/agent``, ``next``); a one-word phrase such as ``@ratchet`` is its own base, and the
    phrase alone (or with instructions) means next."""
    words = trigger_phrase.split()
    if len(words) > 1:
        return " ".join(words[:-1]), words[-1].lower()
    return trigger_phrase.strip(), ""


def _after(text: str, phrase: str) -> str | None:
    """The rest of ``text`` if it starts with ``phrase`` (any case) and a word boundary."""
    if not text.lower().startswith(phrase.lower()):
        return None
    rest = text[len(phrase) :]
    if rest and not rest[0].isspace():
        return None
    return rest.strip()


def parse_command(body: str, trigger_phrase: str) -> Command | None:
    """The command a comment starts with, or None when it does not start with the base."""
    base, next_word = command_base(trigger_phrase)
    if _CODE_INDENT.match(_first_line(body)):  # an indented code block, shown, not said
        return None
    rest = _after(body.lstrip(), base)
    if rest is None:
        return None
    first, tail = [*rest.split(None, 1), "", ""][:2]
    word, tail = first.lower(), tail.strip()
    if next_word and word == next_word:
        return Command(NEXT, tail)
    if word in STEERING and (next_word or _bare(word, rest)):
        return Command(word, tail)
    if not next_word:  # "@ratchet <instructions>", "@ratchet stop using globals"
        return Command(NEXT, rest)
    return Command(HELP, unknown=first[:40])


def _bare(word: str, rest: str) -> bool:
    """Whether ``word``, the first word of ``rest``, stands alone on its line (``forget`` with
    its one argument): with a one-word phrase, ``@ratchet stop`` is a command and
    ``@ratchet stop using globals`` is an instruction for the next change."""
    line = rest.split("\n", 1)[0].split()
    return len(line) <= (2 if word == FORGET else 1)


def command_lines(trigger_phrase: str) -> list[str]:
    """One line per command, for the help reply and the status comment's command list."""
    base, next_word = command_base(trigger_phrase)
    nxt = f"{base} {next_word}".strip() if next_word else base
    return [
        f"- `{nxt}`: try the next change; `{nxt} <instructions>` steers it (what to try or"
        " avoid).",
        f"- `{base} status`: the attempts, what was kept, ideas that failed, feedback in force,"
        " budget and cost, known flaky tests, paused or not.",
        f"- `{base} forget <N>` / `{base} forget all`: attempt N (or all of the task's memory)"
        " stops shaping prompts and the repeat guard; history keeps a record of who asked.",
        f"- `{base} stop` / `{base} resume`: pause the task (the schedule, reviews and"
        f" `{nxt}` do nothing) and resume it.",
        f"- `{base} help`: this list.",
        "- Review the pull request and *request changes*: Ratchet remembers the review and"
        " tries again. Close it to reject the approach; merge it to accept.",
    ]


def help_reply(trigger_phrase: str, unknown: str = "") -> str:
    head = (
        f"`{unknown}` is not a Ratchet command. " if unknown else ""
    ) + "Ratchet answers these commands from people with write access:"
    return "\n".join([head, "", *command_lines(trigger_phrase)])


_QUOTE = re.compile(r"^\s*(?:>\s*)+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_INDENT = re.compile(r"^(?: {4}| {0,3}\t)")  # Markdown's indented code block


def _first_line(body: str) -> str:
    return next((x for x in body.splitlines() if x.strip()), "")


def quoted_command(body: str, trigger_phrase: str) -> str | None:
    """The command a comment shows only in a quote or in code (its first text line), which is
    not run; None otherwise. Used to tell a writer why nothing happened."""
    base, _ = command_base(trigger_phrase)
    lines = [x for x in body.splitlines() if x.strip()]
    if not lines:
        return None
    first = lines[0]
    if _CODE_INDENT.match(first):
        candidate = first.strip()
    elif _FENCE.match(first) and len(lines) > 1:
        candidate = lines[1].strip()
    elif _QUOTE.match(first):
        candidate = _QUOTE.sub("", first)
    elif first.lstrip().startswith("`"):
        candidate = first.lstrip().lstrip("`").split("`")[0]
    else:
        return None
    return candidate.strip("` ")[:80] if _after(candidate.strip(), base) is not None else None


# -- the state a task's records leave -------------------------------------------------------------


@dataclass(frozen=True)
class TaskState:
    paused: bool = False
    paused_by: str = ""
    paused_at: str = ""
    forgotten: frozenset[int] = frozenset()  # attempt numbers forgotten one by one
    forgot_all_at: str = ""  # when everything before was forgotten ("" never)


def _chronological(history: Sequence[MemoryRecord]) -> list[MemoryRecord]:
    return sorted(history, key=lambda r: r.created_at)


def state_of(history: Sequence[MemoryRecord]) -> TaskState:
    paused, by, at, forgotten, all_at = False, "", "", set(), ""
    for r in _chronological(history):
        if r.kind == "control":
            paused = r.outcome == PAUSED
            by, at = (r.actor, r.created_at) if paused else ("", "")
        elif r.kind == "forget":
            if r.attempt > 0:
                forgotten.add(r.attempt)
            else:
                all_at = r.created_at
    return TaskState(paused, by, at, frozenset(forgotten), all_at)


def is_forgotten(r: MemoryRecord, state: TaskState) -> bool:
    if r.kind in STEERING_KINDS:
        return False
    if state.forgot_all_at and r.created_at < state.forgot_all_at:
        return True
    return r.kind == "attempt" and r.attempt in state.forgotten


def in_force(history: Sequence[MemoryRecord]) -> list[MemoryRecord]:
    """The records that shape prompts and the repeat guard: not forgotten, not commands.
    The order of ``history`` is kept."""
    state = state_of(history)
    return [r for r in history if r.kind not in STEERING_KINDS and not is_forgotten(r, state)]


@dataclass(frozen=True)
class Refusal:
    """A command that cannot be carried out, and why (said to the writer)."""

    reason: str


def forget_target(history: Sequence[MemoryRecord], argument: str) -> int | Refusal:
    """The attempt number ``forget`` names (0 for ``all``), or why it cannot be forgotten."""
    arg = argument.split()[0].lower().lstrip("#") if argument.split() else ""
    numbers = sorted({r.attempt for r in history if r.kind == "attempt" and r.attempt > 0})
    span = f"attempts are numbered 1 to {numbers[-1]}" if numbers else "there are no attempts yet"
    if arg == "all":
        if all(r.kind in STEERING_KINDS for r in history):
            return Refusal("there is nothing to forget: the task has no memory yet")
        return 0
    if not arg.isdigit():
        return Refusal(
            f"`forget` needs an attempt number or `all` (got {argument.strip()[:40]!r}); {span}"
        )
    n = int(arg)
    if n not in numbers:
        return Refusal(f"there is no attempt {n}; {span}")
    state = state_of(history)
    same = [r for r in history if r.kind == "attempt" and r.attempt == n]
    if all(is_forgotten(r, state) for r in same):
        return Refusal(f"attempt {n} is already forgotten")
    return n


def control_refusal(state: TaskState, verb: str) -> Refusal | None:
    """``stop`` on a paused task or ``resume`` on a running one changes nothing: say so."""
    if verb == STOP and state.paused:
        return Refusal(f"the task is already paused (by {who(state.paused_by)})")
    if verb == RESUME and not state.paused:
        return Refusal("the task is not paused")
    return None


_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*(\[bot\])?")


def who(actor: str) -> str:
    """``@login`` for a GitHub login, the text itself for another actor (the CLI's)."""
    return f"@{actor}" if _LOGIN.fullmatch(actor) else (actor or "someone")


def control_outcome(verb: str) -> str:
    return PAUSED if verb == STOP else RESUMED
