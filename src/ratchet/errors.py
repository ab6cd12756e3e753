"""Every error Ratchet raises on purpose.

    RatchetError                 message + hint; the CLI prints both and exits 1
    ├── ConfigError              bad .github/ratchet.yml, flag or environment (names the key)
    ├── GitError                 not a repository, no base branch, a git command failed
    │   └── GitCommandError      one git command failed (its argv, exit code, redacted stderr)
    ├── GitHubError              a GitHub API call failed (HTTP status, missing permission)
    ├── ModelError               MiniMax could not give a usable reply
    │   ├── ModelAuthError       key or region wrong (fail fast)
    │   ├── ModelRequestError    the request itself was refused (2013, 1026, …): a bug or bad input
    │   ├── ModelUnavailable     retries exhausted, deadline passed, balance/plan/quota
    │   ├── ModelReplyError      the reply stayed malformed or truncated after the repair call
    │   └── BudgetExceeded       a call was not started: it could pass a budget of the task
    ├── EditError                an edit was refused; ``str(e)`` is written for the model
    ├── EvalError                the test command could not be started at all
    ├── JUnitError               a test report could not be read (also a ValueError)
    └── MemoryStoreError         the memory backend failed (DurableStore journals and goes on)
        └── Mem0ConfigError      Mem0 refused the key or the host is not Mem0: no retry helps

Expected outcomes (tests still fail, the model said "no change") are values, not exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence


class RatchetError(Exception):
    """A failure with a message for a person and a hint saying what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(RatchetError):
    pass


class GitHubError(RatchetError):
    """A GitHub API call failed. ``status`` is the HTTP status (None: no response at all);
    ``permission`` names the token permission that was missing, when that was the cause."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        status: int | None = None,
        permission: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.permission = permission


class GitError(RatchetError):
    pass


class GitCommandError(GitError):
    """A git command failed. ``command`` is the argument list (never the environment),
    ``returncode`` the exit code (-1 for a timeout or a missing git), ``stderr`` its redacted
    tail."""

    def __init__(
        self, message: str, *, command: Sequence[str], returncode: int, stderr: str, hint: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.command = tuple(command)
        self.returncode = returncode
        self.stderr = stderr


class ModelError(RatchetError):
    pass


class ModelAuthError(ModelError):
    pass


class ModelRequestError(ModelError):
    pass


class ModelUnavailable(ModelError):
    pass


class ModelReplyError(ModelError):
    """The reply could not be turned into a Proposal. ``raw`` is the (capped) reply text."""

    def __init__(self, message: str, hint: str = "", raw: str = "") -> None:
        super().__init__(message, hint)
        self.raw = raw


class EditError(RatchetError):
    """An edit was refused. ``category`` is one of: not_found, ambiguous, already_applied,
    unsafe_path, missing_file, exists, binary, syntax_error, too_large, no_op, invalid."""

    def __init__(self, message: str, category: str = "invalid", path: str = "") -> None:
        super().__init__(message)
        self.category = category
        self.path = path


class EvalError(RatchetError):
    pass


class JUnitError(RatchetError, ValueError):
    """A report could not be read or parsed (missing, too large, malformed, unsafe XML)."""


class MemoryStoreError(RatchetError):
    pass


class Mem0ConfigError(MemoryStoreError):
    """The key was rejected or the host is not the Mem0 platform API: retrying or journaling
    will not help; the user must fix MEM0_API_KEY / MEM0_HOST."""


class BudgetExceeded(ModelError):
    """A model call was not started: by its estimate it would pass a budget of the task."""
