"""Live progress for people: the phase and its elapsed time, then a short summary.

On a terminal the phases animate (rich); in CI logs each phase is one plain line when it
ends, so logs stay readable. Everything printed goes through the redactor.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape

from ratchet.core.outcome import Phase

if TYPE_CHECKING:  # rich.progress is imported only when a live phase starts
    from rich.progress import Progress


class Reporter:
    def __init__(
        self,
        redact: Callable[[str], str] = lambda s: s,
        file: TextIO | None = None,
        quiet: bool = False,
        live: bool | None = None,
        on_phase: Callable[[Phase], None] | None = None,
        groups: bool = False,
    ) -> None:
        self.on_phase = on_phase
        self.groups = groups  # GitHub Actions: each phase is a collapsible ::group:: block
        self.redact = redact
        self.console = Console(file=file or sys.stderr, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.live = self.console.is_terminal if live is None else live
        self._phase: str | None = None
        self._started = 0.0
        self._status: Progress | None = None

    # -- phases ---------------------------------------------------------------------------
    def phase(self, name: str, kind: Phase | None = None) -> None:
        """Start a phase (ending the previous one): ``name`` is what people read, ``kind`` the
        step of the run it belongs to, handed to ``on_phase`` (the status comment's checklist)."""
        self.end_phase()
        self._phase = name
        self._started = time.monotonic()
        if self.on_phase is not None and kind is not None:
            try:
                self.on_phase(kind)
            except Exception as exc:  # progress reporting must never break a run
                self.console.print(f"[yellow]warning:[/] progress update failed: {exc}")
        if self.quiet:
            return
        if self.live:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._status = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._status.start()
            self._status.add_task(escape(self.redact(name)), total=None)
        elif self.groups:
            from ratchet.github.actions import escape_data

            self.console.file.write(f"::group::{escape_data(self.redact(name))}\n")
            self.console.file.flush()
        else:
            self.console.print(f"… {escape(self.redact(name))}")

    def end_phase(self, ok: bool = True) -> None:
        """End the current phase: ✓ and its time, or ✗ when it failed."""
        if self._phase is None:
            return
        took = time.monotonic() - self._started
        if self._status is not None:
            self._status.stop()
            self._status = None
        if self.groups and not self.quiet and not self.live:
            self.console.file.write("::endgroup::\n")
            self.console.file.flush()
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        if not self.quiet:
            self.console.print(
                f"{mark} {escape(self.redact(self._phase))} [dim]({took:.1f}s)[/]"
            )
        self._phase = None

    # -- messages -------------------------------------------------------------------------
    def info(self, text: str, style: str = "") -> None:
        if self.quiet:
            return
        msg = escape(self.redact(text))
        self.console.print(f"[{style}]{msg}[/]" if style else msg)

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/] {escape(self.redact(text))}")

    def close(self) -> None:
        self.end_phase()
