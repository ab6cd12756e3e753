"""Reply parsing: think stripping, fences, JSON extraction and the reply schema."""

from __future__ import annotations

import json

import pytest

from ratchet.errors import ModelReplyError
from ratchet.model.minimax import MiniMaxClient
from ratchet.model.reply import (
    extract_json_object,
    iter_json_objects,
    parse_reply,
    strip_fences,
    strip_think,
)
from ratchet.types import Edit, NoChange, Proposal
from tests.fakes.minimax_server import SAMPLE_PROPOSAL, FakeMiniMax, variant

GOOD = json.dumps(SAMPLE_PROPOSAL)
EXPECTED = Proposal(
    title="Add a docstring to greet",
    rationale="Documented functions are easier to use; the tests stay green.",
    edits=(
        Edit(
            path="app/greet.py",
            search="def greet(name):\n",
            replace='def greet(name):\n    """Return a greeting for name."""\n',
        ),
    ),
)


def reply(**fields: object) -> str:
    return json.dumps(fields)


# -- strip_think --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('<think>\nplan {a}\n</think>\n\n{"x": 1}', '{"x": 1}'),
        ('<think>plan</mm:think>{"x": 1}', '{"x": 1}'),
        ('</think>\n{"x": 1}', '{"x": 1}'),
        ('reasoning with { a brace\n</think>\n{"x": 1}', '{"x": 1}'),
        ('</mm:think>{"x": 1}', '{"x": 1}'),
        ('{"x": 1}\n<think>more thoughts {', '{"x": 1}'),
        ("<think>only thinking, cut off", ""),
        ("<THINK>a</THINK>b<think>c</think>d", "bd"),
        ("no reasoning at all", "no reasoning at all"),
    ],
)
def test_strip_think(text: str, expected: str) -> None:
    assert strip_think(text) == expected


def test_strip_think_leaves_tags_inside_json_strings_alone() -> None:
    edit = {"path": "p.py", "search": "a", "replace": "s = '<think>x</think>'"}
    text = "<think>plan</think>" + reply(title="t", rationale="r", edits=[edit])
    assert json.loads(strip_think(text))["edits"][0]["replace"] == "s = '<think>x</think>'"


# -- strip_fences -------------------------------------------------------------------------


def test_strip_fences_returns_the_fenced_json() -> None:
    text = 'Here is the change:\n```json\n{"x": {}}\n```\nNote: run the tests.'
    assert strip_fences(text) == '{"x": {}}'


def test_strip_fences_skips_fences_without_json_and_handles_unclosed_ones() -> None:
    assert strip_fences('```sh\npytest\n```\n~~~\n{"x": 1}') == '{"x": 1}'
    assert strip_fences("no fences {}") == "no fences {}"


# -- extract_json_object ------------------------------------------------------------------


def test_extract_tolerates_prose_and_nested_braces_in_strings() -> None:
    text = 'Sure! {"a": "}{ not a brace", "b": {"c": [1, 2]}} and done {"later": 1}'
    assert extract_json_object(text) == {"a": "}{ not a brace", "b": {"c": [1, 2]}}


def test_extract_skips_unparsable_braces_in_prose() -> None:
    assert extract_json_object('use {braces} like this: {"ok": true}') == {"ok": True}


def test_extract_reports_why_nothing_parsed() -> None:
    with pytest.raises(ModelReplyError, match="not valid JSON"):
        extract_json_object('{"a": 1,, }')
    with pytest.raises(ModelReplyError, match="no JSON object"):
        extract_json_object("I would rather not.")


def test_raw_newlines_inside_strings_are_tolerated() -> None:
    assert extract_json_object('{"code": "line1\nline2"}') == {"code": "line1\nline2"}


def test_iter_json_objects_looks_inside_a_broken_outer_object() -> None:
    assert list(iter_json_objects('{"broken": {"inner": 1} oops}')) == [{"inner": 1}]


# -- parse_reply: the content variants of notes/minimax.md §6 -----------------------------


@pytest.mark.parametrize(
    "content",
    [
        f"<think>\nI will edit {{x}}.\n</think>\n\n{GOOD}",  # (a)
        GOOD,  # (b) split mode: clean
        f"```json\n{GOOD}\n```\nNote: this keeps the tests green.",  # (c)
        f"</think>\n\n{GOOD}",  # (d)
        f"<think>plan</mm:think>\n{GOOD}",  # (d) mm variant
        f"I think so.\n{GOOD}\nHope this helps {{:)",  # prose around
    ],
    ids=["a", "b", "c", "d", "d-mm", "prose"],
)
def test_parse_reply_accepts_wrapped_proposals(content: str) -> None:
    assert parse_reply(content) == EXPECTED


def test_parse_reply_rejects_the_truncated_variant() -> None:
    with pytest.raises(ModelReplyError, match="empty"):
        parse_reply("<think>\nplanning the change {")  # (e)


def test_parse_reply_reports_invalid_json() -> None:
    with pytest.raises(ModelReplyError, match="not valid JSON") as info:
        parse_reply(GOOD[:-1])  # (f)
    assert info.value.raw == GOOD[:-1]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"no_change": true}', NoChange("(no reason given)")),  # (g)
        ('{"no_change": true, "reason": " tests already pass "}', NoChange("tests already pass")),
        ('{"no_change": true, "edits": []}', NoChange("(no reason given)")),
    ],
)
def test_parse_reply_no_change(content: str, expected: NoChange) -> None:
    assert parse_reply(content) == expected


def test_parse_reply_prefers_a_valid_reply_over_earlier_objects() -> None:
    text = f'An example edit: {{"path": "x"}}; and {{}}. The answer: {GOOD}'
    assert parse_reply(text) == EXPECTED


def test_parse_reply_falls_back_when_think_stripping_was_wrong() -> None:
    # a clean reply whose title mentions a closer tag: the orphan-closer rule must not win
    text = reply(
        title="Handle </think> in replies",
        rationale="r",
        edits=[{"path": "a.py", "search": "x", "replace": "y"}],
    )
    assert parse_reply(text).title == "Handle </think> in replies"  # type: ignore[union-attr]


def test_parse_reply_through_the_client_for_every_variant(request: pytest.FixtureRequest) -> None:
    with FakeMiniMax() as fake:
        client = MiniMaxClient("sk-test", base_url=fake.url)
        request.addfinalizer(client.close)
        for letter in ("a", "b", "c", "d", "d-mm"):
            fake.script(variant(letter))
            assert parse_reply(client.complete([{"role": "user", "content": "go"}]).text) == (
                EXPECTED
            ), letter
        fake.script(variant("g"))
        assert isinstance(
            parse_reply(client.complete([{"role": "user", "content": "go"}]).text), NoChange
        )


def test_parse_reply_inline_think_reaches_the_parser_when_not_split() -> None:
    fake_reply = variant("a")
    content = f"<think>\n{fake_reply.reasoning}\n</think>\n\n{fake_reply.content}"
    assert parse_reply(content) == EXPECTED


# -- parse_reply: schema errors name the field --------------------------------------------

EDIT = {"path": "a.py", "search": "x", "replace": "y"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"rationale": "r", "edits": [EDIT]}, '"title" is missing'),
        ({"title": 3, "rationale": "r", "edits": [EDIT]}, '"title" must be a string, not a number'),
        ({"title": "  ", "rationale": "r", "edits": [EDIT]}, '"title" must not be empty'),
        ({"title": "t", "edits": [EDIT]}, '"rationale" is missing'),
        ({"title": "t", "rationale": "r"}, '"edits" is missing'),
        ({"title": "t", "rationale": "r", "edits": {}}, '"edits" must be an array, not an object'),
        ({"title": "t", "rationale": "r", "edits": []}, '"edits" is empty'),
        ({"title": "t", "rationale": "r", "edits": [EDIT] * 21}, "21 entries; the limit is 20"),
        ({"title": "t", "rationale": "r", "edits": ["x"]}, '"edits[0]" must be an object'),
        (
            {"title": "t", "rationale": "r", "edits": [EDIT, {"path": "b", "replace": "z"}]},
            '"edits[1].search" is missing',
        ),
        (
            {"title": "t", "rationale": "r", "edits": [{**EDIT, "replace": None}]},
            '"edits[0].replace" must be a string, not null',
        ),
        (
            {"title": "t", "rationale": "r", "edits": [{**EDIT, "path": ""}]},
            '"edits[0].path" must not be empty',
        ),
        ({"no_change": "yes"}, '"no_change" must be true or false, not a string'),
        ({"no_change": True, "reason": 5}, '"reason" must be a string'),
        ({"no_change": True, "edits": [EDIT]}, "both"),
    ],
)
def test_schema_errors_name_the_field(value: dict[str, object], message: str) -> None:
    with pytest.raises(ModelReplyError) as info:
        parse_reply(json.dumps(value))
    assert message in info.value.message


def test_no_change_false_means_a_proposal() -> None:
    parsed = parse_reply(reply(no_change=False, title="t", rationale="r", edits=[EDIT]))
    assert parsed == Proposal("t", "r", (Edit("a.py", "x", "y"),))


def test_search_may_be_empty_to_create_a_file() -> None:
    parsed = parse_reply(reply(title="t", rationale="", edits=[{**EDIT, "search": ""}]))
    assert isinstance(parsed, Proposal)
    assert parsed.edits[0].search == ""


def test_long_titles_are_truncated_and_flattened() -> None:
    parsed = parse_reply(reply(title="word\n" * 100, rationale="r", edits=[EDIT]))
    assert isinstance(parsed, Proposal)
    assert len(parsed.title) == 200
    assert "\n" not in parsed.title
    assert parsed.title.endswith("…")


def test_replies_over_one_megabyte_are_refused() -> None:
    big = reply(title="t", rationale="x" * 1_000_001, edits=[EDIT])
    with pytest.raises(ModelReplyError, match="limit is 1000000 bytes") as info:
        parse_reply(big)
    assert len(info.value.raw) == 32_000


def test_pathological_braces_end_quickly() -> None:
    with pytest.raises(ModelReplyError):
        parse_reply("{" * 50_000 + "}" * 10)
