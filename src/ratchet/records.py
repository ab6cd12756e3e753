"""The memory record: what one attempt (or one piece of feedback) leaves behind.

A record is stored as a readable sentence (``text``) plus flat metadata (the fields below,
all strings, numbers or comma-joined lists, so every backend can hold them).
``from_metadata`` is tolerant: records written by an older schema or by hand are read with
defaults, and anything unusable raises ValueError so the caller can skip that one record.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ratchet.core.outcome import Outcome

SCHEMA = 1
#: attempt: one try and its verdict; feedback: a review; outcome: the PR merged or closed;
#: forget: a writer asked that an attempt (``attempt`` N) or all of the task (0) stop shaping
#: prompts and the repeat guard; control: the task was paused or resumed (``outcome``)
#: branch: what happened to the task branch when its base moved (outcome rebased, rebuilt or
#: restarted)
KINDS = ("attempt", "feedback", "outcome", "forget", "control", "branch")
#: the kinds that steer a task rather than tell its history (never shown to the model)
STEERING_KINDS = frozenset({"forget", "control"})
PAUSED, RESUMED = "paused", "resumed"
OUTCOMES = tuple(Outcome)

_MAX_FIELD = 2000


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class MemoryRecord:
    kind: str
    task: str
    attempt: int = 0
    outcome: str = ""
    title: str = ""
    rationale: str = ""
    score_before: int | None = None
    score_after: int | None = None
    patch_sha256: str = ""
    files: tuple[str, ...] = ()
    failing: tuple[str, ...] = ()  # tests still failing after the attempt (capped)
    detail: str = ""  # error message, refusal reason, review body … (capped)
    branch: str = ""
    pr: int | None = None
    commit: str = ""
    run_id: str = ""
    created_at: str = field(default_factory=now_iso)
    tokens: int = 0
    tokens_in: int = 0  # prompt tokens (of ``tokens``); 0 in records older than the split
    tokens_out: int = 0  # completion tokens
    cost_usd: float | None = None  # what the attempt's calls cost; None when unpriced
    flaky: tuple[str, ...] = ()  # tests seen failing and then passing (or known flaky, failing)
    actor: str = ""  # who asked (forget/control records, and commands)
    schema: int = SCHEMA
    id: str = ""  # assigned by the store; not part of the metadata

    @property
    def key(self) -> str:
        """Idempotency key: the same run writing the same attempt twice is one record."""
        if self.kind == "attempt":
            return f"{self.kind}:{self.task}:{self.run_id}:{self.attempt}"
        return f"{self.kind}:{self.task}:{self.run_id}:{self.created_at}:{self.detail[:64]}"

    def replace(self, **changes: object) -> MemoryRecord:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    # -- rendering -------------------------------------------------------------------------
    def sentence(self) -> str:
        """A readable, unique sentence (Mem0 dedupes exact repeats in one scope)."""
        if self.kind == "attempt":
            score = ""
            if self.score_before is not None and self.score_after is not None:
                score = f", score {self.score_before} -> {self.score_after}"
            files = f" touching {', '.join(self.files)}" if self.files else ""
            title = self.title or "(no title)"
            text = (
                f"Task {self.task} attempt {self.attempt}: {title!r}{files}. "
                f"Outcome: {self.outcome}{score}."
            )
            if self.detail:
                text += f" Note: {self.detail[:300]}"
        elif self.kind == "feedback":
            text = f"Feedback on task {self.task}: {self.detail[:600]}"
        elif self.kind == "forget":
            what = f"attempt {self.attempt}" if self.attempt else "all earlier attempts"
            text = f"Task {self.task}: {what} forgotten at the request of {self.actor or '-'}."
        elif self.kind == "control":
            text = f"Task {self.task} {self.outcome} by {self.actor or '-'}."
        elif self.kind == "branch":
            text = f"Task {self.task} branch {self.outcome}: {self.detail[:400]}"
        else:
            text = f"Task {self.task} pull request outcome: {self.outcome}. {self.detail[:300]}"
        return f"{text} [run {self.run_id or '-'} at {self.created_at}]"

    def to_metadata(self) -> dict[str, object]:
        """Flat metadata: scalars only (lists joined with commas)."""
        return {
            "kind": self.kind,
            "task": self.task,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "title": self.title[:300],
            "rationale": self.rationale[:_MAX_FIELD],
            "score_before": self.score_before,
            "score_after": self.score_after,
            "patch_sha256": self.patch_sha256,
            "files": ",".join(self.files)[:_MAX_FIELD],
            "failing": ",".join(self.failing)[:_MAX_FIELD],
            "detail": self.detail[:_MAX_FIELD],
            "branch": self.branch,
            "pr": self.pr,
            "commit": self.commit,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "tokens": self.tokens,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "flaky": ",".join(self.flaky)[:_MAX_FIELD],
            "actor": self.actor[:100],
            "schema": self.schema,
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, object], id: str = "", text: str = "") -> MemoryRecord:
        """Build a record from stored metadata; raise ValueError if it is not ours."""
        if not isinstance(meta, dict):
            raise ValueError("metadata is not an object")
        kind = meta.get("kind")
        task = meta.get("task")
        if kind not in KINDS or not isinstance(task, str) or not task:
            raise ValueError("not a ratchet record (kind/task missing)")
        return cls(
            kind=str(kind),
            task=task[:200],
            attempt=_int(meta.get("attempt"), 0) or 0,
            outcome=_str(meta.get("outcome"))[:40],
            title=_str(meta.get("title"))[:300],
            rationale=_str(meta.get("rationale"))[:_MAX_FIELD],
            score_before=_int(meta.get("score_before"), None),
            score_after=_int(meta.get("score_after"), None),
            patch_sha256=_str(meta.get("patch_sha256"))[:64],
            files=_list(meta.get("files")),
            failing=_list(meta.get("failing")),
            detail=(_str(meta.get("detail")) or ("" if kind == "attempt" else text))[:_MAX_FIELD],
            branch=_str(meta.get("branch"))[:200],
            pr=_int(meta.get("pr"), None),
            commit=_str(meta.get("commit"))[:64],
            run_id=_str(meta.get("run_id"))[:100],
            created_at=_str(meta.get("created_at"))[:40] or "1970-01-01T00:00:00Z",
            tokens=_int(meta.get("tokens"), 0) or 0,
            tokens_in=_int(meta.get("tokens_in"), 0) or 0,
            tokens_out=_int(meta.get("tokens_out"), 0) or 0,
            cost_usd=_float(meta.get("cost_usd")),
            flaky=_list(meta.get("flaky")),
            actor=_str(meta.get("actor"))[:100],
            schema=_int(meta.get("schema"), SCHEMA) or SCHEMA,
            id=str(id),
        )


def _str(v: object) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else str(v)


def _int(v: object, default: int | None) -> int | None:
    if isinstance(v, bool):
        return default
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    if isinstance(v, str):
        try:
            return int(float(v.strip()))
        except ValueError:
            return default
    return default


def _float(v: object) -> float | None:
    if isinstance(v, bool) or v is None or v == "":
        return None
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if f >= 0 and f == f and f != float("inf") else None


def _list(v: object) -> tuple[str, ...]:
    if isinstance(v, (list, tuple)):
        items = [str(x) for x in v]
    elif isinstance(v, str):
        items = [x for x in v.split(",")]
    else:
        return ()
    return tuple(x.strip()[:300] for x in items if x.strip())[:100]


def sort_key(r: MemoryRecord) -> tuple[int, str]:
    return (r.attempt, r.created_at)
