"""Rendering by structure, then numbers: a template is run once per structure and the
numbers of each problem are filled into what it wrote.

The numbers of a context (its *holes*: every float, and the texts of numbers, ids and
drawings, see :class:`Holes`) are replaced by stand-ins and the template is run once
(a *trace*). Everything a template does with a stand-in is recorded:

* written out (``{{ x }}``): a hole in the text, filled per problem;
* joined (``~``), passed to a filter, a test, a macro or a method, computed on (``+``,
  ``x[i]``, ``x.attr``): a new stand-in that remembers how it was made;
* branched on (``if``, ``==``, ``<``, ``in``, ``not``): a *guard*, its outcome recorded;
  but an inline if, or an ``{% if %}`` statement whose bodies only write (output, ifs and
  for loops of such), on a stand-in: both sides written (where no call can change
  anything) and the text chosen per problem, only the side taken filled.

Anything else (iterating over a number, hashing it, handing it to Python code that reads
it) ends the trace, and that structure is rendered problem by problem as before. A
problem is filled from a trace only when the rest of its context (everything but the holes)
is equal to the traced one and every guard has the same outcome with its numbers: the
template then takes the same path, so the text is the same, byte for byte, as rendering it.
Up to :data:`MAX_VARIANTS` traces are kept per structure (one per set of outcomes, e.g. which
steps are ``=`` and which ``≈``).

A context's structure (its key: every container's type and length, every dict key in order,
every leaf but the holes with its type, which containers are the same object) is worked out
by a walk; a structure met twice gets a *splitter*, straight-line code that checks a context
against it (exactly what the walk would record, all at once) and takes its holes out, tried
before the walk. The fill of a trace is straight-line code too (comparisons, inline ifs,
joins and ``replace`` written inline).

Where text is escaped (autoescape), a stand-in written ends the trace. Templates are
assumed to be functions of what they are given (Jinja macros imported
without context are): a macro that keeps state between calls in a namespace of its module
is not supported.

Use :func:`fill_environment` (the strict environment of
:func:`~chainrule.render.environment.environment` with the recording hooks) and
:meth:`Filler.render` / :meth:`Filler.call`; in a fill environment, a set document's
``fam.question(p)`` and ``fam.solution(p)`` for a :class:`ProblemContext` ``p`` are filled
automatically, and so is any macro of a template imported without context given a problem
context first (and after it only texts, integers, truth values or none: they are structure).
"""

from __future__ import annotations

import operator
import re
import secrets
import threading
import weakref
from collections.abc import Callable, Hashable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn, cast

import jinja2
import jinja2.compiler
import jinja2.filters
import jinja2.nodes
import jinja2.runtime
import jinja2.sandbox

__all__ = [
    "MAX_VARIANTS",
    "NUMBER_HOLES",
    "Filler",
    "Holes",
    "ProblemContext",
    "fill_environment",
    "filler_of",
    "forget",
    "render_filled",
]

#: Traces kept per structure; past this, its problems are rendered one by one.
MAX_VARIANTS = 48
#: Dictionary keys whose text is a number (or an id) that changes from problem to problem.
NUMBER_KEYS = frozenset({"id", "code", "value", "rounded_text", "substituted_tex",
                         "substituted_text", "numbers_tex", "approx"})

_NONCE = secrets.token_hex(6)
_OPEN, _CLOSE = "\ue000", "\ue001"
_local = threading.local()


class ProblemContext(dict):  # type: ignore[type-arg]
    """A problem's template context (a plain dict to templates) whose family macros a fill
    environment fills. Its structure key is worked out once, when first rendered (so do
    not change it after that)."""


_SPLITS: dict[int, tuple[Any, Holes, tuple[_Key, list[Any]]]] = {}
_SPLITS_LOCK = threading.Lock()


def _split_once(context: Any, holes: Holes) -> tuple[_Key, list[Any]]:
    """:func:`_split_fast`, kept while a :class:`ProblemContext` lives (its documents share
    it)."""
    if type(context) is not ProblemContext:
        return _split_fast(context, holes)
    key = id(context)
    with _SPLITS_LOCK:
        cached = _SPLITS.get(key)
    if cached is not None and cached[1] is holes:
        return cached[2]
    found = _split_fast(context, holes)
    gone = weakref.ref(context, lambda _: _SPLITS.pop(key, None))
    with _SPLITS_LOCK:
        _SPLITS[key] = (gone, holes, found)
    return found


class Holes:
    """Which leaves of a context are holes: every float (``floats``), and texts and truth
    values under a dictionary key in ``keys`` or anywhere under a top-level key in
    ``under``. A dictionary under a top-level key in ``roots`` is a top level of its own
    (its keys in ``under`` hold holes too). Everything else is structure (a trace is reused
    only where it is equal)."""

    __slots__ = ("floats", "keys", "roots", "under")

    def __init__(self, keys: frozenset[str] | set[str] = NUMBER_KEYS,
                 under: frozenset[str] | set[str] = frozenset({"drawing"}),
                 floats: bool = True, roots: frozenset[str] | set[str] = frozenset()) -> None:
        self.keys, self.under, self.floats = frozenset(keys), frozenset(under), floats
        self.roots = frozenset(roots)

    def __call__(self, top: Any, last: Any, value: Any) -> bool:
        if type(value) is float:
            return self.floats
        if type(value) not in (str, bool):
            return False
        return top in self.under or last in self.keys


#: The holes of a problem context: numbers, their texts, ids and the network drawing.
NUMBER_HOLES = Holes()


class _Taint(BaseException):
    """A stand-in was used in a way a trace cannot follow."""


class _Trace:
    def __init__(self) -> None:
        self.guards: list[tuple[_Sym, Any]] = []
        self.emitted: list[_Sym] = []
        self.pure = 0  # inside a side of an inline if: no call may change anything

    def token(self, sym: _Sym) -> str:
        self.emitted.append(sym)
        return f"{_OPEN}{_NONCE}:{len(self.emitted) - 1}{_CLOSE}"

    def text(self, text: str) -> _Sym:
        """A text that holds tokens, as a stand-in."""
        parts: list[Any] = []
        rest = text
        while True:
            start = rest.find(_OPEN)
            if start < 0:
                parts.append(rest)
                break
            end = rest.find(_CLOSE, start)
            nonce, _, index = rest[start + 1:end].partition(":")
            if end < 0 or nonce != _NONCE or not index.isdigit() or \
                    int(index) >= len(self.emitted):
                _taint()
            parts.append(rest[:start])
            parts.append(self.emitted[int(index)])
            rest = rest[end + 1:]
        return _Sym(_join_parts, tuple(parts), {})


def _taint() -> NoReturn:
    trace = getattr(_local, "trace", None)
    if trace is not None:
        trace.tainted = True
    raise _Taint


def _join_parts(*parts: Any) -> str:
    return "".join(p if isinstance(p, str) else str(p) for p in parts)


def _value(item: Any) -> Any:
    if isinstance(item, _Sym):
        return item.value
    if type(item) is list:
        return [_value(x) for x in item]
    if type(item) is tuple:
        return tuple(_value(x) for x in item)
    return item


def _symish(item: Any) -> bool:
    if isinstance(item, _Sym):
        return True
    if isinstance(item, str):
        return _OPEN in item
    if type(item) in (list, tuple):
        return any(_symish(x) for x in item)
    return False


def _concrete(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``fn`` on values (no stand-ins: the hooks let it run as without them)."""
    return fn(*args, **kwargs)


class _Sym:
    """A stand-in: a hole (``fn`` None, ``args`` its index) or a value made from others."""

    __slots__ = ("args", "fn", "kwargs", "value")

    def __init__(self, fn: Callable[..., Any] | None, args: Any, kwargs: dict[str, Any],
                 value: Any = None) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        if fn is None:
            self.value = value
        else:
            self.value = _concrete(fn, tuple(_value(a) for a in args),
                                   {k: _value(v) for k, v in kwargs.items()})

    def _guard(self, fn: Callable[..., Any], *others: Any) -> Any:
        made = _Sym(fn, (self, *others), {})
        trace = getattr(_local, "trace", None)
        if trace is None:
            _taint()
        trace.guards.append((made, made.value))
        return made.value

    def __bool__(self) -> bool:
        return bool(self._guard(bool))

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return _Sym(operator.eq, (self, other), {})

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return _Sym(operator.ne, (self, other), {})

    def __lt__(self, other: object) -> Any:
        return _Sym(operator.lt, (self, other), {})

    def __le__(self, other: object) -> Any:
        return _Sym(operator.le, (self, other), {})

    def __gt__(self, other: object) -> Any:
        return _Sym(operator.gt, (self, other), {})

    def __ge__(self, other: object) -> Any:
        return _Sym(operator.ge, (self, other), {})

    def __contains__(self, item: object) -> bool:
        return bool(self._guard(operator.contains, item))

    def __hash__(self) -> int:
        _taint()

    def __str__(self) -> str:
        _taint()

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        _taint()

    def __len__(self) -> int:
        _taint()

    def __iter__(self) -> Any:
        _taint()

    def __float__(self) -> float:
        _taint()

    def __int__(self) -> int:
        _taint()

    __index__ = __int__

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        _taint()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _taint()


def _arith(fn: Callable[..., Any], reflected: bool = False) -> Callable[..., Any]:
    if reflected:
        return lambda self, other: _Sym(fn, (other, self), {})
    return lambda self, other: _Sym(fn, (self, other), {})


_BINARY: list[tuple[str, Callable[..., Any]]] = [
    ("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
    ("truediv", operator.truediv), ("floordiv", operator.floordiv), ("mod", operator.mod),
    ("pow", operator.pow)]
_UNARY: list[tuple[str, Callable[..., Any]]] = [
    ("neg", operator.neg), ("pos", operator.pos), ("abs", abs), ("invert", operator.invert)]
for _name, _fn in _BINARY:
    setattr(_Sym, f"__{_name}__", _arith(_fn))
    setattr(_Sym, f"__r{_name}__", _arith(_fn, reflected=True))
for _name, _fn in _UNARY:
    setattr(_Sym, f"__{_name}__", (lambda f: lambda self: _Sym(f, (self,), {}))(_fn))


def _evaluate(sym: Any, values: list[Any], memo: dict[int, Any]) -> Any:
    """``sym`` with the numbers ``values`` in its holes."""
    if not isinstance(sym, _Sym):
        if type(sym) is list:
            return [_evaluate(x, values, memo) for x in sym]
        if type(sym) is tuple:
            return tuple(_evaluate(x, values, memo) for x in sym)
        return sym
    key = id(sym)
    if key in memo:
        return memo[key]
    if sym.fn is None:
        result = values[sym.args]
    elif sym.kwargs:
        result = sym.fn(*[_evaluate(a, values, memo) for a in sym.args],
                        **{k: _evaluate(v, values, memo) for k, v in sym.kwargs.items()})
    else:
        result = sym.fn(*[_evaluate(a, values, memo) for a in sym.args])
    memo[key] = result
    return result


_TRACES = [0]  # traces running, in any thread: none is the fast path
_TRACES_LOCK = threading.Lock()


def _in_trace() -> _Trace | None:
    if not _TRACES[0]:
        return None
    return getattr(_local, "trace", None)  # type: ignore[no-any-return]


# -- the environment's hooks ------------------------------------------------------------


def _finalize(value: Any) -> Any:
    if not _TRACES[0]:
        return value
    trace = _in_trace()
    if trace is None or not isinstance(value, _Sym):
        return value
    if value.fn is _join_parts:  # a text with stand-ins in it (a macro's): written as it is
        return "".join(p if isinstance(p, str) else _finalize(p) for p in value.args)
    return trace.token(value)


@jinja2.pass_eval_context
def _finalize_escaping(eval_ctx: jinja2.nodes.EvalContext, value: Any) -> Any:
    """:func:`_finalize` where text may be escaped: a stand-in written where it would be
    ends the trace (a fill writes its text as it is)."""
    if _TRACES[0] and eval_ctx.autoescape and isinstance(value, _Sym) and \
            _in_trace() is not None:
        _taint()
    return _finalize(value)


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A filter or test that records itself when given a stand-in."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if _TRACES[0] and _in_trace() is not None and \
                (_symish(args) or _symish(tuple(kwargs.values()))):
            return _made(fn, args, kwargs)
        return fn(*args, **kwargs)

    for attribute in ("jinja_pass_arg", "__name__", "__doc__"):
        if hasattr(fn, attribute):
            setattr(wrapped, attribute, getattr(fn, attribute))
    return wrapped


def _made(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Sym:
    trace = _in_trace()
    assert trace is not None
    args = tuple(trace.text(a) if isinstance(a, str) and _OPEN in a else a for a in args)
    kwargs = {k: trace.text(v) if isinstance(v, str) and _OPEN in v else v
              for k, v in kwargs.items()}
    return _Sym(fn, args, kwargs)


def _join(items: tuple[Any, ...]) -> Any:
    """``a ~ b``."""
    if _in_trace() is not None and _symish(items):
        return _made(_str_join, items, {})
    return "".join([str(x) for x in items])


def _str_join(*items: Any) -> str:
    return "".join([str(x) for x in items])


def _block(text: Any) -> Any:
    """``{% set x %}...{% endset %}``: a captured text that holds tokens is a stand-in."""
    trace = _in_trace()
    if trace is not None and isinstance(text, str) and _OPEN in text:
        return trace.text(text)
    return text


def _if(test: Any, then: Callable[[], Any], otherwise: Callable[[], Any]) -> Any:
    """``a if test else b``: on a stand-in, both sides computed (where that calls nothing
    that could change anything) and chosen per problem; else a guard."""
    trace = _in_trace()
    if not isinstance(test, _Sym) or trace is None:
        return then() if test else otherwise()
    sides = _sides(trace, then, otherwise)
    if sides is None:  # only the side taken is computed, as Jinja does
        return then() if test else otherwise()
    return _choice(trace, test, *sides)


def _ifblock(test: Any, then: Callable[[], str], otherwise: Callable[[], str]) -> str | None:
    """``{% if test %}...{% else %}...{% endif %}`` (bodies that only write, see
    :meth:`_CodeGenerator.visit_If`): on a stand-in in a trace, both bodies written (as
    :func:`_if` computes its sides) and the text chosen per problem; None where that cannot
    be done (the body the test takes is then written, the test a guard)."""
    trace = _in_trace()
    if not isinstance(test, _Sym) or trace is None:
        return None
    sides = _sides(trace, then, otherwise)
    if sides is None:
        return None
    return trace.token(_choice(trace, test, *sides, block=True))


def _capturing(test: Any) -> bool:
    """Whether :func:`_ifblock` may choose on ``test`` (its bodies are made only then)."""
    return isinstance(test, _Sym) and _in_trace() is not None


def _sides(trace: _Trace, then: Callable[[], Any], otherwise: Callable[[], Any]
           ) -> tuple[Any, Any, tuple[list[tuple[_Sym, Any]], ...]] | None:
    """Both sides of a choice, computed where no call can change anything, each with the
    guards it made (checked only where it is taken); None when either cannot be."""
    saved = trace.guards
    trace.pure += 1
    try:
        trace.guards = []
        first = then()
        first_guards, trace.guards = trace.guards, []
        second = otherwise()
        second_guards = trace.guards
    except (_Taint, Exception):
        return None
    finally:
        trace.pure -= 1
        trace.guards = saved
    return first, second, (first_guards, second_guards)


class _Choice(_Sym):
    """``first if test else second``, chosen per problem; ``guards``: those each side made
    while it was computed (a fill checks those of the side it takes, and computes only
    that side)."""

    __slots__ = ("block", "guards")

    def __init__(self, test: Any, first: Any, second: Any,
                 guards: tuple[list[tuple[_Sym, Any]], ...], block: bool) -> None:
        super().__init__(_choose, (test, first, second), {})
        self.guards, self.block = guards, block


def _choice(trace: _Trace, test: _Sym, first: Any, second: Any,
            guards: tuple[list[tuple[_Sym, Any]], ...], block: bool = False) -> _Choice:
    """The choice of ``first`` or ``second`` (texts with tokens read as stand-ins); a
    ``block`` one chooses the text of an if statement's body."""
    first, second = (trace.text(a) if isinstance(a, str) and _OPEN in a else a
                     for a in (first, second))
    return _Choice(test, first, second, guards, block)


_IMMUTABLE = (str, int, float, bool, tuple, type(None))
_CALL_KEYS = frozenset({"_loop_vars", "_block_vars"})


def _macro(trace: _Trace, call: Callable[..., Any], args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> Any:
    """A macro given stand-ins: run on them (traced through); where that cannot be done and
    it is given only numbers and texts, computed whole per problem."""
    if not (_symish(args) or _symish(tuple(kwargs.values()))):
        return call(*args, **kwargs)
    try:
        return call(*args, **kwargs)
    except (_Taint, Exception):
        plain = {k: v for k, v in kwargs.items() if k not in _CALL_KEYS}
        if not all(isinstance(a, _Sym) or type(a) in _IMMUTABLE
                   for a in (*args, *plain.values())):
            _taint()
        return _made(call, args, plain)


def _choose(test: Any, first: Any, second: Any) -> Any:
    return first if test else second


def _writes_only(body: list[jinja2.nodes.Node]) -> bool:
    """Whether statements only write: output, ifs and (not recursive) for loops of such
    statements, nothing that sets, defines, imports or changes how text is escaped."""
    for statement in body:
        if type(statement) is jinja2.nodes.Output:
            continue
        if type(statement) is jinja2.nodes.If:
            if not (_writes_only(statement.body) and _writes_only(statement.else_) and
                    all(_writes_only(e.body) for e in statement.elif_)):
                return False
        elif type(statement) is jinja2.nodes.For:
            if statement.recursive or not (_writes_only(statement.body) and
                                           _writes_only(statement.else_)):
                return False
        else:
            return False
    return True


_IF_REST = 0  # a synthetic if (an elif and what follows it) is numbered below Jinja's


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    _choosing = 0  # inside a body written by a trace to choose its text (see visit_If)

    def visit_If(self, node: jinja2.nodes.If, frame: Any) -> None:
        """An if whose bodies only write (:func:`_writes_only`): as Jinja's, but in a
        trace, on a stand-in, both bodies are written (by functions, as where no call can
        change anything) and the text is chosen per problem (:func:`_ifblock`); where that
        cannot be done, the body taken is written and the test is a guard, as before.
        Inside such a body, each if is written by its own functions and the text chosen or
        the side taken (it is only run so, in a trace)."""
        if not self._choosing and (
                frame.require_output_check or self.environment.is_async or
                not _writes_only([node])):
            super().visit_If(node, frame)
            return
        if_frame = frame.soft()
        test = self.temporary_identifier()
        self.writeline(f"{test} = ", node)
        self.visit(node.test, if_frame)
        if node.elif_:  # elif: an if in the else body, as Jinja runs it
            first = node.elif_[0]
            rest: list[jinja2.nodes.Node] = [jinja2.nodes.If(
                first.test, first.body, node.elif_[1:], node.else_, lineno=first.lineno)]
        else:
            rest = node.else_
        chosen = self.temporary_identifier()
        if self._choosing:
            then, otherwise = self._body(node.body, if_frame), self._body(rest, if_frame)
            self.writeline(f"{chosen} = environment.fill_ifblock({test}, {then}, "
                           f"{otherwise})")
            self.start_write(frame, node)
            self.write(f"{chosen} if {chosen} is not None else "
                       f"({then}() if {test} else {otherwise}())")
            self.end_write(frame)
            return
        self.writeline(f"{chosen} = None")
        self.writeline(f"if environment.fill_capturing({test}):")
        self.indent()
        then, otherwise = self._body(node.body, if_frame), self._body(rest, if_frame)
        self.writeline(f"{chosen} = environment.fill_ifblock({test}, {then}, {otherwise})")
        self.outdent()
        self.writeline(f"if {chosen} is not None:")
        self.indent()
        self.start_write(frame, node)
        self.write(chosen)
        self.end_write(frame)
        self.outdent()
        # Jinja's own if, from here (its test already computed)
        self.writeline(f"elif {test}:")
        self.indent()
        self.blockvisit(node.body, if_frame)
        self.outdent()
        for elif_ in node.elif_:
            self.writeline("elif ", elif_)
            self.visit(elif_.test, if_frame)
            self.write(":")
            self.indent()
            self.blockvisit(elif_.body, if_frame)
            self.outdent()
        if node.else_:
            self.writeline("else:")
            self.indent()
            self.blockvisit(node.else_, if_frame)
            self.outdent()

    def _body(self, body: list[jinja2.nodes.Node], frame: Any) -> str:
        """A function that writes ``body`` and returns its text (its name)."""
        name = self.temporary_identifier()
        self.writeline(f"def {name}():")
        self.indent()
        body_frame = frame.soft()
        self.buffer(body_frame)
        self._choosing += 1
        try:
            self.blockvisit(body, body_frame)
        finally:
            self._choosing -= 1
        self.writeline(f"return concat({body_frame.buffer})")
        self.outdent()
        return name

    def visit_CondExpr(self, node: jinja2.nodes.CondExpr, frame: Any) -> None:
        frame = frame.soft()
        self.write("environment.fill_if(")
        self.visit(node.test, frame)
        self.write(", lambda: ")
        self.visit(node.expr1, frame)
        self.write(", lambda: ")
        if node.expr2 is not None:
            self.visit(node.expr2, frame)
        else:
            message = ("the inline if-expression on"
                       f" {self.position(node)} evaluated to false and"
                       " no else section was defined.")
            self.write(f"cond_expr_undefined({message!r})")
        self.write(")")

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: Any) -> None:
        self.write("environment.fill_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_AssignBlock(self, node: jinja2.nodes.AssignBlock, frame: Any) -> None:
        self.push_assign_tracking()
        block_frame = frame.inner()
        block_frame.require_output_check = False
        block_frame.symbols.analyze_node(node)
        self.enter_frame(block_frame)
        self.buffer(block_frame)
        self.blockvisit(node.body, block_frame)
        self.newline(node)
        self.visit(node.target, frame)
        self.write(" = (Markup if context.eval_ctx.autoescape else identity)("
                   "environment.fill_block(")
        if node.filter is not None:
            self.visit_Filter(node.filter, block_frame)
        else:
            self.write(f"concat({block_frame.buffer})")
        self.write("))")
        self.pop_assign_tracking(frame)
        self.leave_frame(block_frame)


#: What a filled macro may be given after its problem context (each part of its key).
_PLAIN = (str, int, bool, type(None))


class _FilledMacro:
    """A macro of a template imported without context (a family template's question or
    solution, a row of the key), filled when given a problem context (and texts, integers,
    truth values or none after it, each a part of its structure)."""

    def __init__(self, macro: jinja2.runtime.Macro, key: Hashable) -> None:
        self.macro, self.key = macro, key


def _hooks(base: type[jinja2.sandbox.SandboxedEnvironment]) -> type:
    class FillEnvironment(base):  # type: ignore[valid-type,misc]
        code_generator_class = _CodeGenerator
        fill_join = staticmethod(_join)
        fill_block = staticmethod(_block)
        fill_if = staticmethod(_if)
        fill_ifblock = staticmethod(_ifblock)
        fill_capturing = staticmethod(_capturing)

        def getattr(self, obj: Any, attribute: str) -> Any:
            if _in_trace() is not None and (isinstance(obj, _Sym) or _symish(attribute)):
                return _made(super().getattr, (obj, attribute), {})
            value = super().getattr(obj, attribute)
            if type(value) is jinja2.runtime.Macro and \
                    isinstance(obj, jinja2.environment.TemplateModule):
                template = self.get_template(obj.__name__)
                if obj is template._module:  # imported without context
                    return _FilledMacro(value, (id(self), obj.__name__, attribute))
            return value

        def getitem(self, obj: Any, argument: Any) -> Any:
            if _in_trace() is not None and (isinstance(obj, _Sym) or _symish(argument)):
                return _made(super().getitem, (obj, argument), {})
            return super().getitem(obj, argument)

        def call(__self, __context: Any, __obj: Any, *args: Any,
                 **kwargs: Any) -> Any:
            trace = _in_trace()
            if type(__obj) is _FilledMacro:
                if trace is None and args and type(args[0]) is ProblemContext and \
                        not kwargs.keys() - {"_loop_vars", "_block_vars"} and \
                        all(type(a) in _PLAIN for a in args[1:]) and \
                        not getattr(_local, "plain", False):
                    macro, rest = __obj.macro, args[1:]
                    return _filler(__self).render(
                        lambda ctx: jinja2.sandbox.SandboxedEnvironment.call(
                            __self, __context, macro, ctx, *rest),
                        args[0], key=(__obj.key, *[(type(a), a) for a in rest]))
                __obj = __obj.macro
            if trace is None:
                return super().call(__context, __obj, *args, **kwargs)
            call = jinja2.sandbox.SandboxedEnvironment.call
            if isinstance(__obj, _Sym):  # a method of a number or text: computed per problem
                if type(getattr(__obj.value, "__self__", None)) not in _IMMUTABLE:
                    _taint()
                return _made(lambda o, *a, **k: call(__self, __context, o, *a, **k),
                             (__obj, *args), kwargs)
            if trace.pure:  # a side of an inline if that may not be taken
                _taint()
            result = super().call(__context, __obj, *args, **kwargs) \
                if not isinstance(__obj, jinja2.runtime.Macro) else _macro(
                    trace, lambda *a, **k: call(__self, __context, __obj, *a, **k), args, kwargs)
            if isinstance(result, str) and _OPEN in result:
                return trace.text(result)
            return result

    return FillEnvironment


#: Each fill environment's traces, while it lives (keyed by the environment itself, not its
#: id: an environment dropped from the cache may leave its id to another).
_FILLERS: weakref.WeakKeyDictionary[Any, Filler] = weakref.WeakKeyDictionary()
_FILLERS_LOCK = threading.Lock()


def filler_of(env: jinja2.Environment) -> Filler:
    """The traces kept for a fill environment's set documents (and their counts)."""
    return _filler(env)


def forget() -> None:
    """Drop every trace kept (each structure is traced again when next met), and every
    structure key and splitter worked out."""
    with _FILLERS_LOCK:
        _FILLERS.clear()
    with _SPLITS_LOCK:
        _SPLITS.clear()
        _SPLITTERS.clear()
        _SEEN.clear()


def _filler(env: Any) -> Filler:
    with _FILLERS_LOCK:
        found = _FILLERS.get(env)
        if found is None:
            found = _FILLERS[env] = Filler()
        return found


def fill_environment(fmt: str, templates_dir: str | None = None) -> jinja2.Environment:
    """The environment of :func:`~chainrule.render.environment.environment` (same loader,
    filters, delimiters and sandbox) with the hooks that trace and fill; one per folder."""
    return _fill_environment(fmt, templates_dir)


@lru_cache(maxsize=16)
def _fill_environment(fmt: str, templates_dir: str | None) -> jinja2.Environment:
    from chainrule.render.environment import environment

    plain = environment(fmt, templates_dir)
    env = _hooks(cast(type[jinja2.sandbox.SandboxedEnvironment], type(plain)))(**{
        "loader": plain.loader, "undefined": plain.undefined, "autoescape": plain.autoescape,
        "keep_trailing_newline": plain.keep_trailing_newline, "trim_blocks": plain.trim_blocks,
        "lstrip_blocks": plain.lstrip_blocks,
        "finalize": _finalize if plain.autoescape is False else _finalize_escaping,
        "block_start_string": plain.block_start_string,
        "block_end_string": plain.block_end_string,
        "variable_start_string": plain.variable_start_string,
        "variable_end_string": plain.variable_end_string,
        "comment_start_string": plain.comment_start_string,
        "comment_end_string": plain.comment_end_string,
    })
    env.filters.update({k: _wrap(cast(Callable[..., Any], f))
                        for k, f in plain.filters.items()})
    env.tests.update({k: _wrap(cast(Callable[..., Any], f)) for k, f in plain.tests.items()})
    env.globals.update(plain.globals)
    return env


# -- traces and fills --------------------------------------------------------------------


class _Variant:
    """One trace: its guards (each with its outcome) and its text (literals and holes),
    compiled into one Python function of the hole values. With a post-processing step,
    also the post-processed text's parts (see :class:`Post`)."""

    __slots__ = ("fill", "guards", "parts", "post_parts")

    def __init__(self, guards: list[tuple[_Sym, Any]], parts: list[Any],
                 post: Post | None = None, post_parts: list[Any] | None = None,
                 checked: dict[str | re.Pattern[str], list[int]] | None = None) -> None:
        self.guards, self.parts, self.post_parts = guards, parts, post_parts
        self.fill: Callable[[list[Any]], str | None] = _compile(guards, parts, post,
                                                                post_parts, checked)


class Post:
    """A rewrite of a rendered text (``rewrite``, e.g. Markdown's math for GitHub) that
    :meth:`Filler.render` applies to what it renders. ``unsafe_at(text, start, end,
    rewritten, position)`` for a stand-in at ``text[start:end]`` of a trace's text, and so
    at ``position`` of its ``rewritten`` text, says what finds, in the pieces written there
    (numbers, or texts made from them) each between two ``"\\x00"``, one that may not
    rewrite as the stand-in it replaces does: texts that must not occur in them, compiled
    patterns that must not match. A fill whose pieces are all safe joins the rewritten
    trace's parts; otherwise the rewrite is applied to the filled text."""

    __slots__ = ("rewrite", "unsafe_at")

    def __init__(self, rewrite: Callable[[str], str],
                 unsafe_at: Callable[[str, int, int, str, int],
                                     tuple[str | re.Pattern[str], ...]]) -> None:
        self.rewrite, self.unsafe_at = rewrite, unsafe_at


def _compile(guards: list[tuple[_Sym, Any]], parts: list[Any], post: Post | None = None,
             post_parts: list[Any] | None = None,
             checked: dict[str | re.Pattern[str], list[int]] | None = None
             ) -> Callable[[list[Any]], str | None]:
    """``fill(values)``: the text for ``values``, or None when a guard comes out otherwise.
    Each stand-in is computed once, in the order the trace made them, by generated code
    (the same calls as :func:`_evaluate`, without walking the trees). With ``post``: the
    rewritten text, joined from ``post_parts`` when every written piece is safe (``checked``:
    each check with the ids of the stand-ins it checks, see :class:`Post`), else
    rewritten from the filled text. The side of a choice the test does not take is not
    computed (nor are its guards checked), as Jinja does not run it."""
    from chainrule.render.environment import fixed

    consts: list[Any] = []
    names: dict[int, str] = {}
    texts: set[str] = set()  # the names that hold a str (not a subclass)
    lines = ["def fill(values):"]
    pad = ["    "]
    made_count = [0]

    def const(value: Any) -> str:
        consts.append(value)
        return f"k[{len(consts) - 1}]"

    def expr(item: Any) -> str:
        if isinstance(item, _Sym):
            return node(item)
        if type(item) is list and _has_sym(item):
            return "[" + "".join(expr(x) + ", " for x in item) + "]"
        if type(item) is tuple and _has_sym(item):
            return "(" + "".join(expr(x) + ", " for x in item) + ")"
        return const(item)

    def text(item: Any) -> str:
        """``str(item)``, as code."""
        if type(item) is str:
            return repr(item)
        code = expr(item)
        return code if code in texts else f"str({code})"

    def node(sym: _Sym) -> str:
        found = names.get(id(sym))
        if found is not None:
            return found
        fn = sym.fn
        if fn is None:
            name = f"values[{sym.args}]"
        elif type(sym) is _Choice:
            name = choice(sym)
        else:
            args = [expr(a) for a in sym.args]
            name = f"v{made_count[0]}"
            made_count[0] += 1
            if sym.kwargs:
                pairs = ", ".join(f"{const(k)}: {expr(v)}" for k, v in sym.kwargs.items())
                args.append(f"**{{{pairs}}}")
                made = f"{const(fn)}({', '.join(args)})"
            elif fn is fixed and _fixed_places(sym.args) is not None:
                # fixed(value, places), written out: the same format and the same "-0"
                places = _fixed_places(sym.args)
                lines.append(f"{pad[0]}{name} = f'{{{args[0]}:.{places}f}}'")
                lines.append(f"{pad[0]}if {name}.startswith('-') and not "
                             f"{name}.strip('-0.'): {name} = {name}[1:]")
                texts.add(name)
                names[id(sym)] = name
                return name
            else:
                made = _inline(fn, sym.args, args, text) or f"{const(fn)}({', '.join(args)})"
                if fn is _join_parts or fn is _str_join:
                    texts.add(name)
            lines.append(f"{pad[0]}{name} = {made}")
        names[id(sym)] = name
        return name

    def choice(sym: _Choice) -> str:
        """``first if test else second``: only the side taken computed, its guards
        checked (what it computes is forgotten after it)."""
        test = expr(sym.args[0])
        name = f"v{made_count[0]}"
        made_count[0] += 1
        lines.append(f"{pad[0]}if {test}:")
        for i, (side, side_guards) in enumerate(zip(sym.args[1:], sym.guards, strict=True)):
            if i:
                lines.append(f"{pad[0]}else:")
            kept = dict(names)
            pad[0] += "    "
            guard(side_guards)
            lines.append(f"{pad[0]}{name} = {expr(side)}")
            pad[0] = pad[0][:-4]
            names.clear()
            names.update(kept)
        return name

    def guard(found: list[tuple[_Sym, Any]]) -> None:
        for sym, outcome in found:
            got = node(sym)
            if type(outcome) is bool:  # the same as its type and value
                lines.append(f"{pad[0]}if {got} is not {outcome}: return None")
            else:
                lines.append(f"{pad[0]}if type({got}) is not {const(type(outcome))} or "
                             f"{got} != {const(outcome)}: return None")

    def flatten(items: Any) -> None:
        """The pieces written in ``items`` appended to ``p`` in order, the body each if
        statement takes written in place (its outcome appended to ``o``)."""
        run: list[str] = []  # pieces appended at once

        def flush() -> None:
            if run:
                lines.append(f"{pad[0]}p += ({''.join(c + ', ' for c in run)})")
                run.clear()

        for item in items:
            if type(item) is str:
                continue
            if type(item) is not _Choice or not item.block:
                run.append(text(item))
                continue
            flush()
            lines.append(f"{pad[0]}if {expr(item.args[0])}:")
            for i, (side, side_guards) in enumerate(zip(item.args[1:], item.guards,
                                                        strict=True)):
                if i:
                    lines.append(f"{pad[0]}else:")
                kept = dict(names)
                pad[0] += "    "
                lines.append(f"{pad[0]}o({not i})")
                guard(side_guards)
                flatten(_side_parts(side))
                pad[0] = pad[0][:-4]
                names.clear()
                names.update(kept)
        flush()

    guard(guards)
    planned = post is not None and any(type(p) is _Choice and p.block for p in parts)
    if planned:
        lines.append("    outcomes = []")
        lines.append("    o = outcomes.append")
        lines.append("    p = []")
        flatten(parts)
        lines.append("    return tuple(outcomes), p")
    elif post is None:
        pieces = [text(p) for p in parts]
        lines.append(f"    return ''.join(({''.join(p + ', ' for p in pieces)}))")
    else:
        written: dict[int, str] = {}  # each written stand-in's text, computed once
        for part in (*parts, *(post_parts or ())):
            if type(part) is not str and id(part) not in written:
                lines.append(f"    t{len(written)} = {text(part)}")
                written[id(part)] = f"t{len(written)}"

        def joined(items: list[Any]) -> str:
            codes = [repr(p) if type(p) is str else written[id(p)] for p in items]
            return f"''.join(({''.join(c + ', ' for c in codes)}))"

        if post_parts is not None and not written:
            lines.append(f"    return {joined(post_parts)}")
        else:
            if post_parts is not None:
                assert checked is not None
                joins: dict[tuple[str, ...], str] = {}
                checks = []
                for check, ids in checked.items():
                    held = tuple(written[i] for i in dict.fromkeys(ids))
                    name = joins.get(held)
                    if name is None:
                        name = joins[held] = f"j{len(joins)}"
                        lines.append(f"    {name} = '\\x00'.join(('', "
                                     f"{''.join(t + ', ' for t in held)}''))")
                    checks.append(f"{const(check)} not in {name}" if isinstance(check, str)
                                  else f"{const(check.search)}({name}) is None")
                lines.append(f"    if {' and '.join(checks)}: return {joined(post_parts)}")
            lines.append(f"    return {const(post.rewrite)}({joined(parts)})")
    namespace: dict[str, Any] = {"k": consts, _REPLACE_NAME: _REPLACE}
    exec(compile("\n".join(lines), "<chainrule fill>", "exec"), namespace)
    if planned:
        assert post is not None
        return _Planned(namespace["fill"], parts, post)
    return namespace["fill"]  # type: ignore[no-any-return]


def _side_parts(side: Any) -> tuple[Any, ...]:
    """The parts of a side of an if statement's choice: its text, or its text's parts."""
    if isinstance(side, _Sym) and side.fn is _join_parts:
        return tuple(side.args)
    return (side,)


#: Plans kept per trace (see :class:`_Planned`); past this, other fills are rewritten whole.
MAX_PLANS = 64


class _Planned:
    """The fill of a trace whose text holds if statements' bodies, rewritten by ``post``:
    ``raw(values)`` gives the bodies taken (the outcomes, in the order the text meets them)
    and the written pieces; each set of outcomes gets a plan, its text (literals and
    pieces) rewritten once as :func:`_rewritten_parts` rewrites a trace's, with what each
    piece is checked for. A fill whose pieces are all safe joins the plan's rewritten
    parts; any other is rewritten whole."""

    __slots__ = ("parts", "plans", "post", "raw")

    def __init__(self, raw: Callable[[list[Any]], tuple[tuple[bool, ...], list[str]] | None],
                 parts: list[Any], post: Post) -> None:
        self.raw, self.parts, self.post = raw, parts, post
        self.plans: dict[tuple[bool, ...], _Plan] = {}

    def __call__(self, values: list[Any]) -> str | None:
        got = self.raw(values)
        if got is None:
            return None
        key, pieces = got
        plan = self.plans.get(key)
        if plan is not None:
            return plan(pieces)
        if len(self.plans) >= MAX_PLANS:  # rewritten whole
            return self.post.rewrite("".join([p if isinstance(p, str) else pieces[p]
                                              for p in _skeleton(self.parts, key)]))
        plan = self.plans[key] = _Plan(self.parts, key, self.post)
        return plan(pieces)


def _skeleton(parts: list[Any], key: tuple[bool, ...]) -> list[str | int]:
    """The literals of a trace's text for the if statement outcomes ``key``, and in place
    of each piece written its index (in the order :func:`_compile`'s ``flatten`` writes
    them)."""
    skeleton: list[str | int] = []
    outcomes = iter(key)
    count = 0

    def walk(items: Any) -> None:
        nonlocal count
        for item in items:
            if type(item) is str:
                skeleton.append(item)
            elif type(item) is _Choice and item.block:
                walk(_side_parts(item.args[1] if next(outcomes) else item.args[2]))
            else:
                skeleton.append(count)
                count += 1

    walk(parts)
    return skeleton


#: Fills of a plan before its code is compiled (till then its texts are formatted).
COMPILE_AFTER = 8


class _Plan:
    """``plan(pieces)``: the text of a trace for one set of if statement outcomes (``key``)
    with ``pieces`` written in it, rewritten by ``post``. Its literals and pieces are
    rewritten once with a token for each piece (as :func:`_rewritten_parts` rewrites a
    trace's text); a fill whose pieces are all safe there joins the rewritten parts, any
    other is rewritten whole (and every fill when a piece cannot be followed through the
    rewrite). The first fills format texts (:func:`_formatter`); a plan used more is
    compiled into straight-line code, as :func:`_compile`'s."""

    __slots__ = ("apply", "checks", "post", "rewritten", "skeleton", "uses")

    def __init__(self, parts: list[Any], key: tuple[bool, ...], post: Post) -> None:
        self.post, self.uses = post, 0
        self.skeleton = skeleton = _skeleton(parts, key)
        self.rewritten: list[str | int] | None = None
        self.checks: list[tuple[str | re.Pattern[str], list[int]]] = []
        count = sum(type(p) is int for p in skeleton)
        text = "".join(p if type(p) is str else f"{_OPEN}{_NONCE}:{p}{_CLOSE}"
                       for p in skeleton)
        rewrite = post.rewrite(text)
        names = [f"{_NONCE}:{i}" for i in range(count)]
        try:  # the tokens, each once, and nothing else like one (else rewritten whole)
            spans, found = _tokens(text), _tokens(rewrite)
        except ValueError:
            spans = found = []
        if [text[a + 1:b - 1] for _, (a, b) in spans] == names and \
                sorted(rewrite[a + 1:b - 1] for _, (a, b) in found) == sorted(names):
            starts = dict(spans)
            rewritten: list[str | int] = []
            at = 0
            checked: dict[str | re.Pattern[str], list[int]] = {}
            for index, (start, end) in found:
                rewritten.append(rewrite[at:start])
                rewritten.append(int(index))
                at = end
                for check in post.unsafe_at(text, *starts[index], rewrite, start):
                    checked.setdefault(check, []).append(int(index))
            rewritten.append(rewrite[at:])
            self.rewritten, self.checks = rewritten, list(checked.items())
        self.apply = self._formatted()

    def __call__(self, pieces: list[str]) -> str:
        self.uses += 1
        if self.uses == COMPILE_AFTER:
            self.apply = self._compiled()
        return self.apply(pieces)

    def _formatted(self) -> Callable[[list[str]], str]:
        whole, rewrite = _formatter(self.skeleton), self.post.rewrite
        if self.rewritten is None:
            return lambda pieces: rewrite(whole(pieces))
        fast = _formatter(self.rewritten)
        checks = [(check, _getter(held)) for check, held in self.checks]

        def apply(pieces: list[str]) -> str:
            for check, held in checks:
                joined = "\x00" + "\x00".join(held(pieces)) + "\x00"
                if (check in joined) if isinstance(check, str) else \
                        check.search(joined) is not None:
                    return rewrite(whole(pieces))
            return fast(pieces)

        return apply

    def _compiled(self) -> Callable[[list[str]], str]:
        consts: list[Any] = [self.post.rewrite]

        def const(value: Any) -> str:
            consts.append(value)
            return f"k[{len(consts) - 1}]"

        def joined(items: list[str | int]) -> str:
            codes = [repr(p) if type(p) is str else f"p[{p}]" for p in items if p != ""]
            return f"''.join(({''.join(c + ', ' for c in codes)}))"

        lines = ["def apply(p):"]
        if self.rewritten is not None:
            joins: dict[tuple[int, ...], str] = {}
            checks = []
            for check, held in self.checks:
                name = joins.get(tuple(held))
                if name is None:
                    name = joins[tuple(held)] = f"j{len(joins)}"
                    lines.append(f"    {name} = '\\x00'.join(('', "
                                 f"{''.join(f'p[{i}], ' for i in held)}''))")
                checks.append(f"{const(check)} not in {name}" if isinstance(check, str)
                              else f"{const(check.search)}({name}) is None")
            lines.append(f"    if {' and '.join(checks) or 'True'}: "
                         f"return {joined(self.rewritten)}")
        lines.append(f"    return k[0]({joined(self.skeleton)})")
        namespace: dict[str, Any] = {"k": consts}
        exec(compile("\n".join(lines), "<chainrule fill plan>", "exec"), namespace)
        return namespace["apply"]  # type: ignore[no-any-return]


def _getter(indices: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """``pieces`` at ``indices``, as a tuple."""
    if len(indices) == 1:
        index = indices[0]
        return lambda pieces: (pieces[index],)
    return operator.itemgetter(*indices)


def _formatter(items: list[str | int]) -> Callable[[list[str]], str]:
    """``format(pieces)``: ``items`` joined, each int the piece at that index (pieces are
    texts: one %-format of the literals with a ``%s`` for each)."""
    literals: list[str] = []
    indices: list[int] = []
    run: list[str] = []
    for item in items:
        if type(item) is str:
            run.append(item)
        else:
            literals.append("".join(run).replace("%", "%%"))
            run = []
            indices.append(cast(int, item))
    if not indices:
        text = "".join(run)
        return lambda pieces: text
    literals.append("".join(run).replace("%", "%%"))
    pattern, held = "%s".join(literals), _getter(indices)
    return lambda pieces: pattern % held(pieces)


_OPERATORS = {operator.eq: "==", operator.ne: "!=", operator.lt: "<", operator.le: "<=",
              operator.gt: ">", operator.ge: ">="}


def _inline(fn: Callable[..., Any], given: tuple[Any, ...], args: list[str],
            text: Callable[[Any], str]) -> str | None:
    """Code that does what ``fn(*args)`` does, without the call, for the commonest steps
    (``given`` what the trace gave it, ``args`` as code); None for a call."""
    if fn in _OPERATORS and len(args) == 2:
        return f"{args[0]} {_OPERATORS[fn]} {args[1]}"
    if fn is bool and len(args) == 1:
        return f"True if {args[0]} else False"
    if fn is _str_join:
        return f"''.join(({''.join(text(a) + ', ' for a in given)}))"
    if fn is _join_parts:  # texts as they are (a text's own kind keeps its characters)
        pieces = [repr(p) if type(p) is str else f"{a} if isinstance({a}, str) else str({a})"
                  for p, a in zip(given, args, strict=True)]
        return f"''.join(({''.join(f'({p}), ' for p in pieces)}))"
    if fn is _REPLACE and len(given) == 4 and type(given[2]) is str and \
            type(given[3]) is str:  # as jinja2's replace filter does it, outside autoescape
        return (f"str({args[1]}).replace({given[2]!r}, {given[3]!r}) if not "
                f"{args[0]}.autoescape else {_REPLACE_NAME}({', '.join(args)})")
    return None


_REPLACE = jinja2.filters.do_replace


def _fixed_places(given: tuple[Any, ...]) -> int | None:
    """The decimals of ``fixed(*given)`` when its code may be written out (see
    :func:`_compile`): given as an int or left at its default; else None."""
    from chainrule.render.environment import fixed

    places = given[1] if len(given) == 2 else fixed.__defaults__[0] \
        if len(given) == 1 and fixed.__defaults__ else None
    return places if type(places) is int and 0 <= places <= 100 else None
_REPLACE_NAME = "replace"


def _has_sym(items: Any) -> bool:
    return any(isinstance(x, _Sym) or (type(x) in (list, tuple) and _has_sym(x))
               for x in items)


class _Hollow(Exception):
    """A context with a value a structure key cannot hold."""


_HOLE = object()  # the mark of a hole in a structure key
_SCALARS = (str, int, bool, type(None))


def _split(context: Any, holes: Holes) -> tuple[tuple[Any, ...], list[Any]]:
    """(structure key, hole values) of ``context``, in one walk. A dict or list met again
    (the same object) is a reference to where it was first met, in the key too."""
    key: list[Any] = []
    values: list[Any] = []
    seen: dict[int, int] = {}
    append, hole = key.append, values.append
    floats, names, under, roots = holes.floats, holes.keys, holes.under, holes.roots
    containers = (dict, list, tuple, ProblemContext)

    def walk(item: Any, top: Any, last: Any) -> None:
        kind = type(item)
        ref = seen.get(id(item))
        if ref is not None:
            append((_Hollow, ref))
            return
        seen[id(item)] = len(seen)
        append((kind, len(item)))
        if kind is list or kind is tuple:
            pairs: Any = ((last, v) for v in item)
        else:
            pairs = item.items()
        for k, v in pairs:
            if kind is not list and kind is not tuple:
                append(k if type(k) is str else (type(k), k))
            vkind = type(v)
            if vkind is str or vkind is bool:
                if (top if top is not None else k) in under or k in names:
                    append(_HOLE)
                    hole(v)
                else:
                    append(v if vkind is str else (bool, v))
            elif vkind is float:
                if floats:
                    append(_HOLE)
                    hole(v)
                else:
                    append((float, v))
            elif vkind is int or v is None:
                append((vkind, v))
            elif vkind in containers:
                walk(v, top if top is not None else None if (
                    k in roots and (vkind is dict or vkind is ProblemContext)) else k, k)
            else:
                raise _Hollow

    if type(context) not in containers:
        raise _Hollow
    walk(context, None, None)
    return tuple(key), values


class _Key:
    """A structure key (:func:`_split`'s tuple) with its hash worked out once."""

    __slots__ = ("hash", "key")

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key, self.hash = key, hash(key)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return self is other or (type(other) is _Key and self.hash == other.hash
                                 and self.key == other.key)


#: Splitters kept per :class:`Holes` (the last that matched first), and how often each
#: structure was met by the generic walk (a splitter is made for one met twice).
MAX_SPLITTERS = 8
_SPLITTERS: dict[Holes, list[tuple[Callable[[Any], list[Any] | None], _Key]]] = {}
_SEEN: dict[tuple[Holes, _Key], int] = {}


def _split_fast(context: Any, holes: Holes) -> tuple[_Key, list[Any]]:
    """:func:`_split` of ``context``, by the splitter of a structure met before when it
    matches (see :func:`_splitter`), else by the generic walk."""
    kept = _SPLITTERS.get(holes)
    if kept:
        for i, (split, structure) in enumerate(kept):
            values = split(context)
            if values is not None:
                if i:  # tried first from now on
                    with _SPLITS_LOCK:
                        if (split, structure) in kept:
                            kept.remove((split, structure))
                            kept.insert(0, (split, structure))
                return structure, values
    key, values = _split(context, holes)
    structure = _Key(key)
    with _SPLITS_LOCK:
        if len(_SEEN) > 4096:
            _SEEN.clear()
        met = _SEEN[holes, structure] = _SEEN.get((holes, structure), 0) + 1
    if met == 2:
        split = _splitter(key, holes, values)
        with _SPLITS_LOCK:
            if holes not in _SPLITTERS and len(_SPLITTERS) >= 64:
                _SPLITTERS.clear()
            found = _SPLITTERS.setdefault(holes, [])
            found.insert(0, (split, structure))
            del found[MAX_SPLITTERS:]
    return structure, values


def _splitter(key: tuple[Any, ...], holes: Holes, first: list[Any]
              ) -> Callable[[Any], list[Any] | None]:
    """``split(context)``: the hole values of ``context`` when :func:`_split` would give it
    the structure ``key``, else None. Generated straight-line code: each container's type
    checked, then unpacked (so its length and, for a dict, its keys in order); every other
    leaf and key compared at once with the traced ones (type and value); holes checked for
    the types a hole may have there; the containers met again (the same object) checked to
    be the same and all others distinct, as the walk records. ``first``: the hole values
    of a context of this structure (their types are checked first)."""
    lines = ["def split(c):"]
    consts: list[Any] = []  # what the generated code refers to: k[i]
    # structure: (a leaf's local, [its value], [its type]) or ("*" a dict, its keys, types)
    fixed: list[tuple[str, list[Any], list[type]]] = []
    named: list[str] = []  # holes that may be texts, truth values (or floats)
    floating: list[str] = []  # holes that are floats
    order: list[str] = []  # every hole, in the walk's order
    firsts: list[str] = []  # containers met first
    refs: list[tuple[str, int]] = []
    names, under, floats, roots = holes.keys, holes.under, holes.floats, holes.roots
    position = [0]
    count = [0]

    def const(value: Any) -> str:
        consts.append(value)
        return f"k[{len(consts) - 1}]"

    def local() -> str:
        count[0] += 1
        return f"x{count[0]}"

    def structure_leaf(var: str, value: Any, kind: type) -> None:
        fixed.append((var, [value], [kind]))

    def container(var: str, top: Any, last: Any) -> None:
        entry = key[position[0]]
        position[0] += 1
        if entry[0] is _Hollow:
            refs.append((var, entry[1]))
            return
        kind, size = entry
        firsts.append(var)
        lines.append(f"    if type({var}) is not {const(kind)}: return None")
        if kind is list or kind is tuple:
            items = [local() for _ in range(size)]
            if size:
                lines.append(f"    {''.join(x + ', ' for x in items)}= {var}")
            else:
                lines.append(f"    if {var}: return None")
            for item in items:
                value(item, top if top is not None else last, last)
            return
        items = [local() for _ in range(size)]
        key_values: list[Any] = []
        key_types: list[type] = []
        if size:  # its keys are compared with the other structure, all at once
            lines.append(f"    {''.join(x + ', ' for x in items)}= {var}.values()")
            fixed.append((f"*{var}", key_values, key_types))
        else:
            lines.append(f"    if {var}: return None")
        for item in items:
            name = key[position[0]]
            position[0] += 1
            if type(name) is str:
                key_values.append(name)
                key_types.append(str)
            else:
                key_values.append(name[1])
                key_types.append(name[0])
                name = name[1]
            value(item, top, name, True)

    def value(var: str, top: Any, last: Any, keyed: bool = False) -> None:
        # a container's item: ``top`` the key it is under at the top, ``last`` its own;
        # ``keyed``: a dict's item, with ``top`` its dict's (None at a top level)
        entry = key[position[0]]
        if keyed and top is None:
            top = None if last in roots and type(entry) is tuple and \
                entry[0] in (dict, ProblemContext) else last
        if entry is _HOLE:
            position[0] += 1
            if top in under or last in names:
                named.append(var)
            else:
                floating.append(var)
            order.append(var)
        elif type(entry) is str:
            position[0] += 1
            structure_leaf(var, entry, str)
        elif entry[0] is _Hollow or entry[0] in (dict, list, tuple, ProblemContext):
            container(var, top, last)
        else:
            position[0] += 1
            structure_leaf(var, entry[1], entry[0])

    container("c", None, None)
    if position[0] != len(key):
        raise ValueError("not a structure key")

    def tuple_of(names: list[str]) -> str:
        return "(" + "".join(x + ", " for x in names) + ")"

    if fixed:
        lines.append(f"    f = {tuple_of([var for var, _, _ in fixed])}")
        types = tuple(t for _, _, kinds in fixed for t in kinds)
        values = tuple(v for _, found, _ in fixed for v in found)
        lines.append(f"    if tuple(map(type, f)) != {const(types)} or "
                     f"f != {const(values)}: return None")
    if len(firsts) > 1:
        lines.append(f"    if len(set(map(id, {tuple_of(firsts)}))) != {len(firsts)}: "
                     "return None")
    for var, ref in refs:
        lines.append(f"    if {var} is not {firsts[ref]}: return None")
    allowed = {str, bool, float} if floats else {str, bool}
    lines.append(f"    h = [{', '.join(order)}]")
    if order:  # the hole types of the first context met, else each as the walk allows
        lines.append(f"    if tuple(map(type, h)) != {const(tuple(map(type, first)))}:")
        if named:
            lines.append(f"        if not set(map(type, {tuple_of(named)})) <= "
                         f"{const(allowed)}: return None")
        if floating:
            lines.append(f"        if set(map(type, {tuple_of(floating)})) != "
                         f"{const({float})}: return None")
    lines.append("    return h")
    body = ["    try:"] + ["    " + line for line in lines[1:]] + [
        "    except ValueError:", "        return None"]
    namespace: dict[str, Any] = {"k": consts}
    exec(compile("\n".join([lines[0], *body]), "<chainrule split>", "exec"), namespace)
    return namespace["split"]  # type: ignore[no-any-return]


def _hollowed(context: Any, holes: Holes) -> Any:
    """``context`` with a stand-in in each hole, numbered and shared as :func:`_split`
    walks them."""
    count = [0]
    seen: dict[int, Any] = {}
    roots = holes.roots

    def walk(item: Any, top: Any, last: Any) -> Any:
        kind = type(item)
        if kind is dict or kind is list or kind is tuple or kind is ProblemContext:
            if id(item) in seen:
                return seen[id(item)]
            if kind is list:
                made: Any = []
                seen[id(item)] = made
                made.extend(walk(v, top, last) for v in item)
                return made
            if kind is tuple:
                made = tuple(walk(v, top, last) for v in item)
                seen[id(item)] = made
                return made
            made = kind()
            seen[id(item)] = made
            for k, v in item.items():
                made[k] = walk(v, top if top is not None else None if (
                    k in roots and type(v) in (dict, ProblemContext)) else k, k)
            return made
        if holes(top, last, item):
            count[0] += 1
            return _Sym(None, count[0] - 1, {}, item)
        return item

    return walk(context, None, None)


class Filler:
    """Traces per structure, shared by the threads that render (one per environment)."""

    def __init__(self) -> None:
        self._variants: dict[Hashable, list[_Variant] | None] = {}
        self._lock = threading.Lock()
        #: Counts: problems filled, traced and rendered plainly (a structure no trace can
        #: follow, too many variants, or a value no key holds).
        self.filled = self.traced = self.plain = 0

    def render(self, render: Callable[[Any], str], context: Any, *, key: Hashable = None,
               holes: Holes = NUMBER_HOLES, post: Post | None = None) -> str:
        """``render(context)``, the same text, from a trace of its structure when there
        is one (rewritten by ``post`` when given: ``post.rewrite(render(context))``).
        ``render`` must render in a :func:`fill_environment` and depend on nothing but
        ``context`` (``key`` names what it renders, ``post`` with it)."""
        if post is not None:
            render = _Rewritten(render, post)
        try:
            structure, values = _split_once(context, holes)
        except _Hollow:
            self.plain += 1
            return _plainly(render, context)
        return self._fill(render, lambda: context, (key, structure), values, holes, post,
                          False)

    def render_split(self, render: Callable[[Any], str], context: Callable[[], Any],
                     structure: Hashable, values: list[Any], *, key: Hashable = None,
                     holes: Holes = NUMBER_HOLES, post: Post | None = None) -> str:
        """:meth:`render` of the context ``context()`` makes, given its hole values (in the
        order :func:`_split` takes them out) and a key of its structure (``structure``:
        contexts with equal keys have equal :func:`_split` keys, see :func:`layout`). The
        context is made only where it is traced or rendered plainly; where it is traced,
        its holes are taken out by :func:`_split` too and must be ``values``."""
        if post is not None:
            render = _Rewritten(render, post)
        return self._fill(render, context, (key, structure), values, holes, post, True)

    def _fill(self, render: Callable[[Any], str], context: Callable[[], Any],
              full: Hashable, values: list[Any], holes: Holes, post: Post | None,
              given: bool) -> str:
        with self._lock:
            variants = self._variants.get(full, [])
        if variants is None:
            self.plain += 1
            return _plainly(render, context())
        for variant in variants:
            try:
                text = variant.fill(values)
            except Exception:  # the plain render says what is wrong, as before
                text = None
                break
            if text is not None:
                self.filled += 1
                return text
        made_context = context()
        if len(variants) >= MAX_VARIANTS or (given and not _same_holes(
                made_context, holes, values)):
            with self._lock:
                self._variants[full] = None
            self.plain += 1
            return _plainly(render, made_context)
        made = self._trace(render, made_context, holes, post)
        expected = _plainly(render, made_context)
        if made is None or made.fill(values) != expected:
            with self._lock:
                self._variants[full] = None
            self.plain += 1
            return expected
        with self._lock:
            found = self._variants.setdefault(full, [])
            if found is not None:
                found.append(made)
        self.traced += 1
        return expected

    def _trace(self, render: Callable[[Any], str], context: Any,
               holes: Holes, post: Post | None = None) -> _Variant | None:
        trace = _Trace()
        hollow = _hollowed(context, holes)
        saved = getattr(_local, "trace", None)
        _local.trace = trace
        with _TRACES_LOCK:
            _TRACES[0] += 1
        post_parts = checked = None
        try:
            if isinstance(render, _Rewritten):
                render = render.render  # the text as written: rewritten below
            text = render(hollow)
            parts = trace.text(text).args if isinstance(text, str) else None
            if post is not None and parts is not None and not any(
                    type(p) is _Choice and p.block for p in parts):  # else see _Planned
                post_parts, checked = _rewritten_parts(trace, post, text, parts)
        except (_Taint, Exception):
            return None
        finally:
            _local.trace = saved
            with _TRACES_LOCK:
                _TRACES[0] -= 1
        if parts is None:
            return None
        return _Variant(trace.guards, _nonempty(parts), post,
                        None if post_parts is None else _nonempty(post_parts), checked)


def _nonempty(parts: tuple[Any, ...]) -> list[Any]:
    return [p for p in parts if not (isinstance(p, str) and not p)]


def _tokens(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Each token of ``text`` (already read by :meth:`_Trace.text`): its index and span."""
    found = []
    at = text.find(_OPEN)
    while at >= 0:
        end = text.index(_CLOSE, at) + 1
        found.append((text[at + 1:end - 1].partition(":")[2], (at, end)))
        at = text.find(_OPEN, end)
    return found


class _Rewritten:
    """``post.rewrite(render(context))``: what :meth:`Filler.render` renders with ``post``."""

    __slots__ = ("post", "render")

    def __init__(self, render: Callable[[Any], str], post: Post) -> None:
        self.render, self.post = render, post

    def __call__(self, context: Any) -> str:
        return self.post.rewrite(self.render(context))


def _rewritten_parts(trace: _Trace, post: Post, text: str, parts: tuple[Any, ...]
                     ) -> tuple[tuple[Any, ...] | None,
                                dict[str | re.Pattern[str], list[int]] | None]:
    """The parts of the traced ``text`` rewritten by ``post``, with each pattern that checks
    its pieces and the ids of the stand-ins it checks (those written where it applies);
    (None, None) when the stand-ins are not all there as often as in ``parts`` (the rewrite
    cut or doubled one)."""
    rewrite = post.rewrite(text)
    try:
        rewritten = trace.text(rewrite).args
    except _Taint:
        return None, None
    written = sorted(id(p) for p in parts if type(p) is not str)
    stand_ins = [p for p in rewritten if type(p) is not str]
    if sorted(id(p) for p in stand_ins) != written:
        return None, None
    spans = dict(_tokens(text))
    checked: dict[str | re.Pattern[str], list[int]] = {}
    for sym, (index, (at, _)) in zip(stand_ins, _tokens(rewrite), strict=True):
        start, end = spans[index]
        for check in post.unsafe_at(text, start, end, rewrite, at):
            checked.setdefault(check, []).append(id(sym))
    return rewritten, checked


def _plainly(render: Callable[[Any], str], context: Any) -> str:
    """``render(context)`` with no macro in it filled (it is one problem's text)."""
    saved = getattr(_local, "plain", False)
    _local.plain = True
    try:
        return render(context)
    finally:
        _local.plain = saved


def render_filled(name: str, context: Mapping[str, Any], filler: Filler,
                  templates_dir: str | Path | None = None, *,
                  holes: Holes = NUMBER_HOLES) -> str:
    """Template ``name`` rendered with ``context`` as
    :func:`~chainrule.render.environment.render` does (Markdown's math rewritten), from a
    trace of its structure when ``filler`` has one."""
    from chainrule.render.environment import github_math, template_errors

    fmt = name.split("/", 1)[0]
    if templates_dir is not None:
        templates_dir = str(Path(templates_dir).resolve())
    env = fill_environment(fmt, templates_dir)
    with template_errors(name):
        template = env.get_template(name)
        text = filler.render(lambda ctx: template.render(**ctx), dict(context),
                             key=(id(env), name), holes=holes)
    return github_math(text) if fmt == "md" else text


# -- contexts laid out in advance ------------------------------------------------------------


def _same_holes(context: Any, holes: Holes, values: list[Any]) -> bool:
    """Whether :func:`_split` takes ``values`` (the same types and values, in order) out of
    ``context``."""
    try:
        found = _split(context, holes)[1]
    except _Hollow:
        return False
    return len(found) == len(values) and all(
        type(a) is type(b) and (a == b or a is b) for a, b in zip(found, values, strict=True))


class Part:
    """A place in a context laid out by :class:`Layout` that each variant fills: a leaf of
    type ``kind`` (its text, number or truth value); with ``kind`` list, a list of texts
    under a top-level key where they are not holes (its texts are structure); with ``kind``
    None a container under a top-level key, walked per variant. ``code`` is the Python
    expression that gives it from the laid-out function's arguments."""

    __slots__ = ("code", "kind")

    def __init__(self, code: str, kind: type | None) -> None:
        self.code, self.kind = code, kind


class Layout:
    """A context's structure with :class:`Part` places, compiled: ``split(*args)`` gives the
    key of a variant's structure (equal keys, equal :func:`_split` keys) and its hole values
    in :func:`_split`'s order, for a context whose parts are the arguments' and whose
    other leaves and containers are those laid out (the same values and types, shared alike:
    containers made anew per variant, constants the same objects).

    The variant's leaves must have the types of their parts and its containers must be
    distinct from each other and from everything else in the context; that is what the
    caller guarantees, and :meth:`Filler.render_split` checks it of each context it traces.
    """

    __slots__ = ("split",)

    def __init__(self, context: Any, holes: Holes, args: list[str]) -> None:
        pieces: list[str] = []  # each hole's code, or *values of a container walked
        keyed: list[str] = []  # what the structure key holds beyond the layout itself
        lines: list[str] = []
        constants: list[Any] = []

        def const(value: Any) -> str:
            constants.append(value)
            return f"_k[{len(constants) - 1}]"

        seen: dict[int, int] = {}
        floats, names, under, roots = holes.floats, holes.keys, holes.under, holes.roots
        containers = (dict, list, tuple, ProblemContext)

        def leaf(part: Part, top: Any, k: Any) -> None:
            kind = part.kind
            if kind is str or kind is bool:
                if (top if top is not None else k) in under or k in names:
                    pieces.append(part.code)
                    return
            elif kind is float and floats:
                pieces.append(part.code)
                return
            elif kind not in (int, float, type(None)):
                raise ValueError(f"a part of type {kind}")
            keyed.append(part.code)

        def walk(item: Any, top: Any, last: Any) -> None:
            kind = type(item)
            if id(item) in seen:
                return
            seen[id(item)] = len(seen)
            pairs: Any = ((last, v) for v in item) if kind is list or kind is tuple else \
                item.items()
            for k, v in pairs:
                vkind = type(v)
                if vkind is Part:
                    if v.kind is not None and v.kind is not list:
                        leaf(v, top, k)
                        continue
                    if item is not context:
                        raise ValueError("a container part below the top level")
                    if v.kind is list:
                        if k in under or k in names:
                            raise ValueError("a list of texts where texts are holes")
                        keyed.append(f"_texts({v.code})")
                        continue
                    name = f"c{len(lines)}"
                    lines.append(f"    {name}k, {name}v = _under({k!r}, {v.code}, "
                                 f"{const(_sub_holes(holes, k))})")
                    keyed.append(f"{name}k")
                    pieces.append(f"*{name}v")
                elif (vkind is float and floats) or ((vkind is str or vkind is bool) and (
                        (top if top is not None else k) in under or k in names)):
                    pieces.append(const(v))  # a hole that holds the same in every variant
                elif vkind in containers:
                    walk(v, top if top is not None else None if (
                        k in roots and (vkind is dict or vkind is ProblemContext)) else k, k)
                elif vkind not in _SCALARS and vkind is not float:
                    raise _Hollow

        if type(context) not in containers:
            raise _Hollow
        walk(context, None, None)
        code = [f"def split({', '.join(args)}):", *lines,
                f"    return ({''.join(k + ', ' for k in keyed)}), "
                f"[{', '.join(pieces)}]"]
        namespace: dict[str, Any] = {"_under": _split_under, "_texts": _texts,
                                     "_k": constants}
        exec(compile("\n".join(code), "<chainrule layout>", "exec"), namespace)
        self.split: Callable[..., tuple[tuple[Any, ...], list[Any]]] = namespace["split"]


def _texts(items: Any) -> tuple[str, ...]:
    """A list of texts as a key (:class:`_Hollow` if it is not one)."""
    if type(items) is not list:
        raise _Hollow
    found = tuple(items)
    if not all(type(item) is str for item in found):
        raise _Hollow
    return found


def _split_under(name: str, container: Any, holes: Holes) -> tuple[_Key, list[Any]]:
    """:func:`_split_fast` of ``container`` where it stands under top-level key ``name``."""
    return _split_fast({name: container}, holes)


def _sub_holes(holes: Holes, name: str) -> Holes:
    """A :class:`Holes` equal to ``holes`` that keys the splitters of the parts under
    top-level key ``name`` (so each finds its own first, and those of whole contexts are not
    pushed out)."""
    key = (holes, name)
    found = _SUB_HOLES.get(key)
    if found is None:
        if len(_SUB_HOLES) >= 256:
            _SUB_HOLES.clear()
        found = _SUB_HOLES[key] = Holes(holes.keys, holes.under, holes.floats, holes.roots)
    return found


_SUB_HOLES: dict[tuple[Holes, str], Holes] = {}
