"""MiniMax chat completions over HTTP (httpx, synchronous), with retries and error mapping.

Both MiniMax routes take the same body and answer with the same envelope: the native
``/v1/text/chatcompletion_v2`` reports errors as HTTP 200 with a non-zero
``base_resp.status_code``; the OpenAI-compatible ``/v1/chat/completions`` uses real HTTP
statuses with ``{"type": "error", "error": {"message": "... (2013)"}}``. Both shapes are
understood here. ``base_resp`` codes and HTTP statuses live in separate tables and are never
compared with each other.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ratchet import __version__
from ratchet.core.retry import Backoff
from ratchet.errors import (
    ConfigError,
    ModelAuthError,
    ModelError,
    ModelReplyError,
    ModelRequestError,
    ModelUnavailable,
)
from ratchet.types import Completion, Message, Usage

log = logging.getLogger(__name__)

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

_REGION_HINT = (
    "Check MINIMAX_API_KEY, and that the API host matches the key's region: "
    "https://api.minimax.io (global) or https://api.minimaxi.com (China)."
)
FATAL_CODES: dict[int, tuple[type[ModelError], str, str]] = {
    1004: (ModelAuthError, "not authorized", _REGION_HINT),
    2049: (ModelAuthError, "invalid API key", _REGION_HINT),
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
_CODE_IN_MESSAGE = re.compile(r"\((\d{4})\)")


@dataclass(frozen=True)
class _Failure:
    """One failed HTTP exchange: retried when ``error`` is None, else raised as ``error``."""

    message: str
    error: type[ModelError] | None = None
    hint: str = ""
    code: int | None = None
    rate_limited: bool = False


class MiniMaxClient:
    """A ChatModel speaking to MiniMax; one ``complete()`` is one logical request.

    ``usage_total`` and ``http_calls`` count every HTTP call made, including retries and the
    truncation retry, so token spending can be reported exactly.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        model: str = "MiniMax-M3",
        api: str = "native",
        max_tokens: int = 16384,
        timeout: httpx.Timeout | None = None,
        deadline: float = 900.0,
        max_attempts: int = 4,
        backoff_base: float = 2.0,
        backoff_cap: float = 60.0,
        rate_limit_min: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        """Raise ConfigError for a bad base URL, api name or numeric setting, and
        ModelAuthError for an empty or unusable key (without echoing it)."""
        key = (api_key or "").strip()
        if not key:
            raise ModelAuthError("the MiniMax API key is empty", hint="Set MINIMAX_API_KEY.")
        if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
            raise ModelAuthError(
                "the MiniMax API key contains spaces, control or non-ASCII characters",
                hint="Copy the key again from the MiniMax console into MINIMAX_API_KEY.",
            )
        if api not in PATHS:
            raise ConfigError(f"unknown MiniMax api {api!r}: expected 'native' or 'openai'")
        if not 1 <= max_tokens <= MAX_COMPLETION_TOKENS:
            raise ConfigError(f"max_tokens must be between 1 and {MAX_COMPLETION_TOKENS}")
        if max_attempts < 1 or deadline <= 0:
            raise ConfigError("max_attempts must be at least 1 and deadline positive")
        self._key = key
        self.base_url = _normalise_base_url(base_url)
        self.endpoint = self.base_url + PATHS[api]
        self.model = model
        self.name = model
        self.api = api
        self.max_tokens = max_tokens
        self.timeout = timeout or httpx.Timeout(connect=10.0, write=30.0, read=300.0, pool=10.0)
        self.deadline = deadline
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rate_limit_min = rate_limit_min
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.usage_total = Usage()
        self.http_calls = 0
        self._http = httpx.Client(
            transport=transport,
            timeout=self.timeout,
            follow_redirects=False,
            headers={
                "Authorization": f"Bearer {key}",
                "User-Agent": f"ratchet/{__version__}",
                "Accept": "application/json",
            },
        )

    def __enter__(self) -> MiniMaxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def complete(self, messages: list[Message], *, max_tokens: int | None = None) -> Completion:
        """Return the completion for ``messages``.

        Retries transient failures within ``max_attempts`` and ``deadline``; a reply cut off by
        the token limit is retried once with twice the budget (at most 131072). The returned
        usage is the sum over every HTTP call this method made. Raises ModelAuthError,
        ModelRequestError, ModelUnavailable (retries exhausted, deadline, balance/plan/quota)
        or ModelReplyError (still truncated, or withheld by output moderation).
        """
        budget = max_tokens or self.max_tokens
        deadline_at = self._clock() + self.deadline
        usage = Usage()
        truncation_retried = False
        while True:
            data, headers, call_usage = self._request(messages, budget, deadline_at)
            usage = usage + call_usage
            completion = _completion(data, headers, usage, self.model)
            if completion.finish_reason != "length":
                return completion
            bigger = min(budget * 2, max(TRUNCATION_RETRY_CAP, budget))
            if truncation_retried or bigger <= budget:
                raise ModelReplyError(
                    f"the MiniMax reply was truncated: it hit the token limit "
                    f"(finish_reason=length, max_completion_tokens={budget})",
                    hint="Raise the model's max_tokens, or give it a smaller task.",
                    raw=completion.text[:RAW_CAP],
                )
            log.info("MiniMax reply truncated at %d tokens; retrying with %d", budget, bigger)
            budget, truncation_retried = bigger, True

    def _request(
        self, messages: list[Message], budget: int, deadline_at: float
    ) -> tuple[dict[str, Any], httpx.Headers, Usage]:
        body = {
            "model": self.model,
            "messages": messages,
            "max_completion_tokens": budget,
            "temperature": 1.0,
            "top_p": 0.95,
            "reasoning_split": True,
            "stream": False,
        }
        usage = Usage()
        moderation_seen = False
        attempt = 0
        last = "no attempt was made"
        while True:
            if self._clock() >= deadline_at:
                raise self._deadline_error(attempt, last)
            attempt += 1
            result, call_usage = self._exchange(body, deadline_at)
            usage = usage + call_usage
            if isinstance(result, tuple):
                data, headers = result
                return data, headers, usage
            failure = result
            last = failure.message
            if failure.code == MODERATION_CODE:
                if moderation_seen:
                    raise ModelReplyError(
                        self._redact(f"MiniMax withheld the reply twice: {failure.message}"),
                        hint="The output was flagged by MiniMax's moderation; reword the task.",
                    )
                moderation_seen = True
            if failure.error is not None:
                raise failure.error(self._redact(failure.message), hint=failure.hint)
            if attempt >= self.max_attempts:
                raise ModelUnavailable(
                    self._redact(f"MiniMax failed {attempt} times; last error: {last}"),
                    hint="MiniMax is overloaded or unreachable; run again later.",
                )
            wait = self._backoff(attempt, self.rate_limit_min if failure.rate_limited else 0.0)
            if self._clock() + wait >= deadline_at:
                raise self._deadline_error(attempt, last)
            log.warning(
                "MiniMax attempt %d failed (%s); retrying in %.1f s",
                attempt,
                self._redact(last),
                wait,
            )
            self._sleep(wait)

    def _exchange(
        self, body: dict[str, Any], deadline_at: float
    ) -> tuple[tuple[dict[str, Any], httpx.Headers] | _Failure, Usage]:
        """One HTTP call: (the success JSON and headers, or the failure it ended in; the
        usage the response reported)."""
        remaining = max(deadline_at - self._clock(), 0.001)
        timeout = httpx.Timeout(
            connect=_clip(self.timeout.connect, remaining),
            read=_clip(self.timeout.read, remaining),
            write=_clip(self.timeout.write, remaining),
            pool=_clip(self.timeout.pool, remaining),
        )
        self.http_calls += 1
        try:
            with self._http.stream("POST", self.endpoint, json=body, timeout=timeout) as response:
                raw = self._read_body(response, deadline_at)
                status, headers = response.status_code, response.headers
        except httpx.TimeoutException as exc:
            return _Failure(f"timed out ({type(exc).__name__})"), Usage()
        except httpx.TransportError as exc:
            return _Failure(f"connection failed ({type(exc).__name__}: {exc})"), Usage()
        except httpx.RequestError as exc:  # e.g. a body that fails to decompress
            return _Failure(f"the response could not be read ({type(exc).__name__})"), Usage()
        except _Oversized:
            return _Failure(f"the response body exceeded {MAX_BODY_BYTES} bytes"), Usage()
        data = _json_object(raw)
        usage = _usage(data) if data is not None else Usage()
        self.usage_total = self.usage_total + usage
        result = _classify(status, headers, raw, data, self.endpoint)
        if isinstance(result, _Failure):
            return result, usage
        log.debug("MiniMax answered: request id %s", _request_id(result, headers))
        return (result, headers), usage

    def _read_body(self, response: httpx.Response, deadline_at: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _Oversized
            chunks.append(chunk)
            if self._clock() > deadline_at:
                raise httpx.ReadTimeout("the overall deadline passed while reading the body")
        return b"".join(chunks)

    def _backoff(self, attempt: int, min_wait: float) -> float:
        policy = Backoff(self.backoff_base, self.backoff_cap)
        return policy.delay(attempt, self._rng, at_least=min_wait)

    def _deadline_error(self, attempts: int, last: str) -> ModelUnavailable:
        return ModelUnavailable(
            self._redact(
                f"MiniMax gave no usable answer within the {self.deadline:g} s deadline "
                f"({attempts} attempt(s)); last error: {last}"
            ),
            hint="MiniMax is slow or overloaded; run again later or raise the deadline.",
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***")


class _Oversized(Exception):
    pass


def _normalise_base_url(base_url: str) -> str:
    url = (base_url or "").strip().rstrip("/") or DEFAULT_BASE_URL
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(
            f"the MiniMax base URL {base_url!r} is not an http(s) URL",
            hint="Use https://api.minimax.io (global) or https://api.minimaxi.com (China).",
        )
    if url.endswith("/v1"):  # an OpenAI-style base; the routes add /v1 themselves
        url = url[: -len("/v1")]
    return url


def _clip(value: float | None, remaining: float) -> float:
    return remaining if value is None else min(value, remaining)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _error_info(data: dict[str, Any]) -> tuple[bool, int | None, str, str]:
    """(is an error, code or None, message, error type) from either error envelope."""
    base = data.get("base_resp")
    if isinstance(base, dict):
        code = _as_int(base.get("status_code"))
        if code:
            return True, code, str(base.get("status_msg") or ""), ""
    error = data.get("error")
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        match = _CODE_IN_MESSAGE.search(message)
        return True, int(match.group(1)) if match else None, message, str(error.get("type") or "")
    if data.get("type") == "error":
        return True, None, str(data.get("message") or ""), ""
    return False, None, "", ""


def _classify(
    status: int,
    headers: httpx.Headers,
    raw: bytes,
    data: dict[str, Any] | None,
    endpoint: str,
) -> dict[str, Any] | _Failure:
    """Map one HTTP response to the success JSON or a _Failure (retryable or fatal)."""
    if 300 <= status < 400:
        return _Failure(
            f"MiniMax answered HTTP {status} (redirect to {headers.get('location', '?')}); "
            "redirects are not followed",
            error=ModelRequestError,
            hint="Set the base URL to the final https:// address of the API host.",
        )
    is_error, code, message, error_type = _error_info(data) if data else (False, None, "", "")
    if code is not None:
        return _code_failure(code, message, status)
    if not 200 <= status < 300:
        return _status_failure(status, raw, message, error_type, endpoint)
    if data is None:
        return _Failure("MiniMax sent a non-JSON or cut-off body with HTTP 200")
    if is_error:
        described = f"MiniMax error {error_type or 'without a code'}: {message}"
        if error_type in RETRY_ERROR_TYPES:
            return _Failure(described)
        return _Failure(described, error=ModelUnavailable, hint="See the MiniMax status page.")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return _Failure("MiniMax answered HTTP 200 without any choices")
    return data


def _code_failure(code: int, message: str, status: int) -> _Failure:
    text = f"MiniMax error {code}: {message}" if message else f"MiniMax error {code}"
    if code in FATAL_CODES:
        error, meaning, hint = FATAL_CODES[code]
        return _Failure(f"{text} ({meaning})", error=error, hint=hint, code=code)
    if code in RETRY_CODES:
        return _Failure(text, code=code, rate_limited=code in RATE_LIMIT_CODES)
    if code == MODERATION_CODE:
        return _Failure(f"{text} (output flagged as sensitive)", code=code)
    if status in RETRY_HTTP:
        return _Failure(f"{text} (HTTP {status})", code=code)
    return _Failure(
        f"{text} (unknown error code)",
        error=ModelUnavailable,
        hint="See https://platform.minimax.io/docs/api-reference/errorcode for this code.",
        code=code,
    )


def _status_failure(
    status: int, raw: bytes, message: str, error_type: str, endpoint: str
) -> _Failure:
    detail = message or _snippet(raw)
    text = f"MiniMax answered HTTP {status}" + (f": {detail}" if detail else "")
    if status == 524:
        text = "MiniMax answered HTTP 524 (Cloudflare: the origin timed out)"
    if status in (401, 403):
        return _Failure(text, error=ModelAuthError, hint=_REGION_HINT)
    if status in RETRY_HTTP:
        return _Failure(text)
    if status == 402:
        return _Failure(text, error=ModelUnavailable, hint="Top up the MiniMax account balance.")
    if status == 404:
        return _Failure(
            f"MiniMax has no endpoint {endpoint} (HTTP 404)",
            error=ModelRequestError,
            hint="Check the base URL and the api setting ('native' or 'openai').",
        )
    if 400 <= status < 500:
        return _Failure(text, error=ModelRequestError, hint="The request was refused as invalid.")
    return _Failure(text, error=ModelUnavailable, hint="MiniMax failed; run again later.")


def _snippet(raw: bytes) -> str:
    text = raw[:200].decode("utf-8", "replace")
    return " ".join(text.split())[:120]


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _usage(data: dict[str, Any]) -> Usage:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    details = usage.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return Usage(
        prompt_tokens=_as_int(usage.get("prompt_tokens")) or 0,
        completion_tokens=_as_int(usage.get("completion_tokens")) or 0,
        reasoning_tokens=_as_int(reasoning) or 0,
    )


def _request_id(data: dict[str, Any], headers: httpx.Headers) -> str:
    for name in ("trace-id", "x-mm-request-id", "minimax-request-id"):
        if headers.get(name):
            return headers[name]
    return str(data.get("id") or "")


def _completion(
    data: dict[str, Any], headers: httpx.Headers, usage: Usage, model: str
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
        request_id=_request_id(data, headers),
        model=str(data.get("model") or model),
    )
