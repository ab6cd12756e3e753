"""The Action's world (tests/action_world.py) as a fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.action_world import World
from tests.fakes.github_server import FakeGitHub
from tests.fakes.mem0_server import FakeMem0Server
from tests.fakes.minimax_server import FakeMiniMax


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with FakeGitHub() as gh, FakeMiniMax() as model, FakeMem0Server() as mem0:
        yield World(tmp_path, gh, model, mem0)
