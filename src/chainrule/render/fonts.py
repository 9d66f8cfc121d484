"""Which TeX engine prints a document's user text, and which characters nothing can print.

User text (a title, a course, names, instructions) is printed literally. Text that the
classic ``pdflatex`` set-up prints (T1 fonts: ASCII, Latin-1, Latin Extended-A and the usual
quotes and dashes) keeps ``pdflatex``, as fast as before. Anything else (Greek with its
accents, Cyrillic, CJK, other Latin letters) is typeset with ``lualatex`` and ``fontspec``:
Latin Modern as before, then Debian's Noto Serif (Greek, Cyrillic, more Latin) and Noto Serif
CJK SC as fallbacks. A character none of these fonts holds (an emoji, say) is named in an
error before LaTeX runs; :func:`unprintable` finds them from the fonts' own character maps.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

__all__ = ["FALLBACK_FONTS", "MAIN_FONT", "describe_char", "tex_engine", "tex_fallbacks",
           "unprintable"]

#: The main font (also of pdflatex's lmodern) and the fallbacks, as fontconfig names them.
MAIN_FONT = "Latin Modern Roman"
FALLBACK_FONTS = ("Noto Serif", "Noto Serif CJK SC")
_MAIN_FILE = "lmroman10-regular.otf"

_PDFLATEX_EXTRA = set("\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2026\u2039\u203a")


def _pdflatex_prints(char: str) -> bool:
    code = ord(char)
    return (0x20 <= code < 0x7F or 0xA0 <= code <= 0x17F or char in _PDFLATEX_EXTRA
            or unicodedata.category(char) == "Cc")


def tex_engine(texts: Iterable[str]) -> str:
    """``pdflatex`` when it prints every character of ``texts``, else ``lualatex``."""
    for text in texts:
        if not all(_pdflatex_prints(c) for c in str(text)):
            return "lualatex"
    return "pdflatex"


def _cjk(char: str) -> bool:
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF
            or 0xFE30 <= code <= 0xFE4F or 0xFF00 <= code <= 0xFFEF or 0x1100 <= code <= 0x11FF
            or 0x20000 <= code <= 0x3FFFF)


def tex_fallbacks(texts: Iterable[str]) -> str:
    """The luaotfload fallback list for ``texts``: Noto Serif, and Noto Serif CJK SC only
    when there is CJK (it is a large font to load)."""
    chars = "".join(str(t) for t in texts)
    fonts = ["NotoSerif:mode=node;"]
    if any(_cjk(c) for c in chars):
        fonts.append("NotoSerifCJKsc:mode=node;")
    return ", ".join(f'"{f}"' for f in fonts)


def _font_file(name: str) -> Path | None:
    if name == MAIN_FONT:
        found = shutil.which("kpsewhich") and subprocess.run(
            ["kpsewhich", _MAIN_FILE], capture_output=True, text=True, check=False).stdout
        return Path(found.strip()) if found and found.strip() else None
    if shutil.which("fc-match") is None:
        return None
    out = subprocess.run(["fc-match", "--format=%{file}", f"{name}:style=Regular"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return Path(out) if out else None


@lru_cache(maxsize=1)
def _coverage() -> frozenset[int]:
    """Every code point the main font or a fallback holds (from their cmaps)."""
    from fontTools.ttLib import TTCollection, TTFont

    covered: set[int] = set()
    for name in (MAIN_FONT, *FALLBACK_FONTS):
        path = _font_file(name)
        if path is None or not path.is_file():
            continue
        if path.suffix.lower() == ".ttc":
            collection = TTCollection(str(path), lazy=True)
            try:
                fonts = collection.fonts
                chosen = [f for f in fonts if name == str(f["name"].getBestFamilyName())]
                covered.update((chosen or fonts)[0].getBestCmap() or {})
            finally:
                collection.close()
        else:
            with TTFont(str(path), lazy=True) as font:
                covered.update(font.getBestCmap() or {})
    return frozenset(covered)


def describe_char(char: str) -> str:
    """``'😀' (U+1F600 GRINNING FACE)``."""
    name = unicodedata.name(char, "")
    return f"'{char}' (U+{ord(char):04X}{' ' + name if name else ''})"


def unprintable(text: str) -> list[str]:
    """The distinct characters of ``text`` no font of the PDF set-up prints, in order."""
    if all(_pdflatex_prints(c) for c in text):
        return []
    covered = _coverage()
    found: list[str] = []
    for char in text:
        if _pdflatex_prints(char) or char in found or unicodedata.category(char) == "Cc":
            continue
        if ord(char) not in covered:
            found.append(char)
    return found
