"""The real MiniMaxClient (httpx over loopback) against the fake MiniMax server."""

from __future__ import annotations

import json
import logging
import random
import socket
from collections.abc import Iterator

import httpx
import pytest

from ratchet import __version__
from ratchet.errors import (
    ConfigError,
    ModelAuthError,
    ModelReplyError,
    ModelRequestError,
    ModelUnavailable,
)
from ratchet.model import minimax
from ratchet.model.minimax import MiniMaxClient
from ratchet.types import Usage
from tests.fakes.minimax_server import (
    NATIVE_PATH,
    OPENAI_PATH,
    SAMPLE_PROPOSAL_JSON,
    ApiError,
    BaseRespError,
    FakeMiniMax,
    Hang,
    HttpError,
    Raw,
    Reply,
    Reset,
    Truncated,
    variant,
)

KEY = "sk-api-test-0123456789abcdef"
MESSAGES = [
    {"role": "system", "content": "Reply with one JSON object."},
    {"role": "user", "content": "Improve the app."},
]
#: for the tests of a server that hangs: a read gives up fast
FAST = httpx.Timeout(connect=2.0, read=0.25, write=2.0, pool=2.0)
#: for every other test: a loaded machine must not turn a slow answer into a timeout (and
#: then a retry the test did not count on)
STEADY = httpx.Timeout(connect=5.0, read=5.0, write=5.0, pool=5.0)


@pytest.fixture
def fake() -> Iterator[FakeMiniMax]:
    with FakeMiniMax() as server:
        yield server


class Waits(list[float]):
    """An injected ``sleep`` that records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class FakeTime:
    """An injected clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


_OPEN: list[MiniMaxClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def make(fake: FakeMiniMax, waits: Waits | None = None, **kwargs: object) -> MiniMaxClient:
    options: dict[str, object] = {
        "base_url": fake.url,
        "sleep": waits if waits is not None else Waits(),
        "rng": random.Random(7),
        "timeout": STEADY,
    }
    options.update(kwargs)
    client = MiniMaxClient(KEY, **options)  # type: ignore[arg-type]
    _OPEN.append(client)
    return client


# -- success ------------------------------------------------------------------------------


def test_native_success_sends_the_documented_request_and_reads_the_envelope(
    fake: FakeMiniMax,
) -> None:
    fake.script(
        Reply(
            content=SAMPLE_PROPOSAL_JSON,
            prompt_tokens=120,
            completion_tokens=80,
            reasoning_tokens=30,
        )
    )
    with make(fake) as client:
        completion = client.complete(MESSAGES)

    assert completion.text == SAMPLE_PROPOSAL_JSON
    assert completion.finish_reason == "stop"
    assert completion.usage == Usage(120, 80, 30)
    assert completion.model == "MiniMax-M3"
    assert client.usage_total == Usage(120, 80, 30)
    assert client.http_calls == 1
    [request] = fake.requests
    assert request.path == NATIVE_PATH
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["user-agent"] == f"ratchet/{__version__}"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "model": "MiniMax-M3",
        "messages": MESSAGES,
        "max_completion_tokens": 16384,
        "temperature": 1.0,
        "top_p": 0.95,
        "reasoning_split": True,
        "stream": False,
    }


def test_request_id_comes_from_the_trace_id_header(fake: FakeMiniMax) -> None:
    fake.script(Reply(headers={"trace-id": "trace-123", "x-mm-request-id": "mm-9"}))
    completion = make(fake).complete(MESSAGES)
    assert completion.request_id == "trace-123"


def test_openai_route_and_a_v1_base_url(fake: FakeMiniMax) -> None:
    client = make(fake, api="openai", base_url=fake.url + "/v1/", model="MiniMax-M2.7")
    completion = client.complete(MESSAGES, max_tokens=2048)

    assert completion.model == "MiniMax-M2.7"
    [request] = fake.requests
    assert request.path == OPENAI_PATH
    assert request.json["max_completion_tokens"] == 2048


def test_split_reasoning_is_not_part_of_the_text(fake: FakeMiniMax) -> None:
    fake.script(variant("b"))
    completion = make(fake).complete(MESSAGES)
    assert completion.text == SAMPLE_PROPOSAL_JSON
    assert completion.usage.reasoning_tokens == 48


def test_content_given_as_parts_is_joined(fake: FakeMiniMax) -> None:
    envelope = {
        "id": "x",
        "model": "MiniMax-M3",
        "choices": [
            {
                "finish_reason": "stop",
                "message": {
                    "content": [
                        {"type": "text", "text": '{"no_'},
                        {"type": "text", "text": 'change": true}'},
                    ]
                },
            }
        ],
        "base_resp": {"status_code": 0, "status_msg": ""},
    }
    fake.script(Raw(200, json.dumps(envelope).encode(), {"Content-Type": "application/json"}))
    assert make(fake).complete(MESSAGES).text == '{"no_change": true}'


# -- retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 1013, 1024, 1033, 1041])
def test_transient_codes_are_retried(fake: FakeMiniMax, code: int) -> None:
    waits = Waits()
    fake.script(BaseRespError(code), Reply())
    completion = make(fake, waits, backoff_base=2.0).complete(MESSAGES)

    assert "no_change" in completion.text
    assert len(fake.requests) == 2
    [wait] = waits
    assert 0.0 <= wait <= 2.0  # full jitter below the first ceiling


@pytest.mark.parametrize("code", [1002, 1039, 2045])
def test_rate_limits_wait_at_least_the_minimum(fake: FakeMiniMax, code: int) -> None:
    waits = Waits()
    fake.script(BaseRespError(code), BaseRespError(code), Reply())
    make(fake, waits, rate_limit_min=20.0, backoff_base=2.0).complete(MESSAGES)

    assert len(fake.requests) == 3
    assert len(waits) == 2
    assert all(wait >= 20.0 for wait in waits)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 524, 529])
def test_retryable_http_statuses(fake: FakeMiniMax, status: int) -> None:
    waits = Waits()
    fake.script(HttpError(status), Reply())
    make(fake, waits).complete(MESSAGES)
    assert len(fake.requests) == 2
    assert len(waits) == 1


@pytest.mark.parametrize(
    "fault",
    [
        Reset(),
        Truncated(),
        Truncated(declare_length=False),
        Raw(200, b"<html>gateway</html>", {"Content-Type": "text/html"}),
        Raw(
            200,
            b'{"base_resp": {"status_code": 0, "status_msg": ""}, "choices": null}',
            {"Content-Type": "application/json"},
        ),
        Raw(200, b"not gzip", {"Content-Type": "application/json", "Content-Encoding": "gzip"}),
        Hang(3.0),
        Hang(3.0, then=HttpError(429)),
    ],
    ids=[
        "reset",
        "cut-off",
        "cut-off-no-length",
        "html-200",
        "no-choices",
        "bad-gzip",
        "hang",
        "slow-429",
    ],
)
def test_faults_are_retried(fake: FakeMiniMax, fault: object) -> None:
    waits = Waits()
    fake.script(fault, Reply(content='{"no_change": true, "reason": "ok"}'))
    timeout = FAST if isinstance(fault, Hang) else STEADY
    completion = make(fake, waits, timeout=timeout).complete(MESSAGES)
    assert completion.text == '{"no_change": true, "reason": "ok"}'
    assert len(fake.requests) == 2
    assert len(waits) == 1


def test_an_oversized_body_is_refused(fake: FakeMiniMax, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minimax, "MAX_BODY_BYTES", 1000)
    fake.default = Reply(content="x" * 5000)
    with pytest.raises(ModelUnavailable, match="exceeded 1000 bytes"):
        make(fake, max_attempts=2).complete(MESSAGES)
    assert len(fake.requests) == 2


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits = Waits()
    client = MiniMaxClient(
        KEY, base_url=f"http://127.0.0.1:{port}", sleep=waits, max_attempts=3, timeout=FAST
    )
    with client, pytest.raises(ModelUnavailable) as info:
        client.complete(MESSAGES)
    assert "failed 3 times" in info.value.message
    assert "ConnectError" in info.value.message
    assert len(waits) == 2
    assert client.http_calls == 3


def test_exhausted_retries_name_the_last_error_and_back_off(fake: FakeMiniMax) -> None:
    fake.default = HttpError(503)
    waits = Waits()
    client = make(fake, waits, max_attempts=4, backoff_base=2.0, backoff_cap=5.0)
    with pytest.raises(ModelUnavailable) as info:
        client.complete(MESSAGES)

    assert "failed 4 times" in info.value.message
    assert "HTTP 503" in info.value.message
    assert info.value.hint
    assert len(fake.requests) == 4
    assert len(waits) == 3
    ceilings = [2.0, 4.0, 5.0]
    assert all(0.0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True))


def test_overloaded_429_on_the_openai_route(fake: FakeMiniMax) -> None:
    fake.default = HttpError(429)
    client = make(fake, api="openai", max_attempts=2)
    with pytest.raises(ModelUnavailable, match="HTTP 429: server is busy"):
        client.complete(MESSAGES)
    assert len(fake.requests) == 2


def test_hang_exhausts_attempts_with_a_timeout(fake: FakeMiniMax) -> None:
    fake.default = Hang(3.0)
    with pytest.raises(ModelUnavailable, match="timed out"):
        make(fake, max_attempts=2, timeout=FAST).complete(MESSAGES)
    assert len(fake.requests) == 2


def test_moderation_1027_is_retried_at_most_once(fake: FakeMiniMax) -> None:
    fake.script(BaseRespError(1027), Reply())
    make(fake).complete(MESSAGES)
    assert len(fake.requests) == 2

    fake.requests.clear()
    fake.script(BaseRespError(1027), BaseRespError(1027), Reply())
    with pytest.raises(ModelReplyError, match="1027"):
        make(fake).complete(MESSAGES)
    assert len(fake.requests) == 2


# -- deadline -----------------------------------------------------------------------------


def test_the_deadline_bounds_retries(fake: FakeMiniMax) -> None:
    fake.default = BaseRespError(1002)
    time = FakeTime()
    client = make(
        fake,
        time.sleep,
        clock=time.clock,
        deadline=50.0,
        max_attempts=100,
        rate_limit_min=20.0,
    )
    with pytest.raises(ModelUnavailable) as info:
        client.complete(MESSAGES)

    assert "50 s deadline" in info.value.message
    assert "1002" in info.value.message
    assert sum(time.waits) < 50.0
    assert len(fake.requests) == len(time.waits) + 1 == 3


def test_the_deadline_cuts_a_hanging_request_short(fake: FakeMiniMax) -> None:
    fake.default = Hang(5.0)
    slow = httpx.Timeout(connect=2.0, read=300.0, write=2.0, pool=2.0)
    client = make(fake, timeout=slow, deadline=0.3, max_attempts=5)
    with pytest.raises(ModelUnavailable, match="deadline"):
        client.complete(MESSAGES)
    assert len(fake.requests) == 1


# -- fail fast ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        (1004, ModelAuthError, "api.minimaxi.com"),
        (2049, ModelAuthError, "region"),
        (1008, ModelUnavailable, "balance"),
        (1028, ModelUnavailable, "quota"),
        (1030, ModelUnavailable, "quota"),
        (2056, ModelUnavailable, "5-hour"),
        (2061, ModelUnavailable, "plan"),
        (2013, ModelRequestError, "model id"),
        (1026, ModelRequestError, "prompt"),
        (1042, ModelRequestError, "characters"),
        (1999, ModelUnavailable, "errorcode"),
    ],
)
def test_fatal_codes_fail_fast_with_a_hint(
    fake: FakeMiniMax, code: int, error: type[Exception], words: str
) -> None:
    waits = Waits()
    fake.script(BaseRespError(code, message="status message"))
    with pytest.raises(error) as info:
        make(fake, waits).complete(MESSAGES)
    assert type(info.value) is error
    assert str(code) in info.value.message
    assert "status message" in info.value.message
    assert words in info.value.hint
    assert len(fake.requests) == 1
    assert waits == []


def test_a_key_from_the_other_region_is_refused_on_both_routes() -> None:
    with FakeMiniMax(api_keys={"sk-api-global-key"}) as fake:
        for api in ("native", "openai"):
            with pytest.raises(ModelAuthError) as info:
                make(fake, api=api).complete(MESSAGES)
            assert "2049" in info.value.message
            assert "https://api.minimax.io" in info.value.hint
            assert KEY not in info.value.message + info.value.hint
        assert len(fake.requests) == 2


def test_openai_401_with_code_1004(fake: FakeMiniMax) -> None:
    fake.script(
        ApiError(401, "login fail: Please carry the API secret key", 1004, "authorized_error")
    )
    with pytest.raises(ModelAuthError, match="1004"):
        make(fake, api="openai").complete(MESSAGES)
    assert len(fake.requests) == 1


def test_http_401_without_a_code_is_an_auth_error(fake: FakeMiniMax) -> None:
    fake.script(HttpError(401, body="unauthorized"))
    with pytest.raises(ModelAuthError, match="HTTP 401"):
        make(fake).complete(MESSAGES)


@pytest.mark.parametrize("api", ["native", "openai"])
def test_an_unknown_model_is_a_request_error(fake: FakeMiniMax, api: str) -> None:
    client = make(fake, api=api, model="MiniMax-M3-highspeed")
    with pytest.raises(ModelRequestError) as info:
        client.complete(MESSAGES)
    assert "2013" in info.value.message
    assert "unknown model 'MiniMax-M3-highspeed'" in info.value.message
    assert len(fake.requests) == 1


def test_a_wrong_base_path_is_a_404_request_error(fake: FakeMiniMax) -> None:
    client = make(fake, base_url=fake.url + "/proxy")
    with pytest.raises(ModelRequestError, match="404"):
        client.complete(MESSAGES)
    assert fake.requests[0].path == "/proxy" + NATIVE_PATH


def test_redirects_are_not_followed(fake: FakeMiniMax) -> None:
    fake.script(Raw(301, b"", {"Location": "https://elsewhere.example/"}))
    with pytest.raises(ModelRequestError, match="redirect to https://elsewhere.example/"):
        make(fake).complete(MESSAGES)
    assert len(fake.requests) == 1


def test_a_plain_400_is_not_retried(fake: FakeMiniMax) -> None:
    fake.script(HttpError(400, body="bad request"))
    with pytest.raises(ModelRequestError, match="HTTP 400: bad request"):
        make(fake).complete(MESSAGES)
    assert len(fake.requests) == 1


# -- truncation ---------------------------------------------------------------------------


def test_truncation_is_retried_once_with_double_the_budget(fake: FakeMiniMax) -> None:
    fake.script(
        Reply(content="", finish_reason="length", prompt_tokens=10, completion_tokens=100),
        Reply(content='{"no_change": true}', prompt_tokens=10, completion_tokens=20),
    )
    client = make(fake, max_tokens=100)
    completion = client.complete(MESSAGES)

    assert completion.text == '{"no_change": true}'
    assert completion.usage == Usage(20, 120, 0)  # both calls
    assert [r.json["max_completion_tokens"] for r in fake.requests] == [100, 200]


def test_truncated_twice_raises_without_parsing(fake: FakeMiniMax) -> None:
    fake.script(variant("e"), variant("e"))
    client = make(fake, max_tokens=100_000)
    with pytest.raises(ModelReplyError, match="truncated") as info:
        client.complete(MESSAGES)
    assert [r.json["max_completion_tokens"] for r in fake.requests] == [100_000, 131_072]
    assert info.value.raw == ""  # split mode: the visible content was empty
    assert client.usage_total.completion_tokens > 0


def test_truncation_at_the_cap_is_not_retried(fake: FakeMiniMax) -> None:
    fake.script(variant("e"))
    with pytest.raises(ModelReplyError, match="max_completion_tokens=131072"):
        make(fake, max_tokens=131_072).complete(MESSAGES)
    assert len(fake.requests) == 1


# -- usage and secrets --------------------------------------------------------------------


def test_usage_total_counts_every_call(fake: FakeMiniMax) -> None:
    fake.script(
        Reply(content="", finish_reason="length", prompt_tokens=5, completion_tokens=7),
        Reply(prompt_tokens=5, completion_tokens=3, reasoning_tokens=1),
        Reply(prompt_tokens=2, completion_tokens=2),
    )
    client = make(fake)
    client.complete(MESSAGES)
    client.complete(MESSAGES)
    assert client.usage_total == Usage(12, 12, 1)
    assert client.http_calls == 3


def test_the_key_never_appears_in_errors_or_logs(
    fake: FakeMiniMax, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.script(BaseRespError(1002, message=f"echo {KEY}"), BaseRespError(1004, f"bad {KEY}"))
    with pytest.raises(ModelAuthError) as info:
        make(fake, rate_limit_min=0.0).complete(MESSAGES)
    assert KEY not in info.value.message
    assert KEY not in info.value.hint
    assert "***" in info.value.message
    assert KEY not in caplog.text
    assert "retrying" in caplog.text


@pytest.mark.parametrize("key", ["", "   ", "sk key", "sk-\u00e9t\u00e9", "sk-\x00"])
def test_unusable_keys_are_refused_before_any_request(key: str) -> None:
    with pytest.raises(ModelAuthError) as info:
        MiniMaxClient(key)
    if key.strip():
        assert key not in info.value.message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api": "anthropic"},
        {"base_url": "api.minimax.io"},
        {"max_tokens": 0},
        {"max_tokens": 600_000},
        {"max_attempts": 0},
        {"deadline": 0},
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        MiniMaxClient(KEY, **kwargs)  # type: ignore[arg-type]


# -- the fake itself (what the client relies on) ------------------------------------------


def post(fake: FakeMiniMax, path: str, body: object, key: str | None = KEY) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.post(fake.url + path, json=body, headers=headers)


def test_fake_answers_404_text_for_other_paths(fake: FakeMiniMax) -> None:
    response = httpx.get(fake.url + NATIVE_PATH)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "404 page not found"
    assert post(fake, "/v1/messages", {}).status_code == 404


def test_fake_missing_key_on_both_routes(fake: FakeMiniMax) -> None:
    body = {"model": "MiniMax-M3", "messages": MESSAGES}
    native = post(fake, NATIVE_PATH, body, key=None)
    assert native.status_code == 200
    assert native.json()["base_resp"]["status_code"] == 1004
    assert native.json()["choices"] is None
    openai = post(fake, OPENAI_PATH, body, key=None)
    assert openai.status_code == 401
    assert openai.json()["error"]["type"] == "authorized_error"
    assert openai.json()["error"]["message"].endswith("(1004)")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"messages": None}, "expr_path=messages"),
        ({"model": "MiniMax-M3-highspeed"}, "unknown model"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": 1.5}, "temperature"),
        ({"max_completion_tokens": 524_289}, "max_completion_tokens"),
        ({"thinking": False}, "ThinkingConfig"),
    ],
)
def test_fake_validation_errors(fake: FakeMiniMax, change: dict[str, object], words: str) -> None:
    body = {"model": "MiniMax-M3", "messages": MESSAGES, **change}
    body = {k: v for k, v in body.items() if v is not None}
    native = post(fake, NATIVE_PATH, body)
    assert native.status_code == 200
    assert native.json()["base_resp"]["status_code"] == 2013
    assert words in native.json()["base_resp"]["status_msg"]
    openai = post(fake, OPENAI_PATH, body)
    assert openai.status_code == 400
    assert openai.json()["error"]["type"] == "bad_request_error"
    assert words in openai.json()["error"]["message"]
    assert openai.json()["error"]["message"].endswith("(2013)")
    assert fake.pending == 0


def test_fake_success_envelope_and_headers(fake: FakeMiniMax) -> None:
    fake.script(variant("a"))
    response = post(fake, NATIVE_PATH, {"model": "MiniMax-M3", "messages": MESSAGES})
    data = response.json()
    assert response.headers["trace-id"] == data["id"]
    assert response.headers["x-mm-request-id"]
    assert data["base_resp"] == {"status_code": 0, "status_msg": ""}
    assert data["usage"]["total_characters"] == 0
    assert data["usage"]["completion_tokens_details"]["reasoning_tokens"] == 48
    message = data["choices"][0]["message"]
    assert message["name"] == "MiniMax AI"
    assert message["content"].startswith("<think>\n")  # no reasoning_split: inline thinking
    assert "reasoning_content" not in message


def test_fake_callable_step_sees_the_request(fake: FakeMiniMax) -> None:
    fake.script(lambda request: Reply(content=request["messages"][-1]["content"].upper()))
    assert make(fake).complete(MESSAGES).text == "IMPROVE THE APP."
