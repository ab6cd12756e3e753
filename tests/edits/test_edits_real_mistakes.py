"""The edit engine on the defects benchmarks/bench_edits.py found on edits from real commits
(hunks of well-known Python projects with the mistakes models make), as table tests on code
written for them. Each case names the shape of the real hunk it stands for."""

from __future__ import annotations

import random

import pytest

from ratchet.edits import apply_edits, apply_edits_with_stages
from ratchet.errors import EditError

PACKAGE_INIT = '''"""A toolkit for command-line programs."""

__version__ = "0.15.4"

from shutil import get_terminal_size as get_terminal_size

from . import colors as colors
'''


def test_a_trailing_blank_replace_keeps_is_not_written_twice() -> None:
    # a version bump: SEARCH left out every blank line, REPLACE kept them all, the one after
    # its last line included (the file's own, outside the lines SEARCH matched)
    search = ('"""A toolkit for command-line programs."""\n__version__ = "0.15.4"\n'
              "from shutil import get_terminal_size as get_terminal_size\n")
    replace = ('"""A toolkit for command-line programs."""\n\n__version__ = "0.16.0"\n\n'
               "from shutil import get_terminal_size as get_terminal_size\n\n")
    after, stages = apply_edits_with_stages("pkg/__init__.py", PACKAGE_INIT, [(search, replace)])
    assert stages == ["blank_lines"]
    assert after == PACKAGE_INIT.replace("0.15.4", "0.16.0")


# --- blank lines SEARCH left out, next to a change: REPLACE, which has them, stands ----------

CONTEXT = '''class Context:
    def invoke(self, callback, **kwargs):
        return callback(**kwargs)


class Command:
    name = None
'''


def test_a_method_inserted_between_blank_lines_search_left_out() -> None:
    # click: a method added after `invoke`; SEARCH lost the two blank lines around it
    search = "        return callback(**kwargs)\nclass Command:\n"
    replace = (
        "        return callback(**kwargs)\n"
        "\n"
        "    def forward(self, command):\n"
        '        """Invoke another command with this one\'s arguments."""\n'
        "\n"
        "        return self.invoke(command)\n"
        "\n"
        "\n"
        "class Command:\n"
    )
    after = apply_edits("cli/core.py", CONTEXT, [(search, replace)])
    assert after == CONTEXT.replace("        return callback(**kwargs)\n\n\nclass Command:\n",
                                    replace)


STRATEGY = '''def simple_classes(draw, frozen=None, slots=None):
    frozen_flag = draw(booleans()) if frozen is None else frozen
    slots_flag = draw(booleans()) if slots is None else slots

    if slots_flag:
        return make(frozen_flag, slots=True)
    return make(frozen_flag)
'''


def test_lines_added_before_a_blank_line_search_left_out() -> None:
    # attrs: a statement added after the last assignment, before the blank line
    search = ("    frozen_flag = draw(booleans()) if frozen is None else frozen\n"
              "    slots_flag = draw(booleans()) if slots is None else slots\n"
              "    if slots_flag:\n")
    added = ("    weakref_flag = (\n"
             "        draw(booleans()) if weakref is None else weakref\n"
             "    )\n")
    replace = search.replace("    if slots_flag:\n", added + "\n    if slots_flag:\n")
    after = apply_edits("tests/strategies.py", STRATEGY, [(search, replace)])
    assert after == STRATEGY.replace("slots\n\n    if", "slots\n" + added + "\n    if")


TESTS = '''class TestMakeClass:
    def test_annotations(self):
        assert {"a": "bool"} == C.__annotations__

    def test_hash_is_deprecated(self):
        with pytest.deprecated_call():

            make_class("CH", {}, hash=True)


class TestFields:
    pass
'''


def test_a_method_deleted_with_some_of_its_blank_lines_copied() -> None:
    # attrs: a test method removed; SEARCH kept the blank lines inside it and one of the two
    # before the next class, REPLACE has the two blank lines the result needs
    search = (
        '        assert {"a": "bool"} == C.__annotations__\n'
        "    def test_hash_is_deprecated(self):\n"
        "        with pytest.deprecated_call():\n"
        "\n"
        '            make_class("CH", {}, hash=True)\n'
        "\n"
        "class TestFields:\n"
    )
    replace = '        assert {"a": "bool"} == C.__annotations__\n\n\nclass TestFields:\n'
    after = apply_edits("tests/test_make.py", TESTS, [(search, replace)])
    assert after == (
        "class TestMakeClass:\n    def test_annotations(self):\n" + replace + "    pass\n"
    )


IMPORTS = '''import pytest

from attr.validators import instance_of
from attr._compat import TYPE
'''


def test_an_import_added_where_search_left_out_the_blank_line() -> None:
    search = ("import pytest\nfrom attr.validators import instance_of\n"
              "from attr._compat import TYPE\n")
    replace = ("import pytest\nimport zope.interface\n\n"
               "from attr.validators import instance_of, provides\nfrom attr._compat import TYPE\n")
    assert apply_edits("tests/test_validators.py", IMPORTS, [(search, replace)]) == replace


PACKAGE = '''try:
    from structlog import twisted
except ImportError:
    twisted = None


__version__ = "15.2.0"

__title__ = "structlog"
'''


def test_blank_lines_replace_repeats_at_the_start_are_the_files() -> None:
    # structlog: SEARCH starts with one of the two blank lines before the version and left
    # out the one after it; REPLACE has them all
    search = '\n__version__ = "15.2.0"\n__title__ = "structlog"\n'
    replace = '\n\n__version__ = "15.3.0.dev0"\n\n__title__ = "structlog"\n'
    after = apply_edits("structlog/__init__.py", PACKAGE, [(search, replace)])
    assert after == PACKAGE.replace("15.2.0", "15.3.0.dev0")


# --- property: blank lines left out next to any change ------------------------------------

MODULE = """\
\"\"\"A small cache.\"\"\"

import threading
import time

from .keys import hashkey


__all__ = ["Cache", "cached"]


class Cache:
    \"\"\"A mapping with a maximum size.\"\"\"

    def __init__(self, maxsize):
        self._data = {}
        self._maxsize = maxsize

        self._lock = threading.Lock()

    def __getitem__(self, key):
        with self._lock:
            return self._data[key]

    def __setitem__(self, key, value):
        if len(self._data) >= self._maxsize:
            self.popitem()

        self._data[key] = value


def cached(cache, key=hashkey):
    def decorator(func):
        def wrapper(*args, **kwargs):
            k = key(*args, **kwargs)
            try:
                return cache[k]
            except KeyError:
                pass

            v = func(*args, **kwargs)
            cache[k] = v
            return v

        return wrapper

    return decorator
""".split("\n")[:-1]

NEW = ["started = time.monotonic()", "log.debug('cache miss')", "if key is None:", "count += 1"]


def _changed_span(rng: random.Random) -> tuple[int, int, list[tuple[str, str]]]:
    """A span of MODULE with one change (insertion, deletion or rewrite), as tagged lines."""
    content = [i for i, line in enumerate(MODULE) if line.strip()]
    a = rng.randrange(len(content) - 3)
    start, end = content[a], content[min(len(content) - 1, a + rng.randint(2, 6))] + 1
    tagged = [(" ", line) for line in MODULE[start:end]]
    at = rng.randrange(1, len(tagged))
    near = tagged[at - 1][1] if tagged[at - 1][1].strip() else tagged[at][1]
    indent = near[: len(near) - len(near.lstrip())]
    how = rng.choice(("insert", "insert_with_blank", "delete", "rewrite"))
    if how.startswith("insert"):
        new = [("+", indent + rng.choice(NEW))]
        if how == "insert_with_blank":
            new = [("+", ""), *new] if rng.random() < 0.5 else [*new, ("+", "")]
        tagged[at:at] = new
    else:  # a line with code: a blank line's change is not told apart from a miscount
        at = rng.choice([i for i, (_, line) in enumerate(tagged) if i and line.strip()])
        old = tagged[at][1]
        new = [] if how == "delete" else [("+", old + "  # ok")]
        tagged[at : at + 1] = [("-", old), *new]
    return start, end, tagged


def _without_blanks(tagged: list[tuple[str, str]], rng: random.Random, both: bool) -> list[int]:
    """Indices of blank context lines to leave out; with ``both``, only from runs of blank
    lines between unchanged lines (next to a change their place would be a guess)."""
    runs: list[list[int]] = []
    for i, (tag, line) in enumerate(tagged):
        if tag == " " and not line.strip():
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
    out = []
    for run in runs:
        flanks = [j for j in (run[0] - 1, run[-1] + 1) if 0 <= j < len(tagged)]
        if both and any(tagged[j][0] != " " for j in flanks):
            continue
        out += [i for i in run if rng.random() < 0.7]
    return out


@pytest.mark.parametrize("seed", range(8))
def test_blank_lines_left_out_next_to_any_change_never_move_or_vanish(seed: int) -> None:
    rng = random.Random(2000 + seed)
    text = "\n".join(MODULE) + "\n"
    checked = 0
    for _ in range(120):
        start, end, tagged = _changed_span(rng)
        both = rng.random() < 0.5
        drop = set(_without_blanks(tagged, rng, both))
        if not drop:
            continue
        search = [line for i, (tag, line) in enumerate(tagged) if tag in " -" and i not in drop]
        replace = [line for i, (tag, line) in enumerate(tagged)
                   if tag in " +" and (i not in drop or not both)]
        expected = MODULE[:start] + [line for tag, line in tagged if tag in " +"] + MODULE[end:]
        try:
            after = apply_edits("cache.py", text, [("\n".join(search) + "\n",
                                                    "\n".join(replace) + "\n")])
        except EditError as exc:
            assert exc.category in ("ambiguous", "not_found", "syntax_error"), exc
            continue
        assert after == "\n".join(expected) + "\n", (search, replace)
        checked += 1
    assert checked > 30


# --- fuzzy: a window counts only when it holds every SEARCH line, up to a copy slip ---------

PARAMS = '''def Option(default, *, param_decls, callback=None, metavar=None):
    return OptionInfo(
        # Parameter
        default=default,
        param_decls=param_decls,
        callback=callback,
        metavar=metavar,
    )


def Argument(default, *, param_decls, callback=None, metavar=None):
    return ArgumentInfo(
        # Parameter
        default=default,
        param_decls=param_decls,
        callback=callback,
        metavar=metavar,
    )
'''
ARG_SEARCH = (
    "    return ArgumentInfo(\n        # Parameter\n        default=default,\n"
    "        param_decls=param_decls,\n        callback=callback,\n        metavar=metavar,\n"
)
ARG_REPLACE = ARG_SEARCH.replace(
    "        param_decls=param_decls,\n",
    "        # an argument has one declaration, made from its name\n        param_decls=None,\n",
)


def test_a_resent_edit_is_not_applied_to_a_sibling_block() -> None:
    # typer: Argument() and Option() have the same keyword lines; the edit was applied to
    # Argument() and is sent again. Option()'s block scores 0.96 but differs in a word
    once = apply_edits("params.py", PARAMS, [(ARG_SEARCH, ARG_REPLACE)])
    with pytest.raises(EditError) as err:
        apply_edits("params.py", once, [(ARG_SEARCH, ARG_REPLACE)])
    assert err.value.category == "already_applied"


def test_an_absent_block_is_not_matched_to_a_sibling_that_differs_by_a_word() -> None:
    gone = PARAMS[: PARAMS.index("\n\ndef Argument")] + "\n"
    with pytest.raises(EditError) as err:
        apply_edits("params.py", gone, [(ARG_SEARCH, ARG_REPLACE)])
    assert err.value.category == "not_found"


def test_a_slip_in_search_next_to_a_sibling_block_is_not_ambiguous() -> None:
    # before, Option()'s block was a rival within the margin: refused as ambiguous
    slipped = ARG_SEARCH.replace("callback=callback", "callback=calback")
    after = apply_edits("params.py", PARAMS, [(slipped, ARG_REPLACE.replace(
        "callback=callback", "callback=calback"))])
    assert after == PARAMS.replace(ARG_SEARCH, ARG_REPLACE)


VERSION = '''from .utils import get_text_stream as get_text_stream
from .utils import open_file as open_file

__version__ = "8.0.1"
'''


def test_a_changed_line_rewritten_in_the_file_is_refused() -> None:
    # click: the file moved on (the version line is something else now); the three context
    # lines still match, and before, REPLACE's version line was added after them
    stale = VERSION.replace('__version__ = "8.0.1"', "from .utils import echo as echo")
    with pytest.raises(EditError) as err:
        apply_edits("click/__init__.py", stale, [(VERSION, VERSION.replace("8.0.1", "8.0.2"))])
    assert err.value.category == "not_found"
    assert "Copy SEARCH exactly" in str(err.value)


def test_a_changed_line_missing_from_the_file_is_refused() -> None:
    stale = VERSION.replace('\n__version__ = "8.0.1"\n', "")
    with pytest.raises(EditError) as err:
        apply_edits("click/__init__.py", stale, [(VERSION, VERSION.replace("8.0.1", "8.0.2"))])
    assert err.value.category == "not_found"


# --- the splice: lines REPLACE copies from SEARCH, blank lines and their bytes -------------

COMPLETION = '''def test_install_completion(tmp_path):
    bashrc = tmp_path / ".bashrc"
    text = bashrc.read_text()
    result = runner.invoke(app, ["--install-completion", "bash"])
    new_text = bashrc.read_text()
    assert "complete-bash" in new_text
    bashrc.write_text(text)
'''


def test_a_line_replace_moves_is_written_as_the_file_has_it() -> None:
    # typer: the restore line moves up; SEARCH (and so REPLACE) has a slip in it
    search = ("    new_text = bashrc.read_text()\n    assert \"complete-bash\" in new_text\n"
              "    bashrc.write_etxt(text)\n")
    replace = ("    new_text = bashrc.read_text()\n    bashrc.write_etxt(text)\n"
               "    assert \"complete-bash\" in new_text\n"
               "    assert \"completion installed\" in result.stdout\n")
    after = apply_edits("tests/test_completion.py", COMPLETION, [(search, replace)])
    assert after == COMPLETION.replace(
        '    assert "complete-bash" in new_text\n    bashrc.write_text(text)\n',
        '    bashrc.write_text(text)\n    assert "complete-bash" in new_text\n'
        '    assert "completion installed" in result.stdout\n',
    )


SETTINGS = (
    "class TestSettings(unittest.TestCase):\n"
    "        \n"
    "    def test_timeout(self):\n"
    "        import socket\n"
    "        \n"
    "        with settings(timeout=0):\n"
    "            self.assertRaises(socket.error, fetch, 'http://example.com')\n"
    "            \n"
    "        with settings(timeout=10):\n"
    "            fetch('http://example.com')\n"
)


def test_whitespace_only_lines_keep_their_bytes() -> None:
    # requests (2011): blank lines made of spaces, of two widths; SEARCH has a slip
    search = SETTINGS[SETTINGS.index("        \n    def"): SETTINGS.index("            fetch")]
    search = search.replace("timeout=10", "timeotu=10")
    replace = (
        "        \n"
        "    def test_timeout(self):\n"
        "        with settings(timeout=0.001):\n"
        "            self.assertRaises(Timeout, fetch, 'http://example.com')\n"
        "            \n"
        "        with settings(timeout=10):\n"
    )
    after = apply_edits("test_settings.py", SETTINGS, [(search, replace)])
    assert after == SETTINGS.replace(
        "        import socket\n        \n        with settings(timeout=0):\n"
        "            self.assertRaises(socket.error,",
        "        with settings(timeout=0.001):\n            self.assertRaises(Timeout,",
    )


def test_a_file_with_trailing_whitespace_keeps_replaces() -> None:
    src = ("    def test_invalid_schema(self):\n"
           "        # a URL with a schema requests does not support \n"
           "        # must fail.  \n"
           "        self.assertRaises(InvalidSchema, get, 'localhost:3128')\n")
    # SEARCH has trailing whitespace where the file has none, and lost some the file has
    search = src.replace("self):\n", "self):  \n").replace("support \n", "support\n")
    replace = src.replace("schema", "scheme")
    after = apply_edits("test_requests.py", src, [(search, replace)])
    assert after == src.replace("schema", "scheme")


RESOLVE = '''def resolve_ctx(cli, args):
    ctx = cli.make_context(args)
    while ctx.args:
        ctx = ctx.command.make_context(ctx.args)
    return ctx


def get_choices(cli, args):
    return resolve_ctx(cli, args)
'''


def test_a_blank_run_replace_lays_out_anew_stands() -> None:
    # click: the `return` moves between the two blank lines (SEARCH left both out)
    search = ("    while ctx.args:\n        ctx = ctx.command.make_context(ctx.args)\n"
              "    return ctx\ndef get_choices(cli, args):\n")
    replace = ("    while ctx is not None and ctx.args:\n"
               "        ctx = ctx.command.make_context(ctx.args)\n"
               "\n    return ctx\n\ndef get_choices(cli, args):\n")
    after = apply_edits("click/_bashcomplete.py", RESOLVE, [(search, replace)])
    assert after == RESOLVE.replace(
        "    while ctx.args:\n", "    while ctx is not None and ctx.args:\n"
    ).replace("\n    return ctx\n\n\n", "\n\n    return ctx\n\n")


TTL = '''import time

from .cache import Cache, _deprecated


class TTLCache(Cache):
    pass
'''


def test_blank_lines_after_a_rewritten_last_line_are_not_written_twice() -> None:
    # cachetools: SEARCH ends with one of the two blank lines after its last line, REPLACE
    # with both
    search = "import time\nfrom .cache import Cache, _deprecated\n\n"
    replace = "import time\n\nfrom .cache import Cache\n\n\n"
    after = apply_edits("cachetools/ttl.py", TTL, [(search, replace)])
    assert after == TTL.replace(", _deprecated", "")


HOOKS = '''def send(r):
    r.send()

    # Post-request hook.
    r = dispatch_hook("post_request", r.hooks, r)

    return r.response


get = _patched(api.get)
'''


def test_a_deletion_between_blank_lines_search_left_out() -> None:
    # requests: the hook goes; SEARCH left out the blank lines, REPLACE has those that stay
    # (and the two after the function, outside SEARCH)
    search = ('    r.send()\n    # Post-request hook.\n'
              '    r = dispatch_hook("post_request", r.hooks, r)\n    return r.response\n')
    replace = "    r.send()\n\n    return r.response\n\n\n"
    after = apply_edits("requests/async.py", HOOKS, [(search, replace)])
    assert after == HOOKS.replace(
        '    # Post-request hook.\n    r = dispatch_hook("post_request", r.hooks, r)\n\n', ""
    )


# --- "already applied" needs REPLACE as it is, where SEARCH is held -------------------------

MIXIN = '''import unittest


class CacheTestMixin:

    Cache = None

    def test_defaults(self):
        cache = self.Cache(maxsize=1)
        self.assertEqual(0, len(cache))
'''


def test_a_blank_line_edit_with_a_slip_in_search_is_applied() -> None:
    # cachetools: the edit removes a blank line; SEARCH has a slip in the class name, so its
    # code differs from REPLACE's, and REPLACE was "found" with blank lines ignored
    search = "\n\nclass CacheTestMixni:\n\n    Cache = None\n\n    def test_defaults(self):\n"
    replace = "\n\nclass CacheTestMixin:\n    Cache = None\n\n    def test_defaults(self):\n"
    after = apply_edits("tests/__init__.py", MIXIN, [(search, replace)])
    assert after == MIXIN.replace("Mixin:\n\n    Cache", "Mixin:\n    Cache")


DIGEST = '''def build_digest(nonce, ncvalue, cnonce, HA1, HA2, qop):
    if qop == "auth":
        noncebit = "%s:%s:%s:%s:%s" % (
            nonce, ncvalue, cnonce, "auth", HA2
            )
        respdig = KD(HA1, noncebit)
    else:
        respdig = None
    return respdig
'''


def test_an_indentation_only_edit_with_a_slip_in_search_is_applied() -> None:
    # requests: the edit only dedents a closing parenthesis; SEARCH has a slip elsewhere
    search = ('        noncebit = "%s:%s:%s:%s:%s" % (\n            nonce, ncvalue, cnonce, '
              '"auth", HA2\n            )\n        respdig = KD(HA1, noncbit)\n    else:\n')
    replace = search.replace("            )\n", "        )\n").replace("noncbit", "noncebit")
    after = apply_edits("requests/auth.py", DIGEST, [(search, replace)])
    assert after == DIGEST.replace("            )\n", "        )\n")


LRU = '''class LRUCache(Cache):

    def __getitem__(self, key, cache_getitem=Cache.__getitem__):
        value = cache_getitem(self, key)
        self.__update(key)
        return value

    def __setitem__(self, key, value, cache_setitem=Cache.__setitem__):
        cache_setitem(self, key, value)
'''


def test_a_resent_edit_that_starts_with_a_blank_line_is_already_applied() -> None:
    # cachetools: re-sent, SEARCH is held by the edited block (an added line and a re-indent
    # are all that differ); REPLACE stands there from its blank first line on
    search = LRU[LRU.index("\n    def __getitem__") : LRU.index("        cache_setitem(")]
    replace = search.replace(
        "        self.__update(key)\n",
        "        if key in self:  # __missing__ may not store item\n"
        "            self.__update(key)\n",
    )
    once = apply_edits("cachetools/lru.py", LRU, [(search, replace)])
    with pytest.raises(EditError) as err:
        apply_edits("cachetools/lru.py", once, [(search, replace)])
    assert err.value.category == "already_applied"


# --- a change of look-alike characters is a change ------------------------------------------

MAGIC = '''class TestDarkMagic:
    def test_subclassing(self):
        """
        Sub-classing does what you\u2019d hope for.
        """
        obj = object()
        assert Sub(x=obj).x is obj
'''
QUOTE_SEARCH = MAGIC[MAGIC.index("    def test_sub") : MAGIC.index("        assert")]
QUOTE_REPLACE = QUOTE_SEARCH.replace("\u2019", "'")


def test_a_typographic_quote_replace_changes_is_changed() -> None:
    # attrs: the edit turns a typographic apostrophe into an ASCII one; SEARCH has trailing
    # whitespace the file lacks (so the whole-line stage places it, folding look-alikes)
    search = QUOTE_SEARCH.replace("hope for.\n", "hope for.  \n")
    after = apply_edits("tests/test_dark_magic.py", MAGIC, [(search, QUOTE_REPLACE)])
    assert after == MAGIC.replace("\u2019", "'")


def test_a_typographic_quote_edit_with_a_slip_is_not_already_applied() -> None:
    search = QUOTE_SEARCH.replace("obj = object()", "obj = objetc()")
    after = apply_edits("tests/test_dark_magic.py", MAGIC, [(search, QUOTE_REPLACE)])
    assert after == MAGIC.replace("\u2019", "'")


def test_a_resent_typographic_quote_edit_is_already_applied() -> None:
    once = apply_edits("tests/test_dark_magic.py", MAGIC, [(QUOTE_SEARCH, QUOTE_REPLACE)])
    with pytest.raises(EditError) as err:
        apply_edits("tests/test_dark_magic.py", once, [(QUOTE_SEARCH, QUOTE_REPLACE)])
    assert err.value.category == "already_applied"


# --- a block of lines does not start or end inside a word -----------------------------------

SETUP_CFG = """[metadata]
name = structlog
version = 18.1.0

[options]
packages = find:
"""


def test_a_block_search_that_lost_its_first_character_is_not_matched_mid_word() -> None:
    # structlog: SEARCH began "mport sys" — found, exactly, inside "import sys"; the result
    # was "iimport sys" (a Python file's syntax gate caught it; this file has none)
    search = "ame = structlog\nversion = 18.1.0\n"
    replace = "name = structlog\nversion = 18.2.0\n"
    after = apply_edits("setup.cfg", SETUP_CFG, [(search, replace)])
    assert after == SETUP_CFG.replace("18.1.0", "18.2.0")


def test_a_sub_line_fragment_still_matches_inside_a_line() -> None:
    src = "x = compute(alpha, beta)\ny = 2\n"
    assert apply_edits("m.py", src, [("alpha, beta", "beta, alpha")]) == (
        "x = compute(beta, alpha)\ny = 2\n"
    )


STDLIB = '''def test_proxies_to_correct_method(method_name):
    bl = BoundLogger(ReturnLogger(), [return_method_name], {})
    assert method_name == getattr(bl, method_name)("event")


def test_positional_args_proxied():
    pass
'''


def test_an_edit_removing_a_blank_line_with_a_slip_in_search_is_applied() -> None:
    # structlog: REPLACE (the block without its last blank line) stands inside the block
    # SEARCH matched: that is not "already applied"
    search = ('    bl = BoundLogger(ReturnLoggeu(), [return_method_name], {})\n'
              '    assert method_name == getattr(bl, method_name)("event")\n\n')
    replace = search.replace("ReturnLoggeu", "ReturnLogger")[:-1]
    after = apply_edits("tests/test_stdlib.py", STDLIB, [(search, replace)])
    assert after == STDLIB.replace('("event")\n\n\n', '("event")\n\n')


JSON = '''def dumps(obj, app=None, **kwargs):
    """Serialize data as JSON.

    :param app: App instance to use to configure the JSON encoder.
    :param kwargs: Extra arguments passed to :func:`json.dumps`.
    """


def loads(s, app=None, **kwargs):
    """Deserialize data as JSON.

    :param app: App instance to use to configure the JSON decoder.
    :param kwargs: Extra arguments passed to :func:`json.dumps`.
    """
'''


def test_a_resent_edit_is_not_applied_to_a_sibling_one_character_away() -> None:
    # flask: the edit fixes loads()' docstring; sent again, dumps()' docstring holds its
    # SEARCH up to one character ("encoder"), while REPLACE stands, as it is, in loads()
    search = ("    :param app: App instance to use to configure the JSON decoder.\n"
              "    :param kwargs: Extra arguments passed to :func:`json.dumps`.\n")
    replace = search.replace("json.dumps", "json.loads")
    once = apply_edits("flask/json.py", JSON, [(search, replace)])
    assert once == JSON[: JSON.rindex("json.dumps")] + "json.loads`.\n    \"\"\"\n"
    with pytest.raises(EditError) as err:
        apply_edits("flask/json.py", once, [(search, replace)])
    assert err.value.category == "already_applied"
    assert "near line 12" in str(err.value)


# --- a `...` that starts SEARCH is the file's own (a stub body), not an elision ------------

OVERLOADS = '''import click


@overload
def Option(
    # Parameter
    default: Any,
) -> Any:
    ...


@overload
def Option(
    # Parameter
    default: Any,
    click_type: click.ParamType,
) -> Any:
    ...
'''
STUB_SEARCH = "    ...\n\n\n@overload\ndef Option(\n    # Parameter\n"
STUB_REPLACE = STUB_SEARCH.replace("\n@overload", "\n# Overload for a custom click_type\n@overload")


def test_a_resent_edit_starting_with_a_stub_body_is_not_applied_elsewhere() -> None:
    # typer: SEARCH starts with the `...` body of the overload before; re-sent, it was split
    # on that `...` as an elision and its first piece went to another overload
    once = apply_edits("typer/params.py", OVERLOADS, [(STUB_SEARCH, STUB_REPLACE)])
    assert once.count("# Overload for a custom click_type") == 1
    with pytest.raises(EditError) as err:
        apply_edits("typer/params.py", once, [(STUB_SEARCH, STUB_REPLACE)])
    assert err.value.category in ("already_applied", "ambiguous", "not_found")


# --- a rewritten line paired by likeness does not make a stretch "untouched" ---------------

PROXY = '''def request_url(self, request, proxies):
    proxy = select_proxy(request.url, proxies)
    scheme = urlparse(request.url).scheme
    if proxy:
        proxy_scheme = urlparse(proxy).scheme

    if proxy and proxy_scheme.lower().startswith("socks"):
        url = request.path_url
    else:
        url = urldefragauth(request.url)
    return url
'''


def test_a_statement_rewritten_into_a_new_one_does_not_take_the_files_blank_line() -> None:
    # requests: `if proxy and ...socks` becomes `using_socks = ...socks`, which looks like it;
    # the blank line before it is the file's, REPLACE puts its own elsewhere
    search = PROXY[PROXY.index("    if proxy:") :].replace("scheme\n\n", "scheme\n")
    replace = '''    using_socks = False
    if proxy:
        proxy_scheme = urlparse(proxy).scheme.lower()
        using_socks = proxy_scheme.startswith("socks")

    url = request.path_url
    if not using_socks:
        url = urldefragauth(request.url)
    return url
'''
    after = apply_edits("requests/adapters.py", PROXY, [(search, replace)])
    assert after == PROXY[: PROXY.index("    if proxy:")] + replace


COMPAT = '''import click
import pytest


if click.__version__ >= "3.0":
    def test_legacy_callbacks(runner):
        def legacy_callback(ctx, value):
            return value.upper()

        @click.command()
        def cli(foo):
            click.echo(foo)

        result = runner.invoke(cli, ["--foo", "wat"])
        assert "WAT" in result.output


def test_bash_func_name():
    pass
'''


def test_a_line_removed_and_another_added_in_its_place_are_not_one_rewritten_line() -> None:
    # click: the `if` goes, an import comes, the test is dedented; SEARCH kept one of the two
    # blank lines after the imports and none other. Paired by position, the `if` and the
    # import look like one rewritten line, and the file's other blank line lands above it
    search = "".join(line for line in COMPAT[: COMPAT.index("def test_bash")].splitlines(True)
                     if line.strip()).replace("pytest\n", "pytest\n\n")
    replace = '''import click
import pytest
from click._compat import WIN


def test_legacy_callbacks(runner):
    def legacy_callback(ctx, value):
        return value.upper()

    @click.command()
    def cli(foo):
        click.echo(foo)

    result = runner.invoke(cli, ["--foo", "wat"])
    assert "WAT" in result.output


'''
    after = apply_edits("tests/test_compat.py", COMPAT, [(search, replace)])
    assert after == replace + "def test_bash_func_name():\n    pass\n"


# --- whitespace REPLACE changes is a change -----------------------------------------------

ASYNC = '''def send(r, pool=None):
    """Sends the request object using the specified pool. If a pool isn't 
    specified this method blocks."""
    r.send()
    return r.response
'''


def test_trailing_whitespace_replace_removes_is_removed() -> None:
    # requests: the edit strips a docstring line's trailing space (and rewrites nothing
    # else); SEARCH was re-indented, so a tolerant stage places it
    search = "".join(line[4:] if line.startswith("    ") else line
                     for line in ASYNC.splitlines(True)[:3])
    replace = search.replace("isn't \n", "isn't\n")
    after = apply_edits("requests/async.py", ASYNC, [(search, replace)])
    assert after == ASYNC.replace("isn't \n", "isn't\n")


DIGEST_401 = '''def handle_401(self, r):
    if "digest" in r.headers.get("www-authenticate", ""):
        r.content
        r.raw.release_conn()

        r.request.headers["Authorization"] = self.build_digest_header(r)
        r.request.num_401_calls = 2
        return r.connection.send(r.request)
    return r
'''


def test_a_whitespace_only_line_replace_writes_keeps_its_whitespace() -> None:
    # requests (2012): the blank line becomes twelve spaces, as the commit wrote it
    search = DIGEST_401[DIGEST_401.index("        r.content") : DIGEST_401.index("        return")]
    search = search.replace("r.content\n", "r.contnet\n")  # and SEARCH has a slip
    replace = search.replace("\n\n", "\n            \n").replace(
        "        r.request.num_401_calls = 2\n", "").replace("r.contnet", "r.content")
    after = apply_edits("requests/auth.py", DIGEST_401, [(search, replace)])
    assert after == DIGEST_401.replace("release_conn()\n\n", "release_conn()\n            \n") \
        .replace("        r.request.num_401_calls = 2\n", "")


MAIN_IMPORTS = '''import sys

import click

from ._typing import get_args, get_origin, is_union
from .completion import get_completion_inspect_parameters
'''


def test_a_line_split_in_two_where_search_left_out_the_blank_line() -> None:
    # typer: half of an import moves to a new line above it, with the blank line between them
    # (the file's, which SEARCH left out); the moved half looks more like the old line
    search = ("import click\nfrom ._typing import get_args, get_origin, is_union\n"
              "from .completion import get_completion_inspect_parameters\n")
    replace = ("import click\nfrom typing_extensions import get_args, get_origin\n\n"
               "from ._typing import is_union\n"
               "from .completion import get_completion_inspect_parameters\n")
    after = apply_edits("typer/main.py", MAIN_IMPORTS, [(search, replace)])
    assert after == "import sys\n\n" + replace


TABBED = (
    "class Request(object):\n"
    "\n"
    "\tdef send(self, anyway=False):\n"
    '\t\t"""Sends the request.\n'
    "\n"
    "\t\t   :param anyway: If True, request will be sent.\n"
    '\t\t"""\n'
    "\t\tself._checks()\n"
)


def test_lines_aligned_with_spaces_after_tabs_stay_as_written() -> None:
    # requests (2011, tabs): REPLACE's new docstring lines are two tabs and four spaces; in
    # place, they were rewritten as three tabs
    search = TABBED[TABBED.index("\tdef send") :].replace("anyway=False", "anyway=Flase")
    replace = (
        "\tdef send(self, anyway=Flase):\n"
        '\t\t"""Sends the request. Returns True if successful.\n'
        "\t\t    If there was an HTTPError, it is kept.\n"
        "\n"
        "\t\t    :param anyway: If True, request will be sent.\n"
        '\t\t"""\n'
        "\t\tself._checks()\n"
    )
    after = apply_edits("requests/core.py", TABBED, [(search, replace)])
    assert after == "class Request(object):\n\n" + replace.replace("Flase", "False")


def test_a_whole_line_search_that_lost_its_first_character_is_not_spliced_mid_word() -> None:
    # click: "rom contextlib import contextmanager\n\n" (one line and a blank one) was found
    # inside "from contextlib ...", and the new import went in after the "f"
    src = "from contextlib import contextmanager\n\nimport click\n"
    with pytest.raises(EditError) as err:
        apply_edits("tests/test_context.py", src, [(
            "rom contextlib import contextmanager\n\n",
            "import logging\nrom contextlib import contextmanager\n\n",
        )])
    assert err.value.category == "not_found"
