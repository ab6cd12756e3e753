"""Every error Ratchet raises on purpose.

    RatchetError                 message + hint; the CLI prints both and exits 1
    ├── ConfigError              bad .github/ratchet.yml, flag or environment (names the key)
    ├── GitError                 not a repository, no base branch, a git command failed
    ├── ModelError               MiniMax could not give a usable reply
    │   ├── ModelAuthError       key or region wrong (fail fast)
    │   ├── ModelRequestError    the request itself was refused (2013, 1026, …): a bug or bad input
    │   ├── ModelUnavailable     retries exhausted, deadline passed, balance/plan/quota
    │   └── ModelReplyError      the reply stayed malformed or truncated after the repair call
    ├── EditError                an edit was refused; ``str(e)`` is written for the model
    ├── EvalError                the test command could not be started at all
    └── MemoryStoreError         the memory backend failed (the loop journals and goes on)

Expected outcomes (tests still fail, the model said "no change") are values, not exceptions.
"""

from __future__ import annotations


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


class GitError(RatchetError):
    pass


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


class MemoryStoreError(RatchetError):
    pass
