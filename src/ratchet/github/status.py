"""The sticky status comment of one task: found by its hidden marker and edited in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ratchet.core.outcome import Phase
from ratchet.github.env import ActionEnv


class Status:
    """The sticky status comment of one task (edited in place; never a second one)."""

    def __init__(
        self,
        gh: Any,
        number: int | None,
        task_key: str,
        aenv: ActionEnv,
        trigger: str,
        warn: Callable[[str], None],
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.gh, self.number, self.key, self.aenv, self.trigger = (
            gh,
            number,
            task_key,
            aenv,
            trigger,
        )
        self.warn = warn
        self.redact = redact
        self.pr_url: str | None = None
        #: the run so far (one line per iteration), shown whenever no other notice is
        self.notes: str | None = None

    def post(self, **kw: Any) -> None:
        if self.number is None:
            return
        from ratchet.core.render import status_comment, status_marker

        if not kw.get("notice"):
            kw["notice"] = self.notes
        body = status_comment(
            task_key=self.key,
            run_url=self.aenv.run_url,
            trigger_phrase=self.trigger,
            pr_url=self.pr_url,
            redact=self.redact,
            **kw,
        )
        try:
            self.gh.upsert_comment(self.number, status_marker(self.key), body)
        except Exception as exc:  # progress must never fail the run
            self.warn(f"could not update the status comment: {exc}")

    def phase(self, phase: Phase) -> None:
        self.post(phase=str(phase), result=None)
