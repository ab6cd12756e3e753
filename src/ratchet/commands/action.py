"""`ratchet action`: the GitHub Actions entrypoint.

Reads the Actions environment exactly as given (so tests can point it at fakes), decides from
the event what to do (intent.py), checks who asked (collaborator permission API), then runs up
to `iterations` attempts and publishes each kept one as it is committed (publisher.py): push
`ratchet/<task>` with a lease, open or update the task's one PR, keep a sticky status comment,
and at the end write the step summary and outputs. Each attempt is recorded before anything is
published. It never ends silently: failures are reported in the
status comment too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ratchet.config import DEFAULT_TRIGGER, RepoConfig, Settings, check_task_key
from ratchet.core import keys, publish, steering
from ratchet.core.iteration import Result
from ratchet.core.outcome import NoAttempt, Phase
from ratchet.environment import Environment
from ratchet.errors import ConfigError, RatchetError
from ratchet.github.env import ActionEnv
from ratchet.github.status import Status
from ratchet.intent import Intent, Skip, parse_event
from ratchet.progress import Reporter
from ratchet.records import MemoryRecord
from ratchet.redact import redactor_from_env

if TYPE_CHECKING:
    from ratchet.github.branch import RemoteBranch

HANDLED_EVENTS = frozenset(
    {"schedule", "workflow_dispatch", "issue_comment", "pull_request_review", "pull_request"}
)


def cmd_action(args: argparse.Namespace, env: Environment) -> int:
    from ratchet.github import actions

    aenv = ActionEnv.from_environ(env)
    redact = redactor_from_env(env)
    for secret in (aenv.token, aenv.publish_token, env.minimax_api_key, env.mem0_api_key):
        if secret:
            actions.mask(secret)
    try:
        payload = json.loads(Path(aenv.event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"ratchet: cannot read the event payload {aenv.event_path}: {exc}; nothing to do")
        actions.set_outputs(aenv.output, {"outcome": "skipped"})
        return 0
    return Action(aenv, payload, redact, env).run()


class Action:
    def __init__(
        self,
        aenv: ActionEnv,
        payload: Mapping[str, Any],
        redact: Callable[[str], str],
        env: Environment,
    ) -> None:
        self.aenv, self.payload, self.redact, self.env = aenv, payload, redact, env
        self.reporter = Reporter(redact=redact, live=False, groups=True, file=sys.stdout)
        self.status: Status | None = None
        self.outputs: dict[str, str | int | None] = {"outcome": "skipped"}

    # -- entry ------------------------------------------------------------------------------
    def run(self) -> int:
        from ratchet.github import actions

        try:
            return self._run()
        except RatchetError as exc:
            self.reporter.end_phase(ok=False)
            self.outputs["outcome"] = "error"
            if self.status is not None:
                self.status.post(
                    phase=None,
                    result=None,
                    error=f"{exc}" + (f"\n\n{exc.hint}" if exc.hint else ""),
                )
            raise
        except Exception as exc:  # a bug: still never end silently
            self.reporter.end_phase(ok=False)
            self.outputs["outcome"] = "error"
            if self.status is not None:
                self.status.post(
                    phase=None,
                    result=None,
                    error=f"Ratchet hit an unexpected error ({type(exc).__name__}); "
                    "see the run log.",
                )
            raise
        finally:
            actions.set_outputs(self.aenv.output, self.outputs)

    def _run(self) -> int:
        a = self.aenv
        if a.event_name not in HANDLED_EVENTS:  # before any I/O: one log line, exit 0
            print(f"ratchet: event {a.event_name!r} is not handled by Ratchet; nothing to do")
            return 0
        base_guess, cfg = self._checkout()
        trigger = a.trigger_phrase or cfg.trigger_phrase or DEFAULT_TRIGGER
        intent = parse_event(a.event_name, self.payload, trigger)
        if isinstance(intent, Skip):
            print(f"ratchet: {intent.reason}; nothing to do")
            return 0
        gh = self._clients()
        if not self._authorised(intent):
            return 0
        key = self._task_key(intent, cfg.task)
        if key is None:
            return 0
        if a.stage and intent.event not in ("schedule", "workflow_dispatch"):
            raise ConfigError(f"the split workflow runs scheduled and manual runs, not "
                              f"{intent.event}", "let comments and reviews trigger the one-job "
                              "workflow (ratchet.yml)")  # fmt: skip
        if intent.comment_id is not None:
            gh.react(intent.comment_id, "eyes")
        branch = keys.branch_of(key)
        pr = gh.find_task_pr(key, branch)
        # the propose job has no write token: the publish job reports
        target = None if a.stage == "propose" else (
            intent.issue_number or intent.pr_number or (pr.number if pr else None))
        self.status = Status(gh, target, key, a, trigger, self.reporter.warn, self.redact)
        if pr is not None:
            self.status.pr_url = pr.url
        self.outputs.update(
            branch=branch, pr_number=pr.number if pr else None, pr_url=pr.url if pr else None
        )

        store = self._store(self.repo, key, cfg)
        self.reporter.info(f"task {key} ({intent.event}); memory: {store.name}")
        if intent.action == "closed":
            return self._closed(intent, key, store, pr)
        if intent.action == "command":
            return self._command(intent, key, base_guess, store, trigger)
        paused = steering.state_of(store.records(key))
        if intent.action == "feedback":
            self._feedback(intent, key, store)
            if not intent.also_iterate or paused.paused:
                notice = "Review remembered: the next iteration will take it into account."
                if paused.paused:
                    notice += " The task is paused, so nothing was tried now."
                self.status.post(phase=None, result=None, notice=notice)
                self.outputs["outcome"] = "feedback"
                return 0
        if paused.paused:
            return self._paused(intent, paused, trigger)
        return self._iterate(intent, key, base_guess, store, pr, trigger)

    def _clients(self) -> Any:
        """The GitHub client (``self.gh``) and the one that pushes and opens the PR
        (``self.publish_gh``): with a GitHub App or fine-grained ``publish_token`` those start
        the repository's own workflows, which GITHUB_TOKEN's events never do."""
        from ratchet.github.client import GitHubClient

        a = self.aenv

        def client(token: str) -> GitHubClient:
            return GitHubClient(token, a.repository, api_url=a.api_url,
                                seconds_between_writes=a.github_throttle,
                                seconds_between_requests=a.github_throttle / 4)  # fmt: skip

        self.gh = client(a.token)
        self.publish_gh = client(a.publish_token) if a.publish_token else self.gh
        return self.gh

    # -- steering -------------------------------------------------------------------------------
    def _command(self, intent: Intent, key: str, base: str, store: Any, trigger: str) -> int:
        """A command other than next: carried out over memory, answered in a new comment."""
        from ratchet.commands.steer import Steerer

        assert intent.command is not None and intent.actor is not None
        settings = self._settings(key, base, None)
        steerer = Steerer(store, settings, trigger, self._run_id(), self.redact)
        reply = steerer.run(intent.command, intent.actor.login)
        self._reply(intent, reply.text)
        self.outputs["outcome"] = "command"
        print(f"ratchet: {intent.command.verb} for task {key}"
              + (" (refused)" if reply.refused else ""))  # fmt: skip
        return 0

    def _paused(self, intent: Intent, state: steering.TaskState, trigger: str) -> int:
        base, _ = steering.command_base(trigger)
        who = f" by {steering.who(state.paused_by)}" if state.paused_by else ""
        msg = f"This task is paused{who}, so nothing was tried. `{base} resume` continues it."
        if intent.comment_id is not None:
            self._reply(intent, msg)
        print(f"ratchet: {msg}")
        self.outputs["outcome"] = NoAttempt.PAUSED
        return 0

    def _reply(self, intent: Intent, text: str) -> None:
        number = intent.issue_number or intent.pr_number
        if number is None:
            return
        body = self.redact(text)
        if intent.actor is not None:
            body = f"@{intent.actor.login}\n\n{body}"
        self.gh.reply(number, body)

    def _checkout(self) -> tuple[str, Any]:
        """Open the workspace's repository, fetch the default branch, and read the config
        there (the trigger phrase may come from it): (the base branch's name, the config)."""
        from ratchet.github.branch import fetch_branch
        from ratchet.session import load_repo_config
        from ratchet.workspace import git as gitops
        from ratchet.workspace.gitcmd import auth_env

        a = self.aenv
        repo_meta = self.payload.get("repository") if isinstance(self.payload, Mapping) else None
        default_branch = repo_meta.get("default_branch") if isinstance(repo_meta, Mapping) else None
        self.git_env = auth_env(a.token, a.server_url)
        self.publish_git_env = (
            auth_env(a.publish_token, a.server_url) if a.publish_token else self.git_env
        )
        self.repo = gitops.open_repo(a.workspace)
        base_guess = str(default_branch or "main")
        if fetch_branch(Path(self.repo.working_dir), base_guess, self.git_env) is None:
            raise ConfigError(
                f"the base branch {base_guess!r} is not on origin",
                "check the repository's default branch",
            )
        config_path = a.config or ".github/ratchet.yml"
        cfg, _ = load_repo_config(self.repo, base_guess, config_path, True)
        return base_guess, cfg

    # -- who may ask --------------------------------------------------------------------------
    def _authorised(self, intent: Intent) -> bool:
        decision = publish.who_asks(intent, self.aenv.allowed_bot_ids)
        if isinstance(decision, publish.AskRole):
            decision = publish.role_allows(decision.login, self.gh.permission(decision.login))
        if isinstance(decision, publish.Refused):
            print(f"ratchet: {decision.reason}")
            return False
        return True

    def _task_key(self, intent: Intent, config_task: str | None) -> str | None:
        if self.aenv.task_key and intent.event in ("schedule", "workflow_dispatch"):
            return check_task_key(self.aenv.task_key)  # one job of a fleet (`ratchet plan`)
        configured = self.aenv.task or config_task
        key = publish.task_key_for(intent, configured, self.aenv.repository)
        if isinstance(key, publish.AskPull):
            pull = self.gh.pull(key.number)
            key = publish.task_key_for(intent, configured, self.aenv.repository, pull)
        if isinstance(key, publish.Refused):
            print(f"ratchet: {key.reason}")
            return None
        if isinstance(key, publish.NeedsTask):
            raise ConfigError(
                f"the {key.event} event needs a task, and none is configured",
                "set `task:` in .github/ratchet.yml or the action's `task` input",
            )
        assert isinstance(key, str)
        return key

    # -- memory -------------------------------------------------------------------------------
    def _store(self, repo: Any, key: str, cfg: Any):
        from ratchet.commands.wiring import open_memory

        return open_memory(cfg.memory, repo, self.reporter, self.env, self.git_env)

    def _feedback(self, intent: Intent, key: str, store: Any) -> None:
        from ratchet.github.outcomes import feedback_record

        inline: list[tuple[str, int | None, str]] = []
        if intent.review_id is not None and intent.pr_number is not None:
            inline = list(self.gh.review(intent.pr_number, intent.review_id).comments)
        rec = feedback_record(intent, key, inline, self._run_id())
        store.add(rec.replace(detail=self.redact(rec.detail)))

    def _closed(self, intent: Intent, key: str, store: Any, pr: Any) -> int:
        from ratchet.github.branch import delete_with_lease
        from ratchet.github.outcomes import closed_records

        records = closed_records(intent, key, store.records(key), self._run_id())
        for rec in records:
            store.add(rec.replace(detail=self.redact(rec.detail), title=self.redact(rec.title)))
        if intent.head_sha:  # the next run of this task starts again from the base branch
            delete_with_lease(
                Path(self.repo.working_dir), keys.branch_of(key), intent.head_sha, self.git_env
            )
        self.outputs["outcome"] = records[0].outcome
        print(f"ratchet: remembered that #{intent.pr_number} was {records[0].outcome}")
        return 0

    def _run_id(self) -> str:
        return f"gh-{self.aenv.run_id}-{self.aenv.run_attempt}"

    # -- one iteration ---------------------------------------------------------------------
    def _task_text(self, intent: Intent, key: str, cfg: RepoConfig) -> str:
        number = publish.issue_of(intent, key)
        listed = cfg.task_text(key)
        configured = self.aenv.task or listed or cfg.task
        if self.aenv.task_key and number is None and not self.aenv.task and listed is None:
            raise ConfigError(
                f"task {key!r} is neither an issue (issue-<N>) nor a task of the config",
                "add it to `tasks:` in .github/ratchet.yml ({key: ..., task: ...}), or pass "
                "its text in the `task` input",
            )
        if number is None:
            return publish.task_text(intent, key, configured)
        issue = self.gh.issue(number)
        writers = {a for a in publish.authors_to_check(issue)
                   if self.gh.permission(a) in publish.WRITE_ROLES}  # fmt: skip
        return publish.task_text(intent, key, configured, issue, writers)

    def _iterate(
        self, intent: Intent, key: str, base: str, store: Any, pr: Any, trigger: str
    ) -> int:
        """Up to ``iterations`` attempts in a row (see core/rounds.py), each kept one published
        as soon as it is committed."""
        from ratchet.commands.publisher import Publisher
        from ratchet.commands.run import iterate_until_done, run_limits
        from ratchet.commands.wiring import make_driver, make_model_factory
        from ratchet.github import actions
        from ratchet.workspace import git as gitops

        status = self.status
        assert status is not None
        status.phase(Phase.RECALL)
        prepared = self._prepare_branch(intent, key, base)
        if prepared is None:
            return 0
        settings, remote, base_sha = prepared
        if self.aenv.stage is not None:
            return self._stage(key, settings, store, pr, trigger, remote, base_sha)
        self.reporter.on_phase = status.phase
        factory = make_model_factory(settings, None)
        driver = make_driver(
            settings, self.repo, store, self.reporter, self._run_id(), factory, self.env
        )
        limits = run_limits(settings)

        def after(result: Result) -> None:
            self.reporter.close()
            if result.test_output:
                with actions.group("test output of the change (as printed by the test command)"):
                    actions.echo_untrusted(self.redact(result.test_output))
            out.iteration(result, limits.iterations)
            print(self.redact(f"ratchet: {result.outcome}: {result.title or result.detail}"))

        with gitops.task_lock(self.repo, key):
            lease, moved = self._follow_base(key, remote, base_sha, store, driver.testbed)
            out = Publisher(self, key, settings, store, pr, trigger, lease, base_sha)
            out.notice = moved
            _count, why = iterate_until_done(driver, limits, self.reporter, after)
        self.reporter.on_phase = None
        out.finish(why, limits.iterations)
        return 0

    def _prepare_branch(
        self, intent: Intent, key: str, base: str
    ) -> tuple[Settings, RemoteBranch, str] | None:
        """(settings, origin's view of the task branch, base sha), or None when a person
        pushed to the task branch (said in the status comment)."""
        from ratchet.github.branch import inspect
        from ratchet.workspace import git as gitops
        from ratchet.workspace.gitcmd import git

        repo, root = self.repo, Path(self.repo.working_dir)
        branch = keys.branch_of(key)
        settings = self._settings(key, base, "-")  # the base branch and the task from the config
        base_sha = gitops.base_ref(repo, settings.base_branch or base, True)
        remote = inspect(root, branch, base_sha, self.git_env)
        if remote.foreign_authors:
            msg = publish.foreign_push_notice(branch, remote.foreign_authors)
            assert self.status is not None
            self.status.post(phase=None, result=None, notice=msg)
            self.outputs["outcome"] = "blocked"
            print(f"ratchet: {msg}")
            return None
        # the task branch starts from origin's tip (or the base if there is none yet)
        git(root, "update-ref", f"refs/heads/{branch}", remote.sha or base_sha)
        task = self._task_text(intent, key, settings.config)
        return self._settings(key, base, task), remote, base_sha

    def _stage(self, key: str, settings: Settings, store: Any, pr: Any, trigger: str,
               remote: RemoteBranch, base_sha: str) -> int:  # fmt: skip
        """One job of the split workflow (commands/stages.py)."""
        from ratchet.commands import stages
        from ratchet.commands.publisher import Publisher

        if self.aenv.stage == "propose":
            return stages.propose(self, key, settings, store, remote)
        result = stages.publish(self, key, settings, store, remote)
        out = Publisher(self, key, settings, store, pr, trigger, remote.sha, base_sha)
        out.iteration(result, 1)
        out.finish(None, 1)
        print(self.redact(f"ratchet: {result.outcome}: {result.title or result.detail}"))
        return 0

    def _follow_base(
        self, key: str, remote: RemoteBranch, base_sha: str, store: Any, testbed: Any
    ) -> tuple[str | None, str]:
        """Carry the task branch onto the base branch's new tip when it moved (rebased,
        rebuilt, or restarted when nothing applies or the suite judges the result worse than
        the base), push it with a lease and remember what happened: (origin's tip of the task
        branch now, what to tell people; "" when the base had not moved)."""
        from ratchet.evaluate.verdict import judge
        from ratchet.github.branch import push_with_lease
        from ratchet.workspace import follow
        from ratchet.workspace.gitcmd import git

        if remote.sha is None:
            return None, ""
        root, branch = Path(self.repo.working_dir), keys.branch_of(key)
        moved = follow.follow(root, remote.sha, base_sha)
        if moved.how == follow.CURRENT:
            return remote.sha, ""
        verdict = (judge(testbed.baseline(base_sha), testbed.baseline(moved.tip))
                   if moved.tip != base_sha else None)  # fmt: skip
        tip, how, refused = publish.kept_after_follow(
            moved.how, moved.tip, base_sha, verdict.outcome if verdict else "",
            verdict.reason if verdict else "",
        )
        text = publish.follow_notice(how, base_sha, moved.carried, moved.dropped, refused)
        self.reporter.info(text)
        git(root, "update-ref", f"refs/heads/{branch}", tip)
        push_with_lease(root, tip, branch, remote.sha, self.publish_git_env)
        store.add(MemoryRecord(kind="branch", task=key, outcome=how, detail=self.redact(text),
                               branch=branch, commit=tip, run_id=self._run_id()))  # fmt: skip
        return tip, text

    def _settings(self, key: str, base: str, task: str | None) -> Settings:
        """The task's settings from the config on the base branch (``task`` None: for a
        command, which needs no task text or test command)."""
        from ratchet.session import RunOptions, build_settings

        a = self.aenv
        opts = RunOptions(
            repo=Path(self.repo.working_dir),
            task=task,
            task_key=key,
            test_command=a.test_command,
            iterations=a.iterations,
            max_minutes=a.max_minutes,
            default_base=base,
            remote_base=True,
            config_path=a.config or ".github/ratchet.yml",
        )
        return build_settings(opts, self.repo, self.env, need_task=task is not None)
