"""A small deterministic relevance ranking for backends without a search service
(the local file and the git ledger)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ratchet.records import MemoryRecord

_WORD = re.compile(r"[a-z0-9_]+")
_STOPWORDS = frozenset(
    "a an and at attempt for in is it of on or outcome run score task the to with".split()
)


def tokens(text: str) -> set[str]:
    """Lower-case words of two or more characters, without the words every record has."""
    return {t for t in _WORD.findall(text.lower()) if len(t) > 1} - _STOPWORDS


def _search_text(r: MemoryRecord) -> str:
    return " ".join((r.sentence(), r.task, r.title, r.rationale, r.detail, *r.files, *r.failing))


def rank(records: Sequence[MemoryRecord], query: str, limit: int) -> list[MemoryRecord]:
    """Up to ``limit`` records sharing the most words with ``query``; ties go to the newer
    record, then the smaller id. An empty query returns the newest records."""
    recs = sorted(records, key=lambda r: r.id)
    recs.sort(key=lambda r: r.created_at, reverse=True)  # stable: newest first, then id
    words = tokens(query)
    if not words:
        return recs[: max(limit, 0)]
    scored = [(len(words & tokens(_search_text(r))), r) for r in recs]
    scored = [s for s in scored if s[0] > 0]
    scored.sort(key=lambda s: s[0], reverse=True)
    return [r for _, r in scored[: max(limit, 0)]]
