"""The environment is read once, into a frozen snapshot, by one module."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ratchet import environment
from ratchet.environment import Environment

SRC = Path(__file__).resolve().parents[1] / "src" / "ratchet"


def test_typed_views_strip_blanks_and_apply_defaults() -> None:
    env = Environment.of({"MINIMAX_API_KEY": "  ", "MINIMAX_BASE_URL": "http://127.0.0.1:9/"})
    assert env.minimax_api_key is None
    assert env.minimax_base_url == "http://127.0.0.1:9"
    assert env.mem0_host == "https://api.mem0.ai"
    assert env.model is None
    assert not env.in_actions
    assert Environment.of({"GITHUB_ACTIONS": "true", "MEM0_API_KEY": " m0-k "}).mem0_api_key == (
        "m0-k"
    )
    assert Environment.of({"GITHUB_ACTIONS": "true"}).in_actions


def test_snapshot_is_a_read_only_copy() -> None:
    source = {"A": "1"}
    env = Environment.of(source)
    source["A"] = "2"
    assert env["A"] == "1" and dict(env) == {"A": "1"} and len(env) == 1
    with pytest.raises(TypeError):
        env.vars["A"] = "3"  # type: ignore[index]


def test_capture_scrubs_git_redirects_and_freezes_until_release(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_DIR", "/elsewhere/.git")
    monkeypatch.setenv("RATCHET_PROBE", "before")
    try:
        env = environment.capture()
        assert "GIT_DIR" not in os.environ and "GIT_DIR" not in env
        monkeypatch.setenv("RATCHET_PROBE", "after")
        assert environment.current() is env
        assert environment.current()["RATCHET_PROBE"] == "before"  # read once
    finally:
        environment.release()
    assert environment.current()["RATCHET_PROBE"] == "after"  # outside a command: fresh


def test_default_for_library_keeps_the_users_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATCHET_LIB_SET", "mine")
    monkeypatch.delenv("RATCHET_LIB_UNSET", raising=False)
    try:
        environment.capture()
        assert environment.default_for_library("RATCHET_LIB_SET", "default") == "mine"
        assert environment.default_for_library("RATCHET_LIB_UNSET", "default") == "default"
        assert environment.current()["RATCHET_LIB_UNSET"] == "default"
    finally:
        environment.release()
        monkeypatch.delenv("RATCHET_LIB_UNSET", raising=False)


def test_only_the_environment_module_reads_os_environ() -> None:
    readers = sorted(
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if re.search(r"os\.environ|os\.getenv|os\.putenv", p.read_text(encoding="utf-8"))
    )
    assert readers == ["environment.py"]
