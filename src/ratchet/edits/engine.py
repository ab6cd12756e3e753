"""The public entry points: apply a batch of edits to one file's text, all or nothing."""

from __future__ import annotations

from collections.abc import Iterable

from ratchet.edits.context import _Ctx
from ratchet.edits.elision import _apply_elided, _elision_parts
from ratchet.edits.fuzzy import _try_fuzzy
from ratchet.edits.gate import _check_new_controls, _syntax_gate
from ratchet.edits.literal import _try_literal
from ratchet.edits.messages import _already_applied, _no_op, _not_found
from ratchet.edits.pathcheck import check_path
from ratchet.edits.reapply import _replace_location, adds_content
from ratchet.edits.text import _Doc, _split
from ratchet.edits.validate import EditLike, _check_edit_text, _normalise_edits
from ratchet.errors import EditError


def apply_edits(path: str, before: str | None, edits: Iterable[EditLike] | EditLike) -> str:
    """Apply ``edits`` in order to ``before`` (the text of ``path``; None if the file is missing).

    ``edits`` holds :class:`Edit` objects, mappings with ``search``/``replace`` (a ``path`` key is
    ignored) or ``(search, replace)`` tuples. Each edit applies to the result of the previous
    one and the batch is all-or-nothing. An empty ``search`` creates a missing file (or fills
    an empty one). CRLF, a UTF-8 BOM and the presence or absence of the final newline are kept.

    Returns the new text. Raises ``EditError`` (category ``unsafe_path``, ``invalid``,
    ``binary``, ``missing_file``, ``exists``, ``no_op``, ``not_found``, ``ambiguous``,
    ``already_applied`` or ``syntax_error``) on the first refusal; ``str(error)`` tells the
    model what went wrong and what to send instead.
    """
    return apply_edits_with_stages(path, before, edits)[0]


def apply_edits_with_stages(
    path: str, before: str | None, edits: Iterable[EditLike] | EditLike
) -> tuple[str, list[str]]:
    """Like :func:`apply_edits`, and also return which ladder stage placed each edit.

    Stages: ``create``, ``duplicate`` (a repeat of an earlier edit, skipped), ``exact``,
    ``trailing_whitespace``, ``indentation``, ``blank_lines``, ``fuzzy(0.91)`` and
    ``elision+<stage of the last piece>``; for telemetry only.
    """
    rel = check_path(path)
    pairs = _normalise_edits(rel, edits)
    if before is not None and not isinstance(before, str):
        raise EditError(f"Internal: the text of `{rel}` is not a string.", "invalid", rel)
    if before is not None and "\x00" in before:
        raise EditError(
            f"`{rel}` is a binary file (it contains NUL bytes) and cannot be edited as text.",
            "binary",
            rel,
        )
    total = len(pairs)
    for number, (search, replace) in enumerate(pairs, 1):
        _check_edit_text(rel, number, total, search, replace)

    doc = _Doc.open(before)
    text = doc.text
    original = text
    exists = before is not None
    stages: list[str] = []
    for number, (search, replace) in enumerate(pairs, 1):
        if (search, replace) in pairs[: number - 1]:
            stages.append("duplicate")  # the model sent the same edit twice: apply it once
            continue
        ctx = _Ctx(rel, number, total, doc, original)
        if search == "":
            filled = _create_or_fill(ctx, exists, text, replace)
            keep_bom = doc.bom
            doc = _Doc.open(filled)
            doc.bom = doc.bom or keep_bom
            text = doc.text
            exists = True
            stages.append("create")
            continue
        if not exists:
            raise EditError(
                f"`{rel}` does not exist, so edit {number} of {total} cannot find its SEARCH "
                "text. To create the file, send one edit with an empty SEARCH and the whole "
                "file as REPLACE; to change an existing file, check the path.",
                "missing_file",
                rel,
            )
        new_text = _apply_one(ctx, text, search, replace)
        if new_text == text:
            raise _no_op(ctx, "applying it leaves the file unchanged")
        text = new_text
        stages.append(ctx.stage)

    after = doc.close(text)
    if after == before:
        raise EditError(
            f"The edits for `{rel}` leave the file exactly as it was. Send a change that "
            "actually modifies the file, or none.",
            "no_op",
            rel,
        )
    _check_new_controls(rel, before, after)
    _syntax_gate(rel, before, after)
    return after, stages


def _create_or_fill(ctx: _Ctx, exists: bool, text: str, replace: str) -> str:
    if not exists:
        return replace
    if text.strip() == "":
        if replace == text:
            raise _no_op(ctx, "the file is empty and REPLACE is empty")
        return replace
    raise EditError(
        f"{ctx.where} has an empty SEARCH, which only creates a new file, but `{ctx.path}` "
        "already exists. To change it, put the exact lines to replace in SEARCH; to add text, "
        "use the lines next to where it goes as SEARCH and repeat them in REPLACE.",
        "exists",
        ctx.path,
    )


def _apply_one(ctx: _Ctx, text: str, search: str, replace: str) -> str:
    lines = _split(text)
    new_text = _try_literal(ctx, text, lines, search, replace, 0)
    if new_text is not None:
        return new_text
    s_parts, r_parts = _elision_parts(search), _elision_parts(replace)
    # an elision line stands for code skipped between lines SEARCH has; one that starts or
    # ends SEARCH anchors nothing, and is the file's own `...` (a stub's body)
    elided = len(s_parts) > 1 and all(part.strip() for part in s_parts)
    if elided and len(s_parts) == len(r_parts):
        return _apply_elided(ctx, text, s_parts, r_parts)
    if elided:
        # An unpaired `...` stands for code the model skipped: no fuzzy guess over it.
        ctx.notes.append(
            "SEARCH contains elision lines (`...`) that do not pair up with the same number "
            "of elision lines in REPLACE; either pair them or copy the full text."
        )
        raise _not_found(ctx, text, search)
    if ctx.number > 1 and search.strip() in ctx.original:
        # An earlier edit in this batch changed these lines; a fuzzy match here would
        # silently merge two overlapping edits.
        raise _not_found(ctx, text, search)
    r_hit = _replace_location(text, lines, search, replace)
    new_text = _try_fuzzy(ctx, text, lines, search, replace, 0, r_hit)
    if new_text is not None:
        return new_text
    if r_hit is not None and adds_content(_split(search), _split(replace)):
        raise _already_applied(ctx, r_hit)
    raise _not_found(ctx, text, search)
