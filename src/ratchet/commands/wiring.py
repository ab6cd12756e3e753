"""How a command builds what an iteration needs: the model, the memory, the sandbox, the world
the tests see, and the driver that ties them together. ``ratchet run`` and ``ratchet action``
(and ``history``) share these, so no command imports another."""

from __future__ import annotations

from pathlib import Path

from ratchet.config import Settings
from ratchet.driver import Driver, ModelFactory
from ratchet.environment import Environment
from ratchet.errors import ConfigError
from ratchet.memory.base import MemoryStore
from ratchet.model.base import ChatModel
from ratchet.progress import Reporter
from ratchet.records import MemoryRecord


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
    memory: str,
    repo,  # noqa: ANN001
    reporter: Reporter,
    env: Environment,
    git_env: dict[str, str] | None = None,
) -> MemoryStore:
    """The memory store chosen by the config's ``memory`` key and the environment."""
    from ratchet.memory.factory import choose_backend, open_store
    from ratchet.workspace import git as gitops

    return open_store(
        choose_backend(memory, env),
        repo_path=Path(repo.working_dir),
        state_dir=gitops.state_dir(repo),
        env=env,
        warn=reporter.warn,
        git_env=git_env,
    )


def choose_and_report_sandbox(
    reporter: Reporter, env: Environment, configured: str = "auto", test_user: str = "auto"
):
    """The test sandbox for this run, announced (with its weakness, if any, and the account
    the tests run as when Ratchet is root). Raises ConfigError when it cannot hide this
    process's credentials from the tests and was not chosen by name (fail closed)."""
    from ratchet.evaluate.exposure import refuse_exposure
    from ratchet.evaluate.sandbox import choose_sandbox

    sandbox = choose_sandbox(configured, environ=env, test_user=test_user)
    weak = f" ({sandbox.warning})" if sandbox.warning else ""
    reporter.info(f"test sandbox: {sandbox.name}{weak}")
    if sandbox.user is not None:
        reporter.info(f"tests run as: {sandbox.user.describe()}")
    refuse_exposure(sandbox, env, configured)
    return sandbox


def prepare_evaluation(
    settings: Settings, repo, reporter: Reporter, sandbox, env: Environment  # noqa: ANN001
):
    """The world the tests will see (prepared directories, toolchains), announced with the
    runner and whether its results are per test."""
    from ratchet.evaluate import explain
    from ratchet.evaluate.world import discover

    world = discover(
        Path(repo.working_dir), prepared_paths=settings.config.prepared_paths, environ=env
    )
    for name, line in explain.lines(
        settings.test_command, Path(repo.working_dir), sandbox, world, settings.config.junit_path
    ):
        reporter.info(f"{name}: {line}")
    if world.skipped:
        reporter.warn(
            "not shared with the tests (they look like credentials): " + ", ".join(world.skipped)
        )
    return world


def make_driver(
    settings: Settings,
    repo,  # noqa: ANN001
    store: MemoryStore,
    reporter: Reporter,
    run_id: str,
    model_factory: ModelFactory,
    env: Environment,
) -> Driver:
    """The driver of one task's iterations, with the sandbox chosen and the tests' world
    prepared (both announced on the reporter)."""
    from ratchet.evaluate.testbed import TestBed

    sandbox = choose_and_report_sandbox(
        reporter, env, settings.config.sandbox, settings.config.test_user
    )
    world = prepare_evaluation(settings, repo, reporter, sandbox, env)
    return Driver(
        settings=settings,
        repo=repo,
        store=store,
        model_factory=model_factory,
        reporter=reporter,
        run_id=run_id,
        testbed=TestBed(settings, repo, reporter, sandbox=sandbox, world=world, env=env),
    )
