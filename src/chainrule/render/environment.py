"""Jinja environments for chainrule's templates (Markdown, LaTeX, plain text).

Templates live in the top-level ``templates/`` folder (shipped inside the wheel as
``chainrule/templates``); ``templates_dir`` puts a user's folder first, so any template can
be overridden by a file of the same name. Undefined variables are errors, never blanks.
LaTeX templates use ``<< >>`` and ``<% %>`` as delimiters so TeX braces stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox

from chainrule.errors import ChainruleError
from chainrule.io.inputs import TemplateLoader
from chainrule.symbolic.printing import format_number

__all__ = ["GITHUB_MATH_UNSAFE", "MarkdownMath", "builtin_templates", "environment",
           "github_math", "github_math_unsafe_at", "render", "render_pieces",
           "template_errors", "tex_escape", "tex_text"]

_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)


def github_math(markdown: str) -> str:
    """Display equations (``$$...$$``) as GitHub's fenced math blocks, so that GitHub's
    Markdown parser (cmark-gfm) leaves every character of them as written (inside ``$$``
    it would read ``}_{`` as emphasis, ``\\{`` as an escape and ``\\\\`` as a break)."""
    if FAST_PATHS and "```" not in markdown:
        return _github_math_direct(markdown)
    text = _fence_display(markdown)
    return "".join(part if part.startswith("```") else _inline_math(part)
                   for part in _FENCED.split(text))


#: Markdown with no fenced block rewritten piece by piece (off: the whole-text rewrite).
FAST_PATHS = True

_NEWLINES = re.compile(r"\n{3,}")


def _github_math_direct(markdown: str) -> str:
    """:func:`github_math` of a text holding no three backticks, written piece by piece
    between its ``$$`` (a large derivation has tens of thousands): each display fenced as
    the whole-text rewrite fences it, and each piece between two fences (with the fences'
    own line breaks) given its runs of blank lines cut and its inline math rewritten.

    With no backticks of its own, the text's only fence lines are the ones written here, so
    the whole-text rewrite finds the same blocks; a run of line breaks never crosses a
    fence's backticks, so cutting the runs piece by piece cuts the same ones."""
    if "$$$" in markdown:  # a display might hold a dollar sign: found one by one
        pieces, pos = [], 0
        while (start := markdown.find("$$", pos)) >= 0 and (
                end := markdown.find("$$", start + 3)) >= 0:  # at least one character
            pieces += [markdown[pos:start], markdown[start + 2:end]]
            pos = end + 2
        pieces.append(markdown[pos:])
    else:  # every "$$" opens or closes a display, in turn; a last one left open is text
        pieces = markdown.split("$$")
        if len(pieces) % 2 == 0:
            pieces[-2:] = [pieces[-2] + "$$" + pieces[-1]]
    last = len(pieces) - 1
    between: dict[str, str] = {}  # each piece between fences, rewritten (most are alike)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            fence = "```math\n" + piece.strip("\n ") + "\n```"
            out.append(_NEWLINES.sub("\n\n", fence) if "\n\n\n" in fence else fence)
            continue
        text = ("\n" + piece if i else piece) + ("\n" if i < last else "")
        done = between.get(text)
        if done is None:
            done = text
            if "\n\n\n" in done:
                done = _NEWLINES.sub("\n\n", done)
            if "$" in done or "`" in done:
                done = _inline_math(done)
            between[text] = done
        out.append(done)
    return "".join(out)


#: What finds, in pieces of text each written between two ``"\\x00"`` (``"\\x00" +
#: "\\x00".join(pieces) + "\\x00"``), one that :func:`github_math` might not rewrite as it
#: rewrites any other inert piece in its place: one holding ``$``, a backtick, a line break
#: or ``|`` (texts that must not occur), or (:data:`_UNSAFE_EDGES`) starting or ending with
#: white space (math is stripped), ending with a backslash (it would escape what follows)
#: or empty (``$`` and ``$`` would meet).
GITHUB_MATH_UNSAFE = ("$", "`", "\n", "|")
_UNSAFE_EDGES = re.compile(r"\x00(?:[\s\x00]|(?<=[\s\\]\x00))")


def github_math_unsafe_at(text: str, start: int, end: int, markdown: str,
                          position: int) -> tuple[str | re.Pattern[str], ...]:
    """What finds a piece that, written at ``text[start:end]`` (an inert stand-in there)
    and so at ``position`` of ``markdown`` (``github_math(text)``), might not rewrite as the
    stand-in does (see :data:`GITHUB_MATH_UNSAFE`). ``|`` is inert in a line that is no
    table row once rewritten, after something else than white space; the edges of a piece
    are, between two characters that are neither white space, ``$``, a backtick, ``|``, a
    backslash nor unprintable (another stand-in's)."""
    line = markdown.rfind("\n", 0, position) + 1
    head = markdown[line:position].lstrip()
    found: tuple[str | re.Pattern[str], ...] = GITHUB_MATH_UNSAFE
    if head and head[0] != "|":
        found = GITHUB_MATH_UNSAFE[:3]
    if start > 0 and end < len(text) and _plain(text[start - 1]) and _plain(text[end]):
        return found
    return (*found, _UNSAFE_EDGES)


def _plain(character: str) -> bool:
    return character.isprintable() and not character.isspace() and character not in "$`|\\"


def _fence_display(markdown: str) -> str:
    def fence(match: re.Match[str]) -> str:
        return "\n```math\n" + match.group(1).strip("\n ") + "\n```\n"

    return re.sub(r"\n{3,}", "\n\n", _DISPLAY_MATH.sub(fence, markdown))


_FENCED = re.compile(r"(^```.*?^```$)", re.S | re.M)
_FENCE_START = re.compile(r"^```", re.M)


class MarkdownMath:
    """:func:`github_math` over a text that arrives piece by piece: :meth:`feed` returns
    the rewritten text of each settled part, and ``"".join`` of everything fed, then
    :meth:`finish`, is ``github_math`` of the whole text, byte for byte.

    The text is cut only where rewriting both sides apart gives the same bytes: at a line
    start, the line before ending in neither ``$`` nor a blank line, the line after starting
    with none of a line break, ``$`` or a backtick, and every ``$$...$$`` and every fenced
    block before the cut closed before it."""

    def __init__(self, hold: int = 1 << 16) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._hold = self._start = hold

    def feed(self, piece: str) -> str:
        """Take ``piece``; return the rewritten text that is now settled (often "")."""
        self._parts.append(piece)
        self._size += len(piece)
        if self._size < self._hold:
            return ""
        text = "".join(self._parts)
        cut = _settled(text)
        if cut == 0:  # nothing settled yet: wait for twice as much
            self._parts, self._hold = [text], 2 * self._size
            return ""
        self._parts = [text[cut:]]
        self._size = len(text) - cut
        self._hold = self._size + self._start
        return github_math(text[:cut])

    def finish(self) -> str:
        """The rest of the rewritten text."""
        text = "".join(self._parts)
        self._parts, self._size = [], 0
        return github_math(text)


def _settled(text: str) -> int:
    """The last position (0 if none) where ``github_math(text[:p]) +
    github_math(text[p:]) == github_math(text)`` is sure whatever follows ``text``."""
    cut = len(text)
    tries = 8  # places that may do, looked at closely; else wait for more text
    while tries:
        cut = text.rfind("\n", 0, cut - 1) + 1  # a line start strictly inside text
        if cut <= 1:
            return 0
        before, after = text[cut - 2], text[cut:cut + 1]
        if before in "\n$" or after in ("", "\n", "$", "`"):
            continue
        tries -= 1
        head = text[:cut]
        last = 0  # display math: none left open (a failed $$ has no match after it)
        for match in _DISPLAY_MATH.finditer(head):
            last = match.end()
        if "$$" in head[last:]:
            continue
        fenced = _fence_display(head)
        last = 0  # fenced blocks (as the rewrite makes them): none left open
        for match in _FENCED.finditer(fenced):
            last = match.end()
        if _FENCE_START.search(fenced, last) is None:
            return cut
    return 0


_CODE_OR_MATH = re.compile(
    r"\$?(?P<ticks>`+).*?(?P=ticks)\$?|(?<!\\)\$(?P<math>(?:[^$\\\n]|\\.)+?)\$")


def _inline_math(markdown: str) -> str:
    """Inline ``$...$`` as GitHub's ``$`...`$``: the math is a code span to the parser, so
    no character of it is read as emphasis or an escape (code spans are left as they are).
    In a table row, ``|`` in the math is written ``\\|`` (the table reads it back as ``|``)."""

    def line(row: str) -> str:
        if "$" not in row and "`" not in row:  # nothing the pattern can match
            return row
        in_table = row.lstrip().startswith("|")

        def protect(match: re.Match[str]) -> str:
            math = match.group("math")
            if math is None or "`" in math or not math.strip():
                return match.group(0)
            if in_table:
                math = math.replace("|", "\\|")
            return f"$`{math.strip()}`$"

        return _CODE_OR_MATH.sub(protect, row)

    return "\n".join(line(row) for row in markdown.split("\n"))


_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "%": r"\%",
    "'": r"\textquotesingle{}",
    "`": r"\textasciigrave{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_TEX_RE = re.compile("|".join(re.escape(c) for c in _TEX_SPECIALS))


def tex_escape(text: Any) -> str:
    """User text made literal in LaTeX: every special character escaped, and no ligature
    (``--`` stays two hyphens, ``,,`` two commas)."""
    escaped = _TEX_RE.sub(lambda m: _TEX_SPECIALS[m.group()], str(text))
    return re.sub(r"([-,])(?=[-,])", r"\1{}", escaped)


def tex_text(text: Any) -> str:
    """Prose with inline math: the text outside ``$...$`` escaped, the math kept."""
    parts = str(text).split("$")
    return "$".join(part if i % 2 else tex_escape(part) for i, part in enumerate(parts))


def builtin_templates() -> Path:
    """The folder of the templates chainrule ships."""
    packaged = Path(__file__).resolve().parent.parent / "templates"
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parents[3] / "templates"
    if source_tree.is_dir():
        return source_tree
    raise ChainruleError("chainrule's templates are missing from this installation")


def fixed(value: float, places: int = 6) -> str:
    """``value`` with ``places`` decimals, never "-0.000000"."""
    text = f"{value:.{places}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


class _Sandbox(jinja2.sandbox.SandboxedEnvironment):
    """A template (a user's --templates too) reaches no Python internals, and its arithmetic
    stays small: no huge powers or repeated strings."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 100:
            raise ChainruleError(f"a power with exponent {right} is too large")
        if operator == "*" and any(isinstance(v, (str, list, tuple)) for v in (left, right)):
            count = right if isinstance(left, (str, list, tuple)) else left
            if isinstance(count, int) and count > 10_000:
                raise ChainruleError(f"repeating a text {count} times is too much")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """The sandbox's ``obj.attribute``; for a dict, or a dict subclass that says its
        items come first (see :func:`_item_names`), and a name that is no attribute of its
        type, the item straight away (the sandbox asks for the attribute first and reads the
        item when that fails: a large derivation reads its records' items 200,000 times)."""
        kind = type(obj)
        names = _ITEM_NAMES.get(kind, _UNSEEN)
        if names is _UNSEEN:
            names = _ITEM_NAMES[kind] = _item_names(kind)
        if names is not None and attribute not in names:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


_UNSEEN: Any = object()
#: By type: the attribute names of its instances, where reading an item of any other name
#: is what the sandbox's ``getattr`` does (None: any other type).
_ITEM_NAMES: dict[type, frozenset[str] | None] = {}


def _item_names(kind: type) -> frozenset[str] | None:
    """The attributes of a ``dict``, or of a dict subclass that sets ``_template_items``
    and whose instances can hold no others (slots only, no attribute hooks); else None."""
    if kind is not dict and not (
            issubclass(kind, dict) and getattr(kind, "_template_items", False)
            and not any("__dict__" in vars(k) or "__getattr__" in vars(k)
                        or "__getattribute__" in vars(k)
                        for k in kind.__mro__ if k is not dict and k is not object)):
        return None
    return frozenset(dir(kind))


@lru_cache(maxsize=16)
def environment(fmt: str, templates_dir: str | Path | None = None) -> jinja2.Environment:
    """A strict Jinja environment for ``fmt`` (md, tex, text; web escapes HTML), built once
    per folder."""
    folders = []
    if templates_dir is not None:
        user = Path(templates_dir)
        if not user.is_dir():
            raise ChainruleError(f"{user}: templates folder not found")
        folders.append(str(user))
    folders.append(str(builtin_templates()))
    options: dict[str, Any] = {
        "loader": TemplateLoader(folders),
        "undefined": jinja2.StrictUndefined,
        "autoescape": fmt == "web",
        "keep_trailing_newline": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
    }
    if fmt == "tex":
        options.update(
            block_start_string="<%", block_end_string="%>",
            variable_start_string="<<", variable_end_string=">>",
            comment_start_string="<#", comment_end_string="#>",
        )
    env = _Sandbox(**options)
    env.filters["tex_escape"] = tex_escape
    env.filters["tex_text"] = tex_text
    env.filters["num"] = format_number
    env.filters["fixed"] = fixed
    from chainrule.render.fonts import tex_engine, tex_fallbacks

    env.globals["tex_engine"] = tex_engine
    env.globals["tex_fallbacks"] = tex_fallbacks
    return env


def render(name: str, context: dict[str, Any], templates_dir: str | Path | None = None) -> str:
    """Render template ``name`` (its folder, md/ tex/ text/, names the format); Markdown's
    math is then written for GitHub (:func:`github_math`)."""
    fmt = name.split("/", 1)[0]
    if templates_dir is not None:
        templates_dir = str(Path(templates_dir).resolve())
    with template_errors(name):  # render_pieces joined, without its generators
        text = environment(fmt, templates_dir).get_template(name).render(**context)
    return github_math(text) if fmt == "md" else text


def render_pieces(
    name: str, context: dict[str, Any], templates_dir: str | Path | None = None, *,
    fill: bool = False,
) -> Iterator[str]:
    """The template's text piece by piece, as it produces it (for streaming), before any
    rewrite of Markdown's math (see :class:`MarkdownMath`). With ``fill``, rendered in a
    :func:`~chainrule.render.fill.fill_environment`: the family macros of problem contexts
    made :class:`~chainrule.render.fill.ProblemContext` are filled by structure."""
    fmt = name.split("/", 1)[0]
    if templates_dir is not None:
        templates_dir = str(Path(templates_dir).resolve())
    with template_errors(name):
        if fill:
            from chainrule.render.fill import fill_environment

            env = fill_environment(fmt, templates_dir)
        else:
            env = environment(fmt, templates_dir)
        template = env.get_template(name)
        yield from template.generate(**context)


@contextmanager
def template_errors(name: str) -> Iterator[None]:
    """Any error of rendering template ``name`` as one ChainruleError naming it."""
    try:
        yield
    except jinja2.TemplateNotFound as exc:
        raise ChainruleError(f"template not found: {exc.name}") from None
    except jinja2.UndefinedError as exc:
        raise ChainruleError(f"template {name}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ChainruleError(f"{exc.filename or name}: line {exc.lineno}: {exc.message}") from None
    except ChainruleError as exc:
        raise ChainruleError(f"template {name}{_template_line(exc)}: {exc}") from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError,
            AttributeError, RecursionError, MemoryError) as exc:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise ChainruleError(f"template {name}{_template_line(exc)}: {message}") from None


def _template_line(exc: BaseException) -> str:
    """": line N" of the template line that raised ``exc``, when Jinja's traceback has it."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f": line {line}" if line else ""
