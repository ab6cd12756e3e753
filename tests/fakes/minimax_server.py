"""A fake MiniMax chat API: a real HTTP server on 127.0.0.1 in a background thread.

It speaks MiniMax's wire protocol as described by the public docs and probes (both routes,
``POST /v1/text/chatcompletion_v2`` and ``POST /v1/chat/completions``): the success envelope
with ``base_resp``, ``trace-id``/``x-mm-request-id`` headers, authentication and validation
errors (HTTP 200 + ``base_resp`` on the native route, real 4xx with an ``error`` object on the
OpenAI-compatible one), HTTP-200 ``base_resp`` errors, and HTTP faults (429/529 overloaded,
5xx, a Cloudflare 524 HTML page, a body cut off mid-JSON, a connection reset, a hang).

It is independent of ratchet: it fakes MiniMax, not us. Usage::

    with FakeMiniMax() as fake:
        fake.script(BaseRespError(1002), Reply(content='{"no_change": true}'))
        ...  # point a client at fake.url
        assert len(fake.requests) == 2

Steps are consumed one per *valid* request (requests refused by auth or validation do not
consume a step); when the queue is empty ``fake.default`` answers. A step may also be a
callable ``request_json -> step``, so a reply can depend on the prompt.
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest

NATIVE_PATH = "/v1/text/chatcompletion_v2"
OPENAI_PATH = "/v1/chat/completions"
KNOWN_MODELS = frozenset(
    {
        "MiniMax-M3",
        "MiniMax-M3.1-Flash",
        "MiniMax-M2.7",
        "MiniMax-M2.7-highspeed",
        "MiniMax-M2.5",
        "MiniMax-M2.5-highspeed",
        "MiniMax-M2.1",
        "MiniMax-M2.1-highspeed",
        "MiniMax-M2",
    }
)
MAX_COMPLETION_TOKENS = 524_288

BASE_RESP_MESSAGES = {
    1000: "unknown error",
    1001: "request timeout",
    1002: "rate limit exceeded(RPM)",
    1004: "login fail: Please carry the API secret key in the 'Authorization' field of the "
    "request header",
    1008: "insufficient balance",
    1013: "internal server error",
    1024: "internal error",
    1026: "input new_sensitive",
    1027: "output new_sensitive",
    1033: "system error",
    1039: "token limit exceeded(TPM)",
    1041: "conn limit",
    1042: "illegal characters ratio exceeds limit",
    2013: "invalid params",
    2045: "rate growth limit exceeded",
    2049: "invalid api key",
    2056: "usage limit exceeded, please wait for the next 5-hour window",
    2061: "your current token plan not support model",
}

SAMPLE_PROPOSAL = {
    "title": "Add a docstring to greet",
    "rationale": "Documented functions are easier to use; the tests stay green.",
    "edits": [
        {
            "path": "app/greet.py",
            "search": "def greet(name):\n",
            "replace": 'def greet(name):\n    """Return a greeting for name."""\n',
        }
    ],
}
SAMPLE_PROPOSAL_JSON = json.dumps(SAMPLE_PROPOSAL, indent=2)
DEFAULT_CONTENT = json.dumps({"no_change": True, "reason": "the fake MiniMax default reply"})
SAMPLE_REASONING = (
    "The task asks for documentation. greet() has none; a one-line docstring is the "
    "smallest useful change. Something like {'doc': 'Return a greeting'} would do."
)

_CLOUDFLARE_524 = (
    "<!DOCTYPE html>\n<html><head><title>api.minimax.io | 524: A timeout occurred</title>"
    "</head><body><h1>A timeout occurred</h1><p>Error code 524</p>"
    "<p>The origin web server timed out responding to this request.</p>"
    "<p>Cloudflare Ray ID: 8f00000000000000</p></body></html>\n"
)
_REASONS = {524: "A Timeout Occurred", 529: "Site Overloaded"}


class RecordedRequest(NamedTuple):
    """One received request: path, headers (lower-case names), parsed JSON body or None."""

    path: str
    headers: dict[str, str]
    json: Any


@dataclass(frozen=True)
class Reply:
    """A successful completion. ``reasoning`` goes to ``reasoning_content`` when the request
    sets ``reasoning_split``, else into ``content`` as a ``<think>`` block (left unterminated
    when ``think_closed`` is False). Token counts default to estimates from the text."""

    content: str = DEFAULT_CONTENT
    finish_reason: str = "stop"
    reasoning: str | None = None
    think_closed: bool = True
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    model: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BaseRespError:
    """HTTP 200 with ``base_resp.status_code = code`` and ``choices: null`` (both routes)."""

    code: int
    message: str | None = None


@dataclass(frozen=True)
class ApiError:
    """An OpenAI-route style error: real HTTP ``status`` with
    ``{"type": "error", "error": {"type", "message": "... (code)", "http_code"}}``."""

    status: int
    message: str
    code: int | None = None
    type: str = "bad_request_error"


@dataclass(frozen=True)
class HttpError:
    """An HTTP-level fault. Default bodies: 429/529 an ``overloaded_error`` JSON, 524 a
    Cloudflare HTML page, others a short text/html page."""

    status: int
    body: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Raw:
    """Any status, body and headers, sent verbatim."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hang:
    """Send nothing for ``seconds`` (longer than the client's read timeout), then ``then``
    (default: the fake's default reply)."""

    seconds: float
    then: Step | None = None


@dataclass(frozen=True)
class Reset:
    """Read the request, then abort the connection with a TCP reset."""


@dataclass(frozen=True)
class Truncated:
    """A success envelope cut off after ``keep`` of its bytes, then the connection closes.
    With ``declare_length`` the full Content-Length is announced (the client sees a short
    body); without it the connection is simply closed (the client gets half a JSON)."""

    reply: Reply = field(default_factory=Reply)
    keep: float = 0.5
    declare_length: bool = True


Step = Reply | BaseRespError | ApiError | HttpError | Raw | Hang | Reset | Truncated | Callable


def variant(letter: str, body: str = SAMPLE_PROPOSAL_JSON) -> Reply:
    """The content variants of notes/minimax.md §6: (a)/(b) reasoning as a think block or as
    ``reasoning_content`` (chosen by the request's ``reasoning_split``), (c) fenced JSON with a
    trailing note, (d) an orphan ``</think>``, (d-mm) a ``</mm:think>`` closer, (e) truncated
    with only an unterminated think block, (f) invalid JSON (a missing brace), (g) no_change."""
    if letter in ("a", "b"):
        return Reply(content=body, reasoning=SAMPLE_REASONING, reasoning_tokens=48)
    if letter == "c":
        return Reply(content=f"```json\n{body}\n```\nNote: the tests should still pass.")
    if letter == "d":
        return Reply(content=f"{SAMPLE_REASONING}\n</think>\n\n{body}")
    if letter == "d-mm":
        return Reply(content=f"<think>\n{SAMPLE_REASONING}\n</mm:think>\n\n{body}")
    if letter == "e":
        return Reply(
            content="", reasoning=SAMPLE_REASONING, think_closed=False, finish_reason="length"
        )
    if letter == "f":
        cut = body.rstrip()
        return Reply(content=cut[:-1] if cut.endswith("}") else cut + "{")
    if letter == "g":
        return Reply(content='{"no_change": true}')
    raise ValueError(f"unknown content variant {letter!r}")


class FakeMiniMax:
    """The fake server. ``api_keys``: keys this "region" knows (None: any non-empty key);
    any other key gets 2049 invalid api key, as a key from the other region does."""

    def __init__(
        self,
        *,
        default: Step | None = None,
        api_keys: Iterable[str] | None = None,
        models: Iterable[str] = KNOWN_MODELS,
    ) -> None:
        self.default: Step = default if default is not None else Reply()
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.models = frozenset(models)
        self.requests: list[RecordedRequest] = []
        self._steps: deque[Step] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:43121`` (the routes add ``/v1/...``)."""
        if self._server is None:
            raise RuntimeError("the fake MiniMax server is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeMiniMax:
        """Bind a free loopback port and serve in a daemon thread; return self."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging handlers are woken up and drop their connections."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeMiniMax:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------

    def script(self, *steps: Step) -> FakeMiniMax:
        """Queue steps; each valid request consumes the next one. Returns self."""
        with self._lock:
            self._steps.extend(steps)
        return self

    @property
    def pending(self) -> int:
        """How many scripted steps have not been consumed yet."""
        with self._lock:
            return len(self._steps)

    # -- request handling (runs in handler threads) ---------------------------------------

    def _handle(self, handler: _Handler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in handler.headers.items()}
        path = urlsplit(handler.path).path
        with self._lock:
            self.requests.append(RecordedRequest(path, headers, body))
        if method != "POST" or path not in (NATIVE_PATH, OPENAI_PATH):
            _send(handler, 404, b"404 page not found", "text/plain; charset=utf-8")
            return
        openai = path == OPENAI_PATH
        auth = headers.get("authorization", "")
        key = auth[len("bearer ") :].strip() if auth.lower().startswith("bearer ") else ""
        if not key:
            self._error(handler, openai, 1004, BASE_RESP_MESSAGES[1004], 401, "authorized_error")
            return
        if self.api_keys is not None and key not in self.api_keys:
            self._error(handler, openai, 2049, "invalid api key", 401, "authorized_error")
            return
        problem = self._validation_error(body)
        if problem:
            self._error(handler, openai, 2013, problem, 400, "bad_request_error")
            return
        with self._lock:
            step = self._steps.popleft() if self._steps else self.default
        self._perform(handler, step, body)

    def _validation_error(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "invalid params, request body is not a JSON object"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "invalid params, binding: expr_path=messages, cause=missing required parameter"
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in (
                "system",
                "user",
                "assistant",
                "tool",
            ):
                return "invalid params, messages: invalid role"
        model = body.get("model")
        if model not in self.models:
            return f"invalid params, unknown model '{model}'"
        temperature = body.get("temperature")
        if temperature is not None and not (_is_number(temperature) and 0 < temperature <= 1):
            return "invalid params, temperature must be in (0, 1]"
        for name in ("max_completion_tokens", "max_tokens"):
            value = body.get(name)
            if value is not None and not (
                isinstance(value, int)
                and not isinstance(value, bool)
                and 1 <= value <= MAX_COMPLETION_TOKENS
            ):
                return f"invalid params, {name} must be in [1, {MAX_COMPLETION_TOKENS}]"
        if isinstance(body.get("thinking"), bool):
            return (
                "invalid params, Mismatch type github.com/minimax/api/types.ThinkingConfig "
                "with value bool"
            )
        return None

    def _error(
        self, handler: _Handler, openai: bool, code: int, message: str, status: int, kind: str
    ) -> None:
        if openai:
            self._perform(handler, ApiError(status, message, code, kind), None)
        else:
            self._perform(handler, BaseRespError(code, message), None)

    def _perform(self, handler: _Handler, step: Step, body: Any) -> None:
        while callable(step) and not isinstance(step, type):
            step = step(body)
        if isinstance(step, Hang):
            if self._stopping.wait(step.seconds):
                handler.close_connection = True
                return
            self._perform(handler, step.then if step.then is not None else self.default, body)
        elif isinstance(step, Reply):
            envelope, extra = _success(step, body)
            _send(handler, 200, _dump(envelope), "application/json; charset=utf-8", extra)
        elif isinstance(step, BaseRespError):
            _send(handler, 200, _dump(_base_resp_error(step)), "application/json; charset=utf-8")
        elif isinstance(step, ApiError):
            _send(handler, step.status, _dump(_api_error(step)), "application/json")
        elif isinstance(step, HttpError):
            payload, content_type = _http_error_body(step)
            _send(handler, step.status, payload, content_type)
        elif isinstance(step, Raw):
            content_type = step.headers.get("Content-Type", "application/octet-stream")
            headers = {k: v for k, v in step.headers.items() if k.lower() != "content-type"}
            _send(handler, step.status, step.body, content_type, headers)
        elif isinstance(step, Reset):
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
            handler.connection.close()  # the RST goes out when the handler drops its files
        elif isinstance(step, Truncated):
            envelope, extra = _success(step.reply, body)
            full = _dump(envelope)
            part = full[: max(1, int(len(full) * step.keep))]
            _send_partial(handler, full, part, step.declare_length)
        else:
            raise TypeError(f"not a fake MiniMax step: {step!r}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def _dispatch(self, method: str) -> None:
        try:
            self.server.fake._handle(self, method)  # type: ignore[attr-defined]
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("POST")

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")


def _success(reply: Reply, body: Any) -> tuple[dict[str, Any], dict[str, str]]:
    request = body if isinstance(body, dict) else {}
    split = request.get("reasoning_split") is True
    message: dict[str, Any] = {"role": "assistant", "name": "MiniMax AI", "audio_content": ""}
    content = reply.content
    if reply.reasoning is not None and split:
        message["reasoning_content"] = reply.reasoning
        message["reasoning_details"] = [
            {
                "type": "reasoning.text",
                "id": "reasoning-text-1",
                "format": "MiniMax-response-v1",
                "index": 0,
                "text": reply.reasoning,
            }
        ]
    elif reply.reasoning is not None:
        closer = "\n</think>\n\n" if reply.think_closed else ""
        content = f"<think>\n{reply.reasoning}{closer}{reply.content}"
    message["content"] = content
    reasoning_tokens = reply.reasoning_tokens
    if reasoning_tokens is None:
        reasoning_tokens = _estimate(reply.reasoning or "")
    completion_tokens = reply.completion_tokens
    if completion_tokens is None:
        completion_tokens = _estimate(reply.content) + reasoning_tokens
    prompt_tokens = reply.prompt_tokens
    if prompt_tokens is None:
        prompt_tokens = _estimate(json.dumps(request.get("messages", [])))
    request_id = uuid.uuid4().hex
    envelope = {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model or request.get("model", "MiniMax-M3"),
        "choices": [{"index": 0, "finish_reason": reply.finish_reason, "message": message}],
        "usage": {
            "total_tokens": prompt_tokens + completion_tokens,
            "total_characters": 0,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
        },
        "input_sensitive": False,
        "output_sensitive": False,
        "input_sensitive_type": 0,
        "output_sensitive_type": 0,
        "output_sensitive_int": 0,
        "base_resp": {"status_code": 0, "status_msg": ""},
    }
    headers = {
        "trace-id": request_id,
        "x-mm-request-id": f"mm-{uuid.uuid4().hex[:20]}",
        "minimax-request-id": uuid.uuid4().hex,
        **reply.headers,
    }
    return envelope, headers


def _base_resp_error(step: BaseRespError) -> dict[str, Any]:
    message = step.message if step.message is not None else BASE_RESP_MESSAGES.get(step.code, "")
    return {
        "id": uuid.uuid4().hex,
        "choices": None,
        "created": int(time.time()),
        "model": "",
        "object": "chat.completion",
        "input_sensitive": False,
        "output_sensitive": step.code == 1027,
        "input_sensitive_type": 0,
        "output_sensitive_type": 1 if step.code == 1027 else 0,
        "output_sensitive_int": 0,
        "base_resp": {"status_code": step.code, "status_msg": message},
    }


def _api_error(step: ApiError) -> dict[str, Any]:
    message = step.message if step.code is None else f"{step.message} ({step.code})"
    return {
        "type": "error",
        "error": {"type": step.type, "message": message, "http_code": str(step.status)},
        "request_id": uuid.uuid4().hex,
    }


def _http_error_body(step: HttpError) -> tuple[bytes, str]:
    if step.body is not None:
        return step.body.encode(), step.content_type or "text/plain; charset=utf-8"
    if step.status in (429, 529):
        error = {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "server is busy, please retry later"},
        }
        return _dump(error), "application/json"
    if step.status == 524:
        return _CLOUDFLARE_524.encode(), "text/html; charset=UTF-8"
    title = f"{step.status} {_REASONS.get(step.status, 'Error')}"
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return page.encode(), "text/html"


def _send(
    handler: _Handler,
    status: int,
    payload: bytes,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    handler.send_response(status, _REASONS.get(status))
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(payload)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(payload)
    handler.wfile.flush()


def _send_partial(handler: _Handler, full: bytes, part: bytes, declare_length: bool) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    if declare_length:
        handler.send_header("Content-Length", str(len(full)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(part)
    handler.wfile.flush()
    handler.close_connection = True


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _estimate(text: str) -> int:
    return math.ceil(len(text) / 4)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture
def fake_minimax() -> Iterator[FakeMiniMax]:
    """A running FakeMiniMax, stopped after the test."""
    with FakeMiniMax() as fake:
        yield fake


def main(argv: list[str] | None = None) -> int:
    """Serve the fake until interrupted (for manual experiments): print its URL first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--key", action="append", help="accept only these API keys")
    args = parser.parse_args(argv)
    with FakeMiniMax(api_keys=args.key, default=Reply(content=SAMPLE_PROPOSAL_JSON)) as fake:
        print(fake.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
