"""Plain data handed from phase to phase. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edit:
    """One search/replace edit. ``search == ""`` creates a new file."""

    path: str
    search: str
    replace: str


@dataclass(frozen=True)
class Proposal:
    title: str
    rationale: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class NoChange:
    reason: str


@dataclass(frozen=True)
class Need:
    """The model asks to see code it was not shown (``path``, ``path:name`` or ``name``)."""

    items: tuple[str, ...]
    reason: str = ""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            max(self.prompt_tokens - other.prompt_tokens, 0),
            max(self.completion_tokens - other.completion_tokens, 0),
            max(self.reasoning_tokens - other.reasoning_tokens, 0),
        )


@dataclass(frozen=True)
class Completion:
    """One chat completion: visible text (think blocks NOT yet stripped) and bookkeeping."""

    text: str
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    request_id: str = ""
    model: str = ""


Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}
