from __future__ import annotations

import pytest

from ratchet.config import check_task_key, parse_repo_config
from ratchet.core.keys import slugify
from ratchet.errors import ConfigError


def test_full_config_parses() -> None:
    cfg = parse_repo_config(
        """
task: Let users search recipes
test_command: python -m pytest -q
base_branch: main
protected_paths: ["tests/**"]
max_changed_files: 3
budget: {attempts: 5, tokens: 100000}
memory: local
trigger_phrase: /agent go
"""
    )
    assert cfg.task == "Let users search recipes"
    assert cfg.budget.attempts == 5
    assert cfg.memory == "local"
    assert cfg.protected_paths == ["tests/**"]


def test_empty_config_is_defaults() -> None:
    cfg = parse_repo_config("")
    assert cfg.trigger_phrase == "/agent next"
    assert cfg.memory == "auto"
    assert cfg.test_user == "auto"
    assert parse_repo_config("test_user: root").test_user == "root"


@pytest.mark.parametrize(
    ("text", "key", "hint_part"),
    [
        ("tset_command: pytest", "tset_command", "allowed keys"),
        ("max_changed_files: many", "max_changed_files", "whole number"),
        ("memory: redis", "memory", "allowed values"),
        ("budget: {attempts: 0}", "budget.attempts", ""),
        ("budget: {atempts: 3}", "budget.atempts", "allowed keys"),
        ("test_command: '  '", "test_command", ""),
        ("test_user: 'Bob Smith'", "test_user", ""),
    ],
)
def test_bad_keys_are_named(text: str, key: str, hint_part: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_repo_config(text)
    assert f"'{key}'" in str(info.value)
    assert hint_part in info.value.hint


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError, match="line 2"):
        parse_repo_config("task: a\n  - b: [\n")


def test_top_level_must_be_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_repo_config("- a\n- b\n")


def test_slug_and_key() -> None:
    assert (
        slugify("Let users search recipes by ingredient!")
        == "let-users-search-recipes-by-ingredient"
    )
    assert slugify("!!!") == "task"
    assert len(slugify("x" * 200)) <= 48
    assert check_task_key("issue-12") == "issue-12"
    for bad in ("Issue 12", "a..b", "x.lock", "-x", ""):
        with pytest.raises(ConfigError):
            check_task_key(bad)


def test_reserved_key_and_unsupported_score_command() -> None:
    with pytest.raises(ConfigError, match="reserved"):
        check_task_key("ledger")
    with pytest.raises(ConfigError, match="score_command"):
        parse_repo_config("score_command: ./score.sh\n")
