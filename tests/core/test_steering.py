"""Commands as people write them, and the state their records leave (core/steering.py)."""

from __future__ import annotations

import pytest

from ratchet.core import steering
from ratchet.core.steering import Command, Refusal
from ratchet.records import MemoryRecord

T = "/agent next"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/agent next", Command("next")),
        ("/agent next  use sqlite\nand keep it", Command("next", "use sqlite\nand keep it")),
        ("  /AGENT Status", Command("status")),
        ("/agent forget 3", Command("forget", "3")),
        ("/agent forget all", Command("forget", "all")),
        ("/agent stop\nplease", Command("stop", "please")),
        ("/agent resume", Command("resume")),
        ("/agent help", Command("help")),
        ("/agent dance now", Command("help", unknown="dance")),
        ("/agent", Command("help", unknown="")),
        ("/agentstatus", None),
        ("please /agent status", None),
        ("> /agent status", None),
        ("thanks", None),
        ("   /agent stop", Command("stop")),  # three spaces: still a paragraph
        ("    /agent stop", None),  # four: an indented code block
        ("\n\t/agent stop", None),
    ],
)
def test_parse_command(body: str, expected: Command | None) -> None:
    assert steering.parse_command(body, T) == expected


def test_a_one_word_phrase_is_its_own_base_and_means_next() -> None:
    assert steering.command_base("@ratchet") == ("@ratchet", "")
    assert steering.parse_command("@ratchet add tests", "@ratchet") == Command("next", "add tests")
    assert steering.parse_command("@ratchet status", "@ratchet") == Command("status")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("@ratchet stop", Command("stop")),
        ("@ratchet stop\ntests being rewritten", Command("stop", "tests being rewritten")),
        ("@ratchet forget 2", Command("forget", "2")),
        ("@ratchet forget all", Command("forget", "all")),
        # with a one-word phrase a verb followed by more words is an instruction, not a command
        ("@ratchet stop using globals", Command("next", "stop using globals")),
        ("@ratchet help me split parse()", Command("next", "help me split parse()")),
        ("@ratchet forget the cache, use a dict", Command("next", "forget the cache, use a dict")),
    ],
)
def test_a_one_word_phrase_runs_a_verb_only_alone_on_its_line(
    body: str, expected: Command
) -> None:
    assert steering.parse_command(body, "@ratchet") == expected


def test_with_a_two_word_phrase_the_verb_is_the_command_whatever_follows() -> None:
    assert steering.parse_command("/agent stop using globals", T) == Command(
        "stop", "using globals"
    )
    assert steering.command_base("/bot go") == ("/bot", "go")
    assert steering.parse_command("/bot go", "/bot go") == Command("next")


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("> /agent forget 1", "/agent forget 1"),
        (">> /agent stop\n\nok?", "/agent stop"),
        ("```\n/agent stop\n```", "/agent stop"),
        ("`/agent status` shows it", "/agent status"),
        ("    /agent stop\n", "/agent stop"),
        ("> thanks", None),
        ("/agent status", None),  # not quoted: parse_command runs it
        ("", None),
    ],
)
def test_quoted_command(body: str, shown: str | None) -> None:
    assert steering.quoted_command(body, T) == shown


def rec(kind: str, attempt: int = 0, at: str = "", **kw: object) -> MemoryRecord:
    return MemoryRecord(kind=kind, task="t", attempt=attempt, created_at=at, **kw)  # type: ignore[arg-type]


HISTORY = [
    rec("attempt", 1, "2026-01-01T00:00:01Z", outcome="regressed", patch_sha256="a"),
    rec("feedback", 0, "2026-01-01T00:00:02Z", detail="use a dict"),
    rec("attempt", 2, "2026-01-01T00:00:03Z", outcome="improved"),
]


def test_forget_one_attempt_keeps_the_rest_in_force() -> None:
    history = [*HISTORY, rec("forget", 1, "2026-01-01T00:00:04Z", actor="alice")]
    assert [(r.kind, r.attempt) for r in steering.in_force(history)] == [
        ("feedback", 0), ("attempt", 2)
    ]
    assert steering.forget_target(history, "1") == Refusal("attempt 1 is already forgotten")


def test_forget_all_forgets_what_came_before_only() -> None:
    history = [
        *HISTORY,
        rec("forget", 0, "2026-01-01T00:00:04Z"),
        rec("attempt", 3, "2026-01-01T00:00:05Z", outcome="unchanged"),
    ]
    assert [r.attempt for r in steering.in_force(history)] == [3]
    assert isinstance(steering.forget_target(history, "2"), Refusal)
    assert steering.forget_target(history, "3") == 3


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("2", 2), ("#2", 2), ("all", 0), ("ALL", 0),
        ("999", Refusal("there is no attempt 999; attempts are numbered 1 to 2")),
        ("0", Refusal("there is no attempt 0; attempts are numbered 1 to 2")),
        ("-1", Refusal("`forget` needs an attempt number or `all` (got '-1'); attempts are "
                       "numbered 1 to 2")),
        ("", Refusal("`forget` needs an attempt number or `all` (got ''); attempts are "
                     "numbered 1 to 2")),
    ],
)
def test_forget_target(argument: str, expected: int | Refusal) -> None:
    assert steering.forget_target(HISTORY, argument) == expected


def test_nothing_to_forget_on_a_new_task() -> None:
    assert isinstance(steering.forget_target([], "all"), Refusal)
    assert steering.forget_target([], "1") == Refusal(
        "there is no attempt 1; there are no attempts yet"
    )


def test_pause_and_resume_follow_the_newest_control_record() -> None:
    stop = rec("control", 0, "2026-01-01T00:00:05Z", outcome="paused", actor="alice")
    go = rec("control", 0, "2026-01-01T00:00:06Z", outcome="resumed", actor="bob")
    state = steering.state_of([*HISTORY, stop])
    assert state.paused and state.paused_by == "alice"
    assert steering.control_refusal(state, "stop") is not None
    assert steering.control_refusal(state, "resume") is None
    assert not steering.state_of([go, *HISTORY, stop][::-1]).paused  # order by time, not list
    assert steering.control_refusal(steering.state_of(HISTORY), "resume") == Refusal(
        "the task is not paused"
    )


def test_who() -> None:
    assert steering.who("alice") == "@alice"
    assert steering.who("dependabot[bot]") == "@dependabot[bot]"
    assert steering.who("bob (ratchet CLI)") == "bob (ratchet CLI)"
