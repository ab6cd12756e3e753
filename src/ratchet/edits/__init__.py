"""The pure edit engine: apply a model's search/replace edits to the text of one file.

``apply_edits(path, before, edits)`` returns the new text or raises :class:`EditError` whose
message is written for the model (what went wrong and what to send instead). No I/O here.

Each edit is matched on LF text down a ladder. A stage that finds more than one place
refuses ("ambiguous"); it never falls through to a looser stage and never takes the first:

1. exact substring (also sub-line fragments);
2. whole lines, trailing whitespace ignored;
3. whole lines whose indentation differs consistently: a uniform shift, tabs for spaces or a
   re-scaled indent (tabs expanded at width 4, then 8); typographic quotes/dashes folded;
4. as 3, ignoring blank lines (the model dropped or added a blank line);
5. ``...`` elision: SEARCH and REPLACE are split on elision lines, which must pair up and
   have SEARCH lines on both sides (a leading or trailing ``...`` is a stub's body), and each
   piece goes through the whole ladder, in file order;
6. fuzzy: similarity >= 0.85 (difflib, lines aligned first, then characters) over windows of
   stripped non-blank lines; a window counts only if it *holds* SEARCH: every non-blank
   SEARCH line is there, differing by one slipped character in all (one more per 10 lines).
   Another such window one slip further and within 0.05 is ambiguous; a line the edit
   changes that the closest window lacks or has rewritten is a conflict. Needs 2 lines or 40
   characters.

A SEARCH of several lines never matches exactly where it would start or end inside a word.
Tolerant matches (2-6) splice as a 3-way merge (base = SEARCH, ours = the matched lines,
theirs = REPLACE), SEARCH → REPLACE diffed anchored on the lines with code: lines REPLACE
keeps from SEARCH (or copies, moved) keep the file's bytes, blank lines SEARCH left out stay
unless REPLACE writes them around its change (``blanks``), new lines are re-indented through
the column map and written in the file's own indent character. "Already applied" needs
REPLACE, as it is, where SEARCH is held (or, SEARCH held only with a slip, elsewhere).

Modules, by job: ``engine`` (the entry points), ``pathcheck`` (the pure path check),
``validate`` (input normalisation and per-edit checks), ``text`` (BOM, line endings, the final
newline, line helpers), ``literal`` (stages 1-4), ``match`` (whole-line finders, stages 2-4),
``elision`` (stage 5 and placeholder comments), ``fuzzy`` and ``windows`` (stage 6),
``splice``, ``blanks`` and ``indent`` (the 3-way splice, the file's blank lines in it, and
re-indentation), ``reapply`` (already-applied detection), ``messages`` (refusals written for
the model) and ``gate`` (checks on the result).
"""

from ratchet.edits.engine import apply_edits, apply_edits_with_stages
from ratchet.edits.fuzzy import FUZZY_MARGIN, FUZZY_THRESHOLD
from ratchet.edits.pathcheck import check_path
from ratchet.edits.validate import EditLike

__all__ = [
    "FUZZY_MARGIN",
    "FUZZY_THRESHOLD",
    "EditLike",
    "apply_edits",
    "apply_edits_with_stages",
    "check_path",
]
