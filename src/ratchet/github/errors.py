"""GitHub failures as ``GitHubError``: PyGithub and transport exceptions translated into a
message a person can act on (which token permission is missing, which setting to flip).

PyGithub and requests are imported inside :func:`translate_error` only, so importing this
module stays cheap.
"""

from __future__ import annotations

from typing import Any

from ratchet.errors import GitHubError

__all__ = ["GitHubError", "translate_error"]

_NOT_ACCESSIBLE = "resource not accessible by"
_ACTIONS_PR_SETTING = (
    'Enable "Allow GitHub Actions to create and approve pull requests" in the repository '
    "(Settings → Actions → General → Workflow permissions; for an organization repository also "
    "in the organization's settings), or pass a GitHub App or personal token as github_token."
)


def translate_error(
    exc: BaseException, action: str, need: str, *, api_url: str = "", repo: str = ""
) -> GitHubError:
    """A ``GitHubError`` that says what failed and what to do about it.

    ``need`` is the workflow permission the call requires (e.g. "pull-requests: write"); it is
    named when GitHub refuses the token with "Resource not accessible by integration" (GitHub's
    ``X-Accepted-GitHub-Permissions`` header wins when present)."""
    if isinstance(exc, GitHubError):
        return exc
    from github.GithubException import GithubException

    if not isinstance(exc, GithubException):
        import requests

        if isinstance(exc, requests.exceptions.RequestException):
            return GitHubError(
                f"could not reach the GitHub API at {api_url} while {action}: {type(exc).__name__}",
                "Check the network and GITHUB_API_URL; GitHub may be down "
                "(https://www.githubstatus.com).",
            )
        return GitHubError(f"unexpected failure while {action}: {exc!r}")

    status = exc.status
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or "").strip()
    headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
    said = f" (GitHub said: {message})" if message else ""

    if status == 401:
        return GitHubError(
            f"GitHub rejected the token while {action} (401 {message or 'Bad credentials'})",
            "The token is missing, expired or revoked: check the github_token input / "
            "GITHUB_TOKEN secret.",
            status=401,
        )
    if status in (403, 429) and _rate_limited(message, headers, status):
        return GitHubError(
            f"GitHub rate limit hit while {action}; retries were exhausted{said}",
            "Wait for the limit to reset (see X-RateLimit-Reset / Retry-After) and run again; "
            "fewer concurrent runs help with secondary rate limits.",
            status=status,
        )
    if status == 403 and message.lower().startswith("github actions is not permitted"):
        return GitHubError(
            f"GitHub refused {action}: {message}",
            _ACTIONS_PR_SETTING,
            status=403,
            permission="pull-requests: write",
        )
    if status == 403 and _NOT_ACCESSIBLE in message.lower():
        permission = _accepted_permissions(headers.get("x-accepted-github-permissions")) or need
        hint = (
            f"Grant it in the workflow job: `permissions: {{ {permission} }}`."
            if permission
            else "Grant the token the permission this call needs."
        )
        if "pull-requests" in permission and "creating a pull request" in action:
            hint += " " + _ACTIONS_PR_SETTING
        return GitHubError(
            f"the GitHub token may not do this: {action} needs `{permission or 'more access'}`"
            f"{said}",
            hint,
            status=403,
            permission=permission or None,
        )
    if status == 403:
        return GitHubError(
            f"GitHub refused {action} (403){said}",
            f"Check that the token's user or app has access to {repo} and the permission `{need}`."
            if need
            else "Check the token's access to the repository.",
            status=403,
            permission=need or None,
        )
    if status == 404:
        return GitHubError(
            f"not found while {action}{said}",
            f"Check the repository ({repo}), the number, and that the token can see it "
            "(GitHub answers 404 for private repositories it may not read).",
            status=404,
        )
    if status == 422:
        return GitHubError(
            f"GitHub rejected {action}: {_validation_text(data) or message or 'validation failed'}",
            "For a pull request: push the branch first and make sure it has commits the base "
            "lacks.",
            status=422,
        )
    if status >= 500:
        return GitHubError(
            f"GitHub is failing ({status}) while {action}, after retries{said}",
            "This is on GitHub's side; run again later (https://www.githubstatus.com).",
            status=status,
        )
    return GitHubError(f"GitHub answered {status} while {action}{said}", status=status)


def _rate_limited(message: str, headers: dict[str, str], status: int) -> bool:
    lower = message.lower()
    if status == 429:
        return True
    if "rate limit" in lower:
        return True
    return headers.get("x-ratelimit-remaining") == "0" or (not message and "retry-after" in headers)


def _accepted_permissions(header: str | None) -> str:
    """``pull_requests=write; issues=write`` → ``pull-requests: write or issues: write``."""
    if not header:
        return ""
    alternatives = []
    for group in header.split(";"):
        parts = []
        for item in group.split(","):
            name, _, level = item.strip().partition("=")
            if name:
                parts.append(f"{name.strip().replace('_', '-')}: {level.strip() or 'read'}")
        if parts:
            alternatives.append(" and ".join(parts))
    return " or ".join(alternatives)


def _validation_text(data: dict[str, Any]) -> str:
    out = []
    for err in data.get("errors") or []:
        if isinstance(err, dict):
            if err.get("message"):
                out.append(str(err["message"]))
            else:
                field_name = err.get("field", "?")
                out.append(f"{err.get('resource', '')} {field_name} {err.get('code', '')}".strip())
        elif isinstance(err, str):
            out.append(err)
    return "; ".join(out)


def _already_exists(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    return (
        "already exists" in _validation_text(data).lower()
        or "already exists" in str(data.get("message", "")).lower()
    )
