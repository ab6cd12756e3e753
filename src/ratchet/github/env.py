"""The GitHub Actions environment `ratchet action` reads, exactly as given (tests point it at
fakes): the ``GITHUB_*`` variables set by the runner and the ``RATCHET_*`` / key variables the
composite action maps its inputs to."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ratchet.config import ITERATIONS, MAX_MINUTES
from ratchet.errors import ConfigError


@dataclass(frozen=True)
class ActionEnv:
    event_name: str
    event_path: str
    repository: str
    api_url: str
    server_url: str
    workspace: Path
    run_id: str
    run_attempt: str
    output: str | None
    summary: str | None
    token: str
    trigger_phrase: str | None
    task: str | None
    test_command: str | None
    config: str | None
    allowed_bot_ids: frozenset[int]
    iterations: int | None = None  # None: the config's `iterations`
    #: the task of a scheduled or manual run (one job of a `ratchet plan` matrix)
    task_key: str | None = None
    #: a GitHub App installation token or fine-grained token for the task branch's pushes
    #: and the PR (None: the GITHUB_TOKEN), so that they start the repository's workflows
    publish_token: str | None = None
    #: the split workflow's job ("propose" or "publish"; None: the one-job run) and the
    #: directory of the artifacts between its jobs
    stage: str | None = None
    artifacts: str | None = None
    max_minutes: float | None = None  # None: the config's `max_minutes`
    #: seconds between write calls to the GitHub API (reads wait a quarter of it); GitHub asks
    #: integrations to pace writes to stay clear of its secondary rate limits
    github_throttle: float = 1.0

    @property
    def run_url(self) -> str:
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> ActionEnv:
        def get(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        missing = [
            n for n in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY") if not get(n)
        ]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)} not set: `ratchet action` runs inside GitHub Actions",
                "use `ratchet run` on a local checkout",
            )
        token = get("GITHUB_TOKEN") or get("INPUT_GITHUB_TOKEN")
        if not token:
            raise ConfigError(
                "GITHUB_TOKEN is not set",
                "pass `github_token: ${{ secrets.GITHUB_TOKEN }}` to the action",
            )
        bots, throttle = _bot_ids(get("RATCHET_ALLOWED_BOT_IDS")), _throttle(get)
        iterations = _number(get("RATCHET_ITERATIONS"), "iterations", int, *ITERATIONS, "4")
        max_minutes = _number(get("RATCHET_MAX_MINUTES"), "max_minutes", float, *MAX_MINUTES,
                              "20")  # fmt: skip
        return cls(
            event_name=get("GITHUB_EVENT_NAME"),
            event_path=get("GITHUB_EVENT_PATH"),
            repository=get("GITHUB_REPOSITORY"),
            api_url=get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            server_url=get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
            workspace=Path(get("GITHUB_WORKSPACE", os.getcwd())),
            run_id=get("GITHUB_RUN_ID", "0"),
            run_attempt=get("GITHUB_RUN_ATTEMPT", "1"),
            output=get("GITHUB_OUTPUT") or None,
            summary=get("GITHUB_STEP_SUMMARY") or None,
            token=token,
            trigger_phrase=get("RATCHET_TRIGGER_PHRASE") or None,
            task=get("RATCHET_TASK") or None,
            test_command=get("RATCHET_TEST_COMMAND") or None,
            config=get("RATCHET_CONFIG") or None,
            allowed_bot_ids=bots,
            github_throttle=throttle,
            iterations=int(iterations) if iterations is not None else None,
            max_minutes=max_minutes,
            task_key=get("RATCHET_TASK_KEY") or None,
            publish_token=get("RATCHET_PUBLISH_TOKEN") or None,
            stage=_stage(get("RATCHET_STAGE")),
            artifacts=get("RATCHET_ARTIFACTS") or None,
        )


def _number(
    text: str, name: str, kind: type[int] | type[float], low: float, high: float, example: str
) -> float | None:
    """An action input holding a number between ``low`` (exclusive for 0) and ``high``;
    None when empty (the config's value applies)."""
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not (low < value if low == 0 else low <= value) or value > high:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(
            f"the action input {name}: {text!r} is not {what} from {low:g} to {high:g}",
            f"e.g. {name}: {example}, or leave it empty for `{name}` in .github/ratchet.yml",
        )
    return value


def _bot_ids(text: str) -> frozenset[int]:
    bots: set[int] = set()
    for part in text.replace(" ", ",").split(","):
        if part:
            if not part.isdigit():
                raise ConfigError(
                    f"allowed_bot_ids: {part!r} is not a numeric user id",
                    "list numeric GitHub user ids, e.g. 41898282",
                )
            bots.add(int(part))
    return frozenset(bots)


def _throttle(get: Callable[[str, str], str]) -> float:
    throttle_text = get("RATCHET_GITHUB_THROTTLE", "1")
    try:
        throttle = float(throttle_text)
    except ValueError:
        throttle = -1.0
    if not 0 <= throttle <= 60:
        raise ConfigError(
            f"RATCHET_GITHUB_THROTTLE: {throttle_text!r} is not a number of seconds "
            "between 0 and 60",
            "leave it unset (1 second between GitHub API writes), or e.g. 0 for a GitHub "
            "Enterprise Server without rate limits",
        )
    return throttle


def _stage(text: str) -> str | None:
    if text not in ("", "propose", "publish"):
        raise ConfigError(f"RATCHET_STAGE: {text!r} is not a stage of the split workflow",
                          "use propose or publish (the evaluate job runs `ratchet evaluate`), "
                          "or leave it empty for the one-job run")  # fmt: skip
    return text or None
