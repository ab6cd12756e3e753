"""The offline stand-in model: a scripted repertoire, chosen from by memory.

``ratchet demo`` (and ``ratchet run --offline-playbook FILE``) work without a MiniMax key by
putting this class where the MiniMax client would be. It speaks the same ChatModel protocol
and answers with the same Model-reply JSON, so every other phase (parse, apply, evaluate,
record, publish) runs for real.

What makes it more than a counter: the next step is chosen from the *recalled memory*.
A step is skipped when memory records it as kept (improved/unchanged) or as failed
(regressed/broken/repeat/invalid/rejected), or when the steps it requires are not all kept.
A tempting step that regressed is therefore never proposed again: memory said so.

Playbook file: a JSON object ``{"steps": [...]}`` (or a bare list of steps), each step
``{"id", "title", "rationale", "requires": [ids], "edits": [{"path", "search", "replace"}]}``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ratchet.core.outcome import KEPT, SKIP, Outcome
from ratchet.errors import ConfigError
from ratchet.records import MemoryRecord
from ratchet.types import Completion, Edit, Message, Usage

#: a step whose attempts ended in ``error`` this many times is given up on
MAX_ERRORS = 2
#: words in a user message saying the previous proposal was turned down before testing
_REFUSAL = re.compile(
    r"\brefused\b|\bidentical\b|\brejected\b|\balready (?:been )?(?:tried|failed|attempted)\b|"
    r"\b(?:did not|could not|cannot|can't|failed to) (?:be )?appl",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PlaybookStep:
    id: str
    title: str
    rationale: str
    requires: tuple[str, ...]
    edits: tuple[Edit, ...]


def load_playbook(path: Path) -> list[PlaybookStep]:
    """Read and validate a playbook file; return its steps in order.

    Raises ConfigError naming the file and the problem (unreadable, not JSON, a step with a
    missing or mistyped field, duplicate ids or titles, a ``requires`` naming an unknown or a
    later step).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the offline playbook {path}: {exc.strerror or exc}",
            hint="pass an existing file to --offline-playbook",
        ) from exc
    except ValueError as exc:
        raise ConfigError(f"the offline playbook {path} is not valid JSON: {exc}") from exc
    raw_steps = data.get("steps") if isinstance(data, dict) else data
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ConfigError(f"the offline playbook {path} has no list of steps")
    steps: list[PlaybookStep] = []
    seen_ids: set[str] = set()
    seen_titles: set[str] = set()
    for index, raw in enumerate(raw_steps):
        step = _parse_step(raw, f"{path}: step {index + 1}")
        if step.id in seen_ids or _norm(step.title) in seen_titles:
            raise ConfigError(f"{path}: step {step.id!r} repeats an id or title")
        missing = [req for req in step.requires if req not in seen_ids]
        if missing:
            raise ConfigError(
                f"{path}: step {step.id!r} requires {', '.join(missing)}, "
                "which is not an earlier step"
            )
        seen_ids.add(step.id)
        seen_titles.add(_norm(step.title))
        steps.append(step)
    return steps


def _parse_step(raw: object, where: str) -> PlaybookStep:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} is not an object")
    for key in ("id", "title", "rationale"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"{where}: {key!r} must be a non-empty string")
    requires = raw.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise ConfigError(f"{where}: 'requires' must be a list of step ids")
    raw_edits = raw.get("edits")
    if not isinstance(raw_edits, list) or not raw_edits:
        raise ConfigError(f"{where}: 'edits' must be a non-empty list")
    edits: list[Edit] = []
    for number, edit in enumerate(raw_edits, start=1):
        if not isinstance(edit, dict) or not all(
            isinstance(edit.get(k), str) for k in ("path", "search", "replace")
        ):
            raise ConfigError(f"{where}: edit {number} needs string 'path', 'search', 'replace'")
        edits.append(Edit(path=edit["path"], search=edit["search"], replace=edit["replace"]))
    return PlaybookStep(
        id=raw["id"].strip(),
        title=raw["title"].strip(),
        rationale=raw["rationale"].strip(),
        requires=tuple(requires),
        edits=tuple(edits),
    )


def _norm(title: str) -> str:
    return " ".join(title.split()).casefold()


@dataclass(frozen=True)
class MemoryView:
    """What memory says about playbook titles (normalised): kept, failed, errored."""

    kept: frozenset[str]
    failed: dict[str, str]  # title -> the outcome that ruled it out
    errors: dict[str, int]

    @classmethod
    def of(cls, memory: Sequence[MemoryRecord]) -> MemoryView:
        """Summarise attempt records; records of other kinds, or without a title, are ignored."""
        kept: set[str] = set()
        failed: dict[str, str] = {}
        errors: dict[str, int] = {}
        for record in memory:
            if record.kind != "attempt" or not record.title.strip():
                continue
            title = _norm(record.title)
            if record.outcome in KEPT:
                kept.add(title)
            elif record.outcome in SKIP:
                failed.setdefault(title, record.outcome)
            elif record.outcome == Outcome.ERROR:
                errors[title] = errors.get(title, 0) + 1
        return cls(frozenset(kept), failed, errors)


class OfflineModel:
    """A ChatModel that proposes the next playbook step the recalled memory leaves open.

    ``memory`` is read on every call (pass a list you keep appending to, or call
    ``update_memory``), so one instance can serve several iterations. Deterministic: the
    same playbook, memory and messages give the same reply.
    """

    name = "offline-demo (no MiniMax key; scripted stand-in)"
    model = "offline-demo"

    def __init__(self, playbook_path: Path, memory: Sequence[MemoryRecord]) -> None:
        self.playbook_path = Path(playbook_path)
        self.steps = load_playbook(self.playbook_path)
        self._memory: Sequence[MemoryRecord] = memory

    def update_memory(self, memory: Sequence[MemoryRecord]) -> None:
        """Replace the records the next ``complete`` call chooses from."""
        self._memory = memory

    def complete(self, messages: list[Message], *, max_tokens: int | None = None) -> Completion:
        """Return the next step as Model-reply JSON, or a ``no_change`` reply when none is left.

        ``max_tokens`` is accepted for protocol compatibility; replies are never truncated.
        """
        view = MemoryView.of(self._memory)
        refused = self._refused_titles(messages)
        step, skipped = self.choose(view, refused)
        if step is None:
            reply: dict[str, object] = {"no_change": True, "reason": _no_change_reason(skipped)}
        else:
            reply = {
                "title": step.title,
                "rationale": f"{step.rationale} {_memory_note(skipped)}".strip(),
                "edits": [
                    {"path": e.path, "search": e.search, "replace": e.replace} for e in step.edits
                ],
            }
        text = json.dumps(reply, indent=2)
        prompt_chars = sum(len(m.get("content", "")) for m in messages)
        usage = Usage(prompt_tokens=_tokens(prompt_chars), completion_tokens=_tokens(len(text)))
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        return Completion(
            text=text,
            finish_reason="stop",
            usage=usage,
            request_id=f"offline-{digest}",
            model=self.model,
        )

    def choose(
        self, view: MemoryView, refused: frozenset[str] = frozenset()
    ) -> tuple[PlaybookStep | None, list[tuple[PlaybookStep, str]]]:
        """Return the first open step (or None) and the steps passed over, each with why."""
        kept_ids = {s.id for s in self.steps if _norm(s.title) in view.kept}
        skipped: list[tuple[PlaybookStep, str]] = []
        for step in self.steps:
            title = _norm(step.title)
            if title in view.kept:
                skipped.append((step, "kept"))
            elif title in view.failed:
                skipped.append((step, view.failed[title]))
            elif view.errors.get(title, 0) >= MAX_ERRORS:
                skipped.append((step, "error"))
            elif title in refused:
                skipped.append((step, "refused"))
            elif not all(req in kept_ids for req in step.requires):
                skipped.append((step, "waiting"))
            else:
                return step, skipped
        return None, skipped

    def _refused_titles(self, messages: list[Message]) -> frozenset[str]:
        """Titles the conversation says were turned down before any test ran.

        Two signals: the last user message follows one of our own replies and says it was
        refused; or a line of the last user message names a step title next to such words.
        """
        last_user = next(
            (i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "user"),
            None,
        )
        if last_user is None:
            return frozenset()
        note = messages[last_user].get("content", "")
        titles: set[str] = set()
        if _REFUSAL.search(note):
            for message in messages[:last_user][::-1]:
                if message.get("role") == "assistant":
                    title = _reply_title(message.get("content", ""))
                    if title:
                        titles.add(_norm(title))
                    break
        for line in note.splitlines():
            if not _REFUSAL.search(line):
                continue
            folded = _norm(line)
            titles.update(_norm(s.title) for s in self.steps if _norm(s.title) in folded)
        return frozenset(titles)


def _reply_title(content: str) -> str:
    start, end = content.find("{"), content.rfind("}")
    if start < 0 or end <= start:
        return ""
    try:
        data = json.loads(content[start : end + 1])
    except ValueError:
        return ""
    title = data.get("title") if isinstance(data, dict) else None
    return title if isinstance(title, str) else ""


def _memory_note(skipped: list[tuple[PlaybookStep, str]]) -> str:
    kept = [s.title for s, why in skipped if why == "kept"]
    avoided = [f"{s.title!r} ({why})" for s, why in skipped if why not in ("kept", "waiting")]
    if not kept and not avoided:
        return "Memory shows no earlier attempts for this task, so this is the first step."
    parts = []
    if kept:
        parts.append(f"Memory shows {len(kept)} step(s) kept, latest {kept[-1]!r}.")
    if avoided:
        parts.append(f"Not repeating what memory shows failed: {', '.join(avoided)}.")
    return " ".join(parts)


def _no_change_reason(skipped: list[tuple[PlaybookStep, str]]) -> str:
    kept = sum(1 for _, why in skipped if why == "kept")
    reason = f"Nothing left to propose: {kept} of {len(skipped)} planned steps are kept"
    failed = [f"{s.title!r} ({why})" for s, why in skipped if why not in ("kept", "waiting")]
    waiting = [repr(s.title) for s, why in skipped if why == "waiting"]
    if failed:
        reason += f"; not repeating {', '.join(failed)}"
    if waiting:
        reason += f"; blocked because a step they need was never kept: {', '.join(waiting)}"
    return reason + "."


def _tokens(chars: int) -> int:
    return (chars + 3) // 4
