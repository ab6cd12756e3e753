"""Task keys and their branches: one rule."""

from __future__ import annotations

import pytest

from ratchet.config import check_task_key
from ratchet.core import keys
from ratchet.errors import ConfigError


@pytest.mark.parametrize("key", ["issue-12", "a", "fix_parser.v2", "x" * 64])
def test_usable_keys_name_their_branch(key: str) -> None:
    assert keys.is_task_key(key)
    assert keys.branch_of(key) == f"ratchet/{key}"
    assert keys.key_of(keys.branch_of(key)) == key
    assert keys.key_of(f"refs/heads/ratchet/{key}") == key
    assert check_task_key(key) == key


@pytest.mark.parametrize(
    "key", ["", "ledger", "Issue-12", "-x", "a..b", "a.lock", "a.", "x" * 65, "a/b", "a b"]
)
def test_unusable_keys_are_refused_everywhere(key: str) -> None:
    assert not keys.is_task_key(key)
    with pytest.raises(ValueError):
        keys.branch_of(key)
    assert keys.key_of(f"ratchet/{key}") is None
    with pytest.raises(ConfigError):
        check_task_key(key)


def test_other_branches_are_not_tasks() -> None:
    assert keys.key_of("main") is None
    assert keys.key_of("ratchet/ledger") is None
    assert keys.key_of("feature/ratchet/x") is None


def test_slugs_are_task_keys() -> None:
    for text in ["Let users search recipes!", "!!!", "ledger", "x" * 200, "Ünïcode only ✓"]:
        assert keys.is_task_key(keys.slugify(text)), text
