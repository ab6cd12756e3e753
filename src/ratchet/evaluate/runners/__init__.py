"""The test runners Ratchet understands, one module each (see ``base.Runner``).

To add a runner: write ``runners/<name>.py`` with a ``RUNNER`` object (and, if its console
output names tests, a parser), add it to :data:`RUNNERS` (and :data:`OUTPUT_PARSERS`), and give
it a test file that builds a small real project for it.
"""

from __future__ import annotations

from ratchet.evaluate.runners import (
    cargo,
    go,
    gradle,
    jest,
    maven,
    mocha,
    node_test,
    phpunit,
    pytest,
    tap,
    unittest,
    vitest,
)
from ratchet.evaluate.runners.base import (
    CollectContext,
    Collected,
    Instrumented,
    Invocation,
    OutputParser,
    Runner,
)

#: in the order they are tried against a command's program
RUNNERS: tuple[Runner, ...] = (
    pytest.RUNNER,
    unittest.RUNNER,
    jest.RUNNER,
    vitest.RUNNER,
    mocha.RUNNER,
    node_test.RUNNER,
    go.RUNNER,
    cargo.RUNNER,
    maven.RUNNER,
    gradle.RUNNER,
    phpunit.RUNNER,
)

#: console-output parsers tried, in order, when no runner's report was read
OUTPUT_PARSERS: tuple[tuple[str, OutputParser], ...] = (
    ("cargo test", cargo.parse_output),
    ("go test", go.parse_verbose),
    ("unittest", unittest.parse_verbose),
    ("TAP", tap.parse_tap),
)

__all__ = [
    "OUTPUT_PARSERS",
    "RUNNERS",
    "Collected",
    "CollectContext",
    "Instrumented",
    "Invocation",
    "Runner",
]
