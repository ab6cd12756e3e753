"""The per-edit context: which edit of the batch is being placed, and what it found."""

from __future__ import annotations

from dataclasses import dataclass, field

from ratchet.edits.text import _Doc


@dataclass
class _Ctx:
    path: str
    number: int
    total: int
    doc: _Doc
    original: str
    stage: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"Edit {self.number} of {self.total} for `{self.path}`"
