"""In-process doubles of the small interfaces (ChatModel), for driver and proposal tests."""

from __future__ import annotations

import json

from ratchet.errors import ModelUnavailable
from ratchet.types import Completion, Message, Usage


class ScriptedModel:
    """A ChatModel answering from a list of texts (or exceptions to raise), recording what it
    was sent. Each call costs 10 prompt and 5 completion tokens."""

    name = "scripted"

    def __init__(self, *replies: str | Exception) -> None:
        self.replies = list(replies)
        self.sent: list[list[Message]] = []
        self.usage_total = Usage()

    def complete(self, messages: list[Message], *, max_tokens: int | None = None) -> Completion:
        self.sent.append([dict(m) for m in messages])  # type: ignore[misc]
        if not self.replies:
            raise ModelUnavailable("the script has no more replies")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        usage = Usage(10, 5)
        self.usage_total = self.usage_total + usage
        return Completion(text=reply, usage=usage, request_id="r")


def change(title: str, *edits: tuple[str, str, str]) -> str:
    """A reply proposing ``edits`` (path, search, replace)."""
    return json.dumps(
        {
            "title": title,
            "rationale": f"because {title.lower()}",
            "edits": [{"path": p, "search": s, "replace": r} for p, s, r in edits],
        }
    )


def need(*items: str) -> str:
    return json.dumps({"need": list(items), "reason": "not shown"})


def no_change(reason: str) -> str:
    return json.dumps({"no_change": True, "reason": reason})
