"""Turn CLI options + environment + the repository into a validated Settings and open stores.

This is the I/O edge for configuration: it reads `.github/ratchet.yml` from the base branch
(never from Ratchet's working tree), detects the test command when none is configured, and picks
the memory backend.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ratchet.config import (
    CONFIG_PATH,
    DEFAULT_MODEL,
    RepoConfig,
    Settings,
    check_task_key,
    check_url,
    parse_repo_config,
)
from ratchet.core.keys import slugify
from ratchet.environment import Environment, current
from ratchet.errors import ConfigError
from ratchet.workspace import git as gitops

if TYPE_CHECKING:
    import git


@dataclass(frozen=True)
class RunOptions:
    repo: Path
    task: str | None = None
    task_key: str | None = None
    test_command: str | None = None
    iterations: int | None = None  # None: the config's `iterations`
    max_minutes: float | None = None  # None: the config's `max_minutes`
    base_branch: str | None = None
    offline_playbook: Path | None = None
    model: str | None = None
    config_path: str = CONFIG_PATH
    default_base: str | None = None  # first guess for the base (CI: the repository default)
    remote_base: bool = False  # CI: the base is origin/<base>, just fetched
    memory: str | None = None  # None: the config's `memory`


def load_repo_config(
    repo: git.Repo, base_branch: str, path: str = CONFIG_PATH, remote: bool = False
) -> tuple[RepoConfig, str]:
    """The repository config from the base branch; (config, where it came from)."""
    sha = gitops.base_ref(repo, base_branch, prefer_remote=remote)
    text = gitops.show_file(repo, sha, path)
    if text is not None:
        return parse_repo_config(text, f"{path} (on {base_branch})"), f"{base_branch}"
    if path != CONFIG_PATH:
        raise ConfigError(
            f"config file {path} is not on branch {base_branch}",
            "commit it there, or fix the `config` input",
        )
    return RepoConfig(), "defaults"


def run_id(environ: Mapping[str, str]) -> str:
    gh = environ.get("GITHUB_RUN_ID", "").strip()
    if gh:
        return f"gh-{gh}-{environ.get('GITHUB_RUN_ATTEMPT', '1').strip() or '1'}"
    return f"local-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def build_settings(
    opts: RunOptions,
    repo: git.Repo,
    env: Environment | None = None,
    *,
    need_task: bool = True,
) -> Settings:
    """Merge flags > environment > repository config > defaults. Raises ConfigError/GitError."""
    env = env if env is not None else current()
    root = Path(repo.working_dir)
    cfg, base = _config_and_base(opts, repo)

    task_text = (opts.task or cfg.task or "").strip()
    if need_task and not task_text:
        raise ConfigError(
            "no task given",
            f'pass --task "what to build", or add `task: ...` to {CONFIG_PATH} on {base}',
        )
    key = opts.task_key or (slugify(task_text) if task_text else "")
    if key:
        check_task_key(key)

    command, source = _test_command(opts, cfg, root, need_task)

    model = opts.model or env.model or cfg.model or DEFAULT_MODEL
    settings = Settings(
        repo=root,
        task_text=task_text,
        task_key=key,
        test_command=command,
        test_command_source=source,
        base_branch=base,
        config=cfg,
        model=model,
        minimax_api_key=env.minimax_api_key,
        # URLs are checked only where they are used (history/forget never call the services)
        minimax_base_url=(
            check_url("MINIMAX_BASE_URL", env.minimax_base_url)
            if need_task
            else env.minimax_base_url
        ),
        iterations=opts.iterations or cfg.iterations,
        max_minutes=opts.max_minutes or cfg.max_minutes,
        base_remote=opts.remote_base,
    )
    if cfg.budget.usd is not None and settings.rate is None:
        raise ConfigError(
            f"budget.usd is set, but model {model!r} has no price, so its cost is unknown",
            f"add its price to {CONFIG_PATH}, e.g. pricing: {{{model}: {{input: 0.30, "
            "output: 1.20}} (US dollars per million tokens), or remove budget.usd",
        )
    return settings


def _config_and_base(opts: RunOptions, repo: git.Repo) -> tuple[RepoConfig, str]:
    """The repository config (with the flags that override its keys) and the base branch.
    The config may name the base branch, but it is read from the base branch: resolve a first
    guess, read, then honour base_branch from the config if no flag was given."""
    base = gitops.resolve_base_branch(repo, opts.base_branch or opts.default_base)
    cfg, _ = load_repo_config(repo, base, opts.config_path, opts.remote_base)
    if not opts.base_branch and cfg.base_branch and cfg.base_branch != base:
        base = gitops.resolve_base_branch(repo, cfg.base_branch)
        cfg, _ = load_repo_config(repo, base, opts.config_path, opts.remote_base)
    if opts.memory:
        cfg = cfg.model_copy(update={"memory": opts.memory})
    return cfg, base


def _test_command(
    opts: RunOptions, cfg: RepoConfig, root: Path, need_task: bool
) -> tuple[str, str]:
    """(the test command, where it came from): the flag, the config, else detected."""
    if opts.test_command:
        return opts.test_command, "flag"
    if cfg.test_command:
        return cfg.test_command, "config"
    from ratchet.evaluate.detect import detect_test_command

    found = detect_test_command(root)
    if found is not None:
        return found[0], f"detected: {found[1]}"
    if need_task:
        raise ConfigError(
            "no test command configured and none detected",
            f'pass --test-command "..." or set `test_command:` in {CONFIG_PATH}',
        )
    return "", "none"
