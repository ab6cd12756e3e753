"""`ratchet run`: the loop on a local checkout."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ratchet.commands.wiring import make_driver, make_model_factory, open_memory
from ratchet.config import Settings
from ratchet.core import rounds
from ratchet.core.iteration import Result
from ratchet.core.outcome import Outcome, is_kept
from ratchet.environment import Environment
from ratchet.errors import ConfigError
from ratchet.progress import Reporter
from ratchet.redact import redactor_from_env
from ratchet.session import RunOptions, build_settings, run_id

if TYPE_CHECKING:
    from ratchet.driver import Driver


def cmd_run(args: argparse.Namespace, env: Environment) -> int:
    from ratchet.config import ITERATIONS, MAX_MINUTES
    from ratchet.workspace import git as gitops

    low, high = ITERATIONS
    if args.iterations is not None and not low <= args.iterations <= high:
        raise ConfigError(f"--iterations must be between {low} and {high}", "e.g. --iterations 3")
    low_m, high_m = MAX_MINUTES
    if args.max_minutes is not None and not low_m < args.max_minutes <= high_m:
        raise ConfigError(f"--max-minutes must be above {low_m} and at most {high_m}",
                          "e.g. --max-minutes 20")  # fmt: skip
    reporter = Reporter(redact=redactor_from_env(env), quiet=args.quiet)
    repo = gitops.open_repo(args.repo.resolve())
    opts = RunOptions(
        repo=args.repo,
        task=args.task,
        task_key=args.task_key,
        test_command=args.test_command,
        iterations=args.iterations,
        max_minutes=args.max_minutes,
        base_branch=args.base_branch,
        offline_playbook=args.offline_playbook,
        model=args.model,
        memory=args.memory,
    )
    settings = build_settings(opts, repo, env)
    factory = make_model_factory(settings, args.offline_playbook)
    store = open_memory(settings.config.memory, repo, reporter, env)
    reporter.info(f"task {settings.task_key}: {settings.task_text}", style="bold")
    reporter.info(
        f"tests: {settings.test_command} ({settings.test_command_source}); memory: {store.name}"
    )
    driver = make_driver(settings, repo, store, reporter, run_id(env), factory, env)
    try:
        with gitops.task_lock(repo, settings.task_key):
            iterate_until_done(driver, run_limits(settings), reporter,
                               lambda r: print_summary(reporter, r))  # fmt: skip
    except BaseException:
        reporter.end_phase(ok=False)
        raise
    finally:
        reporter.close()
    return 0


def iterate_until_done(
    driver: Driver,
    limits: rounds.RunLimits,
    reporter: Reporter,
    after: Callable[[Result], None],
) -> tuple[int, str]:
    """Up to ``limits.iterations`` iterations of ``driver`` in a row, ``after`` each, until
    :func:`ratchet.core.rounds.stop_reason` says stop: (how many ran, why they stopped)."""
    started = time.monotonic()
    done: list[rounds.Done] = []
    while True:
        if limits.iterations > 1:
            reporter.info(f"— iteration {len(done) + 1} of {limits.iterations} —", style="bold")
        t0 = time.monotonic()
        result = driver.iterate()
        after(result)
        done.append(rounds.Done(result.outcome, time.monotonic() - t0, result.failing_left))
        why = rounds.stop_reason(done, time.monotonic() - started, limits)
        if why is not None:
            if limits.iterations > 1:
                reporter.info(f"stopped after {len(done)} iteration(s): {why}")
            return len(done), why


def run_limits(settings: Settings) -> rounds.RunLimits:
    """How many attempts this run may make, within how many seconds."""
    minutes = settings.max_minutes
    return rounds.RunLimits(settings.iterations, minutes * 60 if minutes is not None else None)


def print_summary(reporter: Reporter, r: Result) -> None:
    """The short summary on stdout (progress goes to stderr): title, verdict, score, tokens
    and their cost."""
    from rich.console import Console

    from ratchet.core import money

    if r.score_after is not None:
        score = f"score {r.score_before} → {r.score_after}"
    elif r.score_before is not None:
        score = f"score {r.score_before} (nothing was tested)"
    else:
        score = ""
    if r.attempt:
        title = r.title or (
            "(no change proposed)" if r.outcome == Outcome.NO_CHANGE else "(no usable proposal)"
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
        + (f"; cost {money.usd(r.cost_usd)}" if r.cost_usd is not None else "")
    )
    out = Console(highlight=False, soft_wrap=True)
    out.rule("summary")
    for line in lines:
        out.print(reporter.redact(line), markup=False, highlight=False)
