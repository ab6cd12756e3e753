"""The offline stand-in model chooses its next step from recalled memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ratchet.errors import ConfigError
from ratchet.model.offline import OfflineModel, load_playbook
from ratchet.records import MemoryRecord

PLAYBOOK = Path(__file__).resolve().parents[2] / "examples" / "recipe-app.playbook.json"
PROMPT = [
    {"role": "system", "content": "You propose one code change as JSON."},
    {"role": "user", "content": "Task: let users search recipes by ingredient."},
]


def attempt(title: str, outcome: str, n: int = 1) -> MemoryRecord:
    return MemoryRecord(kind="attempt", task="demo", attempt=n, outcome=outcome, title=title)


def reply(model: OfflineModel, messages: list[dict[str, str]] | None = None) -> dict:
    return json.loads(model.complete(messages or PROMPT).text)


def write_playbook(path: Path, steps: list[dict]) -> Path:
    path.write_text(json.dumps({"steps": steps}), encoding="utf-8")
    return path


def step(sid: str, requires: list[str] | None = None) -> dict:
    return {
        "id": sid,
        "title": f"Step {sid}",
        "rationale": f"Because {sid}.",
        "requires": requires or [],
        "edits": [{"path": f"{sid}.py", "search": "", "replace": f"X = '{sid}'\n"}],
    }


@pytest.fixture
def abc(tmp_path: Path) -> Path:
    return write_playbook(tmp_path / "p.json", [step("a"), step("b", ["a"]), step("c")])


def test_empty_memory_proposes_the_first_step_as_a_model_reply() -> None:
    first = load_playbook(PLAYBOOK)[0]
    model = OfflineModel(PLAYBOOK, [])
    completion = model.complete(PROMPT, max_tokens=100)
    data = json.loads(completion.text)
    assert model.name == "offline-demo (no MiniMax key; scripted stand-in)"
    assert set(data) == {"title", "rationale", "edits"}
    assert data["title"] == first.title
    assert "no earlier attempts" in data["rationale"]
    assert [tuple(e.values()) for e in data["edits"]] == [
        (e.path, e.search, e.replace) for e in first.edits
    ]
    assert completion.finish_reason == "stop"
    prompt_chars = sum(len(m["content"]) for m in PROMPT)
    assert completion.usage.prompt_tokens == (prompt_chars + 3) // 4
    assert completion.usage.completion_tokens == (len(completion.text) + 3) // 4


def test_a_regressed_step_is_skipped_and_the_rationale_says_why() -> None:
    steps = load_playbook(PLAYBOOK)
    data = reply(OfflineModel(PLAYBOOK, [attempt(steps[0].title, "regressed")]))
    assert data["title"] == steps[1].title
    assert steps[0].title in data["rationale"]
    assert "regressed" in data["rationale"]


def test_every_failed_outcome_rules_a_step_out(abc: Path) -> None:
    for outcome in ("regressed", "broken", "repeat", "invalid", "rejected"):
        data = reply(OfflineModel(abc, [attempt("Step c", outcome), attempt("Step a", outcome)]))
        # a failed, so b (which needs a) waits; c failed too: nothing is left
        assert data["no_change"] is True, outcome
        assert "'Step b'" in data["reason"] and outcome in data["reason"]


def test_kept_steps_are_skipped_and_unlock_their_dependents(abc: Path) -> None:
    assert reply(OfflineModel(abc, [attempt("Step a", "improved")]))["title"] == "Step b"
    # "unchanged" is kept too; titles match regardless of case and spacing
    assert reply(OfflineModel(abc, [attempt("  step   A ", "unchanged")]))["title"] == "Step b"


def test_a_step_waits_while_its_requirement_is_not_kept(abc: Path) -> None:
    data = reply(OfflineModel(abc, [attempt("Step a", "broken")]))
    assert data["title"] == "Step c"
    assert "'Step a' (broken)" in data["rationale"]


def test_all_steps_done_means_no_change() -> None:
    steps = load_playbook(PLAYBOOK)
    memory = [attempt(steps[0].title, "regressed", 1)]
    memory += [attempt(s.title, "improved", n) for n, s in enumerate(steps[1:], start=2)]
    data = reply(OfflineModel(PLAYBOOK, memory))
    assert data == {"no_change": True, "reason": data["reason"]}
    assert f"{len(steps) - 1} of {len(steps)} planned steps are kept" in data["reason"]


def test_other_records_and_neutral_outcomes_do_not_count(abc: Path) -> None:
    memory = [
        MemoryRecord(kind="feedback", task="demo", title="Step a", outcome="regressed"),
        MemoryRecord(kind="outcome", task="demo", outcome="rejected", detail="Step a"),
        attempt("", "regressed"),
        attempt("Step a", "no_change"),
        attempt("Step a", "error"),
    ]
    assert reply(OfflineModel(abc, memory))["title"] == "Step a"
    # a step that keeps ending in an infrastructure error is given up on
    memory.append(attempt("Step a", "error", 2))
    assert reply(OfflineModel(abc, memory))["title"] == "Step c"


def test_a_refusal_of_the_previous_reply_skips_that_step(abc: Path) -> None:
    model = OfflineModel(abc, [])
    first = model.complete(PROMPT).text
    refusal = "Your proposal was refused: it is identical to a failed attempt. Try another."
    retry = [*PROMPT, {"role": "assistant", "content": first}, {"role": "user", "content": refusal}]
    assert reply(model, retry)["title"] == "Step c"  # a refused, b needs a
    neutral = [*PROMPT, {"role": "assistant", "content": first}, {"role": "user", "content": "Go"}]
    assert reply(model, neutral)["title"] == "Step a"


def test_a_note_naming_a_refused_title_skips_that_step(abc: Path) -> None:
    model = OfflineModel(abc, [])
    note = "Context.\nThe change 'Step a' was refused before testing (identical patch).\nGo on."
    assert reply(model, [{"role": "user", "content": note}])["title"] == "Step c"
    mention = "Earlier: 'Step a' looked promising.\nA refused proposal wastes a run."
    assert reply(model, [{"role": "user", "content": mention}])["title"] == "Step a"


def test_memory_is_read_on_every_call(abc: Path) -> None:
    memory: list[MemoryRecord] = []
    model = OfflineModel(abc, memory)
    assert reply(model)["title"] == "Step a"
    memory.append(attempt("Step a", "improved"))
    assert reply(model)["title"] == "Step b"
    model.update_memory([attempt(t, "improved") for t in ("Step a", "Step b", "Step c")])
    assert reply(model)["no_change"] is True


def test_replies_are_deterministic() -> None:
    memory = [attempt(load_playbook(PLAYBOOK)[0].title, "regressed")]
    one = OfflineModel(PLAYBOOK, memory).complete(PROMPT)
    two = OfflineModel(PLAYBOOK, list(memory)).complete(PROMPT)
    assert one == two
    assert one.request_id.startswith("offline-")


def test_a_bare_list_playbook_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps([step("a")]), encoding="utf-8")
    assert [s.id for s in load_playbook(path)] == ["a"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"steps": []}', "no list of steps"),
        (json.dumps([{**step("a"), "title": ""}]), "'title' must be a non-empty string"),
        (json.dumps([{**step("a"), "edits": [{"path": "x"}]}]), "edit 1 needs"),
        (json.dumps([{**step("a"), "edits": []}]), "'edits' must be a non-empty list"),
        (json.dumps([step("a"), step("a")]), "repeats an id or title"),
        (json.dumps([step("b", ["a"]), step("a")]), "requires a, which is not an earlier step"),
        (json.dumps([{**step("a"), "requires": "b"}]), "'requires' must be a list"),
    ],
)
def test_a_bad_playbook_is_a_config_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        OfflineModel(path, [])


def test_a_missing_playbook_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the offline playbook") as info:
        load_playbook(tmp_path / "absent.json")
    assert "--offline-playbook" in info.value.hint
