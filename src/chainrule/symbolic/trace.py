"""The derivation trace: an ordered list of named steps, each a formula in earlier names.

A :class:`Trace` is built once per structure (network shape, loss, optimizer) and read by
everything else: worked examples print it, the answer key evaluates it, the checker
re-evaluates single steps on a student's own numbers, and the numeric kernels lambdify it.

Evaluation here is for people: values are computed with 50-digit arithmetic (mpmath) and
can be rounded as they go, the way a student with a calculator works. Every input float is
taken as the decimal number it prints as (``0.1`` is one tenth), so rounding ties are real
ties and are broken half away from zero, like a calculator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import cached_property
from typing import Any

import mpmath
import sympy as sp

from chainrule.symbolic.printing import (
    SubstitutionTemplate,
    TracePrinter,
    format_number,
    format_rounded,
    substitution_template,
)

__all__ = ["PROB_EPS", "LazyTable", "Step", "Trace", "TraceValues", "is_step_symbol",
           "round_half_up", "sym"]

#: Probabilities are clipped to [PROB_EPS, 1] inside ``log`` so log(0) never happens.
PROB_EPS = 1e-15

_WORK_DPS = 50
_new_object = object.__new__
_SYMBOLS: dict[str, sp.Symbol] = {}


def sym(name: str) -> sp.Symbol:
    """The real SymPy symbol for a step or given name (one object per name).

    Made as ``Symbol.__xnew__``, SymPy's constructor without its cache (as its ``Dummy``
    does), makes it (see :func:`_real_symbol`): equal to ``Symbol(name, real=True)`` in
    every way, but made in a fifth of the time, and a large network makes tens of thousands
    (here they are kept once each anyway)."""
    found = _SYMBOLS.get(name)
    if found is None:
        found = _SYMBOLS[name] = _real_symbol(name)
    return found


#: What SymPy works out once for every real symbol: its facts (copied for each symbol,
#: which adds to them as it is asked), and the sorted facts it is compared by.
_REAL_FACTS, _, _REAL_FACTS0 = sp.Symbol._canonical_assumptions(real=True)
_REAL_SORTED = tuple(sorted(_REAL_FACTS0.items()))
_new_expr = sp.Expr.__new__
_FACTS_KIND: Any = type(_REAL_FACTS)
_fill_facts = dict.update

#: Whether symbols are made as SymPy's ``Symbol.__xnew__`` makes them, without working out
#: the same facts again for each (off: by ``Symbol.__xnew__`` itself, to compare).
FAST_SYMBOLS = True


def _real_symbol(name: str) -> sp.Symbol:
    """``Symbol.__xnew__(Symbol, name, real=True)``: the same attributes, with the facts
    SymPy deduces from ``real=True`` copied rather than deduced again."""
    if not FAST_SYMBOLS or type(name) is not str:
        return sp.Symbol.__xnew__(sp.Symbol, name, real=True)
    obj = _new_expr(sp.Symbol)
    obj.name = name
    facts = _FACTS_KIND.__new__(_FACTS_KIND)
    _fill_facts(facts, _REAL_FACTS)
    facts.rules = _REAL_FACTS.rules
    facts._generator = _REAL_FACTS._generator  # read only (SymPy hands out copies)
    obj._assumptions = facts
    obj._assumptions_orig = {"real": True}
    obj._assumptions0 = _REAL_SORTED
    return obj


def is_step_symbol(expr: Any) -> bool:
    """Whether ``expr`` is the symbol :func:`sym` gives for its name (real, nothing else)."""
    return type(expr) is sp.Symbol and _SYMBOLS.get(expr.name) is expr


def round_half_up(value: Any, decimals: int) -> Decimal:
    """Round a number to ``decimals`` places, ties away from zero, as a calculator does.

    The value is first cut to 30 significant digits so that 50-digit noise around an exact
    tie (0.71449999...) counts as the tie it is.
    """
    if isinstance(value, Decimal):
        text = str(Context(prec=30).plus(value))
    else:
        with mpmath.workdps(_WORK_DPS):
            number = _mp_input(value) if isinstance(value, float) else mpmath.mpf(value)
            text = mpmath.nstr(number, 30, min_fixed=-1000, max_fixed=1000)
    result = Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if result.is_zero():
        result = abs(result)
    return result


def _mp_input(value: Any) -> mpmath.mpf:
    """A float is read as the decimal it prints as; Decimals and ints are exact."""
    if isinstance(value, (int, mpmath.mpf)):
        return mpmath.mpf(value)
    if isinstance(value, Decimal):
        return mpmath.mpf(str(value))
    return mpmath.mpf(repr(float(value)))


def _mp_safe_log(x: Any) -> Any:
    return mpmath.log(x) if x > PROB_EPS else mpmath.log(PROB_EPS)


def _mp_sigmoid(x: Any) -> Any:
    return 1 / (1 + mpmath.exp(-x))


def _mp_step(x: Any) -> Any:
    return mpmath.mpf(1) if x > 0 else mpmath.mpf(0)


def _mp_relu(x: Any) -> Any:
    return x if x > 0 else mpmath.mpf(0)


def _mp_heaviside(x: Any, h0: Any = 0) -> Any:
    if x > 0:
        return mpmath.mpf(1)
    return mpmath.mpf(h0) if x == 0 else mpmath.mpf(0)


_MP_NAMESPACE: dict[str, Callable[..., Any]] = {
    "log": _mp_safe_log,
    "sigmoid": _mp_sigmoid,
    "step": _mp_step,
    "relu": _mp_relu,
    "Heaviside": _mp_heaviside,
}


def _free_names(expr: sp.Expr) -> set[str]:
    """The names of the free symbols of ``expr``: walked directly through sums and products
    of symbols and numbers (most of a network's steps), else SymPy's ``free_symbols``."""
    names: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is sp.Symbol:
            names.add(node.name)
        elif kind is sp.Add or kind is sp.Mul:
            stack.extend(node.args)
        elif not node.is_Number:
            return {s.name for s in expr.free_symbols}
    return names


class LazyTable(Mapping[str, str]):
    """A table of names made on first use (a network's LaTeX names: a text derivation
    never reads them, and a large network has a hundred thousand)."""

    def __init__(self, make: Callable[[], dict[str, str]]) -> None:
        self._make: Callable[[], dict[str, str]] | None = make
        self._table: dict[str, str] = {}

    def made(self) -> dict[str, str]:
        """The table, made now if not yet (read it, never change it)."""
        if self._make is not None:
            self._table, self._make = self._make(), None
        return self._table

    def __getitem__(self, name: str) -> str:
        return self.made()[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.made().get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.made()

    def __iter__(self) -> Iterator[str]:
        return iter(self.made())

    def __len__(self) -> int:
        return len(self.made())


@dataclass(frozen=True)
class Step:
    """One named step: ``name = formula``, the formula in names of givens and earlier steps.

    ``numeric`` is an optional, mathematically equal form used for evaluation where the
    displayed form is unstable in floating point (a softmax shifted by its maximum, say).
    """

    name: str
    formula: sp.Expr
    kind: str = "forward"
    description: str = ""
    numeric: sp.Expr | None = None

    @classmethod
    def known(cls, name: str, formula: sp.Expr, kind: str, description: str,
              dependencies: tuple[str, ...]) -> Step:
        """``Step(name, formula, kind, description)`` told the names its formula uses
        (sorted, each once, as :attr:`dependencies` finds them), where its builder knows
        them: finding them again walks every formula of a large network, which makes tens
        of thousands of steps (made here straight into their fields)."""
        step = _new_object(cls)
        step.__dict__.update({"name": name, "formula": formula, "kind": kind,
                              "description": description, "numeric": None,
                              "dependencies": dependencies})
        return step

    @property
    def symbol(self) -> sp.Symbol:
        return sym(self.name)

    @property
    def evaluation_formula(self) -> sp.Expr:
        return self.formula if self.numeric is None else self.numeric

    @cached_property
    def dependencies(self) -> tuple[str, ...]:
        """Names this step's formula uses, in a stable (sorted) order."""
        names = _free_names(self.formula)
        if self.numeric is not None:
            names |= _free_names(self.numeric)
        return tuple(sorted(names))

    @cached_property
    def _mp_function(self) -> Callable[..., Any]:
        args = [sym(n) for n in self.dependencies]
        return sp.lambdify(args, self.evaluation_formula, modules=[_MP_NAMESPACE, "mpmath"])


class TraceValues(dict[str, float]):
    """Values of a trace's givens and steps, in trace order, with the rounding used."""

    decimals: int | None

    def __init__(self, items: Iterable[tuple[str, float]], decimals: int | None) -> None:
        super().__init__(items)
        self.decimals = decimals


@dataclass
class Trace:
    """An ordered, named derivation. See the module docstring."""

    givens: tuple[str, ...]
    steps: tuple[Step, ...]
    tex_names: Mapping[str, str] = field(default_factory=dict)
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.givens = tuple(self.givens)
        self.steps = tuple(self.steps)
        self._index = {s.name: i for i, s in enumerate(self.steps)}
        self._given_set = frozenset(self.givens)
        self._names = tuple(s.name for s in self.steps)
        self._templates: dict[tuple[str, bool], SubstitutionTemplate] = {}
        #: Each step's formula printed, by name: LaTeX, and plain text.
        self._printed_tex: dict[str, str] = {}
        self._printed_text: dict[str, str] = {}
        self._printer: TracePrinter | None = None
        #: Per-trace caches of consumers (compiled kernels, ...), keyed by their name.
        self.cache: dict[str, Any] = {}
        if len(self._index) != len(self.steps):
            raise ValueError("duplicate step names in trace")
        known = set(self.givens)
        for s in self.steps:
            if not known.issuperset(s.dependencies):
                unknown = set(s.dependencies) - known
                raise ValueError(f"step {s.name} uses undefined names {sorted(unknown)}")
            if s.name in known:
                raise ValueError(f"step {s.name} shadows an earlier name")
            known.add(s.name)

    # -- lookup ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __getitem__(self, name: str) -> Step:
        return self.steps[self._index[name]]

    @property
    def names(self) -> tuple[str, ...]:
        """Step names in order."""
        return self._names

    def tex(self, name: str) -> str:
        """LaTeX for a given or step name (``delta3`` -> ``\\delta_{3}``)."""
        return self.tex_names.get(name, name)

    # -- printing -------------------------------------------------------------------------
    @property
    def printer(self) -> TracePrinter:
        """The printer of this trace's formulas (its names looked up once)."""
        if self._printer is None:
            self._printer = TracePrinter(self.tex_names)
        return self._printer

    def formula_tex(self, name: str) -> str:
        """The right-hand side of a step in LaTeX, in the names of earlier steps."""
        found = self._printed_tex.get(name)
        if found is None:
            found = self._printed_tex[name] = self.printer.latex(self[name].formula)
        return found

    def formulas_tex(self) -> list[str]:
        """:meth:`formula_tex` of every step, in order (printed in one pass)."""
        return self._every_formula(self._printed_tex, self.printer.latex)

    def formulas_text(self) -> list[str]:
        """:meth:`formula_text` of every step, in order (printed in one pass)."""
        return self._every_formula(self._printed_text, self.printer.plain)

    def _every_formula(self, printed: dict[str, str],
                       write: Callable[[sp.Expr], str]) -> list[str]:
        if len(printed) == len(self.steps):
            return [printed[name] for name in self._names]
        texts = []
        for step in self.steps:
            found = printed.get(step.name)
            if found is None:
                found = printed[step.name] = write(step.formula)
            texts.append(found)
        return texts

    def equation_tex(self, name: str) -> str:
        """``lhs = rhs`` in LaTeX."""
        return f"{self.tex(name)} = {self.formula_tex(name)}"

    def formula_text(self, name: str) -> str:
        """The right-hand side of a step as plain text (``w13*delta3*fprime1``)."""
        found = self._printed_text.get(name)
        if found is None:
            found = self._printed_text[name] = self.printer.plain(self[name].formula)
        return found

    def substitution(self, name: str, *, tex: bool = True) -> SubstitutionTemplate:
        """The step's formula printed once with places for numbers (cached per trace)."""
        key = (name, tex)
        found = self._templates.get(key)
        if found is None:
            step = self[name]
            found = substitution_template(step.formula, step.dependencies, self.tex_names,
                                          tex=tex, symbol_names=self.printer.symbol_names)
            self._templates[key] = found
        return found

    def numbers(
        self, name: str, values: Mapping[str, Any], decimals: int | None = None
    ) -> dict[str, str]:
        """Number texts for the names a step uses: givens as given, steps to ``decimals``.

        Step values are expected rounded already when ``decimals`` is given (the student's
        chain), and are printed with exactly that many places.
        """
        result = {}
        for dep in self[name].dependencies:
            if dep in self._given_set or decimals is None:
                result[dep] = format_number(values[dep])
            else:
                result[dep] = format_rounded(float(values[dep]), decimals)
        return result

    def substituted_tex(
        self, name: str, values: Mapping[str, Any], decimals: int | None = None
    ) -> str:
        """The step's formula (LaTeX) with the numbers of ``values`` in place of the names."""
        return self.substitution(name).fill(self.numbers(name, values, decimals))

    def substituted_text(
        self, name: str, values: Mapping[str, Any], decimals: int | None = None
    ) -> str:
        """The step's formula (plain text) with the numbers of ``values`` put in."""
        return self.substitution(name, tex=False).fill(self.numbers(name, values, decimals))

    def expanded_size(self, name: str) -> int:
        """How many nodes :meth:`expanded` would have, counted without building it."""
        sizes: dict[str, int] = {}
        for step in self.steps[: self._index[name] + 1]:
            total = 0
            for node in sp.preorder_traversal(step.formula):
                total += sizes.get(node.name, 1) if isinstance(node, sp.Symbol) else 1
            sizes[step.name] = total
        return sizes[name]

    def expanded(self, name: str) -> sp.Expr:
        """The step's formula with every earlier step substituted: in givens only."""
        expr = self[name].formula
        for prior in reversed(self.steps[: self._index[name]]):
            if prior.symbol in expr.free_symbols:
                expr = expr.xreplace({prior.symbol: prior.formula})
        return expr

    # -- evaluation -----------------------------------------------------------------------
    def missing_givens(self, values: Mapping[str, Any]) -> list[str]:
        """Givens of this trace that ``values`` does not supply."""
        return [g for g in self.givens if g not in values]

    def evaluate_step(self, name: str, values: Mapping[str, Any]) -> float:
        """Evaluate one step from any values of the names it uses (exact to 50 digits)."""
        return float(self._evaluate_step_mp(name, values))

    def _evaluate_step_mp(self, name: str, values: Mapping[str, Any]) -> Any:
        step = self[name]
        missing = [d for d in step.dependencies if d not in values]
        if missing:
            raise KeyError(f"step {name} needs values for {missing}")
        with mpmath.workdps(_WORK_DPS):
            args = [_mp_input(values[d]) for d in step.dependencies]
            return step._mp_function(*args)

    def evaluate(
        self,
        givens: Mapping[str, Any],
        decimals: int | None = None,
        *,
        until: str | None = None,
    ) -> TraceValues:
        """Evaluate every step in order.

        With ``decimals=None`` the chain is exact (to well beyond float precision, returned
        as floats). With ``decimals=k`` each step is computed from the rounded values of
        earlier steps and then rounded to k places: a student's calculator chain.
        """
        missing = self.missing_givens(givens)
        if missing:
            raise KeyError(f"missing givens: {', '.join(missing)}")
        with mpmath.workdps(_WORK_DPS):
            current: dict[str, Any] = {g: _mp_input(givens[g]) for g in self.givens}
            for step in self.steps:
                value = step._mp_function(*[current[d] for d in step.dependencies])
                if decimals is not None:
                    value = mpmath.mpf(str(round_half_up(value, decimals)))
                current[step.name] = value
                if step.name == until:
                    break
        items = [(g, float(givens[g])) for g in self.givens]
        items += [(s.name, float(current[s.name])) for s in self.steps if s.name in current]
        return TraceValues(items, decimals)
