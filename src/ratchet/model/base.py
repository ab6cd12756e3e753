"""The chat-model interface. The MiniMax client and the offline stand-in both implement it."""

from __future__ import annotations

from typing import Protocol

from ratchet.types import Completion, Message


class ChatModel(Protocol):
    #: short name shown to users and recorded with each attempt, e.g. "MiniMax-M3"
    name: str

    def complete(self, messages: list[Message], *, max_tokens: int | None = None) -> Completion:
        """Send ``messages`` and return the model's visible reply (think blocks not stripped).

        ``max_tokens`` overrides the implementation's default output budget. Raises a
        ``ModelError`` subclass when no usable completion can be obtained.
        """
        ...
