"""The Actions environment, read once into a frozen value; bad values name the variable."""

from __future__ import annotations

import pytest

from ratchet.errors import ConfigError
from ratchet.github.env import ActionEnv

BASE = {
    "GITHUB_EVENT_NAME": "schedule",
    "GITHUB_EVENT_PATH": "/e.json",
    "GITHUB_REPOSITORY": "o/r",
    "GITHUB_TOKEN": "t",
}


def test_write_pacing_defaults_to_one_second_and_may_be_turned_off() -> None:
    assert ActionEnv.from_environ(BASE).github_throttle == 1.0
    assert ActionEnv.from_environ({**BASE, "RATCHET_GITHUB_THROTTLE": "0"}).github_throttle == 0


@pytest.mark.parametrize("value", ["fast", "-1", "61", "nan"])
def test_a_bad_pacing_value_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="RATCHET_GITHUB_THROTTLE") as info:
        ActionEnv.from_environ({**BASE, "RATCHET_GITHUB_THROTTLE": value})
    assert "leave it unset" in info.value.hint


def test_missing_variables_are_named() -> None:
    with pytest.raises(ConfigError, match="GITHUB_REPOSITORY"):
        ActionEnv.from_environ({k: v for k, v in BASE.items() if k != "GITHUB_REPOSITORY"})
    with pytest.raises(ConfigError, match="GITHUB_TOKEN"):
        ActionEnv.from_environ({k: v for k, v in BASE.items() if k != "GITHUB_TOKEN"})
