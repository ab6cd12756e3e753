"""MiniMax chat completions over HTTP (httpx, synchronous), with retries and error mapping.

Both MiniMax routes take the same body and answer with the same envelope: the native
``/v1/text/chatcompletion_v2`` reports errors as HTTP 200 with a non-zero
``base_resp.status_code``; the OpenAI-compatible ``/v1/chat/completions`` uses real HTTP
statuses with ``{"type": "error", "error": {"message": "... (2013)"}}``. Both shapes are
understood here. ``base_resp`` codes and HTTP statuses live in separate tables and are never
compared with each other.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from ratchet import __version__
from ratchet.core.minimax_protocol import (
    DEFAULT_BASE_URL,
    MAX_BODY_BYTES,
    MAX_COMPLETION_TOKENS,
    MODERATION_CODE,
    PATHS,
    RAW_CAP,
    TRUNCATION_RETRY_CAP,
    Failure,
    classify,
    clip,
    completion_of,
    json_object,
    normalise_base_url,
    request_id_of,
    usage_of,
)
from ratchet.core.retry import Backoff
from ratchet.errors import (
    ConfigError,
    ModelAuthError,
    ModelReplyError,
    ModelUnavailable,
)
from ratchet.types import Completion, Message, Usage

log = logging.getLogger(__name__)

def _usable_key(api_key: str) -> str:
    """The key without surrounding blanks; ModelAuthError (never echoing it) when unusable."""
    key = (api_key or "").strip()
    if not key:
        raise ModelAuthError("the MiniMax API key is empty", hint="Set MINIMAX_API_KEY.")
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise ModelAuthError(
            "the MiniMax API key contains spaces, control or non-ASCII characters",
            hint="Copy the key again from the MiniMax console into MINIMAX_API_KEY.",
        )
    return key


def _check_settings(api: str, max_tokens: int, max_attempts: int, deadline: float) -> None:
    if api not in PATHS:
        raise ConfigError(f"unknown MiniMax api {api!r}: expected 'native' or 'openai'")
    if not 1 <= max_tokens <= MAX_COMPLETION_TOKENS:
        raise ConfigError(f"max_tokens must be between 1 and {MAX_COMPLETION_TOKENS}")
    if max_attempts < 1 or deadline <= 0:
        raise ConfigError("max_attempts must be at least 1 and deadline positive")


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
        key = _usable_key(api_key)
        _check_settings(api, max_tokens, max_attempts, deadline)
        self._key = key
        self.base_url = normalise_base_url(base_url)
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
            completion = completion_of(data, headers, usage, self.model)
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
    ) -> tuple[tuple[dict[str, Any], httpx.Headers] | Failure, Usage]:
        """One HTTP call: (the success JSON and headers, or the failure it ended in; the
        usage the response reported)."""
        remaining = max(deadline_at - self._clock(), 0.001)
        timeout = httpx.Timeout(
            connect=clip(self.timeout.connect, remaining),
            read=clip(self.timeout.read, remaining),
            write=clip(self.timeout.write, remaining),
            pool=clip(self.timeout.pool, remaining),
        )
        self.http_calls += 1
        try:
            with self._http.stream("POST", self.endpoint, json=body, timeout=timeout) as response:
                raw = self._read_body(response, deadline_at)
                status, headers = response.status_code, response.headers
        except httpx.TimeoutException as exc:
            return Failure(f"timed out ({type(exc).__name__})"), Usage()
        except httpx.TransportError as exc:
            return Failure(f"connection failed ({type(exc).__name__}: {exc})"), Usage()
        except httpx.RequestError as exc:  # e.g. a body that fails to decompress
            return Failure(f"the response could not be read ({type(exc).__name__})"), Usage()
        except _Oversized:
            return Failure(f"the response body exceeded {MAX_BODY_BYTES} bytes"), Usage()
        data = json_object(raw)
        usage = usage_of(data) if data is not None else Usage()
        self.usage_total = self.usage_total + usage
        result = classify(status, headers, raw, data, self.endpoint)
        if isinstance(result, Failure):
            return result, usage
        log.debug("MiniMax answered: request id %s", request_id_of(result, headers))
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


