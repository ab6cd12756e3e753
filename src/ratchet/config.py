"""Settings: `.github/ratchet.yml` + environment + CLI flags → one validated ``Settings``.

Precedence (highest first): CLI flags, environment, the repository config, defaults.
Unknown keys and wrong types are errors that name the key and say how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ratchet.core import keys, money
from ratchet.errors import ConfigError

CONFIG_PATH = ".github/ratchet.yml"
DEFAULT_MODEL = "MiniMax-M3"
DEFAULT_TRIGGER = "/agent next"


#: the bounds of `iterations` and `max_minutes` (a run's minutes are above the low bound), for
#: the config, the command-line flags and the action's inputs alike
ITERATIONS = (1, 100)
MAX_MINUTES = (0, 360)

class Budget(BaseModel):
    """What one task may spend in all, over every run (``budget:`` in the config)."""

    model_config = ConfigDict(extra="forbid")
    attempts: int = Field(default=30, ge=1, le=10_000)
    tokens: int = Field(default=2_000_000, ge=1_000)
    usd: float | None = Field(default=None, gt=0, le=100_000)  # None: no money limit


class Price(BaseModel):
    """US dollars per million tokens (``pricing: {<model>: {input: ..., output: ...}}``)."""

    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0, le=1_000)
    output: float = Field(ge=0, le=1_000)


class TestLimitsConfig(BaseModel):
    """``test_limits:`` what one test run may use (0: unlimited); see evaluate/limits.py."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")
    processes: int = Field(default=4096, ge=0, le=1_000_000)
    memory_mb: int = Field(default=8192, ge=0, le=1_000_000)
    file_mb: int = Field(default=4096, ge=0, le=1_000_000)
    tmp_mb: int = Field(default=2048, ge=0, le=1_000_000)


class TaskEntry(BaseModel):
    """One more task of the repository (``tasks: [{key: ..., task: ...}]``), for the fleet
    ``ratchet plan`` schedules."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=64)
    task: str = Field(min_length=1, max_length=20_000)

    @field_validator("key")
    @classmethod
    def _usable_key(cls, v: str) -> str:
        problem = keys.key_problem(v)
        if problem is not None or v in keys.RESERVED:
            raise ValueError(
                f"{v!r} is not a usable task key: lowercase letters, digits, '-', '.', '_' "
                "(max 64), not a reserved name, e.g. add-type-hints"
            )
        return v


class RepoConfig(BaseModel):
    """The keys of `.github/ratchet.yml` (all optional)."""

    model_config = ConfigDict(extra="forbid")

    task: str | None = Field(default=None, max_length=20_000)
    test_command: str | None = None
    setup_command: str | None = None
    score_command: str | None = None
    base_branch: str | None = None
    protected_paths: list[str] | None = None
    max_changed_files: int = Field(default=10, ge=1, le=100)
    budget: Budget = Field(default_factory=Budget)
    model: str | None = None
    memory: Literal["auto", "mem0", "ledger", "local"] = "auto"
    trigger_phrase: str = Field(default=DEFAULT_TRIGGER, min_length=2, max_length=100)
    test_timeout: int = Field(default=900, ge=10, le=6 * 3600)
    junit_path: str | None = None
    prepared_paths: list[str] = Field(default_factory=list, max_length=50)
    api: Literal["native", "openai"] = "native"
    #: where the tests run: auto = bwrap, else unshare (root), else none; weaker than bwrap
    #: with credentials in the environment only when named here (RATCHET_SANDBOX overrides)
    sandbox: Literal["auto", "bwrap", "unshare", "none"] = "auto"
    #: who the tests run as when Ratchet is root: auto (nobody), an account name or uid, or
    #: root to accept the risk (RATCHET_TEST_USER overrides; see evaluate/identity.py)
    test_user: str = Field(default="auto", min_length=1, max_length=32)
    pricing: dict[str, Price] = Field(default_factory=dict, max_length=50)
    #: a known flaky test drops off the list after passing in this many evaluated runs
    flaky_forget_after: int = Field(default=10, ge=1, le=1_000)
    #: attempts one run may make in a row
    iterations: int = Field(default=1, ge=ITERATIONS[0], le=ITERATIONS[1])
    #: one run's wall time for them (above the low bound)
    max_minutes: float = Field(default=20, gt=MAX_MINUTES[0], le=MAX_MINUTES[1])
    tasks: list[TaskEntry] = Field(default_factory=list, max_length=500)  # the fleet's
    test_limits: TestLimitsConfig = Field(default_factory=TestLimitsConfig)
    #: open issues with this label are tasks for `ratchet plan` (issue-<N>); "" for none
    task_label: str = Field(default="ratchet", max_length=50)

    @field_validator("test_user")
    @classmethod
    def _account(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z_][a-z0-9_.-]*\$?|[0-9]+", v):
            raise ValueError(
                f"{v!r} is not an account: use auto (nobody), root, an account name such as "
                "nobody, or a numeric uid"
            )
        return v

    @field_validator("tasks")
    @classmethod
    def _distinct_keys(cls, v: list[TaskEntry]) -> list[TaskEntry]:
        seen: set[str] = set()
        for t in v:
            if t.key in seen:
                raise ValueError(f"the key {t.key!r} is listed twice; give each task its own")
            seen.add(t.key)
        return v

    def task_text(self, key: str) -> str | None:
        """The text of the configured task with this key (``task``'s slug, or a ``tasks:``
        entry), None if neither is."""
        for t in self.tasks:
            if t.key == key:
                return t.task
        if self.task and keys.slugify(self.task) == key:
            return self.task
        return None

    @field_validator("score_command")
    @classmethod
    def _score_command_unsupported(cls, v: str | None) -> str | None:
        if v is not None:
            raise ValueError(
                "is not supported yet: the score is computed from the test results "
                "(remove the key)"
            )
        return v

    @field_validator("test_command", "setup_command", "score_command", "base_branch", "model")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be empty")
        return v


_HINTS = {
    "extra_forbidden": "remove it or check the spelling; allowed keys: {allowed}",
    "literal_error": "use one of the allowed values",
    "int_parsing": "write a whole number",
    "string_type": "write a string (quote it in YAML)",
    "list_type": 'write a YAML list, e.g. ["docs/**"]',
    "dict_type": "write a mapping, e.g. {{attempts: 20}}",
    "float_parsing": "write a number, e.g. 2.50",
    "greater_than": "write a number above 0",
    "greater_than_equal": "write a number of at least the minimum",
}


def _format_errors(exc: ValidationError, source: str) -> ConfigError:
    allowed = ", ".join(RepoConfig.model_fields)
    lines = []
    hint = ""
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{source}: key '{key}': {err['msg']}")
        hint = hint or _HINTS.get(err["type"], "fix the value").format(allowed=allowed)
    return ConfigError("; ".join(lines), hint)


def parse_repo_config(text: str, source: str = CONFIG_PATH) -> RepoConfig:
    """Parse and validate the YAML text of a repository config. Raises ConfigError."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{source} is not valid YAML{where}", "fix the YAML syntax (indentation, quotes)"
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping of keys", "e.g. `task: ...` on its own line")
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        raise _format_errors(exc, source) from exc


@dataclass(frozen=True)
class Settings:
    """Everything one run needs to know, validated."""

    repo: Path
    task_text: str
    task_key: str
    test_command: str
    test_command_source: str  # "flag" | "config" | "detected: <why>"
    base_branch: str | None
    config: RepoConfig
    model: str
    minimax_api_key: str | None
    minimax_base_url: str
    iterations: int = 1
    base_remote: bool = False  # CI: the base commit is origin/<base_branch>
    max_minutes: float | None = None  # None: no time limit for the run's iterations

    @property
    def protected_paths(self) -> list[str] | None:
        return self.config.protected_paths

    @property
    def rate(self) -> money.Rate | None:
        """The model's price (the config's ``pricing``, else the defaults), None if unknown."""
        table = {name: money.Rate(p.input, p.output) for name, p in self.config.pricing.items()}
        return money.rate_for(self.model, table)

    @property
    def limits(self) -> money.Limits:
        b = self.config.budget
        return money.Limits(attempts=b.attempts, tokens=b.tokens, usd=b.usd)


def check_task_key(key: str) -> str:
    """``key`` when it is a usable task key (see ``ratchet.core.keys``), else ConfigError."""
    problem = keys.key_problem(key)
    if problem is None:
        return key
    if key in keys.RESERVED:
        raise ConfigError(
            f"task key {key!r} is reserved (branch {keys.PREFIX}{key} holds Ratchet's memory)",
            f"choose another key, e.g. --task-key {key}-task",
        )
    raise ConfigError(
        f"task key {key!r} is not usable as a branch name",
        "use lowercase letters, digits, '-', '.', '_' (max 64), e.g. issue-12",
    )


def check_url(name: str, url: str) -> str:
    if not re.match(r"^https?://[^\s/]+", url):
        raise ConfigError(
            f"{name} must be an http(s) URL, got {url!r}", f"e.g. {name}=https://api.minimax.io"
        )
    return url
