"""Input normalisation and per-edit validation, before anything is matched."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ratchet.edits.elision import _is_lazy_comment
from ratchet.errors import EditError
from ratchet.types import Edit

EditLike = Edit | Mapping[str, object] | tuple[str, str]


def _normalise_edits(rel: str, edits: object) -> list[tuple[str, str]]:
    if isinstance(edits, Edit | Mapping):
        edits = [edits]
    if isinstance(edits, str | bytes) or not isinstance(edits, Iterable):
        raise EditError(f"Internal: the edits for `{rel}` are not a list.", "invalid", rel)
    pairs: list[tuple[str, str]] = []
    for item in edits:
        search: object  # checked to be a str below, whatever the item's shape
        replace: object
        if isinstance(item, Edit):
            search, replace = item.search, item.replace
        elif isinstance(item, Mapping):
            search, replace = item.get("search"), item.get("replace")
        elif isinstance(item, tuple | list) and len(item) == 2:
            search, replace = item[0], item[1]
        else:
            raise EditError(
                f"Each edit for `{rel}` needs a `search` and a `replace` string.", "invalid", rel
            )
        if search is None:
            search = ""
        if not isinstance(search, str) or not isinstance(replace, str):
            raise EditError(
                f"Each edit for `{rel}` needs `search` and `replace` as strings "
                "(use an empty `search` to create a file, an empty `replace` to delete text).",
                "invalid",
                rel,
            )
        pairs.append((_clean_edit_text(search), _clean_edit_text(replace)))
    if not pairs:
        raise EditError(f"No edits were given for `{rel}`.", "invalid", rel)
    return pairs


def _clean_edit_text(value: str) -> str:
    if value.startswith("\ufeff"):
        value = value[1:]
    return value.replace("\r\n", "\n")


def _check_edit_text(rel: str, number: int, total: int, search: str, replace: str) -> None:
    where = f"Edit {number} of {total} for `{rel}`"
    if "\x00" in search or "\x00" in replace:
        raise EditError(f"{where} contains NUL bytes; only text can be edited.", "binary", rel)
    if search == replace and search != "":
        raise EditError(
            f"{where} has identical SEARCH and REPLACE, so it would change nothing. "
            "Put the new text in REPLACE.",
            "no_op",
            rel,
        )
    lazy_s = sum(1 for line in search.split("\n") if _is_lazy_comment(line))
    lazy_r = [line.strip() for line in replace.split("\n") if _is_lazy_comment(line)]
    if len(lazy_r) > lazy_s:
        raise EditError(
            f"{where} was refused: its REPLACE contains the placeholder `{lazy_r[0]}` instead "
            "of real code, which would delete the code it stands for. Write out the complete "
            "replacement text.",
            "invalid",
            rel,
        )
