"""What the evaluation of a command will rest on, in words for the run header and
``ratchet doctor``: the runner, whether results are per test, the prepared directories and
where the tests run."""

from __future__ import annotations

from pathlib import Path

from ratchet.evaluate.resolve import resolve
from ratchet.evaluate.sandbox import Sandbox
from ratchet.evaluate.world import World

FALLBACK = (
    "per-test results only if the output names tests (a pytest run, libtest, go test -v, "
    "unittest -v, TAP) or junit_path is set; else counts from the runner's summary line, else "
    "the exit code"
)


def runner_line(command: str, tree: Path, junit_path: str | None = None) -> str:
    """``jest (via npm test) — per-test results from jest --json --outputFile``."""
    found = resolve(command, tree)
    if found.runner is not None:
        return f"{found.described} — per-test results from {found.runner.results_via}"
    if junit_path:
        return f"not recognised ({found.note}) — per-test results from {junit_path}"
    return f"not recognised ({found.note}) — {FALLBACK}"


def place_line(sandbox: Sandbox, world: World | None) -> str:
    if world is not None and sandbox.name in ("bwrap", "unshare"):
        return (f"{world.checkout} (each tree is mounted over the checkout's path, which stays "
                "untouched)")
    return "a copy of the commit at a fixed path per task"


def lines(
    command: str, tree: Path, sandbox: Sandbox, world: World | None, junit_path: str | None
) -> list[tuple[str, str]]:
    """(label, text) pairs: "runner", "prepared", "tests run at"."""
    out = [("runner", runner_line(command, tree, junit_path))]
    if world is not None:
        overlays = sandbox.overlays and sandbox.name != "none"
        out.append(("prepared directories", world.describe(overlays)))
    out.append(("tests run at", place_line(sandbox, world)))
    return out
