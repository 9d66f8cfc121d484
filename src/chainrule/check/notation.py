"""Formulas as the notes write them, in plain Unicode text, for feedback a student reads.

The trace prints every formula in LaTeX; :func:`tex_to_text` turns that LaTeX (the small
subset the printers produce) into text such as ``z3 = w13 a1 + w23 a2 + b3`` or
``δ1 = w13 δ3 σ'(z1)``, never code (``w13*a1``).
"""

from __future__ import annotations

import re

__all__ = ["tex_to_text"]

_SYMBOLS = {
    "sigma": "σ", "delta": "δ", "eta": "η", "beta": "β", "theta": "θ", "rho": "ρ",
    "epsilon": "ε", "varepsilon": "ε", "gamma": "γ", "pi": "π", "ell": "ℓ", "partial": "∂",
    "alpha": "α", "lambda": "λ", "mu": "μ", "tau": "τ", "log": "ln", "ln": "ln",
    "cos": "cos", "sin": "sin", "tanh": "tanh", "exp": "exp", "max": "max", "min": "min",
    "cdot": "·", "times": "×", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
    "infty": "∞", "sum": "Σ", "le": "≤", "ge": "≥", "leq": "≤", "geq": "≥", "neq": "≠",
}
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304"}
_FONTS = ("operatorname", "mathrm", "text", "mathbf", "mathit", "mathbb")
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_PRECOMPOSED = {"y\u0302": "ŷ"}


class _Reader:
    def __init__(self, tex: str) -> None:
        self.tex = tex
        self.pos = 0

    def peek(self) -> str:
        return self.tex[self.pos] if self.pos < len(self.tex) else ""

    def command(self) -> str:
        m = re.compile(r"\\([A-Za-z]+|.)").match(self.tex, self.pos)
        assert m is not None
        self.pos = m.end()
        return m.group(1)

    def group(self) -> str:
        """The next argument: a braced group, a command, or one character."""
        while self.peek() == " ":
            self.pos += 1
        if self.peek() == "{":
            self.pos += 1
            return self.until("}")
        if self.peek() == "\\":
            return self.item()
        ch = self.peek()
        self.pos += 1
        return ch

    def until(self, end: str) -> str:
        out = []
        while self.pos < len(self.tex) and self.peek() != end:
            out.append(self.item())
        self.pos += 1
        return "".join(out)

    def item(self) -> str:
        ch = self.peek()
        if ch == "{":
            self.pos += 1
            return self.until("}")
        if ch in "_^":
            self.pos += 1
            return _script(ch, self.group())
        if ch == "&":
            self.pos += 1
            return " "
        if ch != "\\":
            self.pos += 1
            return ch
        name = self.command()
        if name in ("left", "right", "big", "Big", "bigl", "bigr"):
            if self.peek() == ".":
                self.pos += 1
            return ""
        if name == "frac":
            top, bottom = self.group(), self.group()
            if top.startswith("∂") and bottom.startswith("∂"):
                return f"{top}/{bottom}"
            return f"{_wrap(top)}/{_wrap(bottom)}"
        if name == "sqrt":
            return "√" + _wrap(self.group(), always=False)
        if name in _ACCENTS:
            base = self.group()
            return _PRECOMPOSED.get(base + _ACCENTS[name], base + _ACCENTS[name])
        if name in _FONTS:
            return self.group()
        if name in ("begin", "end"):
            env = self.group()
            return ("{ " if name == "begin" else " }") if env == "cases" else ""
        if name in (":", ",", ";", " ", "quad"):
            return " "
        if name == "\\":
            return "; "
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        return name


def _script(kind: str, text: str) -> str:
    if kind == "_":
        return text if re.fullmatch(r"[0-9,]+", text) else "_" + text
    if re.fullmatch(r"[0-9]+", text):
        return text.translate(_SUPERSCRIPTS)
    return "^" + _wrap(text, always=False)


def _wrap(text: str, always: bool = True) -> str:
    """Parenthesize unless ``text`` is one name or number."""
    simple = re.fullmatch(r"-?[\w.\u0302\u0303\u0304'^⁰¹²³⁴⁵⁶⁷⁸⁹]+", text.strip())
    if simple or (text.startswith("(") and text.endswith(")") and _balanced(text[1:-1])):
        return text.strip()
    return f"({text})" if always or text else text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def tex_to_text(tex: str) -> str:
    """The notes' notation of a LaTeX formula, as readable plain text."""
    reader = _Reader(tex)
    out = []
    while reader.pos < len(tex):
        out.append(reader.item())
    text = re.sub(r"∂\s+", "∂", "".join(out))
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"([(\[⌊]) ", r"\1", text)
    text = re.sub(r" ([)\]⌋,])", r"\1", text)
    text = re.sub(r"(ln|cos|sin|tanh|exp) ?\(", r"\1(", text)
    return text.strip()
