"""ask(): one call, one repair call on a malformed reply, usage summed."""

from __future__ import annotations

import json

import pytest

from ratchet.errors import ModelReplyError, ModelUnavailable
from ratchet.model.base import ChatModel
from ratchet.model.minimax import MiniMaxClient
from ratchet.model.propose import Answer, ask
from ratchet.types import Completion, Message, NoChange, Proposal, Usage
from tests.fakes.minimax_server import (
    SAMPLE_PROPOSAL_JSON,
    BaseRespError,
    FakeMiniMax,
    Reply,
    variant,
)

MESSAGES: list[Message] = [
    {"role": "system", "content": "Reply with one JSON object."},
    {"role": "user", "content": "Improve the app."},
]
GOOD = '{"title": "t", "rationale": "r", "edits": [{"path": "a", "search": "b", "replace": "c"}]}'


class ScriptedModel:
    """A ChatModel answering from a list of texts and recording what it was sent."""

    name = "scripted"

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.sent: list[list[Message]] = []

    def complete(self, messages: list[Message], *, max_tokens: int | None = None) -> Completion:
        self.sent.append([dict(m) for m in messages])
        return Completion(text=self.texts.pop(0), usage=Usage(10, 5, 1), request_id="r")


def test_scripted_model_satisfies_the_protocol() -> None:
    model: ChatModel = ScriptedModel(GOOD)
    assert model.name == "scripted"


def test_a_good_reply_needs_one_call() -> None:
    model = ScriptedModel(GOOD)
    answer = ask(model, MESSAGES)
    assert isinstance(answer.answer, Proposal)
    assert answer == Answer(answer.answer, Usage(10, 5, 1), GOOD, 1, False)
    assert model.sent == [MESSAGES]


def test_a_bad_reply_gets_exactly_one_repair_call() -> None:
    bad = '{"title": "t", "rationale": "r"}'
    model = ScriptedModel(bad, GOOD)
    answer = ask(model, MESSAGES)

    assert answer.repaired is True
    assert answer.calls == 2
    assert answer.raw == GOOD
    assert answer.usage == Usage(20, 10, 2)
    repair = model.sent[1]
    assert repair[:2] == MESSAGES
    assert repair[2] == {"role": "assistant", "content": bad}
    assert repair[3]["role"] == "user"
    assert '"edits" is missing' in repair[3]["content"]
    assert "only the JSON object" in repair[3]["content"]
    assert len(repair) == 4


def test_still_bad_after_repair_raises_with_the_raw_reply() -> None:
    model = ScriptedModel("no json here", '{"no_change": "maybe"}')
    with pytest.raises(ModelReplyError) as info:
        ask(model, MESSAGES)
    assert "after one repair call" in info.value.message
    assert '"no_change" must be true or false' in info.value.message
    assert info.value.raw == '{"no_change": "maybe"}'
    assert len(model.sent) == 2


def test_an_empty_first_reply_is_echoed_as_a_placeholder() -> None:
    model = ScriptedModel("", '{"no_change": true, "reason": "done"}')
    answer = ask(model, MESSAGES)
    assert answer.answer == NoChange("done")
    assert model.sent[1][2] == {"role": "assistant", "content": "(empty reply)"}
    assert "empty" in model.sent[1][3]["content"]


def test_a_huge_bad_reply_is_capped_in_the_repair_call() -> None:
    huge = "x" * 100_000
    model = ScriptedModel(huge, GOOD)
    ask(model, MESSAGES)
    echoed = model.sent[1][2]["content"]
    assert len(echoed) < 33_000
    assert echoed.endswith("more characters cut]")


def test_repair_over_http_with_the_real_client() -> None:
    def second(request: dict[str, object]) -> Reply:
        messages = request["messages"]
        assert isinstance(messages, list)
        assert messages[-2]["role"] == "assistant"
        assert "not valid JSON" in messages[-1]["content"]
        return Reply(content=SAMPLE_PROPOSAL_JSON, prompt_tokens=300, completion_tokens=50)

    with FakeMiniMax() as fake:
        bad = variant("f")
        fake.script(Reply(content=bad.content, prompt_tokens=100, completion_tokens=40), second)
        with MiniMaxClient("sk-test", base_url=fake.url) as client:
            answer = ask(client, MESSAGES)

        assert isinstance(answer.answer, Proposal)
        assert answer.repaired and answer.calls == 2
        assert answer.usage == Usage(400, 90, 0)
        assert client.usage_total == answer.usage
        assert len(fake.requests) == 2
        assert fake.requests[1].json["messages"][2] == {
            "role": "assistant",
            "content": bad.content,
        }


def test_model_errors_are_not_repaired() -> None:
    with FakeMiniMax(default=BaseRespError(1008)) as fake:
        with MiniMaxClient("sk-test", base_url=fake.url) as client:
            with pytest.raises(ModelUnavailable, match="1008"):
                ask(client, MESSAGES)
        assert len(fake.requests) == 1


def test_truncation_is_not_repaired() -> None:
    with FakeMiniMax(default=variant("e")) as fake:
        with MiniMaxClient("sk-test", base_url=fake.url, max_tokens=1000) as client:
            with pytest.raises(ModelReplyError, match="truncated"):
                ask(client, MESSAGES)
        assert [r.json["max_completion_tokens"] for r in fake.requests] == [1000, 2000]


def test_sample_proposal_json_is_what_the_prompt_schema_describes() -> None:
    data = json.loads(SAMPLE_PROPOSAL_JSON)
    answer = ask(ScriptedModel(SAMPLE_PROPOSAL_JSON), MESSAGES)
    assert isinstance(answer.answer, Proposal)
    assert answer.answer.title == data["title"]
