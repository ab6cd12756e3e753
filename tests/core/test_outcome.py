"""The shared vocabulary: outcomes and phases travel as values, never re-parsed from text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ratchet.core.outcome import FAILED, KEPT, SKIP, Outcome, Phase, is_kept
from ratchet.github.env import ActionEnv
from ratchet.github.status import Status
from ratchet.progress import Reporter
from ratchet.records import OUTCOMES, MemoryRecord


def test_outcomes_are_the_words_memory_stores() -> None:
    assert Outcome.NO_CHANGE == "no_change"
    assert OUTCOMES == tuple(Outcome)
    assert KEPT == {"improved", "unchanged"}
    assert FAILED == {"regressed", "broken", "rejected"}
    assert SKIP == FAILED | {"repeat", "invalid"}
    assert is_kept("improved") and not is_kept("regressed") and not is_kept("")
    rec = MemoryRecord.from_metadata(
        MemoryRecord(kind="attempt", task="t", attempt=1, outcome=Outcome.IMPROVED).to_metadata()
    )
    assert rec.outcome == "improved" and is_kept(rec.outcome)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        # a task key that contains "test" or "recall" once mislabelled the commit phase
        ("committing on ratchet/add-tests-for-parser", Phase.PUBLISH),
        ("committing on ratchet/recall-button", Phase.PUBLISH),
        ("asking the test model for one change", Phase.PROPOSE),
        ("recalling memory", Phase.RECALL),
        ("running the tests on the change", Phase.TEST),
    ],
)
def test_the_status_comment_gets_the_phase_it_was_given(name: str, kind: Phase) -> None:
    posted: list[str] = []

    class Comments:
        def upsert_comment(self, number: int, marker: str, body: str) -> None:
            posted.append(body)

    aenv = ActionEnv.from_environ(
        {
            "GITHUB_EVENT_NAME": "schedule",
            "GITHUB_EVENT_PATH": "/nonexistent",
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_WORKSPACE": str(Path.cwd()),
            "GITHUB_RUN_ID": "7",
            "INPUT_GITHUB_TOKEN": "t",
        }
    )
    status = Status(Comments(), 5, "add-tests", aenv, "/agent next", warn=posted.append)
    seen: list[Phase] = []

    def on_phase(p: Phase) -> None:
        seen.append(p)
        status.phase(p)

    rep = Reporter(file=io.StringIO(), live=False, on_phase=on_phase)
    rep.phase(name, kind)
    rep.phase("an untyped phase")  # people see it; the checklist does not move
    rep.close()
    assert seen == [kind]
    assert len(posted) == 1
    labels = {
        Phase.RECALL: "recalling earlier attempts",
        Phase.PROPOSE: "asking MiniMax M3",
        Phase.TEST: "testing",
        Phase.PUBLISH: "publishing",
    }
    assert f"- ⏳ **{labels[kind]} …**" in posted[0], posted[0]
