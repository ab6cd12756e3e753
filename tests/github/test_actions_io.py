"""GitHub Actions runner I/O: outputs, step summary and workflow commands.

The parsers below follow the runner's own rules (actions/runner FileCommandManager for
``$GITHUB_OUTPUT`` and ActionCommandManager for ``::command::`` lines), so a round trip
through them shows what a real runner would read.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest

from ratchet.github import actions

# -- a runner-faithful reader ---------------------------------------------------------------


def _lines(text: str) -> Iterator[tuple[str, int, int]]:
    """(line without its newline, start index, index after the newline) like the runner's
    ReadLine: lines end at ``\\n`` or ``\\r\\n``."""
    i = 0
    while i < len(text):
        j = text.find("\n", i)
        if j < 0:
            yield text[i:], i, len(text)
            return
        line = text[i:j]
        if line.endswith("\r"):
            line = line[:-1]
        yield line, i, j + 1
        i = j + 1


def parse_output_file(text: str) -> dict[str, str]:
    """Read a ``$GITHUB_OUTPUT`` file as the runner does; raise on a missing delimiter."""
    result: dict[str, str] = {}
    lines = list(_lines(text))
    k = 0
    while k < len(lines):
        line, _, _ = lines[k]
        k += 1
        if not line:
            continue
        eq, hd = line.find("="), line.find("<<")
        if eq >= 0 and (hd < 0 or eq < hd):
            result[line[:eq]] = line[eq + 1 :]
            continue
        if hd < 0:
            raise ValueError(f"invalid line {line!r}")
        name, delimiter = line[:hd], line[hd + 2 :]
        value_lines = []
        while True:
            if k >= len(lines):
                raise ValueError(f"matching delimiter not found {delimiter!r}")
            inner, _, _ = lines[k]
            k += 1
            if inner.rstrip() == delimiter:
                break
            value_lines.append(inner)
        result[name] = "\n".join(value_lines)
    return result


_COMMAND = re.compile(r"^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$")


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_prop(text: str) -> str:
    return _unescape(text.replace("%3A", ":").replace("%2C", ","))


def runner_commands(log: str) -> list[tuple[str, dict[str, str], str]]:
    """The workflow commands a runner would obey in ``log`` (honouring stop-commands)."""
    commands: list[tuple[str, dict[str, str], str]] = []
    stop_token: str | None = None
    for line in log.split("\n"):
        line = line.rstrip("\r")
        if stop_token is not None:
            if line.strip() == f"::{stop_token}::":
                stop_token = None
            continue
        m = _COMMAND.match(line.strip())
        if not m:
            continue
        name, props_text, data = m.group(1), m.group(2) or "", m.group(3)
        if name == "stop-commands":
            stop_token = data
            continue
        props = {}
        for part in filter(None, props_text.split(",")):
            key, _, value = part.partition("=")
            props[key] = _unescape_prop(value)
        commands.append((name, props, _unescape(data)))
    return commands


def _fixed(*values: str):
    it = iter(values)
    return lambda: next(it)


# -- outputs --------------------------------------------------------------------------------


def test_outputs_round_trip_through_the_runner_reader(tmp_path):
    path = tmp_path / "output"
    values = {
        "outcome": "improved",
        "score": 87,
        "pr_number": None,
        "pr_url": "",
        "multi": "line one\nline two\n\nline four",
        "crlf": "a\r\nb",
        "trailing": "ends with newline\n",
        "unicode": "naïve ✅ 测试",
        "looks_like_delim": "ghadelimiter_12345678-aaaa-bbbb-cccc-1234567890ab",
    }
    actions.set_outputs(str(path), values)
    parsed = parse_output_file(path.read_text(encoding="utf-8"))
    assert parsed == {
        "outcome": "improved",
        "score": "87",
        "pr_number": "",
        "pr_url": "",
        "multi": "line one\nline two\n\nline four",
        "crlf": "a\nb",  # the runner reads CRLF line endings as line breaks
        "trailing": "ends with newline\n",
        "unicode": "naïve ✅ 测试",
        "looks_like_delim": "ghadelimiter_12345678-aaaa-bbbb-cccc-1234567890ab",
    }


def test_outputs_use_a_random_heredoc_delimiter_per_value(tmp_path):
    path = tmp_path / "output"
    actions.set_outputs(str(path), {"a": "1", "b": "2"})
    heads = re.findall(r"^(\w+)<<(ghadelimiter_[0-9a-f-]{36})$", path.read_text(), re.M)
    assert [h[0] for h in heads] == ["a", "b"]
    assert heads[0][1] != heads[1][1]


def test_a_newline_in_a_value_cannot_define_another_output(tmp_path):
    path = tmp_path / "output"
    evil = "x\nbranch=main\nscore<<EOF\n100\nEOF"
    actions.set_outputs(str(path), {"outcome": evil})
    assert parse_output_file(path.read_text()) == {"outcome": evil}


def test_a_delimiter_found_in_the_value_is_refused_and_redrawn(tmp_path):
    path = tmp_path / "output"
    value = "before\nghadelimiter_GUESSED\nafter: branch=main"
    delimiters = _fixed("ghadelimiter_GUESSED", "ghadelimiter_NEW")
    actions.set_outputs(str(path), {"outcome": value}, new_delimiter=delimiters)
    text = path.read_text()
    assert text.startswith("outcome<<ghadelimiter_NEW\n")
    assert parse_output_file(text) == {"outcome": value}


def test_no_usable_delimiter_raises_and_writes_nothing(tmp_path):
    path = tmp_path / "output"
    with pytest.raises(ValueError, match="delimiter"):
        actions.set_outputs(str(path), {"a": "D"}, new_delimiter=lambda: "D")
    assert not path.exists()


def test_invalid_output_name_raises_before_anything_is_written(tmp_path):
    path = tmp_path / "output"
    for bad in ("bad name", "x=y", "a<<b", "new\nline", ""):
        with pytest.raises(ValueError, match="invalid output name"):
            actions.set_outputs(str(path), {"ok": "1", bad: "2"})
    assert not path.exists()


def test_outputs_append_and_are_a_no_op_without_a_path(tmp_path):
    path = tmp_path / "output"
    path.write_text("earlier=1\n")
    actions.set_outputs(str(path), {"later": "2"})
    assert parse_output_file(path.read_text()) == {"earlier": "1", "later": "2"}
    actions.set_outputs(None, {"x": "1"})
    actions.set_outputs("", {"x": "1"})
    assert list(tmp_path.iterdir()) == [path]


def test_format_output_matches_the_documented_shape():
    entry = actions.format_output("score", 5, _fixed("ghadelimiter_abc"))
    assert entry == "score<<ghadelimiter_abc\n5\nghadelimiter_abc\n"


# -- step summary ---------------------------------------------------------------------------


def test_summary_appends_markdown(tmp_path):
    path = tmp_path / "summary.md"
    actions.append_summary(str(path), "## one")
    actions.append_summary(str(path), "two\n")
    assert path.read_text() == "## one\ntwo\n"
    actions.append_summary(None, "ignored")
    actions.append_summary(str(path), "")
    assert path.read_text() == "## one\ntwo\n"


def test_summary_is_capped_with_a_note_then_stops_growing(tmp_path):
    path = tmp_path / "summary.md"
    limit = 400
    actions.append_summary(str(path), "é" * 1000, limit=limit)  # 2 bytes per character
    data = path.read_bytes()
    assert len(data) <= limit
    text = data.decode("utf-8")  # never cut inside a character
    assert text.endswith(actions.SUMMARY_TRUNCATED)
    actions.append_summary(str(path), "more " * 100, limit=limit)
    assert path.read_bytes() == data


def test_summary_keeps_text_that_fits(tmp_path):
    path = tmp_path / "summary.md"
    actions.append_summary(str(path), "x" * 100, limit=200)
    assert path.read_text() == "x" * 100 + "\n"


# -- workflow commands ----------------------------------------------------------------------


def test_group_escapes_its_title_and_always_closes():
    out = io.StringIO()
    with pytest.raises(RuntimeError):
        with actions.group("50% done\r\n::error::pwned", stream=out):
            out.write("inside\n")
            raise RuntimeError("boom")
    text = out.getvalue()
    assert text == "::group::50%25 done%0D%0A::error::pwned\ninside\n::endgroup::\n"
    cmds = runner_commands(text)
    assert [c[0] for c in cmds] == ["group", "endgroup"]
    assert cmds[0][2] == "50% done\r\n::error::pwned"


def test_group_defaults_to_stdout(capsys):
    with actions.group("tests"):
        print("line")
    assert capsys.readouterr().out == "::group::tests\nline\n::endgroup::\n"


def test_untrusted_text_cannot_issue_workflow_commands():
    hostile = (
        "collected 3 items\n"
        "::error::pwned\n"
        "::add-mask::nothing\n"
        "  ::set-output name=score::100\n"
        "::stop-commands::mine\n"
        "::mine::\n"
        "::warning file=a.py::still data\n"
        "last line without newline"
    )
    out = io.StringIO()
    actions.echo_untrusted(hostile, stream=out)
    text = out.getvalue()
    assert hostile in text
    assert runner_commands(text) == []
    # commands after the block are obeyed again
    actions.warning("after", stream=out)
    assert runner_commands(out.getvalue()) == [("warning", {}, "after")]


def test_stop_commands_token_never_occurs_in_the_text():
    text = "::abc::\nsomething abc"
    out = io.StringIO()
    actions.echo_untrusted(text, stream=out, new_token=_fixed("abc", "xyz"))
    assert out.getvalue() == "::stop-commands::xyz\n::abc::\nsomething abc\n::xyz::\n"
    with pytest.raises(ValueError):
        actions.echo_untrusted("t", stream=io.StringIO(), new_token=lambda: "t")


def test_echo_untrusted_uses_random_tokens():
    a, b = io.StringIO(), io.StringIO()
    actions.echo_untrusted("x", stream=a)
    actions.echo_untrusted("x", stream=b)
    assert a.getvalue().splitlines()[0] != b.getvalue().splitlines()[0]


def test_annotations_escape_message_and_properties():
    out = io.StringIO()
    actions.error("line 1\nline 2 100%", title="a: b, c", file="src/x.py", line=3, stream=out)
    actions.warning("w", stream=out)
    actions.notice("n\r\n::error::x", title="t", stream=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "::error title=a%3A b%2C c,file=src/x.py,line=3::line 1%0Aline 2 100%25"
    assert len(lines) == 3
    assert runner_commands(out.getvalue()) == [
        ("error", {"title": "a: b, c", "file": "src/x.py", "line": "3"}, "line 1\nline 2 100%"),
        ("warning", {}, "w"),
        ("notice", {"title": "t"}, "n\r\n::error::x"),
    ]


def test_mask_registers_each_line():
    out = io.StringIO()
    actions.mask("s3cret%\nsecond line\r\n\n  ", stream=out)
    assert out.getvalue() == "::add-mask::s3cret%25\n::add-mask::second line\n"
    assert [c[2] for c in runner_commands(out.getvalue())] == ["s3cret%", "second line"]
