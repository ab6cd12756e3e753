"""What one CI run of a task publishes, as it goes: each kept commit is pushed with a lease
the moment it is committed (a job killed later loses nothing), the task's one pull request is
opened or updated with it, and the sticky status comment lists the iterations so far; at the
end, the job summary and the step outputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ratchet.config import Settings
from ratchet.core import keys, money, publish, rounds, task_report
from ratchet.core.iteration import Result
from ratchet.core.outcome import Phase
from ratchet.errors import RatchetError
from ratchet.records import MemoryRecord

if TYPE_CHECKING:
    from ratchet.commands.action import Action


class Publisher:
    """One task's publication during one run (``host``: the action, for its GitHub client,
    git credentials, status comment, reporter and outputs)."""

    def __init__(
        self,
        host: Action,
        key: str,
        settings: Settings,
        store: Any,
        pr: Any,
        trigger: str,
        lease: str | None,
        base_sha: str,
    ) -> None:
        self.host, self.key, self.settings, self.store = host, key, settings, store
        self.pr, self.trigger, self.base_sha = pr, trigger, base_sha
        self.lease = lease  # what origin holds on the task branch (None: no branch yet)
        self.branch = keys.branch_of(key)
        self.results: list[Result] = []
        self._pr_is_current = False  # the PR body shows the last result
        self.notice = ""  # what happened to the branch before the first iteration

    # -- after each iteration ---------------------------------------------------------------
    def iteration(self, result: Result, total: int) -> None:
        """Publish what ``result`` kept, right away; the status comment lists the run so far."""
        status = self.host.status
        assert status is not None
        self.results.append(result)
        self._pr_is_current = False
        if result.commit:
            status.phase(Phase.PUBLISH)
            self._push(result)
            self.lease = result.commit
            self._upsert_pr(result)
        status.notes = self._run_lines(total) or None

    # -- at the end ---------------------------------------------------------------------------
    def finish(self, stopped: str | None, total: int) -> None:
        """The last status, the job summary and the outputs, once the run stops (``stopped``:
        why, when it made more than one attempt possible)."""
        from ratchet.core.render import step_summary
        from ratchet.github import actions

        host, status, result = self.host, self.host.status, self.results[-1]
        assert status is not None
        if not self._pr_is_current and publish.should_open_pr(
            result.commit, self.lease, self.base_sha
        ):
            self._upsert_pr(result)
        records = self.store.records(self.key)
        account = self._account(records)
        cost = self._run_cost()
        summary = dict(publish.result_summary(result, self.pr.url if self.pr else None))
        summary["cost"] = f"{money.usd(cost)} this run · {account.cost_text()} for the task"
        run = self._run_lines(total, stopped)  # "" for a one-attempt run of an unmoved branch
        status.notes = run or None
        status.pr_url = self.pr.url if self.pr else None
        status.post(phase=None, result=summary)
        flaky_tests = task_report.flaky_lines(result.known_flaky,
                                              self.settings.config.flaky_forget_after)
        sections = [("Budget", account.budget_line()),
                    ("Known flaky tests", "\n".join(flaky_tests))]
        if run:
            sections.insert(0, ("This run", run))
        actions.append_summary(
            host.aenv.summary,
            step_summary(task_key=self.key, result=summary, records=records,
                         run_url=host.aenv.run_url, redact=host.redact, sections=sections),
        )  # fmt: skip
        rate = self.settings.rate
        host.outputs.update(
            outcome=rounds.best_outcome([r.outcome for r in self.results]),
            score=result.score_after if result.score_after is not None else result.score_before,
            iterations=len(self.results),
            commits=sum(1 for r in self.results if r.commit),
            branch=self.branch, pr_number=self.pr.number if self.pr else None,
            pr_url=self.pr.url if self.pr else None,
            cost=f"{cost:.6f}" if cost is not None else None,
            task_cost=f"{account.spent.usd_bound(rate):.6f}" if rate is not None else None,
        )  # fmt: skip

    # -- pieces -------------------------------------------------------------------------------
    def _run_cost(self) -> float | None:
        costs = [r.cost_usd for r in self.results if r.cost_usd is not None]
        return sum(costs) if costs else None

    def _account(self, records: list[MemoryRecord]) -> task_report.Account:
        return task_report.Account.of(records, self.settings.limits, self.settings.rate)

    def _run_lines(self, total: int, stopped: str | None = None) -> str:
        """What happened to the branch when its base had moved, then the run so far, one
        line per iteration (what it tried, the verdict, the commit)."""
        lines = [self.notice] if self.notice else []
        if total > 1:
            head = f"Iteration {len(self.results)} of up to {total} done."
            if stopped:
                head = (f"Stopped after {len(self.results)} of up to {total} iterations: "
                        f"{stopped}.")  # fmt: skip
            lines.append(head)
            for i, r in enumerate(self.results, 1):
                what = r.title or r.detail or "(no attempt)"
                commit = f", pushed {r.commit[:10]}" if r.commit else ""
                lines.append(f"{i}. {r.outcome or 'no attempt'}: {what}{commit}")
        return self.host.redact("\n".join(lines))

    def _push(self, result: Result) -> None:
        from ratchet.github.branch import push_with_lease

        host = self.host
        root = Path(host.repo.working_dir)
        try:
            push_with_lease(root, result.commit, self.branch, self.lease, host.publish_git_env)
        except RatchetError as exc:
            # the change stays recorded (with its verdict) but memory must not say it is on
            # the branch: the runner's copy of the commit is about to disappear
            last = result.records[-1]
            try:
                self.store.update(
                    last.replace(
                        commit="", detail=host.redact(f"{last.detail} (not published: {exc})")
                    )
                )
            except RatchetError as inner:
                host.reporter.warn(f"could not mark the attempt as unpublished: {inner}")
            raise

    def _upsert_pr(self, result: Result) -> None:
        """Open the task's PR, or update its body; the PR number joins the attempt's record."""
        from ratchet.core.render import pr_body

        host, s = self.host, self.settings
        records = self.store.records(self.key)
        body = pr_body(
            task_key=self.key,
            task_text=s.task_text,
            latest_outcome=result.outcome,
            score_before=result.score_before,
            score_after=result.score_after,
            records=records,
            run_url=host.aenv.run_url,
            trigger_phrase=self.trigger,
            redact=host.redact,
            budget=self._account(records).budget_line(),
        )
        body += publish.pr_footer(self.key)
        if self.pr is None:
            title = publish.pr_title(s.task_text, self.key, host.redact)
            assert s.base_branch is not None  # build_settings always resolves it
            self.pr = host.publish_gh.create_pr(self.branch, s.base_branch, title, body)
        else:
            self.pr = host.publish_gh.update_pr(self.pr.number, body=body)
        self._pr_is_current = True
        if result.records and self.pr is not None and result.records[-1].pr != self.pr.number:
            try:
                self.store.update(result.records[-1].replace(pr=self.pr.number))
            except RatchetError as exc:
                host.reporter.warn(f"could not add the PR number to memory: {exc}")
        host.status.pr_url = self.pr.url if self.pr else None  # type: ignore[union-attr]
