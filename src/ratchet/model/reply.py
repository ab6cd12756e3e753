"""Turn the model's reply text into a Proposal, NoChange or Need (README, "The model reply").

MiniMax does not enforce JSON output, so the text is cleaned defensively: reasoning blocks
(``<think>…</think>``, the ``</mm:think>`` closer, orphan closers, an unterminated opener)
and markdown fences are removed, and the first balanced JSON object that is a valid reply
wins. Error messages name the exact field at fault: they are shown to the model in the
repair call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ratchet.errors import ModelReplyError
from ratchet.sanitize import clip
from ratchet.types import Edit, Need, NoChange, Proposal

MAX_REPLY_BYTES = 1_000_000
MAX_TITLE_CHARS = 200
MAX_EDITS = 20
#: how much of a bad reply is kept on a ModelReplyError (and echoed in the repair call)
RAW_CAP = 32_000
#: at most this many candidate objects are decoded per text (bounds the work on junk input)
MAX_CANDIDATES = 200
#: nested retries may rescan the text at most this many times over (bounds work on junk)
SCAN_FACTOR = 8

_HINT = "The model's reply did not follow the JSON reply format."
_CLOSER = re.compile(r"</(?:mm:)?think\s*>", re.IGNORECASE)
_OPENER = re.compile(r"<(?:mm:)?think\s*>", re.IGNORECASE)
_THINK_TOKEN = re.compile(r'\\.|["{}]|<(/?)(?:mm:)?think\s*>', re.IGNORECASE | re.DOTALL)
_BRACE_TOKEN = re.compile(r'\\.|["{}]', re.DOTALL)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*[\w+.#-]*[ \t]*$", re.MULTILINE)
_DECODER = json.JSONDecoder(strict=False)  # tolerate raw newlines/tabs inside strings
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
_REPLY_KEYS = {"title", "rationale", "edits", "no_change", "reason", "need"}
MAX_NEED = 8  # items one "need" reply may ask for
MAX_NEED_ITEM = 200


def strip_think(text: str) -> str:
    """Return ``text`` without reasoning: ``<think>…</think>`` (or ``…</mm:think>``) blocks,
    everything up to an orphan closer that has no opener before it, and an unterminated
    opener with everything after it. Tags inside a JSON object (e.g. in an edit's text)
    are left alone. The result is stripped of surrounding whitespace."""
    closer = _CLOSER.search(text)
    if closer and not _OPENER.search(text, 0, closer.start()):
        text = text[closer.end() :]
    out: list[str] = []
    keep_from = 0
    depth = 0
    in_string = False
    index = 0
    while match := _THINK_TOKEN.search(text, index):
        token, index = match.group(0), match.end()
        if depth == 0:
            if token == "{":
                depth, in_string = 1, False
            elif match.group(1) is not None:  # a think tag outside any object
                out.append(text[keep_from : match.start()])
                if match.group(1):  # a stray closer: drop just the tag
                    keep_from = index
                    continue
                end = _CLOSER.search(text, index)
                if end is None:  # unterminated opener: the rest is reasoning
                    keep_from = len(text)
                    break
                keep_from = index = end.end()
        elif in_string:
            in_string = token != '"'
        elif token == '"':
            in_string = True
        elif token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
    out.append(text[keep_from:])
    return "".join(out).strip()


def strip_fences(text: str) -> str:
    """Return the body of the first markdown code fence that contains a ``{`` (an unclosed
    fence runs to the end), or ``text`` unchanged when there is no such fence."""
    position = 0
    while opener := _FENCE.search(text, position):
        fence = opener.group(1)
        body_start = min(opener.end() + 1, len(text))
        closer = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        end = closer.search(text, body_start)
        body = text[body_start : end.start() if end else len(text)]
        if "{" in body:
            return body.strip()
        if end is None:
            break
        position = end.end()
    return text


def iter_json_objects(text: str) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects in ``text`` in order: each balanced top-level ``{…}`` that
    parses; when one does not parse, the objects nested inside it are tried instead.
    Brace matching ignores braces inside JSON strings."""
    decodes = MAX_CANDIDATES
    scan_budget = SCAN_FACTOR * len(text) + 10_000  # characters rescanned, at most
    stack = [iter(_spans(text, 0, len(text)))]
    while stack:
        span = next(stack[-1], None)
        if span is None:
            stack.pop()
            continue
        start, end, closed = span
        if closed:
            decodes -= 1
            if decodes < 0:
                return
            try:
                value = _DECODER.decode(text[start:end])
            except (ValueError, RecursionError):
                value = None
            if isinstance(value, dict):
                yield value
                continue
        inner_end = end - 1 if closed else end
        scan_budget -= inner_end - start
        if scan_budget < 0:
            return
        stack.append(iter(_spans(text, start + 1, inner_end)))


def extract_json_object(text: str) -> dict[str, Any]:
    """Return the first JSON object in ``text`` (prose, fences and reasoning around it are
    tolerated). Raises ModelReplyError saying why none could be read."""
    cleaned = strip_fences(strip_think(text))
    for candidate in dict.fromkeys([cleaned, text]):
        for value in iter_json_objects(candidate):
            return value
    raise ModelReplyError(_no_object_message(cleaned), hint=_HINT, raw=text[:RAW_CAP])


def parse_reply(text: str) -> Proposal | NoChange | Need:
    """Return the Proposal, NoChange or Need the reply text holds.

    Raises ModelReplyError (with ``raw`` set to the capped text) when the reply is over
    1 MB, holds no JSON object, or its object breaks the schema; the message names the
    exact field at fault.
    """
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_REPLY_BYTES:
        raise ModelReplyError(
            f"the reply is {size} bytes; the limit is {MAX_REPLY_BYTES} bytes",
            hint=_HINT,
            raw=text[:RAW_CAP],
        )
    thinking_free = strip_think(text)
    cleaned = strip_fences(thinking_free)
    first_error: ModelReplyError | None = None
    first_reply_error: ModelReplyError | None = None
    for candidate in dict.fromkeys([cleaned, thinking_free, strip_fences(text), text]):
        for value in iter_json_objects(candidate):
            try:
                return validate_reply(value)
            except ModelReplyError as exc:
                first_error = first_error or exc
                if first_reply_error is None and _REPLY_KEYS & value.keys():
                    first_reply_error = exc
    if first_reply_error is not None:
        message = first_reply_error.message
    else:  # a syntax error in the outermost object says more than a nested object's fields
        message = _syntax_error(cleaned) or (
            first_error.message if first_error else _no_object_message(cleaned)
        )
    raise ModelReplyError(message, hint=_HINT, raw=text[:RAW_CAP])


def validate_reply(value: dict[str, Any]) -> Proposal | NoChange | Need:
    """Check one decoded object against the reply schema; return the Proposal, NoChange or
    Need. Raises ModelReplyError naming the missing or mistyped field."""
    if "need" in value and "edits" not in value and not value.get("no_change"):
        return _need(value)
    no_change = value.get("no_change", False)
    if not isinstance(no_change, bool):
        raise _field_error("no_change", "true or false", no_change)
    if no_change:
        edits = value.get("edits")
        if isinstance(edits, list) and edits:
            raise ModelReplyError(
                'the reply has both "no_change": true and "edits"; send one or the other',
                hint=_HINT,
            )
        reason = value.get("reason", "")
        if not isinstance(reason, str):
            raise _field_error("reason", "a string", reason)
        return NoChange(reason=reason.strip() or "(no reason given)")
    title = _required_string(value, "title")
    title = " ".join(title.split())
    if not title:
        raise ModelReplyError('"title" must not be empty', hint=_HINT)
    title = clip(title, MAX_TITLE_CHARS)
    rationale = _required_string(value, "rationale").strip()
    if "edits" not in value:
        raise ModelReplyError(
            '"edits" is missing; give a list of {"path", "search", "replace"} objects, '
            'or answer {"no_change": true, "reason": "..."}',
            hint=_HINT,
        )
    raw_edits = value["edits"]
    if not isinstance(raw_edits, list):
        raise _field_error("edits", "an array", raw_edits)
    if not raw_edits:
        raise ModelReplyError(
            '"edits" is empty; propose at least one edit, '
            'or answer {"no_change": true, "reason": "..."}',
            hint=_HINT,
        )
    if len(raw_edits) > MAX_EDITS:
        raise ModelReplyError(
            f'"edits" has {len(raw_edits)} entries; the limit is {MAX_EDITS}', hint=_HINT
        )
    edits = tuple(_edit(raw, index) for index, raw in enumerate(raw_edits))
    return Proposal(title=title, rationale=rationale, edits=edits)


def _need(value: dict[str, Any]) -> Need:
    raw = value["need"]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise _field_error("need", 'a non-empty array of "path:name" strings', raw)
    items = []
    for item in raw[:MAX_NEED]:
        if not isinstance(item, str) or not item.strip():
            raise _field_error("need", 'an array of "path:name" strings', item)
        items.append(" ".join(item.split())[:MAX_NEED_ITEM])
    reason = value.get("reason", "")
    return Need(items=tuple(items), reason=reason.strip() if isinstance(reason, str) else "")


def _edit(raw: object, index: int) -> Edit:
    where = f"edits[{index}]"
    if not isinstance(raw, dict):
        raise _field_error(where, "an object", raw)
    path = _required_string(raw, "path", where)
    if not path.strip():
        raise ModelReplyError(f'"{where}.path" must not be empty', hint=_HINT)
    search = _required_string(raw, "search", where)
    replace = _required_string(raw, "replace", where)
    return Edit(path=path, search=search, replace=replace)


def _required_string(value: dict[str, Any], key: str, where: str = "") -> str:
    name = f"{where}.{key}" if where else key
    if key not in value:
        raise ModelReplyError(f'"{name}" is missing', hint=_HINT)
    if not isinstance(value[key], str):
        raise _field_error(name, "a string", value[key])
    return str(value[key])


def _field_error(name: str, expected: str, got: object) -> ModelReplyError:
    return ModelReplyError(f'"{name}" must be {expected}, not {_json_type(got)}', hint=_HINT)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _no_object_message(cleaned: str) -> str:
    if not cleaned.strip():
        return "the reply is empty: no JSON object after removing the reasoning"
    return _syntax_error(cleaned) or "the reply contains no JSON object"


def _syntax_error(cleaned: str) -> str | None:
    """Why the text from the first ``{`` is not valid JSON, or None when it parses."""
    start = cleaned.find("{")
    if start < 0:
        return None
    try:
        _DECODER.raw_decode(cleaned, start)
    except json.JSONDecodeError as exc:
        return f"the reply is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return "the reply is not valid JSON: it is nested too deeply"
    return None


def _spans(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Top-level ``{…}`` spans of ``text[start:end]`` as (start, end, closed); an object
    left open at the end is reported with closed=False, running to ``end``."""
    spans: list[tuple[int, int, bool]] = []
    depth = 0
    in_string = False
    opened = start
    for match in _BRACE_TOKEN.finditer(text, start, end):
        token = match.group(0)
        if depth == 0:
            if token == "{":
                depth, in_string, opened = 1, False, match.start()
        elif in_string:
            in_string = token != '"'
        elif token == '"':
            in_string = True
        elif token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                spans.append((opened, match.end(), True))
    if depth > 0:
        spans.append((opened, end, False))
    return spans
