"""A chat model that starts no call it cannot afford: before each call, its worst case (the
prompt's estimated tokens plus the output cap) is checked against what the task has left."""

from __future__ import annotations

from ratchet.core import money
from ratchet.errors import BudgetExceeded
from ratchet.model.base import ChatModel
from ratchet.types import Completion, Message, Usage

#: the output cap assumed for a model that does not say its own
DEFAULT_MAX_OUTPUT = 16_384


class BudgetedModel:
    """Wraps ``model``; ``spent`` is what the task used before this iteration."""

    def __init__(
        self, model: ChatModel, spent: money.Spent, limits: money.Limits, rate: money.Rate | None
    ) -> None:
        self.model, self.spent, self.limits, self.rate = model, spent, limits, rate
        self.name = getattr(model, "name", "model")
        self.used = Usage()  # what the calls through this wrapper used

    @property
    def usage_total(self) -> Usage:
        inner = getattr(self.model, "usage_total", None)
        return inner if isinstance(inner, Usage) else self.used

    def complete(self, messages: list[Message], *, max_tokens: int | None = None) -> Completion:
        chars = sum(len(str(m.get("content") or "")) for m in messages)
        out = max_tokens or int(getattr(self.model, "max_tokens", 0) or DEFAULT_MAX_OUTPUT)
        u = self.used
        spent_now = self.spent.plus(u.prompt_tokens, u.completion_tokens, self.rate)
        reason = money.unaffordable(spent_now, self.limits, self.rate, chars, out)
        if reason is not None:
            raise BudgetExceeded(f"no model call was started: {reason}")
        completion = self.model.complete(messages, max_tokens=max_tokens)
        self.used = self.used + completion.usage
        return completion
