"""Ask the model for one change: one call, plus exactly one repair call on a malformed reply."""

from __future__ import annotations

from dataclasses import dataclass

from ratchet.errors import ModelReplyError
from ratchet.model.base import ChatModel
from ratchet.model.reply import RAW_CAP, parse_reply
from ratchet.types import Message, Need, NoChange, Proposal, Usage

REPAIR_INSTRUCTION = (
    "Your previous reply could not be used: {error}.\n"
    "Answer again with only the JSON object: no prose, no markdown fences, no reasoning. "
    'Either {{"title": str, "rationale": str, "edits": [{{"path": str, "search": str, '
    '"replace": str}}]}} or {{"no_change": true, "reason": str}}.'
)


@dataclass(frozen=True)
class Answer:
    """The parsed reply and its cost: ``usage`` sums every call, ``raw`` is the text parsed."""

    answer: Proposal | NoChange | Need
    usage: Usage
    raw: str
    calls: int
    repaired: bool


def ask(model: ChatModel, messages: list[Message]) -> Answer:
    """Return the model's parsed answer to ``messages``.

    A reply that does not parse gets exactly one repair call: the original messages, the bad
    reply as the assistant turn (capped), and a user turn quoting the exact error. Raises
    ModelReplyError (``raw`` = the capped second reply) when the repair reply is still bad,
    and whatever ``model.complete`` raises (ModelError subclasses) otherwise.
    """
    first = model.complete(messages)
    try:
        return Answer(parse_reply(first.text), first.usage, first.text, 1, False)
    except ModelReplyError as exc:
        error = exc
    repair = [
        *messages,
        {"role": "assistant", "content": _capped(first.text) or "(empty reply)"},
        {"role": "user", "content": REPAIR_INSTRUCTION.format(error=error.message.rstrip("."))},
    ]
    second = model.complete(repair)
    usage = first.usage + second.usage
    try:
        answer = parse_reply(second.text)
    except ModelReplyError as exc:
        raise ModelReplyError(
            f"the model's reply was still malformed after one repair call: {exc.message} "
            f"(first reply: {error.message})",
            hint="Run again; if this keeps happening, try another model (RATCHET_MODEL).",
            raw=_capped(second.text),
        ) from exc
    return Answer(answer, usage, second.text, 2, True)


def _capped(text: str) -> str:
    if len(text) <= RAW_CAP:
        return text
    return text[:RAW_CAP] + f"\n…[{len(text) - RAW_CAP} more characters cut]"
