"""GitHub event payload → Intent (what to do) or Skip (why not). Pure: no I/O.

Events:
- ``schedule`` / ``workflow_dispatch``: iterate on the configured task.
- ``issue_comment`` created, starting with the trigger phrase: on an issue → task ``issue-<N>``;
  on a pull request → continue that PR's task (resolved later from its head branch). A comment
  starting with another command of the phrase's base (``/agent status|forget|stop|resume|help``,
  see ``core/steering.py``) is a ``command``; so is a command shown only in a quote or code
  (``quoted``: not run, the writer is told why) and a command added by editing a comment
  (``edited``: not run either).
- ``pull_request_review`` submitted on a Ratchet PR: remember it; ``changes_requested`` also
  iterates.
- ``pull_request`` closed on a Ratchet PR: remember merged (accepted) or closed (rejected).
Anything else is a Skip with one line saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ratchet.core import keys, steering


@dataclass(frozen=True)
class Actor:
    login: str
    id: int
    type: str  # "User" | "Bot" | "Organization"


@dataclass(frozen=True)
class Intent:
    action: str  # "iterate" | "feedback" | "closed" | "command"
    event: str
    actor: Actor | None  # None for schedule (no outside actor)
    task_key: str | None = None  # None: resolve from the PR head branch or the config
    issue_number: int | None = None  # where the task came from (issue tasks)
    pr_number: int | None = None
    comment_id: int | None = None  # the triggering comment (gets the 👀 reaction)
    instructions: str = ""  # free text after the trigger phrase
    review_id: int | None = None
    review_state: str = ""
    review_body: str = ""
    merged: bool = False
    head_sha: str = ""
    needs_permission: bool = True
    also_iterate: bool = False  # a review asking for changes: record it, then iterate
    #: the command (action "command"); verb "quoted"/"edited" for one that is not run
    command: steering.Command | None = None


@dataclass(frozen=True)
class Skip:
    reason: str


def _actor(obj: Any) -> Actor | None:
    if not isinstance(obj, Mapping):
        return None
    login, uid = obj.get("login"), obj.get("id")
    if not isinstance(login, str) or not isinstance(uid, int):
        return None
    return Actor(login=login, id=uid, type=str(obj.get("type") or "User"))


def task_key_from_branch(ref: str) -> str | None:
    return keys.key_of(ref)


def issue_number_of(task_key: str) -> int | None:
    """The issue number of a task key ``issue-<N>``, else None."""
    if task_key.startswith("issue-") and task_key[6:].isdigit():
        return int(task_key[6:])
    return None


def match_trigger(body: str, phrase: str) -> str | None:
    """The text after ``phrase`` if ``body`` starts with it (any case), else None."""
    text = body.lstrip()
    if not text.lower().startswith(phrase.lower()):
        return None
    rest = text[len(phrase) :]
    if rest and not rest[0].isspace():  # "/agent nextly" is not the command
        return None
    return rest.strip()


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _mapping(v: Any) -> Mapping[str, Any]:
    """``v`` if it is a mapping (a JSON object), else an empty one."""
    return v if isinstance(v, Mapping) else {}


def _same_repo(pr: Mapping[str, Any], repo: Mapping[str, Any]) -> bool:
    head = _mapping(pr.get("head"))
    head_repo = _mapping(head.get("repo"))
    if "id" in head_repo and "id" in repo:
        return head_repo.get("id") == repo.get("id")
    return head_repo.get("full_name") == repo.get("full_name")


def parse_event(event: str, payload: Mapping[str, Any], trigger_phrase: str) -> Intent | Skip:
    """Decide what an event asks for. Never raises on a malformed payload: returns Skip."""
    if not isinstance(payload, Mapping):
        return Skip("the event payload is not a JSON object")
    repo = _mapping(payload.get("repository"))
    sender = _actor(payload.get("sender"))
    action = payload.get("action")

    if event in ("schedule", "workflow_dispatch"):
        return Intent(action="iterate", event=event, actor=sender, needs_permission=False)

    if event == "issue_comment":
        return _comment(payload, action, sender, trigger_phrase)

    if event in ("pull_request_review", "pull_request"):
        pr = (
            payload.get("pull_request")
            if isinstance(payload.get("pull_request"), Mapping)
            else None
        )
        if pr is None or _int(pr.get("number")) is None:
            return Skip(f"{event} payload without pull_request")
        head = _mapping(pr.get("head"))
        key = task_key_from_branch(str(head.get("ref") or ""))
        if key is None:
            return Skip(f"pull request #{pr['number']} is not a Ratchet pull request")
        if not _same_repo(pr, repo):
            return Skip(f"pull request #{pr['number']} comes from a fork; refused")
        if event == "pull_request_review":
            if action != "submitted":
                return Skip(f"pull_request_review {action!r}: only submitted reviews count")
            review = payload.get("review") if isinstance(payload.get("review"), Mapping) else None
            if review is None:
                return Skip("pull_request_review payload without review")
            author = _actor(review.get("user")) or sender
            if author is None:
                return Skip("the review has no author")
            state = str(review.get("state") or "").lower()
            return Intent(
                action="feedback",
                event=event,
                actor=author,
                task_key=key,
                pr_number=pr["number"],
                review_id=_int(review.get("id")),
                review_state=state,
                review_body=str(review.get("body") or "")[:20000],
                head_sha=str(head.get("sha") or ""),
                also_iterate=state == "changes_requested",
            )
        if action != "closed":
            return Skip(f"pull_request {action!r}: only closing is remembered")
        return Intent(
            action="closed",
            event=event,
            actor=sender,
            task_key=key,
            pr_number=pr["number"],
            merged=bool(pr.get("merged")),
            head_sha=str(head.get("sha") or ""),
            needs_permission=False,  # closing/merging already needs write access on GitHub
        )

    return Skip(f"event {event!r} is not handled by Ratchet")


def _comment(
    payload: Mapping[str, Any], action: Any, sender: Actor | None, trigger_phrase: str
) -> Intent | Skip:
    """An ``issue_comment`` event: the next change, a command, or a Skip."""
    if action not in ("created", "edited"):
        return Skip(f"issue_comment {action!r}: only new comments trigger Ratchet")
    comment = payload.get("comment") if isinstance(payload.get("comment"), Mapping) else None
    issue = payload.get("issue") if isinstance(payload.get("issue"), Mapping) else None
    if comment is None or issue is None or _int(issue.get("number")) is None:
        return Skip("issue_comment payload without comment or issue")
    body = comment.get("body") if isinstance(comment.get("body"), str) else ""
    command = steering.parse_command(body, trigger_phrase)
    if action == "edited":
        before = _mapping(_mapping(_mapping(payload.get("changes")).get("body"))).get("from")
        was = steering.parse_command(before, trigger_phrase) if isinstance(before, str) else None
        if command is None or was is not None:
            return Skip("issue_comment 'edited': only new comments trigger Ratchet")
        author = sender  # who edited it in
        command = steering.Command("edited", body.strip()[:80])
    else:
        author = _actor(comment.get("user")) or sender
        if command is None:
            shown = steering.quoted_command(body, trigger_phrase)
            if shown is None:
                return Skip(f"the comment does not start with {trigger_phrase!r}")
            command = steering.Command("quoted", shown)
    if author is None:
        return Skip("the comment has no author")
    number = issue["number"]
    is_pr = isinstance(issue.get("pull_request"), Mapping)
    return Intent(
        action="iterate" if command.verb == steering.NEXT else "command",
        event="issue_comment",
        actor=author,
        task_key=None if is_pr else f"issue-{number}",
        issue_number=None if is_pr else number,
        pr_number=number if is_pr else None,
        comment_id=_int(comment.get("id")),
        instructions=command.argument[:4000] if command.verb == steering.NEXT else "",
        command=None if command.verb == steering.NEXT else command,
    )

