"""Reading a formula answer: bounded text -> Lark tree (grammar.lark) -> SymPy, echoed back.

Each grammar rule has one method of :class:`_Reader` that builds a :class:`Node`: the
evaluated SymPy expression, and how it reads in the notes' notation (text and LaTeX).
The tree is walked bottom-up without recursion; names come from a :class:`Vocabulary`
whitelist; nothing a student typed reaches ``sympify``, ``parse_expr`` or ``eval``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import lark
import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.formulas.vocabulary import (
    CONSTANTS,
    FUNCTIONS,
    PRIME_FUNCTIONS,
    Function,
    Vocabulary,
    ascii_name,
    name_text,
)

__all__ = ["MAX_CHARS", "MAX_DEPTH", "MAX_EXPONENT", "FormulaError", "Reading", "read_formula"]

MAX_CHARS = 2000
MAX_DEPTH = 40
MAX_EXPONENT = 64
_MAX_NUMBER_DIGITS = 30
_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5
_NESTING = {"group", "call", "frac", "sqrt", "pow", "neg", "bare_neg", "pos", "squared", "abs"}
_OPEN, _CLOSE = "([{", ")]}"


class FormulaError(ChainruleError):
    """A formula that cannot be read; ``column`` is 1-based where known."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.reason = message
        self.column = column

    def __str__(self) -> str:
        return f"column {self.column}: {self.reason}" if self.column else self.reason


@dataclass(frozen=True)
class Reading:
    """A formula as it was understood: SymPy, the notes' notation, LaTeX, and notes on
    readings that were not the only possible one."""

    source: str
    expr: sp.Expr
    text: str
    tex: str
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.expr.free_symbols)

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "read_as": self.text, "read_as_tex": self.tex,
                "notes": list(self.notes)}


@dataclass(frozen=True)
class Node:
    expr: Any
    text: str
    tex: str
    prec: int = _ATOM
    src: str = ""
    func: Function | None = None        # a bare function name waiting for its argument
    func_name: str = ""
    coef: Node | None = None            # 2 ln x: the factor before a bare function
    op: str = ""                        # the rule that built it (div, group, number, ...)
    inner_text: str = ""                # a group without its parentheses
    inner_tex: str = ""
    notes: tuple[str, ...] = field(default=())
    pos: int = 0                        # where it starts in the source
    tail: str = ""                      # the rule of a product's last factor
    tail_pos: int = 0


@cache
def _parser() -> lark.Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    return lark.Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


_CHAR_MAP = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\u00b7": "*",
                           "\u22c5": "*", "\u00d7": "*", "\u2217": "*", "\u00f7": "/",
                           "\u2032": "'", "\u2019": "'"})


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text).translate(_CHAR_MAP)


def _check_bounds(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise FormulaError(f"formula too long ({len(text)} characters; at most {MAX_CHARS})")
    if not text.strip():
        raise FormulaError("empty formula")
    depth = 0
    for column, ch in enumerate(text, start=1):
        if ch in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise FormulaError(f"brackets nested too deeply (more than {MAX_DEPTH})", column)
        elif ch in _CLOSE:
            depth -= 1


def read_formula(text: str, vocabulary: Vocabulary) -> Reading:
    """Read ``text`` as a formula over ``vocabulary``; :class:`FormulaError` if it cannot be."""
    source = text.strip()
    _check_bounds(source)
    normalized = _normalize(source)
    try:
        tree = _parser().parse(normalized)
    except lark.exceptions.UnexpectedCharacters as exc:
        raise FormulaError(f"unexpected '{normalized[exc.pos_in_stream or 0]}'",
                           exc.column) from None
    except lark.exceptions.UnexpectedEOF:
        raise FormulaError("the formula ends too early", len(source)) from None
    except lark.exceptions.UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            raise FormulaError("the formula ends too early", len(source)) from None
        raise FormulaError(f"unexpected '{token}'", token.column) from None
    node = _Reader(vocabulary, normalized).run(tree)
    if node.func is not None:
        raise FormulaError(f"{node.func_name} needs an argument")
    expr = node.expr
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise FormulaError("the formula divides by zero")
    return Reading(source, expr, node.text, node.tex, _unique(node.notes))


def _unique(notes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


def _wrap_text(node: Node, prec: int) -> str:
    return f"({node.text})" if node.prec < prec else node.text


def _wrap_tex(node: Node, prec: int) -> str:
    return rf"\left({node.tex}\right)" if node.prec < prec else node.tex


def _starts_with_digit(text: str) -> bool:
    return text[:1].isdigit() or text[:1] == "."


class _Reader:
    """Turns a parse tree into a Node, bottom-up, one method per grammar rule."""

    def __init__(self, vocabulary: Vocabulary, source: str) -> None:
        self.vocabulary = vocabulary
        self.source = source

    # -- walking ------------------------------------------------------------------------
    def run(self, tree: lark.Tree) -> Node:
        done: dict[int, Node] = {}
        depth: dict[int, int] = {}
        if not isinstance(tree, lark.Tree):  # a lone token
            tree = lark.Tree("number" if tree.type == "NUMBER" else "plain_name", [tree])
        for sub in tree.iter_subtrees():
            children = [done[id(c)] if isinstance(c, lark.Tree) else c for c in sub.children]
            level = max((depth[id(c)] for c in sub.children if isinstance(c, lark.Tree)),
                        default=0) + (sub.data in _NESTING)
            if level > MAX_DEPTH:
                raise FormulaError(f"the formula is nested too deeply (more than {MAX_DEPTH})",
                                   sub.meta.column if not sub.meta.empty else None)
            depth[id(sub)] = level
            rule = str(sub.data)
            src = self.source[sub.meta.start_pos:sub.meta.end_pos] if not sub.meta.empty else ""
            node = getattr(self, "rule_" + rule)(children, sub.meta)
            if isinstance(node, Node):
                node = replace(node, src=src, pos=sub.meta.start_pos if not sub.meta.empty else 0)
            done[id(sub)] = node
        return done[id(tree)]

    def _error(self, message: str, meta: Any) -> FormulaError:
        return FormulaError(message, getattr(meta, "column", None) if not meta.empty else None)

    @staticmethod
    def _notes(*nodes: Node | None) -> tuple[str, ...]:
        return tuple(n for node in nodes if node is not None for n in node.notes)

    def _value(self, node: Node, meta: Any) -> Node:
        if node.func is not None:
            raise self._error(f"{node.func_name} needs an argument in parentheses", meta)
        return node

    # -- numbers and names ---------------------------------------------------------------
    def rule_number(self, children: list[Any], meta: Any) -> Node:
        text = str(children[0])
        mantissa = text.lower().split("e")[0]
        digits = len(mantissa.replace(".", "").lstrip("0"))
        exponent = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
        if digits > _MAX_NUMBER_DIGITS or abs(exponent) > _MAX_NUMBER_DIGITS:
            raise self._error(f"the number {text[:20]} is too long", meta)
        value = sp.Rational(text)
        return Node(value, text, text, op="number")

    def rule_plain_name(self, children: list[Any], meta: Any) -> str:  # type: ignore[override]
        return str(children[0])  # type: ignore[return-value]

    rule_tex_name = rule_plain_name

    def rule_accent(self, children: list[Any], meta: Any) -> str:  # type: ignore[override]
        return ascii_name(str(children[1])) + str(children[0])[1:]  # type: ignore[return-value]

    def rule_name(self, children: list[Any], meta: Any) -> Node:
        return self._word(str(children[0]), meta)

    def rule_sub_number(self, children: list[Any], meta: Any) -> str:  # type: ignore[override]
        return str(children[0])  # type: ignore[return-value]

    rule_sub_name = rule_sub_number

    def rule_sub_group(self, children: list[Any], meta: Any) -> str:  # type: ignore[override]
        return ",".join(str(c) for c in children)  # type: ignore[return-value]

    def rule_subscripted(self, children: list[Any], meta: Any) -> Node:
        return self._word(f"{children[0]}_{children[1]}", meta)

    def _word(self, raw: str, meta: Any) -> Node:
        """A name as typed: a problem name, a function, a constant, or names run together."""
        plain = ascii_name(raw)
        found = self.vocabulary.lookup(plain)
        if found is not None:
            return self._symbol(found)
        bare = plain.rstrip("'") + ("'" if plain.endswith("'") else "")
        if bare in FUNCTIONS or bare == "f'":
            fn = FUNCTIONS.get(bare) or FUNCTIONS["sigma'"]
            return Node(None, fn.text, fn.tex, func=fn, func_name=bare, inner_text=plain)
        if plain.lower() in FUNCTIONS and plain.lower() not in ("relu",):
            fn = FUNCTIONS[plain.lower()]
            return Node(None, fn.text, fn.tex, func=fn, func_name=plain.lower(),
                        inner_text=plain)
        if plain in CONSTANTS:
            value, text, tex = CONSTANTS[plain]
            return Node(value, text, tex, inner_text=plain)
        parts = self._split(plain.replace("_", "")) if "'" not in plain else None
        if parts:
            nodes = [self._symbol(p) for p in parts]
            expr = sp.Mul(*[n.expr for n in nodes])
            text = " ".join(n.text for n in nodes)
            tex = " ".join(n.tex for n in nodes)
            note = (f"'{raw}' is read as {' · '.join(n.text for n in nodes)} (names run "
                    f"together); write {'*'.join(parts)} to say so")
            return Node(expr, text, tex, _MUL, notes=(note,), inner_text=plain)
        close = self._close(plain)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise self._error(f"unknown name '{raw}'{hint}", meta)

    def _symbol(self, name: str) -> Node:
        from chainrule.symbolic.trace import sym

        return Node(sym(name), name_text(name), self.vocabulary.tex(name), inner_text=name,
                    op="name")

    def _split(self, plain: str) -> list[str] | None:
        """``w13a1`` -> [w13, a1] when exactly one fewest-parts split into names exists."""
        n = len(plain)
        if n > 40:
            return None
        best: list[list[list[str]]] = [[] for _ in range(n + 1)]
        best[0] = [[]]
        for end in range(1, n + 1):
            options: list[list[str]] = []
            for start in range(end):
                if not best[start]:
                    continue
                name = self.vocabulary.lookup(plain[start:end])
                if name is not None:
                    options += [[*p, name] for p in best[start]]
            if options:
                fewest = min(map(len, options))
                best[end] = [p for p in options if len(p) == fewest][:4]
        found = {tuple(p) for p in best[n] if len(p) > 1}
        return list(found.pop()) if len(found) == 1 else None

    def _close(self, plain: str) -> str | None:
        import difflib

        close = difflib.get_close_matches(plain, list(self.vocabulary.names), n=1, cutoff=0.6)
        return close[0] if close else None

    # -- structure -------------------------------------------------------------------------
    def rule_group(self, children: list[Any], meta: Any) -> Node:
        inner = self._value(children[0], meta)
        return Node(inner.expr, f"({inner.text})", rf"\left({inner.tex}\right)", op="group",
                    inner_text=inner.text, inner_tex=inner.tex, notes=inner.notes)

    def rule_add(self, children: list[Any], meta: Any) -> Node:
        a, b = self._value(children[0], meta), self._value(children[1], meta)
        return Node(a.expr + b.expr, f"{a.text} + {b.text}", f"{a.tex} + {b.tex}", _ADD,
                    notes=self._notes(a, b))

    def rule_sub(self, children: list[Any], meta: Any) -> Node:
        a, b = self._value(children[0], meta), self._value(children[2], meta)
        return Node(a.expr - b.expr, f"{a.text} − {_wrap_text(b, _MUL)}",
                    f"{a.tex} - {_wrap_tex(b, _MUL)}", _ADD, notes=self._notes(a, b))

    def rule_neg(self, children: list[Any], meta: Any) -> Node:
        a = self._value(children[1], meta)
        return Node(-a.expr, f"−{_wrap_text(a, _MUL)}", f"-{_wrap_tex(a, _MUL)}", _NEG,
                    notes=a.notes)

    def rule_bare_neg(self, children: list[Any], meta: Any) -> Node:
        node = self.rule_neg(children, meta)
        return replace(node, op="bare_neg")

    def rule_pos(self, children: list[Any], meta: Any) -> Node:
        return self._value(children[0], meta)

    def _product(self, a: Node, b: Node, explicit: bool) -> Node:
        expr = a.expr * b.expr
        left_text = f"({a.text})" if a.op == "div" else _wrap_text(a, _MUL)
        left_tex = _wrap_tex(a, _MUL)
        right_text, right_tex = b.text, b.tex
        if b.prec in (_ADD, _NEG):
            right_text, right_tex = f"({b.text})", rf"\left({b.tex}\right)"
        digit = _starts_with_digit(right_text)
        text = f"{left_text} · {right_text}" if digit else f"{left_text} {right_text}"
        tex = rf"{left_tex} \cdot {right_tex}" if digit else f"{left_tex} {right_tex}"
        return Node(expr, text, tex, _MUL, notes=self._notes(a, b), tail=b.tail or b.op,
                    tail_pos=b.tail_pos if b.tail else b.pos)

    def rule_mul(self, children: list[Any], meta: Any) -> Node:
        a, b = self._value(children[0], meta), self._value(children[2], meta)
        return self._product(a, b, True)

    def rule_div(self, children: list[Any], meta: Any) -> Node:
        a, b = self._value(children[0], meta), self._value(children[2], meta)
        if b.expr == 0:
            raise self._error("division by zero", meta)
        num_text = f"({a.text})" if a.prec < _MUL or a.op == "div" else a.text
        den_text = b.text if b.prec >= _POW else f"({b.text})"
        tex = r"\frac{" + (a.inner_tex or a.tex) + "}{" + (b.inner_tex or b.tex) + "}"
        return Node(a.expr / b.expr, f"{num_text}/{den_text}", tex, _MUL, op="div",
                    notes=self._notes(a, b))

    def rule_frac(self, children: list[Any], meta: Any) -> Node:
        a, b = self._value(children[1], meta), self._value(children[2], meta)
        if b.expr == 0:
            raise self._error("division by zero", meta)
        num_text = a.text if a.prec >= _POW else f"({a.text})"
        den_text = b.text if b.prec >= _POW else f"({b.text})"
        return Node(a.expr / b.expr, f"{num_text}/{den_text}",
                    r"\frac{" + a.tex + "}{" + b.tex + "}", _MUL, op="div",
                    notes=self._notes(a, b))

    def rule_implicit(self, children: list[Any], meta: Any) -> Node:
        a, b = children
        if a.func is not None:  # ln x, \sigma z_1, 2 ln x
            if b.func is not None:
                raise self._error(f"{a.func_name} needs an argument in parentheses", meta)
            applied = self._apply(a.func, a.func_name, [b], meta, bare=True)
            return self._product(a.coef, applied, False) if a.coef is not None else applied
        if b.func is not None:
            return replace(b, coef=a if b.coef is None else self._product(a, b.coef, False))
        node = self._product(a, b, False)
        start = a.pos if a.op == "name" else a.tail_pos if a.tail == "name" else None
        if start is not None and b.op == "group" and b.pos and not self.source[
                b.pos - 1].isspace():
            word = a.text if a.op == "name" else a.text.rsplit(" ", 1)[-1]
            note = (f"'{self.source[start:b.pos + len(b.src)]}' is read as the product {word} · "
                    f"{b.text}: {word} is not a function")
            node = replace(node, notes=(*node.notes, note))
        if a.op == "div" and a.src and not a.src.startswith(("(", "\\frac", "\\dfrac")):
            src = self.source[meta.start_pos:meta.end_pos]
            note = (f"'{src}' is read as ({a.text}) {_wrap_text(b, _POW)}, not as a fraction "
                    f"with {b.text} in the denominator")
            node = replace(node, notes=(*node.notes, note))
        return node

    def rule_pow(self, children: list[Any], meta: Any) -> Node:
        base, exponent = self._value(children[0], meta), self._value(children[2], meta)
        expr = self._bounded_pow(base.expr, exponent.expr, meta)
        notes = self._notes(base, exponent)
        exp_text = exponent.text if exponent.prec >= _ATOM else (
            f"({exponent.inner_text or exponent.text})" if exponent.op != "group"
            else exponent.text)
        if exponent.op == "bare_neg":
            src = self.source[meta.start_pos:meta.end_pos]
            notes = (*notes, f"'{src}' is read as {_wrap_text(base, _POW)}^{exp_text}")
        base_tex = _wrap_tex(base, _ATOM) if base.op != "group" else base.tex
        exp_tex = exponent.inner_tex or exponent.tex
        return Node(expr, f"{_wrap_text(base, _ATOM)}^{exp_text}",
                    base_tex + "^{" + exp_tex + "}", _POW, notes=notes)

    def rule_squared(self, children: list[Any], meta: Any) -> Node:
        base = self._value(children[0], meta)
        power = 2 if str(children[1]) == "²" else 3
        return Node(base.expr**power, f"{_wrap_text(base, _ATOM)}^{power}",
                    _wrap_tex(base, _ATOM) + "^{" + str(power) + "}", _POW, notes=base.notes)

    def rule_abs(self, children: list[Any], meta: Any) -> Node:
        a = self._value(children[0], meta)
        return Node(sp.Abs(a.expr), f"|{a.text}|", rf"\left|{a.tex}\right|", notes=a.notes)

    def rule_sqrt(self, children: list[Any], meta: Any) -> Node:
        a = self._value(children[0], meta)
        return self._apply(FUNCTIONS["sqrt"], "sqrt", [a], meta)

    def _bounded_pow(self, base: Any, exponent: Any, meta: Any) -> Any:
        if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
            raise self._error(f"exponent too large (at most {MAX_EXPONENT})", meta)
        if base == 0 and exponent.is_Number and exponent <= 0:
            raise self._error("division by zero", meta)
        result = base**exponent
        for p in ([result] if result.is_Pow else []):
            if p.exp.is_Number and abs(p.exp) > MAX_EXPONENT:
                raise self._error(f"exponent too large (at most {MAX_EXPONENT})", meta)
        if result.is_Number and result != 0 and abs(result) > sp.Integer(10) ** 200:
            raise self._error("number too large", meta)
        return result

    # -- calls -----------------------------------------------------------------------------
    def rule_arguments(self, children: list[Any], meta: Any) -> list[Node]:  # type: ignore[override]
        return [self._value(c, meta) for c in children]  # type: ignore[return-value]

    def rule_call(self, children: list[Any], meta: Any) -> Node:
        head = self._function(str(children[0]), meta)
        arg = children[1]
        if isinstance(arg, lark.Token):
            arg = self.rule_number([arg], meta)
        args: list[Node] = arg if isinstance(arg, list) else [arg]
        return self._apply(head.func, head.func_name, args, meta,  # type: ignore[arg-type]
                           bare=not isinstance(arg, list))

    def rule_power_call(self, children: list[Any], meta: Any) -> Node:
        value = self.rule_call([children[0], children[3]], meta)
        return self.rule_pow([value, children[1], children[2]], meta)

    def _function(self, raw: str, meta: Any) -> Node:
        plain = ascii_name(raw)
        key = plain if plain in FUNCTIONS or plain == "f'" else plain.lower()
        fn = FUNCTIONS.get(key) or (FUNCTIONS["sigma'"] if key == "f'" else None)
        if fn is None:
            raise self._error(f"unknown function '{raw}'", meta)
        return Node(None, fn.text, fn.tex, func=fn, func_name=key)

    def _apply(self, fn: Function, fn_name: str, args: list[Node], meta: Any,
               bare: bool = False) -> Node:
        low, high = fn.arity
        if not low <= len(args) <= high:
            raise self._error(f"{fn.text} takes {low} argument{'s' if low > 1 else ''}", meta)
        notes = self._notes(*args) + ((fn.note,) if fn.note else ())
        if fn_name in PRIME_FUNCTIONS and len(args) == 1:
            fprime = self._fprime(args[0])
            if fprime is not None:
                return replace(fprime, notes=notes)
        if fn_name == "f'":
            raise self._error("f' is only known at a neuron's z (write f'(z1))", meta)
        try:
            expr = fn.build(*[a.expr for a in args])
        except (TypeError, ValueError) as exc:
            raise self._error(f"{fn.text}: {exc}", meta) from None
        inner_text = ", ".join(a.inner_text if a.op == "group" else a.text for a in args)
        inner_tex = ", ".join(a.inner_tex if a.op == "group" else a.tex for a in args)
        if fn_name == "sqrt":
            return Node(expr, f"sqrt({inner_text})", r"\sqrt{" + inner_tex + "}",
                        notes=notes)
        if fn_name == "exp" and bare:
            return Node(expr, f"exp({inner_text})", "e^{" + inner_tex + "}", notes=notes)
        return Node(expr, f"{fn.text}({inner_text})", rf"{fn.tex}\left({inner_tex}\right)",
                    notes=notes)

    def _fprime(self, arg: Node) -> Node | None:
        """sigma'(z1) is the step fprime1 where the problem has one."""
        expr = arg.expr
        if isinstance(expr, sp.Symbol) and expr.name.startswith("z"):
            name = self.vocabulary.lookup("fprime" + expr.name[1:])
            if name is not None:
                return self._symbol(name)
        return None
