"""MiniMax's wire protocol, without I/O: endpoints, error codes, and the classification of one
HTTP response (status, headers, body) into a completion or a failure, the way gidgethub's
``decipher_response`` does for GitHub. ``model/minimax.py`` sends the requests (httpx) and
retries what this classifies as transient.

The codes are those of MiniMax's API reference (``base_resp.status_code``, and the OpenAI-style
route's ``error`` object); the README's MiniMax section lists what each one does in Ratchet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ratchet.errors import (
    ConfigError,
    ModelAuthError,
    ModelError,
    ModelRequestError,
    ModelUnavailable,
)
from ratchet.types import Completion, Usage

DEFAULT_BASE_URL = "https://api.minimax.io"
PATHS = {"native": "/v1/text/chatcompletion_v2", "openai": "/v1/chat/completions"}
#: the output budget a truncated reply is retried with is doubled up to this
TRUNCATION_RETRY_CAP = 131_072
#: the largest ``max_completion_tokens`` MiniMax accepts (M3)
MAX_COMPLETION_TOKENS = 524_288
#: a response body larger than this is refused (a reply is capped far lower by the parser)
MAX_BODY_BYTES = 16 * 1024 * 1024
#: how much of a truncated reply is kept on the ModelReplyError
RAW_CAP = 32_000

RETRY_HTTP = frozenset({408, 429, 500, 502, 503, 504, 524, 529})
RETRY_CODES = frozenset({1000, 1001, 1002, 1013, 1024, 1033, 1039, 1041, 2045})
RATE_LIMIT_CODES = frozenset({1002, 1039, 2045})
MODERATION_CODE = 1027
RETRY_ERROR_TYPES = frozenset({"overloaded_error", "rate_limit_error", "api_error"})

REGION_HINT = (
    "Check MINIMAX_API_KEY, and that the API host matches the key's region: "
    "https://api.minimax.io (global) or https://api.minimaxi.com (China)."
)
FATAL_CODES: dict[int, tuple[type[ModelError], str, str]] = {
    1004: (ModelAuthError, "not authorized", REGION_HINT),
    2049: (ModelAuthError, "invalid API key", REGION_HINT),
    1008: (ModelUnavailable, "insufficient balance", "Top up the MiniMax account balance."),
    1028: (ModelUnavailable, "quota exhausted", "The MiniMax quota is used up; raise it or wait."),
    1030: (ModelUnavailable, "quota exhausted", "The MiniMax quota is used up; raise it or wait."),
    2056: (
        ModelUnavailable,
        "usage limit exceeded",
        "The plan's usage limit is reached; wait for the next 5-hour window or upgrade the plan.",
    ),
    2061: (
        ModelUnavailable,
        "model not available on this plan",
        "Choose a model the plan includes (RATCHET_MODEL) or upgrade the plan.",
    ),
    2013: (
        ModelRequestError,
        "invalid request parameters",
        "Check the model id (RATCHET_MODEL) and the prompt size; if both are right this is a "
        "Ratchet bug, please report it.",
    ),
    1026: (
        ModelRequestError,
        "input flagged as sensitive",
        "MiniMax's moderation refused the prompt; change the task text or the files it names.",
    ),
    1042: (
        ModelRequestError,
        "too many invisible or illegal characters in the input",
        "Remove control or zero-width characters from the task text and the files it names.",
    ),
}
CODE_IN_MESSAGE = re.compile(r"\((\d{4})\)")


@dataclass(frozen=True)
class Failure:
    """One failed HTTP exchange: retried when ``error`` is None, else raised as ``error``."""

    message: str
    error: type[ModelError] | None = None
    hint: str = ""
    code: int | None = None
    rate_limited: bool = False


def normalise_base_url(base_url: str) -> str:
    url = (base_url or "").strip().rstrip("/") or DEFAULT_BASE_URL
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(
            f"the MiniMax base URL {base_url!r} is not an http(s) URL",
            hint="Use https://api.minimax.io (global) or https://api.minimaxi.com (China).",
        )
    if url.endswith("/v1"):  # an OpenAI-style base; the routes add /v1 themselves
        url = url[: -len("/v1")]
    return url


def clip(value: float | None, remaining: float) -> float:
    return remaining if value is None else min(value, remaining)


def json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def error_info(data: dict[str, Any]) -> tuple[bool, int | None, str, str]:
    """(is an error, code or None, message, error type) from either error envelope."""
    base = data.get("base_resp")
    if isinstance(base, dict):
        code = as_int(base.get("status_code"))
        if code:
            return True, code, str(base.get("status_msg") or ""), ""
    error = data.get("error")
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        match = CODE_IN_MESSAGE.search(message)
        return True, int(match.group(1)) if match else None, message, str(error.get("type") or "")
    if data.get("type") == "error":
        return True, None, str(data.get("message") or ""), ""
    return False, None, "", ""


def classify(
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    data: dict[str, Any] | None,
    endpoint: str,
) -> dict[str, Any] | Failure:
    """Map one HTTP response to the success JSON or a Failure (retryable or fatal)."""
    if 300 <= status < 400:
        return Failure(
            f"MiniMax answered HTTP {status} (redirect to {headers.get('location', '?')}); "
            "redirects are not followed",
            error=ModelRequestError,
            hint="Set the base URL to the final https:// address of the API host.",
        )
    is_error, code, message, error_type = error_info(data) if data else (False, None, "", "")
    if code is not None:
        return code_failure(code, message, status)
    if not 200 <= status < 300:
        return status_failure(status, raw, message, error_type, endpoint)
    if data is None:
        return Failure("MiniMax sent a non-JSON or cut-off body with HTTP 200")
    if is_error:
        described = f"MiniMax error {error_type or 'without a code'}: {message}"
        if error_type in RETRY_ERROR_TYPES:
            return Failure(described)
        return Failure(described, error=ModelUnavailable, hint="See the MiniMax status page.")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Failure("MiniMax answered HTTP 200 without any choices")
    return data


def code_failure(code: int, message: str, status: int) -> Failure:
    text = f"MiniMax error {code}: {message}" if message else f"MiniMax error {code}"
    if code in FATAL_CODES:
        error, meaning, hint = FATAL_CODES[code]
        return Failure(f"{text} ({meaning})", error=error, hint=hint, code=code)
    if code in RETRY_CODES:
        return Failure(text, code=code, rate_limited=code in RATE_LIMIT_CODES)
    if code == MODERATION_CODE:
        return Failure(f"{text} (output flagged as sensitive)", code=code)
    if status in RETRY_HTTP:
        return Failure(f"{text} (HTTP {status})", code=code)
    return Failure(
        f"{text} (unknown error code)",
        error=ModelUnavailable,
        hint="See https://platform.minimax.io/docs/api-reference/errorcode for this code.",
        code=code,
    )


def status_failure(
    status: int, raw: bytes, message: str, error_type: str, endpoint: str
) -> Failure:
    detail = message or snippet(raw)
    text = f"MiniMax answered HTTP {status}" + (f": {detail}" if detail else "")
    if status == 524:
        text = "MiniMax answered HTTP 524 (Cloudflare: the origin timed out)"
    if status in (401, 403):
        return Failure(text, error=ModelAuthError, hint=REGION_HINT)
    if status in RETRY_HTTP:
        return Failure(text)
    if status == 402:
        return Failure(text, error=ModelUnavailable, hint="Top up the MiniMax account balance.")
    if status == 404:
        return Failure(
            f"MiniMax has no endpoint {endpoint} (HTTP 404)",
            error=ModelRequestError,
            hint="Check the base URL and the api setting ('native' or 'openai').",
        )
    if 400 <= status < 500:
        return Failure(text, error=ModelRequestError, hint="The request was refused as invalid.")
    return Failure(text, error=ModelUnavailable, hint="MiniMax failed; run again later.")


def snippet(raw: bytes) -> str:
    text = raw[:200].decode("utf-8", "replace")
    return " ".join(text.split())[:120]


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def usage_of(data: dict[str, Any]) -> Usage:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    details = usage.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return Usage(
        prompt_tokens=as_int(usage.get("prompt_tokens")) or 0,
        completion_tokens=as_int(usage.get("completion_tokens")) or 0,
        reasoning_tokens=as_int(reasoning) or 0,
    )


def request_id_of(data: dict[str, Any], headers: Mapping[str, str]) -> str:
    for name in ("trace-id", "x-mm-request-id", "minimax-request-id"):
        if headers.get(name):
            return headers[name]
    return str(data.get("id") or "")


def completion_of(
    data: dict[str, Any], headers: Mapping[str, str], usage: Usage, model: str
) -> Completion:
    choice = data["choices"][0]
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # content parts: keep the text ones
        content = "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type", "text") == "text"
        )
    return Completion(
        text=content if isinstance(content, str) else "",
        finish_reason=str(choice.get("finish_reason") or "stop"),
        usage=usage,
        request_id=request_id_of(data, headers),
        model=str(data.get("model") or model),
    )
