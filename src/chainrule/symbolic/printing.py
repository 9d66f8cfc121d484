"""Printing formulas the way the notes write them: LaTeX, plain text, and numbers put in.

Formulas are built unevaluated where order matters (``w11*x1 + w21*x2 + b1``), and printed
with ``order='none'`` so they read as a student writes them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.latex import _between_two_numbers_p as _BETWEEN_NUMBERS
from sympy.printing.str import StrPrinter

__all__ = [
    "OrderedLatexPrinter",
    "SubstitutionPrinter",
    "SubstitutionTemplate",
    "TracePrinter",
    "format_number",
    "format_rounded",
    "latex",
    "plain",
    "prepare_numbers",
    "substitution_template",
]


def _symbol_names(tex_names: Mapping[str, str], expr: sp.Basic) -> dict[sp.Symbol, str]:
    """The LaTeX names of the step symbols in ``expr``: what a printer looks up.

    Only the symbols of ``expr`` are looked up, so printing every step of a trace costs
    time in proportion to its formulas, not formulas times names (quadratic before).
    """
    from chainrule.symbolic.trace import sym

    found = {}
    for symbol in expr.atoms(sp.Symbol):
        tex = tex_names.get(symbol.name)
        if tex is not None and sym(symbol.name) == symbol:
            found[symbol] = tex
    return found


def format_rounded(value: float, decimals: int) -> str:
    """A value already rounded to ``decimals`` places, as text ("0.574"; never "-0.000")."""
    return f"{value + 0.0:.{decimals}f}" if value != 0 else f"{0.0:.{decimals}f}"


class OrderedLatexPrinter(LatexPrinter):
    """LaTeX in the order the formula was written, ``w - eta*g`` kept as written."""

    #: Whether :meth:`_symbol_piece` may remember a symbol's printing (not where a symbol
    #: prints differently by where it stands, as numbers do in SubstitutionPrinter).
    _remember_symbols = True

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__({"order": "none", **settings})
        #: By name: the symbol, its LaTeX and the two number tests (see _symbol_piece).
        self._symbol_pieces: dict[str, _Piece] = {}
        #: Whether products and symbols print here as this class prints them (not as a
        #: subclass that prints them otherwise does), so a sum may write them directly.
        kind = type(self)
        self._products_plain = (kind._print_Mul is OrderedLatexPrinter._print_Mul
                                and kind._print_Symbol is LatexPrinter._print_Symbol
                                and kind._remember_symbols)
        #: The pieces remembered, by the id of their symbol (each piece holds its symbol,
        #: so no other object has that id while it is here): one lookup per factor.
        self._pieces_by_id: dict[int, _Piece] = {}
        #: SymPy's separator of factors, and the one between two numbers.
        self._separators: tuple[str, str] = (self._settings["mul_symbol_latex"],
                                             self._settings["mul_symbol_latex_numbers"])

    def _symbol_piece(self, symbol: sp.Symbol) -> _Piece:
        """``[symbol, its LaTeX, whether that ends as a number, whether it starts as one]``
        (the tests of SymPy's number separator, None until a product asks: most symbols
        never stand where it does), remembered by name for the first symbol of that name
        printed (looked up by name and identity, not by SymPy's hash) and by identity:
        derive prints every symbol of every step, most of them many times."""
        piece = self._symbol_pieces.get(symbol.name)
        if piece is not None and piece[0] is symbol:
            return piece
        tex = str(self._print_Symbol(symbol))
        made: _Piece = [symbol, tex, None, None]
        if self._remember_symbols:
            if piece is None:
                self._symbol_pieces[symbol.name] = made
            self._pieces_by_id[id(symbol)] = made
        return made

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        if FAST_PATHS:
            fast = self._plain_sum(expr.args)
            if fast is not None:
                return fast
        tex = ""
        for i, term in enumerate(expr.args):
            if i and term.is_Mul and term.args[0] == sp.S.NegativeOne:
                tex += " - "
                term = sp.Mul(*term.args[1:], evaluate=False)
            elif i and term.could_extract_minus_sign():
                tex += " - "
                term = -term
            elif i:
                tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = rf"\left({term_tex}\right)"
            tex += term_tex
        return tex

    def _print_Mul(self, expr: sp.Mul) -> str:
        args = expr.args
        if FAST_PATHS:
            fast = self._plain_product(args)
            if fast is not None:
                return fast
        if len(args) == 2 and args[0] == sp.S.NegativeOne and args[1].is_Add:
            return r"-\left[" + self._print(args[1]) + r"\right]"
        return str(super()._print_Mul(expr))

    def _plain_sum(self, terms: tuple[sp.Basic, ...]) -> str | None:
        """A sum of symbols and products of symbols as :meth:`_print_Add` writes it (no term
        needs brackets; after the first, a product may be negated: ``w - eta*g``, which it
        writes as a minus and the product of the rest), or None for any other sum."""
        by_id = self._pieces_by_id
        text = ""
        for i, term in enumerate(terms):
            piece = by_id.get(id(term))  # a symbol printed before
            if piece is None and type(term) is sp.Symbol:
                piece = self._symbol_piece(term)
            if piece is not None:
                text += " + " + piece[1] if i else piece[1]
                continue
            if type(term) is not sp.Mul:
                return None
            args = term.args
            plain = self._products_plain
            written: str | None
            if _ONLY_SYMBOLS.issuperset(map(type, args)):
                # what _print_Mul writes: here the plain product (never None for symbols)
                written = self._plain_product(args) if plain else self._print_Mul(term)
                if written is None:
                    return None
                text += " + " + written if i else written
            elif i and args[0] is sp.S.NegativeOne and _ONLY_SYMBOLS.issuperset(
                    map(type, args[1:])):
                rest = args[1:]  # SymPy prints Mul(*rest): the symbol, or their product
                if len(rest) == 1:
                    written = (self._symbol_piece(rest[0])[1] if plain
                               else str(self._print_Symbol(rest[0])))
                else:
                    written = (self._plain_product(rest) if plain
                               else self._print_Mul(sp.Mul._from_args(rest)))
                if written is None:
                    return None
                text += " - " + written
            else:
                return None
        return text

    def _plain_product(self, factors: tuple[sp.Basic, ...]) -> str | None:
        """A product of symbols and plain sums as SymPy's LaTeX printer writes it (its
        separator, its number separator between a factor ending and one starting with a
        digit, a sum in brackets), without its general machinery (signs, fractions, units),
        which derive spent most of its time in; None for any other product."""
        separator, numbersep = self._separators
        by_id = self._pieces_by_id
        text = ""
        before: _Piece = _BRACKETS  # the factor before
        for i, factor in enumerate(factors):
            piece = by_id.get(id(factor))  # a symbol printed before
            if piece is None:
                if type(factor) is sp.Symbol:
                    piece = self._symbol_piece(factor)
                elif type(factor) is sp.Add:
                    inner = self._plain_sum(factor.args)
                    if inner is None:
                        return None
                    piece = [None, rf"\left({inner}\right)", False, False]  # "\right)"
                else:                                                       # and "\left("
                    return None
            if i:
                ends = before[2]
                if ends is None:
                    ends = before[2] = _ends_as_number(before[1])
                if ends:
                    starts = piece[3]
                    if starts is None:
                        starts = piece[3] = _starts_as_number(piece[1])
                    text += numbersep if starts else separator
                else:
                    text += separator
            text += piece[1]
            before = piece
        return text


_ONLY_SYMBOLS = frozenset((sp.Symbol,))
#: A printed symbol or bracketed sum: ``[symbol, LaTeX, ends as a number, starts as one]``,
#: the two tests None until first asked.
_Piece = list[Any]
_BRACKETS: _Piece = [None, "", False, False]

#: Sums and products of plain symbols printed directly (off: SymPy's general path, to compare).
FAST_PATHS = True

def _ends_as_number(tex: str) -> bool:
    """Whether SymPy's LaTeX printer reads ``tex`` as ending in a number."""
    return _BETWEEN_NUMBERS[0].search(tex) is not None


def _starts_as_number(tex: str) -> bool:
    """Whether SymPy's LaTeX printer reads ``tex`` as starting with a number."""
    return _BETWEEN_NUMBERS[1].match(tex) is not None


def _text_sum(terms: tuple[sp.Basic, ...]) -> str | None:
    """A sum of symbols and products of symbols as SymPy's ``sstr`` writes it (no term
    bracketed; after the first, a product may be negated: ``w - eta*g``), or None for any
    other sum."""
    parts = []
    for i, term in enumerate(terms):
        kind = type(term)
        sign = " + " if i else ""
        if kind is sp.Symbol:
            text = term.name
        elif kind is sp.Mul:
            args = term.args
            if i and args[0] is sp.S.NegativeOne and len(args) > 1:
                sign, args = " - ", args[1:]
            text = _text_product(args, sums=False)
            if text is None:
                return None
        else:
            return None
        if text.startswith("-"):
            return None
        parts.append(sign + text)
    return "".join(parts)


def _text_product(factors: tuple[sp.Basic, ...], sums: bool = True) -> str | None:
    """A product of symbols (and, with ``sums``, plain sums in brackets) as ``sstr`` writes
    it, or None for any other product."""
    if _ONLY_SYMBOLS.issuperset(map(type, factors)):  # the most common: symbols alone
        text = "*".join([factor.name for factor in factors])
        # a factor's name starting with "-": None (so may a "*-" inside a name: SymPy's)
        return None if text.startswith("-") or "*-" in text else text
    parts = []
    for factor in factors:
        kind = type(factor)
        if kind is sp.Symbol:
            if factor.name.startswith("-"):
                return None
            parts.append(factor.name)
        elif kind is sp.Add and sums:
            inner = _text_sum(factor.args)
            if inner is None:
                return None
            parts.append(f"({inner})")
        else:
            return None
    return "*".join(parts)


def _plain_text(expr: sp.Basic) -> str | None:
    """``expr`` as ``sstr`` writes it when it is a symbol or a plain sum or product."""
    kind = type(expr)
    if kind is sp.Symbol:
        return str(expr.name)
    if kind is sp.Mul:
        return _text_product(expr.args)
    if kind is sp.Add:
        return _text_sum(expr.args)
    return None


class _TextPrinter(StrPrinter):
    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        fast = _text_sum(expr.args) if FAST_PATHS else None
        return fast if fast is not None else str(super()._print_Add(expr, order=order))

    def _print_Mul(self, expr: sp.Mul) -> str:
        fast = _text_product(expr.args) if FAST_PATHS else None
        return fast if fast is not None else str(super()._print_Mul(expr))


_UNSEEN = object()


class SymbolNames(Mapping[sp.Symbol, str]):
    """The LaTeX names of ``tex_names`` by symbol, what :func:`_symbol_names` finds for any
    formula: a symbol has the LaTeX name of its name when it is that name's real symbol
    (:func:`~chainrule.symbolic.trace.sym`). Looked up by name as symbols are printed, so
    no symbol is made for a name no formula uses."""

    def __init__(self, tex_names: Mapping[str, str]) -> None:
        self._tex_names = tex_names
        self._found: dict[sp.Basic, str | None] = {}

    def __getitem__(self, symbol: sp.Symbol) -> str:
        from chainrule.symbolic.trace import is_step_symbol, sym

        tex = self._tex_names.get(symbol.name) if isinstance(symbol, sp.Symbol) else None
        if tex is None or not (is_step_symbol(symbol) or sym(symbol.name) == symbol):
            raise KeyError(symbol)
        return tex

    def get(self, symbol: sp.Symbol, default: Any = None) -> Any:  # type: ignore[override]
        """The LaTeX name of ``symbol``, or ``default`` (remembered per symbol: printing
        looks up every symbol of every formula)."""
        found = self._found.get(symbol, _UNSEEN)
        if found is _UNSEEN:
            try:
                found = self[symbol]
            except KeyError:
                found = None
            self._found[symbol] = found
        return default if found is None else found

    def __iter__(self) -> Iterator[sp.Symbol]:
        from chainrule.symbolic.trace import sym

        return (sym(name) for name in self._tex_names)

    def __len__(self) -> int:
        return len(self._tex_names)


class _TraceLatexPrinter(OrderedLatexPrinter):
    """The LaTeX printer of one trace: a step symbol's LaTeX read straight from the trace's
    names (what SymPy's symbol printer finds through :class:`SymbolNames`), without making
    or comparing symbols (a large network prints tens of thousands, each once or twice)."""

    def __init__(self, settings: dict[str, Any], tex_names: Mapping[str, str]) -> None:
        from chainrule.symbolic.trace import _SYMBOLS

        super().__init__(settings)
        made = getattr(tex_names, "made", None)  # a LazyTable: its table, made once here
        self._tex_name = (made() if made is not None else tex_names).get
        self._step_symbols = _SYMBOLS

    def _symbol_piece(self, symbol: sp.Symbol) -> _Piece:
        name = symbol.name
        piece = self._symbol_pieces.get(name)
        if piece is not None and piece[0] is symbol:
            return piece
        if type(symbol) is not sp.Symbol or self._step_symbols.get(name) is not symbol:
            return super()._symbol_piece(symbol)
        tex = self._tex_name(name)
        if tex is None:  # no LaTeX name: SymPy's printing of the name itself
            tex = self._deal_with_super_sub(name)
        made: _Piece = [symbol, str(tex), None, None]
        if piece is None:
            self._symbol_pieces[name] = made
        self._pieces_by_id[id(symbol)] = made
        return made


class TracePrinter:
    """LaTeX and plain text of the formulas of one trace: the LaTeX names of its symbols
    looked up once (not per formula), and one printer of each kind per thread (SymPy's
    printers keep state while they print)."""

    def __init__(self, tex_names: Mapping[str, str]) -> None:
        #: The LaTeX name of each symbol (the real symbol of its name), as printers look up.
        self.symbol_names = SymbolNames(tex_names)
        self._tex_names = tex_names
        self._local = threading.local()

    def latex(self, expr: sp.Expr) -> str:
        """What :func:`latex` prints for ``expr`` with the trace's names."""
        printer = getattr(self._local, "latex", None)
        if printer is None:
            settings = {"symbol_names": self.symbol_names} if self.symbol_names else {}
            printer = self._local.latex = _TraceLatexPrinter(settings, self._tex_names)
        if FAST_PATHS:  # a symbol, or a plain sum or product: straight to its printing
            kind = type(expr)
            if kind is sp.Symbol:
                return printer._symbol_piece(expr)[1]
            fast = (printer._plain_product(expr.args) if kind is sp.Mul else
                    printer._plain_sum(expr.args) if kind is sp.Add else None)
            if fast is not None:
                return fast
        return str(printer.doprint(expr))

    def plain(self, expr: sp.Expr) -> str:
        """What :func:`plain` prints for ``expr``."""
        printer = getattr(self._local, "plain", None)
        if printer is None:
            printer = self._local.plain = _TextPrinter({"order": "none"})
        fast = _plain_text(expr) if FAST_PATHS else None
        return fast if fast is not None else str(printer.doprint(expr))


def latex(expr: sp.Expr, tex_names: Mapping[str, str] | None = None) -> str:
    """LaTeX of ``expr`` in the order it was written, with step names typeset."""
    settings: dict[str, Any] = {}
    if tex_names:
        settings["symbol_names"] = _symbol_names(tex_names, expr)
    return str(OrderedLatexPrinter(settings).doprint(expr))


def plain(expr: sp.Expr) -> str:
    """Plain-text form of ``expr`` (``w13*delta3*fprime1``)."""
    return str(_TextPrinter({"order": "none"}).doprint(expr))


def format_number(value: Any, decimals: int | None = None) -> str:
    """A number as a student writes it.

    With ``decimals`` it is rounded half away from zero to that many places ("0.574");
    without, it is the shortest text that reads back as the same value ("0.7", "1").
    """
    from chainrule.symbolic.trace import round_half_up

    if decimals is not None:
        return str(round_half_up(value, decimals))
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
    elif isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        text = str(int(value))
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(round_half_up(value, 12).normalize())
    return "0" if text in ("-0", "-0.0") else text


_TOKEN = re.compile("\x00([br]):([^\x00]+)\x00")


def _bare(name: str) -> str:
    """A number standing alone: parenthesized when negative."""
    return f"\x00b:{name}\x00"


def _raw(name: str) -> str:
    """A number already inside parentheses."""
    return f"\x00r:{name}\x00"


@dataclass(frozen=True)
class SubstitutionTemplate:
    """A formula printed once with places for numbers; :meth:`fill` puts numbers in."""

    template: str
    tex: bool

    @property
    def names(self) -> list[str]:
        """The names whose numbers the template needs."""
        return sorted({m.group(2) for m in _TOKEN.finditer(self.template)})

    def fill(self, numbers: Mapping[str, str]) -> str:
        """Put each name's number text in its place (negatives parenthesized where needed)."""
        return self.fill_prepared(prepare_numbers(numbers, self.tex))

    def fill_prepared(self, prepared: Mapping[str, str]) -> str:
        """Fill from :func:`prepare_numbers` output (fast: one ``str.format_map``)."""
        return self.format_string.format_map(prepared)

    @property
    def format_string(self) -> str:
        """The template as a ``str.format`` string over :func:`prepare_numbers` keys."""
        cached = _FORMATS.get(self.template)
        if cached is None:
            escaped = self.template.replace("{", "{{").replace("}", "}}")
            cached = _TOKEN.sub(lambda m: "{" + m.group(1) + _key(m.group(2)) + "}", escaped)
            _FORMATS[self.template] = cached
        return cached


_FORMATS: dict[str, str] = {}


_KEYS: dict[str, str] = {}


def _key(name: str) -> str:
    key = _KEYS.get(name)
    if key is None:
        key = _KEYS[name] = "_" + "".join(c if c.isalnum() else "_" for c in name)
    return key


def prepare_numbers(numbers: Mapping[str, str], tex: bool = True) -> dict[str, str]:
    """Raw and parenthesized forms of every number text, for :meth:`fill_prepared`."""
    open_, close = (r"\left(", r"\right)") if tex else ("(", ")")
    names = tuple(numbers)
    keys = _PREPARED_KEYS.get(names)
    if keys is None:
        keys = _PREPARED_KEYS[names] = (
            ["r" + _key(n) for n in names], ["b" + _key(n) for n in names])
    texts = list(numbers.values())
    prepared = dict(zip(keys[0], texts, strict=True))
    prepared.update(zip(keys[1], [open_ + t + close if t[0] == "-" else t for t in texts],
                        strict=True))
    return prepared


_PREPARED_KEYS: dict[tuple[str, ...], tuple[list[str], list[str]]] = {}


class SubstitutionPrinter(OrderedLatexPrinter):
    """LaTeX of a formula with places for numbers: ``(0.7)(-0.252)(0.244)`` once filled."""

    _remember_symbols = False

    def __init__(
        self, names: Iterable[str], tex_names: Mapping[str, str], expr: sp.Basic,
        *, symbol_names: Mapping[sp.Symbol, str] | None = None,
    ) -> None:
        """Numbers go in for ``names``; ``expr`` is the formula to print (its symbols' LaTeX
        names are looked up once, unless ``symbol_names`` gives them all already)."""
        if symbol_names is None:
            symbol_names = _symbol_names(tex_names, expr)
        super().__init__({"mul_symbol": "dot", "symbol_names": symbol_names})
        from chainrule.symbolic.trace import sym

        self._numbers = {sym(n): n for n in names}
        self._raw_depth = 0

    def _print(self, expr: Any, **kwargs: Any) -> str:
        # f(0.3), not f((0.3)): a function's own parentheses already enclose its argument.
        if isinstance(expr, sp.Function) and all(a in self._numbers for a in expr.args):
            self._raw_depth += 1
            try:
                return str(super()._print(expr, **kwargs))
            finally:
                self._raw_depth -= 1
        return str(super()._print(expr, **kwargs))

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        name = self._numbers.get(expr)
        if name is None:
            return str(super()._print_Symbol(expr, style=style))
        return _raw(name) if self._raw_depth else _bare(name)

    def _print_Mul(self, expr: sp.Mul) -> str:
        factors = list(expr.args)
        if any(f.is_Pow and f.exp.is_negative for f in factors):
            return str(super()._print_Mul(expr))
        if len(factors) == 2 and factors[0] == sp.S.NegativeOne and factors[1].is_Add:
            return r"-\left[" + self._print(factors[1]) + r"\right]"
        sign = ""
        if factors and factors[0] == sp.S.NegativeOne:
            sign, factors = "-", factors[1:]
        parts = []
        for i, factor in enumerate(factors):
            if factor in self._numbers:
                parts.append(f"({_raw(self._numbers[factor])})")
            elif factor.is_Number and i == 0:
                parts.append(self._print(factor))
            elif factor.is_Number or factor.is_Add:
                parts.append(r"\left(" + self._print(factor) + r"\right)")
            else:
                parts.append(self._print(factor))
        return sign + "".join(parts)


class _TextSubstitutionPrinter(StrPrinter):
    def __init__(self, names: Iterable[str]) -> None:
        super().__init__({"order": "none"})
        self._names = set(names)

    def _print_Function(self, expr: sp.Function) -> str:
        if all(a.is_Symbol and a.name in self._names for a in expr.args):
            args = ", ".join(_raw(a.name) for a in expr.args)
            return f"{expr.func.__name__}({args})"
        return str(super()._print_Function(expr))

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return _bare(expr.name) if expr.name in self._names else str(expr.name)


def substitution_template(
    expr: sp.Expr, names: Iterable[str], tex_names: Mapping[str, str], *, tex: bool = True,
    symbol_names: Mapping[sp.Symbol, str] | None = None,
) -> SubstitutionTemplate:
    """``expr`` printed once (LaTeX or plain text) with places for the numbers of ``names``
    (``symbol_names``: the LaTeX names of ``tex_names`` by symbol, when already known)."""
    names = list(names)
    if expr.is_Symbol and expr.name in names:
        return SubstitutionTemplate(_raw(expr.name), tex)
    if tex:
        printer = SubstitutionPrinter(names, tex_names, expr, symbol_names=symbol_names)
        return SubstitutionTemplate(str(printer.doprint(expr)), True)
    return SubstitutionTemplate(str(_TextSubstitutionPrinter(names).doprint(expr)), False)
