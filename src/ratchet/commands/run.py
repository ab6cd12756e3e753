"""`ratchet run`: the loop on a local checkout."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ratchet.config import Settings
from ratchet.core.outcome import is_kept
from ratchet.errors import ConfigError
from ratchet.loop import Loop, Result
from ratchet.memory.base import MemoryStore
from ratchet.model.base import ChatModel
from ratchet.progress import Reporter
from ratchet.records import MemoryRecord
from ratchet.redact import redactor_from_env
from ratchet.session import RunOptions, build_settings, run_id


def make_model_factory(settings: Settings, playbook: Path | None):
    """A factory giving the model for one iteration (the offline stand-in needs the memory)."""
    if playbook is not None:
        from ratchet.model.offline import OfflineModel

        if not playbook.is_file():
            raise ConfigError(f"offline playbook {playbook} not found", "pass an existing file")

        def offline(history: list[MemoryRecord]) -> ChatModel:
            return OfflineModel(playbook, history)

        return offline
    if not settings.minimax_api_key:
        raise ConfigError(
            "MINIMAX_API_KEY is not set",
            "export MINIMAX_API_KEY=<your key> (MINIMAX_BASE_URL=https://api.minimaxi.com for a "
            "China-region key), or try `ratchet demo`, which runs offline",
        )
    from ratchet.model.minimax import MiniMaxClient

    client = MiniMaxClient(
        settings.minimax_api_key,
        base_url=settings.minimax_base_url,
        model=settings.model,
        api=settings.config.api,
    )

    def online(history: list[MemoryRecord]) -> ChatModel:
        return client

    return online


def open_memory(
    memory: str, repo, reporter: Reporter, git_env: dict[str, str] | None = None
) -> MemoryStore:
    """The memory store chosen by the config's ``memory`` key and the environment."""
    from pathlib import Path

    from ratchet.memory.factory import choose_backend, open_store
    from ratchet.workspace import git as gitops

    return open_store(
        choose_backend(memory, os.environ),
        repo_path=Path(repo.working_dir),
        state_dir=gitops.state_dir(repo),
        warn=reporter.warn,
        git_env=git_env,
    )


def choose_and_report_sandbox(reporter: Reporter):
    """The test sandbox for this run, announced (with its weakness, if any)."""
    from ratchet.evaluate.sandbox import choose_sandbox

    sandbox = choose_sandbox()
    weak = f" ({sandbox.warning})" if sandbox.warning else ""
    reporter.info(f"test sandbox: {sandbox.name}{weak}")
    return sandbox


def prepare_evaluation(settings: Settings, repo, reporter: Reporter, sandbox):  # noqa: ANN001
    """The world the tests will see (prepared directories, toolchains), announced with the
    runner and whether its results are per test."""
    from ratchet.evaluate import explain
    from ratchet.evaluate.world import discover

    world = discover(Path(repo.working_dir), prepared_paths=settings.config.prepared_paths)
    for name, line in explain.lines(
        settings.test_command, Path(repo.working_dir), sandbox, world, settings.config.junit_path
    ):
        reporter.info(f"{name}: {line}")
    if world.skipped:
        reporter.warn(
            "not shared with the tests (they look like credentials): " + ", ".join(world.skipped)
        )
    return world


def cmd_run(args: argparse.Namespace) -> int:
    from ratchet.workspace import git as gitops

    if args.iterations < 1:
        raise ConfigError("--iterations must be at least 1", "e.g. --iterations 3")
    reporter = Reporter(redact=redactor_from_env(), quiet=args.quiet)
    repo = gitops.open_repo(args.repo.resolve())
    opts = RunOptions(
        repo=args.repo,
        task=args.task,
        task_key=args.task_key,
        test_command=args.test_command,
        iterations=args.iterations,
        base_branch=args.base_branch,
        offline_playbook=args.offline_playbook,
        model=args.model,
    )
    settings = build_settings(opts, repo)
    factory = make_model_factory(settings, args.offline_playbook)
    store = open_memory(settings.config.memory, repo, reporter)
    reporter.info(f"task {settings.task_key}: {settings.task_text}", style="bold")
    reporter.info(
        f"tests: {settings.test_command} ({settings.test_command_source}); memory: {store.name}"
    )
    sandbox = choose_and_report_sandbox(reporter)
    world = prepare_evaluation(settings, repo, reporter, sandbox)
    loop = Loop(
        settings=settings,
        repo=repo,
        store=store,
        model_factory=factory,
        reporter=reporter,
        run_id=run_id(os.environ),
        sandbox=sandbox,
        world=world,
    )
    try:
        with gitops.task_lock(repo, settings.task_key):
            for i in range(settings.iterations):
                if settings.iterations > 1:
                    reporter.info(f"— iteration {i + 1} of {settings.iterations} —", style="bold")
                result = loop.iterate()
                print_summary(reporter, result)
                if result.outcome in ("budget", "no_change"):
                    break
    except BaseException:
        reporter.end_phase(ok=False)
        raise
    finally:
        reporter.close()
    return 0


def print_summary(reporter: Reporter, r: Result) -> None:
    """The short summary on stdout (progress goes to stderr): title, verdict, score, tokens."""
    from rich.console import Console

    if r.score_after is not None:
        score = f"score {r.score_before} → {r.score_after}"
    elif r.score_before is not None:
        score = f"score {r.score_before} (nothing was tested)"
    else:
        score = ""
    if r.attempt:
        title = r.title or (
            "(no change proposed)" if r.outcome == "no_change" else "(no usable proposal)"
        )
        lines = [f"attempt {r.attempt}: {title}"]
    else:
        lines = ["no attempt made"]
    lines.append(f"verdict: {r.outcome}" + (f" — {r.detail}" if r.detail else ""))
    if score:
        lines.append(score)
    if r.commit:
        lines.append(f"committed {r.commit[:10]} on {r.branch}")
    elif r.outcome and not is_kept(r.outcome):
        lines.append(f"nothing committed; {r.branch} unchanged")
    lines.append(
        f"tokens: {r.usage.total_tokens} (prompt {r.usage.prompt_tokens}, "
        f"completion {r.usage.completion_tokens})"
    )
    out = Console(highlight=False, soft_wrap=True)
    out.rule("summary")
    for line in lines:
        out.print(reporter.redact(line), markup=False, highlight=False)
