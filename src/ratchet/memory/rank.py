"""A small deterministic relevance ranking for backends without a search service."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ratchet.records import MemoryRecord

_WORD = re.compile(r"[a-z0-9_]{3,}")


def tokens(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def rank(records: Sequence[MemoryRecord], query: str, limit: int) -> list[MemoryRecord]:
    """Records sharing the most words with ``query``, best first; ties: newest first."""
    q = tokens(query)
    if not q or limit <= 0:
        return []
    scored = []
    for r in records:
        overlap = len(q & tokens(f"{r.title} {r.detail} {r.sentence()}"))
        if overlap:
            scored.append((-overlap, _neg(r.created_at), r.key, r))
    scored.sort(key=lambda t: t[:3])
    return [t[3] for t in scored[:limit]]


def _neg(s: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in s)
