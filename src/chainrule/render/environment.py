"""Jinja environments for chainrule's templates (Markdown, LaTeX, plain text).

Templates live in the top-level ``templates/`` folder (shipped inside the wheel as
``chainrule/templates``); ``templates_dir`` puts a user's folder first, so any template can
be overridden by a file of the same name. Undefined variables are errors, never blanks.
LaTeX templates use ``<< >>`` and ``<% %>`` as delimiters so TeX braces stay readable.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox

from chainrule.errors import ChainruleError
from chainrule.io.inputs import TemplateLoader
from chainrule.symbolic.printing import format_number

__all__ = ["builtin_templates", "environment", "github_math", "render", "tex_escape",
           "tex_text"]

_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)


def github_math(markdown: str) -> str:
    """Display equations (``$$...$$``) as GitHub's fenced math blocks, so that GitHub's
    Markdown parser (cmark-gfm) leaves every character of them as written (inside ``$$``
    it would read ``}_{`` as emphasis, ``\\{`` as an escape and ``\\\\`` as a break)."""

    def fence(match: re.Match[str]) -> str:
        return "\n```math\n" + match.group(1).strip("\n ") + "\n```\n"

    text = _DISPLAY_MATH.sub(fence, markdown)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return "".join(part if part.startswith("```") else _inline_math(part)
                   for part in _FENCED.split(text))


_FENCED = re.compile(r"(^```.*?^```$)", re.S | re.M)
_CODE_OR_MATH = re.compile(
    r"\$?(?P<ticks>`+).*?(?P=ticks)\$?|(?<!\\)\$(?P<math>(?:[^$\\\n]|\\.)+?)\$")


def _inline_math(markdown: str) -> str:
    """Inline ``$...$`` as GitHub's ``$`...`$``: the math is a code span to the parser, so
    no character of it is read as emphasis or an escape (code spans are left as they are).
    In a table row, ``|`` in the math is written ``\\|`` (the table reads it back as ``|``)."""

    def line(row: str) -> str:
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
    """Render template ``name`` (its folder, md/ tex/ text/, names the format)."""
    fmt = name.split("/", 1)[0]
    if templates_dir is not None:
        templates_dir = str(Path(templates_dir).resolve())
    try:
        template = environment(fmt, templates_dir).get_template(name)
        text = template.render(**context)
        return github_math(text) if fmt == "md" else text
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
