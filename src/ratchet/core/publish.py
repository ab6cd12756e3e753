"""The decisions of ``ratchet action``, on plain values (the action gathers them from GitHub and
git, and carries out what these return).

- :func:`who_asks` / :func:`role_allows`: may this event's actor make Ratchet act?
- :func:`task_key_for`: which task an event is about (the fork rule lives here, once).
- :func:`task_text`: the task as the model reads it, from the issue and its writers' comments.
- :func:`should_open_pr`, :func:`pr_title`, :func:`pr_footer`: what to publish.
- :func:`result_summary`: the iteration's result as the rendered documents read it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from ratchet.core import keys
from ratchet.core.iteration import Result
from ratchet.core.outcome import is_kept
from ratchet.github.models import IssueInfo, PullInfo
from ratchet.intent import Intent, issue_number_of
from ratchet.sanitize import clean_user_text

#: collaborator permissions that may steer Ratchet (GitHub's role names)
WRITE_ROLES = frozenset({"admin", "maintain", "write"})


@dataclass(frozen=True)
class Allowed:
    pass


@dataclass(frozen=True)
class Refused:
    """Ignored, with one line for the log saying why."""

    reason: str


@dataclass(frozen=True)
class AskRole:
    """The decision needs the collaborator permission of ``login`` (one API call)."""

    login: str


def who_asks(intent: Intent, allowed_bot_ids: Collection[int]) -> Allowed | Refused | AskRole:
    if not intent.needs_permission:
        return Allowed()
    actor = intent.actor
    if actor is None:
        return Refused("the event has no actor; ignored")
    if actor.type == "Bot" or actor.login.endswith("[bot]"):
        if actor.id in allowed_bot_ids:
            return Allowed()
        return Refused(f"{actor.login} is a bot not in allowed_bot_ids; ignored")
    return AskRole(actor.login)


def role_allows(login: str, role: str | None) -> Allowed | Refused:
    if role in WRITE_ROLES:
        return Allowed()
    return Refused(f"{login} has {role} permission (write needed); ignored")


@dataclass(frozen=True)
class AskPull:
    """The task is the pull request's: its head branch says which (one API call)."""

    number: int


@dataclass(frozen=True)
class NeedsTask:
    """A scheduled or dispatched run with no task configured."""

    event: str


def task_key_for(
    intent: Intent, configured_task: str | None, repository: str, pull: PullInfo | None = None
) -> str | Refused | AskPull | NeedsTask:
    """The task key of the event: its own, its pull request's (never a fork's), or the
    configured task's slug."""
    if intent.task_key:
        return intent.task_key
    if intent.pr_number is not None:  # a comment on a pull request
        if pull is None:
            return AskPull(intent.pr_number)
        key = keys.key_of(pull.head_ref)
        if key is None:
            return Refused(f"#{intent.pr_number} is not a Ratchet pull request; ignored")
        if pull.head_repo_full_name and pull.head_repo_full_name != repository:
            return Refused(f"#{intent.pr_number} comes from a fork; refused")
        return key
    if not configured_task:
        return NeedsTask(intent.event)
    return keys.slugify(configured_task)


def task_text(
    intent: Intent,
    key: str,
    configured_task: str | None,
    issue: IssueInfo | None = None,
    writers: Collection[str] = (),
) -> str:
    """What the model reads as the task: the issue (title, body, and the comments of its
    ``writers``, at most 50) or the configured task, plus the triggering comment's
    instructions. All of it is cleaned user text, capped."""
    if issue is None:
        text = configured_task or key
    else:
        lines = [
            f"Issue #{issue.number}: {clean_user_text(issue.title, 300)}",
            "",
            clean_user_text(issue.body or "", 8000),
        ]
        for c in issue.comments[:50]:
            if c.author in writers and not c.body.lstrip().startswith("<!-- ratchet"):
                lines += ["", f"Comment by @{c.author}:", clean_user_text(c.body, 2000)]
        text = "\n".join(lines)
    if intent.instructions:
        text += f"\n\nInstructions from @{intent.actor.login if intent.actor else '?'}: "
        text += clean_user_text(intent.instructions, 2000)
    return text


def authors_to_check(issue: IssueInfo) -> list[str]:
    """The people whose comments may join the task text, once each, if they can write: the
    authors of the first 50 comments, bots left out (a bot's comment is never the task)."""
    return list(dict.fromkeys(c.author for c in issue.comments[:50] if c.author_type != "Bot"))


def kept_after_follow(
    how: str, moved_tip: str, base_sha: str, outcome: str, reason: str
) -> tuple[str, str, str]:
    """(the task branch's tip, how it met the base, why the carried-over branch was refused)
    once the suite judged ``moved_tip`` against the new base: worse than the base (regressed
    or broken) restarts the task from the base."""
    if moved_tip == base_sha or is_kept(outcome):
        return moved_tip, how, ""
    return base_sha, "restarted", f"{outcome} ({reason})"


def issue_of(intent: Intent, key: str) -> int | None:
    """The issue a task comes from (its text is read there), if any."""
    return intent.issue_number or issue_number_of(key)


def should_open_pr(commit: str, remote_sha: str | None, base_sha: str) -> bool:
    """A pull request is opened or updated when the task branch on origin holds work: the
    commit just pushed, or earlier work still ahead of the base."""
    tip_on_origin = commit or remote_sha
    return bool(tip_on_origin) and tip_on_origin != base_sha


def pr_title(task_text: str, key: str, redact: Callable[[str], str]) -> str:
    first_line = task_text.strip().splitlines()[0] if task_text.strip() else key
    return redact(f"Ratchet: {first_line}")[:120]


def pr_footer(key: str) -> str:
    """A cross-reference on the issue's timeline (merging does not close the issue)."""
    issue = issue_number_of(key)
    return f"\n\nTask from issue #{issue}." if issue is not None else ""


def foreign_push_notice(branch: str, authors: Collection[str]) -> str:
    return (
        f"Someone other than Ratchet pushed to `{branch}` ({', '.join(authors)}), so Ratchet "
        "stops pushing to it. Close the pull request (or delete the branch) to let Ratchet "
        "start over."
    )


def result_summary(result: Result, pr_url: str | None) -> Mapping[str, object]:
    return {
        "title": result.title,
        "outcome": result.outcome,
        "score_before": result.score_before,
        "score_after": result.score_after,
        "tokens": result.usage.total_tokens,
        "commit": result.commit,
        "branch": result.branch,
        "pr_url": pr_url,
        "detail": result.detail,
    }


def follow_notice(
    how: str, base: str, carried: Sequence[str], dropped: Sequence[str], refused: str = ""
) -> str:
    """What happened to the task branch when its base had moved (``how``: rebased, rebuilt,
    restarted; ``refused``: why a carried-over branch was not kept, the suite's verdict)."""
    def subjects(items: Sequence[str]) -> str:
        shown = ", ".join(f'"{s}"' for s in items[:5])
        return shown + (f" and {len(items) - 5} more" if len(items) > 5 else "")

    where = f"the new tip of the base branch ({base[:10]})"
    if refused:
        return (f"The base branch moved. The task's commits were carried onto {where}, but "
                f"the tests judged the result {refused}, so the task starts again from there; "
                "memory keeps what worked.")
    if how == "rebased":
        return (f"The base branch moved: the task's {len(carried)} commit(s) were rebased "
                f"onto {where}.")
    if how == "rebuilt":
        text = (f"The base branch moved and git could not rebase cleanly: the task's changes "
                f"were rebuilt on {where} through the edit engine ({subjects(carried)}).")
        if dropped:
            text += f" No longer applicable, dropped: {subjects(dropped)}."
        return text
    return (f"The base branch moved and none of the task's changes apply to {where} any "
            f"more ({subjects(dropped)}): the task starts again from there; memory keeps "
            "what worked.")
