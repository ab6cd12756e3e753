"""The steering commands over one task's memory, shared by comments (``/agent status`` ...) and
the CLI (``ratchet status|forget|stop|resume --task KEY``): read the records, decide
(``core/steering.py``), write a record, and say what happened.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from ratchet.config import Settings
from ratchet.core import flaky, keys, steering, task_report
from ratchet.core.steering import Command, Refusal
from ratchet.environment import Environment
from ratchet.errors import ConfigError
from ratchet.memory.base import MemoryStore
from ratchet.progress import Reporter
from ratchet.records import MemoryRecord
from ratchet.redact import redactor_from_env


@dataclass(frozen=True)
class Reply:
    text: str  # Markdown, for a comment or the terminal
    changed: bool = False  # a record was written
    refused: bool = False  # the command could not be carried out (the text says why)


@dataclass
class Steerer:
    store: MemoryStore
    settings: Settings
    trigger_phrase: str
    run_id: str
    redact: Callable[[str], str]
    cli: bool = False  # replies name the CLI's commands instead of the comment's

    @property
    def key(self) -> str:
        return self.settings.task_key

    def run(self, command: Command, actor: str) -> Reply:
        verb, trigger = command.verb, self.trigger_phrase
        if verb == steering.STATUS:
            return Reply(self.status())
        if verb == "quoted":
            return Reply(
                f"`{command.argument}` was not run: commands in a quote or in code are text. "
                "Write the command at the very start of a new comment.",
                refused=True,
            )
        if verb == "edited":
            return Reply(
                "Commands added by editing a comment are not run (an edit is easy to miss). "
                "Post the command in a new comment.",
                refused=True,
            )
        if verb == steering.HELP:
            unknown = command.unknown
            return Reply(steering.help_reply(trigger, unknown), refused=bool(unknown))
        history = self.store.records(self.key)
        if verb == steering.FORGET:
            target = steering.forget_target(history, command.argument)
            if isinstance(target, Refusal):
                return Reply(f"Nothing was forgotten: {target.reason}.", refused=True)
            self._add("forget", actor, attempt=target)
            return Reply(self._said(verb, target, actor), changed=True)
        refusal = steering.control_refusal(steering.state_of(history), verb)
        if refusal is not None:
            return Reply(f"Nothing changed: {refusal.reason}.", refused=True)
        self._add("control", actor, outcome=steering.control_outcome(verb))
        return Reply(self._said(verb, None, actor), changed=True)

    def _said(self, verb: str, target: int | None, actor: str) -> str:
        cli_task = self.key if self.cli else ""
        return task_report.command_reply(verb, target, actor, self.trigger_phrase, cli_task)

    def status(self) -> str:
        s = self.settings
        history = self.store.records(self.key)
        known = flaky.known_flaky(self.store.records(None), s.config.flaky_forget_after)
        view = task_report.StatusView(
            task_key=self.key,
            history=history,
            account=task_report.Account.of(history, s.limits, s.rate),
            known_flaky=known,
            forget_after=s.config.flaky_forget_after,
            trigger_phrase=self.trigger_phrase,
        )
        return task_report.status_reply(view, self.redact)

    def _add(self, kind: str, actor: str, **fields: object) -> MemoryRecord:
        what = str(fields.get("outcome"))
        if kind == "forget":  # say which: the record's row in `ratchet history` shows this
            n = fields.get("attempt")
            what = f"forgot attempt {n}" if n else "forgot all the task remembered so far"
        rec = MemoryRecord(
            kind=kind,
            task=self.key,
            actor=actor,
            run_id=self.run_id,
            branch=keys.branch_of(self.key),
            detail=self.redact(f"{what} at the request of {actor}"),
            **fields,  # type: ignore[arg-type]
        )
        return self.store.add(rec)


# -- the CLI ------------------------------------------------------------------------------------


def _steerer(args: argparse.Namespace, env: Environment, reporter: Reporter) -> Steerer:
    from ratchet.commands.wiring import open_memory
    from ratchet.config import DEFAULT_TRIGGER, check_task_key
    from ratchet.session import RunOptions, build_settings, run_id
    from ratchet.workspace import git as gitops

    repo = gitops.open_repo(args.repo.resolve())
    opts = RunOptions(repo=args.repo, task_key=args.task_key, memory=args.memory)
    settings = build_settings(opts, repo, env, need_task=False)
    if not settings.task_key:
        raise ConfigError(
            "no task given", "pass --task KEY (the task key, as `ratchet history` lists them)"
        )
    check_task_key(settings.task_key)
    store = open_memory(settings.config.memory, repo, reporter, env)
    trigger = settings.config.trigger_phrase or DEFAULT_TRIGGER
    _note_unknown(store, settings.task_key)
    return Steerer(store, settings, trigger, run_id(env), reporter.redact, cli=True)


def _note_unknown(store: MemoryStore, key: str) -> None:
    """A key typed on the command line may be wrong, or its task's memory elsewhere (CI's Mem0
    or ledger, not this machine's file): when this memory has nothing of it, say so on stderr,
    naming the store and the tasks it has, so that `ratchet stop --task typo` is noticed."""
    if store.records(key):
        return
    tasks = sorted({r.task for r in store.records(None)})
    known = f"; tasks with memory: {', '.join(tasks[:10])}" if tasks else ""
    more = f" (+{len(tasks) - 10} more)" if len(tasks) > 10 else ""
    elsewhere = ("; CI's memory is elsewhere: pass --memory ledger (the ratchet/ledger branch) "
                 "or set MEM0_API_KEY" if store.name == "local" else "")
    print(f"ratchet: note: task {key} has no memory yet (memory: {store.name}){known}{more}"
          f"{elsewhere}", file=sys.stderr)  # fmt: skip


def _actor(env: Environment, steerer: Steerer) -> str:
    """Who asked on the CLI: git's user.name, else the login name (never taken for a GitHub
    login: the suffix keeps it from being shown as @someone)."""
    from ratchet.workspace import git as gitops

    name = gitops.user_name(steerer.settings.repo)
    return f"{name or env.get('USER') or env.get('LOGNAME') or 'someone'} (ratchet CLI)"


def _say(reply: Reply) -> int:
    print(reply.text)
    return 1 if reply.refused else 0


def cmd_status(args: argparse.Namespace, env: Environment) -> int:
    reporter = Reporter(redact=redactor_from_env(env), quiet=True)
    return _say(Reply(_steerer(args, env, reporter).status()))


def cmd_control(args: argparse.Namespace, env: Environment) -> int:
    """``ratchet stop`` / ``ratchet resume``."""
    reporter = Reporter(redact=redactor_from_env(env), quiet=True)
    verb = steering.STOP if args.command == "stop" else steering.RESUME
    steerer = _steerer(args, env, reporter)
    return _say(steerer.run(Command(verb), _actor(env, steerer)))


def cmd_forget(args: argparse.Namespace, env: Environment) -> int:
    """``ratchet forget N|all``: a forget record; ``--purge --yes`` deletes records instead."""
    if args.purge:
        from ratchet.commands.history import purge

        return purge(args, env)
    if not args.target:
        raise ConfigError(
            "forget needs an attempt number or `all`",
            "e.g. ratchet forget --task KEY 3 (or all); to delete records for good: "
            "ratchet forget --purge [--task KEY] --yes",
        )
    reporter = Reporter(redact=redactor_from_env(env), quiet=True)
    command = Command(steering.FORGET, args.target)
    steerer = _steerer(args, env, reporter)
    return _say(steerer.run(command, _actor(env, steerer)))
