"""The worked example of one network problem, in the notes' style.

Everything that depends on the structure alone (network, activations, loss and its options)
is worked out once per trace: formulas printed, the chain-rule factors' texts, the loss
derivative compiled to exact rational arithmetic. Per variant only numbers are filled in,
and the forward pass after the update is evaluated for all variants of a structure at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.problems.base import Problem
from chainrule.problems.conventions import for_problem
from chainrule.symbolic.network import Network
from chainrule.symbolic.printing import format_number, format_rounded, prepare_numbers

__all__ = [
    "fill_walkthroughs",
    "iterate",
    "render_walkthrough",
    "render_walkthroughs",
    "walkthrough_context",
    "walkthrough_contexts",
    "walkthrough_json",
]


def _network(problem: Problem) -> Network:
    assert problem.trace is not None
    net = problem.trace.meta.get("network")
    if not isinstance(net, Network):
        raise TypeError("not a network problem")
    return net


def iterate(problem: Problem, iterations: int) -> list[dict[str, Any]]:
    """Further gradient-descent steps on the same example, each from the rounded updates.

    Row k holds the loss and prediction at the parameters after k - 1 updates; a last row
    holds the loss after the final update.
    """
    net = _network(problem)
    trace = net.trace
    params = {p: problem.rounded[f"{p}_new"] for p in net.parameters}
    rows = [{
        "iteration": 1,
        "loss": format_rounded(problem.rounded["L"], problem.decimals),
        "outputs": [format_rounded(problem.rounded[o], problem.decimals) for o in net.outputs],
    }]
    fixed = {g: problem.givens[g] for g in (*net.inputs, *net.targets, "eta")}
    d = problem.decimals

    def row(k: int | str, chain: dict[str, float]) -> dict[str, Any]:
        return {"iteration": k, "loss": format_rounded(chain["L"], d),
                "outputs": [format_rounded(chain[o], d) for o in net.outputs]}

    for k in range(2, iterations + 1):
        chain = trace.evaluate({**fixed, **params}, d)
        rows.append(row(k, chain))
        params = {p: chain[f"{p}_new"] for p in net.parameters}
    forward = net.forward_trace
    final = forward.evaluate({g: {**fixed, **params}[g] for g in forward.givens}, d)
    rows.append(row("after", final))
    rows[-1]["parameters"] = {p: format_number(v) for p, v in params.items()}
    return rows


def _combined(net: Network) -> str | None:
    """Why the output delta is yhat - y, where the loss and its output activation combine."""
    loss, out = net.loss.key, net.output.key
    if loss == "bce" and out == "sigmoid":
        return (r"With a sigmoid output and binary cross-entropy, "
                r"$\frac{\partial L}{\partial \hat{y}} = \frac{\hat{y} - y}{\hat{y}(1 - "
                r"\hat{y})}$ and $\frac{\partial \hat{y}}{\partial z} = \hat{y}(1 - \hat{y})$: "
                r"their product is $\hat{y} - y$, the factors $\hat{y}(1 - \hat{y})$ "
                r"cancelling (`chainrule derive bce` derives it).")
    if out == "softmax" and loss in ("cce", "kl", "lsce"):
        return (r"With a softmax output and a cross-entropy loss over one-hot (or smoothed) "
                r"targets summing to 1, the softmax's derivatives and the log cancel: "
                r"$\frac{\partial L}{\partial z_{k}} = \hat{y}_{k} - y_{k}$ "
                f"(`chainrule derive {loss}` derives it).")
    return None


def _backward_groups(net: Network, trace: Any) -> list[tuple[int, list[str]]]:
    """Backward and gradient step names layer by layer, output layer first (cached)."""
    found = trace.cache.get("walkthrough:backward")
    if found is None:
        last = len(net.layers) - 1
        found = [
            (layer, [s.name for s in trace.steps if s.kind in ("backward", "gradient")
                     and net.step_layers.get(s.name) == layer])
            for layer in range(last, 0, -1)
        ]
        trace.cache["walkthrough:backward"] = found
    return found  # type: ignore[no-any-return]


def _static_context(net: Network, trace: Any) -> dict[str, Any]:
    """The parts of a walkthrough that depend on the network only (cached per trace)."""
    found = trace.cache.get("walkthrough:static")
    if found is not None:
        return found  # type: ignore[no-any-return]
    last = len(net.layers) - 1
    layers = []
    for layer in range(1, last + 1):
        neurons = []
        for pos, j in enumerate(net.neurons[layer]):
            out = net.outputs[pos] if layer == last else f"a{j}"
            neurons.append({
                "j": j,
                "z": f"{trace.tex(f'z{j}')} = {trace.formula_tex(f'z{j}')}",
                "a": f"{trace.tex(out)} = {trace.formula_tex(out)}",
                "weights": [(trace.tex(w.name), w.name) for w in net.weights_into(j)],
                "bias": (trace.tex(f"b{j}"), f"b{j}"),
            })
        layers.append({"index": layer, "output": layer == last, "size": net.layers[layer],
                       "activation": net.activation_of(layer).title, "neurons": neurons})
    backward = []
    for layer, names in _backward_groups(net, trace):
        title = "Output layer" if layer == last else (
            "Hidden layer" if last == 2 else f"Hidden layer {layer}")
        backward.append((title, layer, names))
    found = {
        "net": net.spec,
        "hidden_count": last - 1,
        "layers": layers,
        "backward": backward,
        "kinds": {k: [s.name for s in trace.steps if s.kind == k]
                  for k in ("forward", "loss", "update")},
        "inputs": [(trace.tex(x), x) for x in net.inputs],
        "targets": [(trace.tex(t), t) for t in net.targets],
        "outputs_tex": [trace.tex(o) for o in net.outputs],
        "loss_title": net.loss.info.title,
        "loss_tex": f"L = {trace.formula_tex('L')}",
        "loss_params": dict(net.loss.params),
        "uses_sigmoid": "sigmoid" in (*(a.key for a in net.hidden), net.output.key),
        "combined": _combined(net),
        "out_index": net.neurons[-1][0],
    }
    trace.cache["walkthrough:static"] = found
    return found


class _ProblemContext(Mapping[str, Any]):
    """:func:`~chainrule.render.problemset.problem_context` of a problem, made when a
    template first reads it: the Markdown walkthrough never does, and its network drawing
    costs more than all the rest of a walkthrough."""

    __slots__ = ("_made", "_problem")

    def __init__(self, problem: Problem) -> None:
        self._problem = problem
        self._made: dict[str, Any] | None = None

    def _context(self) -> dict[str, Any]:
        if self._made is None:
            from chainrule.render.problemset import problem_context

            self._made = problem_context(self._problem)
        return self._made

    def __getitem__(self, key: str) -> Any:
        return self._context()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._context())

    def __len__(self) -> int:
        return len(self._context())

    def __repr__(self) -> str:
        return repr(self._context())


def _conventions(problem: Problem, trace: Any) -> list[str]:
    """The conventions of a network problem (they depend on its network and decimals only)."""
    net = problem.context.get("network")
    if not isinstance(net, dict):
        return []
    memo: dict[tuple[int, int], tuple[Any, list[str]]] = trace.cache.setdefault(
        "walkthrough:conventions", {})
    key = (id(net), problem.decimals)
    found = memo.get(key)
    if found is None or found[0] is not net:  # the network is held, so its id stays its own
        found = memo[key] = (net, for_problem("backprop", problem.context, problem.decimals))
    return list(found[1])


def walkthrough_contexts(problems: Sequence[Problem], iterations: int = 1) -> list[dict[str, Any]]:
    """:func:`walkthrough_context` of each problem; the forward pass after the update is
    evaluated for all problems of one structure together, and everything that does not
    depend on the numbers is worked out once per structure (:class:`_Plan`)."""
    return [plan.context(problem, after, iterations)
            for problem, plan, after in _planned(problems)]


def _planned(problems: Sequence[Problem]) -> Iterator[tuple[Problem, _Plan, list[str]]]:
    """Each problem with its structure's plan and the texts of its rows after the update."""
    plans: dict[tuple[Any, ...], _Plan] = {}
    for problem, after in zip(problems, _after_rows(problems), strict=True):
        # The problems hold their traces, so an id stays its own while this runs.
        key = (id(problem.trace), problem.decimals, tuple(problem.givens), problem.asked)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(problem)
        yield problem, plan, after


def _plan(problem: Problem) -> _Plan:
    """The plan of a problem's structure, kept with its trace."""
    assert problem.trace is not None
    kept: dict[tuple[Any, ...], _Plan] = problem.trace.cache.setdefault("walkthrough:plans", {})
    key = (problem.decimals, tuple(problem.givens), problem.asked)
    found = kept.get(key)
    if found is None:
        if len(kept) >= 64:
            kept.clear()
        found = kept[key] = _Plan(problem)
    return found


def walkthrough_context(problem: Problem, iterations: int = 1) -> dict[str, Any]:
    """Everything the walkthrough templates need, grouped as the notes present it."""
    return walkthrough_contexts([problem], iterations)[0]


def _getter(keys: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """``itemgetter(*keys)`` that always gives a tuple (also of one key, or none)."""
    if not keys:
        return lambda _: ()
    if len(keys) == 1:
        only = keys[0]
        return lambda m: (m[only],)
    return itemgetter(*keys)


#: Between the texts of one variant's substitutions when they are formatted together.
_SEP = "\x00"


class _Plan:
    """The walkthrough context of one structure (trace, decimals, givens' names, steps
    asked) with places for each variant's numbers.

    A variant's numbers are written as :meth:`Problem.number_texts` writes them (givens as
    :func:`format_number`, steps as :func:`format_rounded`) and put into every step's
    substitution with one ``%`` format of all of them (the substitution's ``str.format``
    string, as :meth:`Problem.step_records` fills it from :func:`prepare_numbers`); step
    records are copies of a record with everything but the numbers in place.
    """

    def __init__(self, problem: Problem) -> None:
        from chainrule.problems.base import WHOLE_KINDS, _static_records
        from chainrule.symbolic.printing import _key

        net = _network(problem)
        trace = problem.trace
        assert trace is not None
        self.net, self.trace, self.decimals = net, trace, problem.decimals
        self.static = static = _static_context(net, trace)
        givens = self.given_names = tuple(problem.givens)
        steps = trace.steps
        names = [s.name for s in steps]
        self.names = names
        # Where each name's text is in a variant's list of texts (givens, then steps; a
        # step's text is a given's of the same name, as in number_texts).
        index: dict[str, int] = {g: i for i, g in enumerate(givens)}
        for j, name in enumerate(names):
            index[name] = len(givens) + j
        self.givens = _getter(givens)
        self.steps = _getter(names)
        self.whole = any(s.kind in WHOLE_KINDS for s in steps)
        self.whole_kinds = WHOLE_KINDS
        # Substitutions: the prepared keys r_<name> (the text) and b_<name> (parenthesized
        # when negative), the later of two names with one key winning, as in a dict.
        all_names = list(dict.fromkeys((*givens, *names)))
        raw = {"r" + _key(n): index[n] for n in all_names}
        bare_names = {"b" + _key(n): n for n in all_names}
        statics = _static_records(trace)
        formats = [statics[n]["_tex_format"] for n in names]
        parts, fields, bare = self._percent(formats, raw, bare_names)
        self.percent = parts is not None
        if parts is not None:
            total = len(givens) + len(names)
            bare_index = {name: total + k for k, name in enumerate(bare)}
            self.bare = _getter([index[n] for n in bare])
            self.substitution = _SEP.join(parts)
            self.fields = _getter([bare_index[f[1]] if f[0] == "b" else f[1] for f in fields])
            self.count = len(names)
        asked = set(problem.asked)
        self.records = [
            {**statics[n], "asked": n in asked, "substituted_tex": "", "value": 0.0,
             "rounded": 0.0, "rounded_text": "", "approx": True}
            for n in names
        ]
        self.formats = formats
        position = {n: k for k, n in enumerate(names)}
        kinds = static["kinds"]
        self.positions = {kind: [position[n] for n in kinds[kind]]
                          for kind in ("forward", "loss", "update")}
        self.backward_positions = [(title, layer, [position[n] for n in group])
                                   for title, layer, group in static["backward"]]
        self.layers = [
            (layer, [(neuron, [(tex, index[w]) for tex, w in neuron["weights"]],
                      neuron["bias"][0], index[neuron["bias"][1]])
                     for neuron in layer["neurons"]])
            for layer in static["layers"]
        ]
        self.inputs = [(tex, index[x]) for tex, x in static["inputs"]]
        self.targets = [(tex, index[t]) for tex, t in static["targets"]]
        self.eta = index["eta"]
        self.chains = _chain_statics(net, trace)
        self._conventions: tuple[Any, list[str]] = (None, [])  # (network context, its)
        self.key_texts = _getter([index[f"dL_d{entry['weight']}"] for entry in self.chains])
        width = len(net.outputs)
        self.after_loss = width + 1  # where the loss after the update is in its rows' texts
        self.after_count = 2 * width + 2 + len(net.parameters)
        self.chain_count = sum(len(e["factor_texes"]) + 1 for e in self.chains)
        self.build = self._generate()
        self.approx = _approx(names)
        self.layouts: dict[tuple[frozenset[str], Any, bool], Any] = {}

    @staticmethod
    def _percent(formats: list[str], raw: dict[str, int], bare: dict[str, str],
                 ) -> tuple[list[str] | None, list[tuple[str, Any]], list[str]]:
        """The substitutions' format strings as ``%`` formats, their fields in order
        (("r", text index) or ("b", name)) and the names parenthesized; None parts where a
        format does more than put texts in (it is then filled by ``format_map``)."""
        from string import Formatter

        parts: list[str] = []
        fields: list[tuple[str, Any]] = []
        names: dict[str, None] = {}
        try:
            for text in formats:
                out = []
                for literal, field, spec, conversion in Formatter().parse(text):
                    if _SEP in literal:
                        return None, [], []
                    out.append(literal.replace("%", "%%"))
                    if field is None:
                        continue
                    if spec or conversion:
                        return None, [], []
                    if field in raw:
                        fields.append(("r", raw[field]))
                    elif field in bare:
                        fields.append(("b", bare[field]))
                        names[bare[field]] = None
                    else:
                        return None, [], []
                    out.append("%s")
                parts.append("".join(out))
        except ValueError:
            return None, [], []
        return parts, fields, list(names)

    def texts(self, problem: Problem) -> tuple[list[str], tuple[float, ...]]:
        """The variant's number texts (givens, then steps) and its steps' rounded values."""
        texts = _given_texts(self.givens(problem.givens))
        rounded = self.steps(problem.rounded)
        if self.whole:
            d, whole = self.decimals, self.whole_kinds
            texts += [format_number(v) if s.kind in whole else format_rounded(v, d)
                      for s, v in zip(self.trace.steps, rounded, strict=True)]
        elif rounded:
            texts += _rounded_texts(rounded, self.decimals)
        return texts, rounded

    def substituted(self, texts: list[str]) -> list[str]:
        """Each step's substitution (LaTeX) with the variant's numbers."""
        if self.percent:
            both = [*texts, *map(_BARE.__getitem__, self.bare(texts))]
            found = (self.substitution % self.fields(both)).split(_SEP)
            if len(found) == self.count:
                return found
        numbers = dict(zip([*self.given_names, *self.names], texts, strict=True))
        prepared = prepare_numbers(numbers, tex=True)
        return [f.format_map(prepared) for f in self.formats]

    def conventions(self, problem: Problem) -> list[str]:
        """:func:`_conventions` of the problem (the same for one network context)."""
        network = problem.context.get("network")
        kept = self._conventions
        if kept[0] is not network or network is None:
            kept = self._conventions = (network, _conventions(problem, self.trace))
        return list(kept[1])

    def arguments(self, problem: Problem, after: list[str], iterations: int,
                  chains: bool = True) -> tuple[Any, ...]:
        """What :meth:`build` makes a variant's context of (:data:`_ARGUMENTS`) given the
        texts of its rows after the update (:func:`_after_rows`); with ``chains`` false, no
        chain-rule rows (None)."""
        texts, rounded = self.texts(problem)
        return (
            problem, _ProblemContext(problem), problem.id, problem.title, problem.decimals,
            problem.rounded["L"] > float(after[self.after_loss]), after, texts,
            self.substituted(texts), self.steps(problem.exact), rounded,
            self.approx(problem.exactly),
            _chain_texts(self.net, self.chains, problem) if chains else None,
            self.conventions(problem), iterate(problem, iterations) if iterations > 1 else [])

    def context(self, problem: Problem, after: list[str],
                iterations: int) -> dict[str, Any]:
        return self.build(*self.arguments(problem, after, iterations))  # type: ignore[no-any-return]

    def layout(self, read: frozenset[str], holes: Any, iterations: int) -> Any:
        """The :class:`~chainrule.render.fill.Layout` of the context's names in ``read``
        (the problem context ``p`` as a dict), made once."""
        from chainrule.render.fill import Layout, Part

        key = (read, holes, iterations > 1)
        found = self.layouts.get(key)
        if found is None:
            total = len(self.given_names) + len(self.names)

            def parts(name: str, count: int, kind: type) -> list[Part]:
                return [Part(f"{name}[{i}]", kind) for i in range(count)]

            count = len(self.names)
            laid = self.build(
                Part("problem", None), Part("p", None), Part("ident", str),
                Part("title", str), Part("decimals", int), Part("down", bool),
                parts("f", self.after_count, str), parts("t", total, str),
                parts("s", count, str), parts("e", count, float), parts("o", count, float),
                parts("a", count, bool), parts("c", self.chain_count, str),
                Part("conventions", list), Part("rows", None) if iterations > 1 else [])
            found = self.layouts[key] = Layout(
                {k: v for k, v in laid.items() if k in read}, holes, list(_ARGUMENTS))
        return found

    def _generate(self) -> Callable[..., dict[str, Any]]:
        """The function making a variant's context from its numbers: straight-line code
        with the plan's indices and texts in place (the same dicts, lists and keys, in the
        same order, as the loops of :meth:`_looped` make)."""
        if len(self.names) > _GENERATED_STEPS:
            return self._looped
        values: dict[str, Any] = {"_ProblemContext": _ProblemContext}

        def const(value: Any) -> str:
            name = f"_k{len(values)}"
            values[name] = value
            return name

        def text(index: int) -> str:
            return f"t[{index}]"

        def number(tex: str, index: int) -> str:
            return f"{{'tex': {const(tex)}, 'value': {text(index)}}}"

        def replaced(prototype: dict[str, Any], new: dict[str, str]) -> str:
            # {**prototype, **new}: the prototype's keys in order, new ones after
            items = [f"{k!r}: {new[k] if k in new else const(v)}" for k, v in prototype.items()]
            items += [f"{k!r}: {v}" for k, v in new.items() if k not in prototype]
            return "{" + ", ".join(items) + "}"

        given = len(self.given_names)
        lines = [f"def build({', '.join(_ARGUMENTS)}):"]
        for j, record in enumerate(self.records):
            lines.append(
                f"    r{j} = {const(record)}.copy(); r{j}['substituted_tex'] = s[{j}]; "
                f"r{j}['value'] = e[{j}]; r{j}['rounded'] = o[{j}]; "
                f"r{j}['rounded_text'] = t[{given + j}]; r{j}['approx'] = a[{j}]")

        def records(positions: list[int]) -> str:
            return "[" + ", ".join(f"r{j}" for j in positions) + "]"

        layers = "[" + ", ".join(
            replaced(layer, {"neurons": "[" + ", ".join(
                replaced(neuron, {
                    "weights": "[" + ", ".join(number(tex, i) for tex, i in weights) + "]",
                    "bias": number(bias_tex, b)})
                for neuron, weights, bias_tex, b in neurons) + "]"})
            for layer, neurons in self.layers) + "]"
        static = self.static
        backward = "[" + ", ".join(
            f"{{'title': {const(title)}, 'layer': {const(layer)}, "
            f"'steps': {records(group)}}}" for title, layer, group in self.backward_positions
        ) + "]"
        body = {
            "problem": "problem",
            "p": "p",
            "id": "ident",
            "title": "title",
            "net": const(static["net"]),
            "decimals": "decimals",
            "inputs": "[" + ", ".join(number(tex, i) for tex, i in self.inputs) + "]",
            "targets": "[" + ", ".join(number(tex, i) for tex, i in self.targets) + "]",
            "eta": text(self.eta),
            "layers": layers,
            "loss_title": const(static["loss_title"]),
            "loss_tex": const(static["loss_tex"]),
            "loss_params": const(static["loss_params"]),
            "hidden_count": const(static["hidden_count"]),
            "forward": records(self.positions["forward"]),
            "loss": records(self.positions["loss"]),
            "backward": backward,
            "updates": records(self.positions["update"]),
            "iterations": "rows",
            "after": f"{const(_after_dicts)}({const(self.net)}, f)",
            "after_down": "down",
            "uses_sigmoid": const(static["uses_sigmoid"]),
            "conventions": "conventions",
            "combined": const(static["combined"]),
            "out_index": const(static["out_index"]),
            "chains": f"None if c is None else {const(_chain_dicts)}({const(self.chains)}, c, "
                      f"{const(self.key_texts)}(t))",
            "records": records(list(range(len(self.names)))),
            "outputs_tex": const(static["outputs_tex"]),
        }
        lines.append("    return {" + ", ".join(f"{k!r}: {v}" for k, v in body.items()) + "}")
        exec(compile("\n".join(lines), "<walkthrough context>", "exec"), values)
        return values["build"]  # type: ignore[no-any-return]

    def _looped(self, problem: Problem, p: Any, ident: str, title: str, decimals: int,
                down: bool, after: list[str], texts: list[str],
                substituted: list[str], exact: Sequence[float], rounded: Sequence[float],
                approx: Sequence[bool], chains: list[str] | None,
                conventions: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
        """:meth:`_generate`'s function for a large network, in loops."""
        records: list[dict[str, Any]] = []
        append = records.append
        given = len(self.given_names)
        for record, sub, value, rounded_value, text, inexact in zip(
                self.records, substituted, exact, rounded, texts[given:], approx,
                strict=True):
            record = record.copy()
            record["substituted_tex"] = sub
            record["value"] = value
            record["rounded"] = rounded_value
            record["rounded_text"] = text
            record["approx"] = inexact
            append(record)
        static = self.static
        return {
            "problem": problem,
            "p": p,
            "id": ident,
            "title": title,
            "net": static["net"],
            "decimals": decimals,
            "inputs": [{"tex": tex, "value": texts[i]} for tex, i in self.inputs],
            "targets": [{"tex": tex, "value": texts[i]} for tex, i in self.targets],
            "eta": texts[self.eta],
            "layers": [
                {**layer, "neurons": [
                    {**neuron, "weights": [{"tex": tex, "value": texts[i]} for tex, i in weights],
                     "bias": {"tex": bias_tex, "value": texts[b]}}
                    for neuron, weights, bias_tex, b in neurons
                ]}
                for layer, neurons in self.layers
            ],
            "loss_title": static["loss_title"],
            "loss_tex": static["loss_tex"],
            "loss_params": static["loss_params"],
            "hidden_count": static["hidden_count"],
            "forward": [records[k] for k in self.positions["forward"]],
            "loss": [records[k] for k in self.positions["loss"]],
            "backward": [{"title": title, "layer": layer, "steps": [records[k] for k in group]}
                         for title, layer, group in self.backward_positions],
            "updates": [records[k] for k in self.positions["update"]],
            "iterations": rows,
            "after": _after_dicts(self.net, after),
            "after_down": down,
            "uses_sigmoid": static["uses_sigmoid"],
            "conventions": conventions,
            "combined": static["combined"],
            "out_index": static["out_index"],
            "chains": None if chains is None else _chain_dicts(self.chains, chains,
                                                               self.key_texts(texts)),
            "records": records,
            "outputs_tex": static["outputs_tex"],
        }


#: The arguments of a plan's ``build``: the problem, its problem context (made when read),
#: id, title, decimals, whether the loss went down, the rows before and after the update,
#: the number texts (givens, then steps), substitutions, exact and rounded values of the
#: steps, whether each is rounded, the chain-rule rows, conventions and further iterations.
_ARGUMENTS = ("problem", "p", "ident", "title", "decimals", "down", "f", "t", "s", "e",
              "o", "a", "c", "conventions", "rows")


def _approx(names: list[str]) -> Callable[[frozenset[str]], list[bool]]:
    """Whether each step is rounded, given the names of those that are exact."""
    kept = tuple(names)
    return lambda exact: [n not in exact for n in kept]


#: Networks with more steps than this get their contexts made in loops, not by generated code.
_GENERATED_STEPS = 400


#: Texts remembered per table (drawn numbers repeat; a table past this starts again).
_REMEMBERED = 16_384


class _Bare(dict):  # type: ignore[type-arg]
    """A number's text as :func:`prepare_numbers` puts it where it stands alone (a
    negative one in parentheses), remembered."""

    def __missing__(self, text: str) -> str:
        bare = r"\left(" + text + r"\right)" if text[0] == "-" else text
        if len(self) >= _REMEMBERED:
            self.clear()
        self[text] = bare
        return bare


_BARE = _Bare()


class _GivenTexts(dict):  # type: ignore[type-arg]
    """:func:`format_number` of floats, remembered (drawn givens repeat)."""

    def __missing__(self, value: float) -> str:
        text = str(int(value)) if value.is_integer() else repr(value)
        if len(self) >= _REMEMBERED:
            self.clear()
        self[value] = text  # -0.0 and 0.0 share a key, and both are written 0
        return text


_GIVEN_TEXTS = _GivenTexts()


def _given_texts(values: Sequence[Any]) -> list[str]:
    """:func:`format_number` of each value."""
    if {*map(type, values)} <= {float}:
        return list(map(_GIVEN_TEXTS.__getitem__, values))
    return [format_number(v) for v in values]


class _RoundedTexts(dict):  # type: ignore[type-arg]
    """:func:`format_rounded` of floats at some decimals, remembered (rounded values
    repeat)."""

    def __init__(self, decimals: int) -> None:
        super().__init__()
        self.form = f"%.{decimals}f"

    def __missing__(self, value: float) -> str:
        text: str = self.form % (value + 0.0)  # -0.0 + 0.0 is 0.0: never "-0.000"
        if len(self) >= _REMEMBERED:
            self.clear()
        self[value] = text  # -0.0 and 0.0 share a key, and both are written 0.000
        return text


_ROUNDED_TEXTS: dict[int, _RoundedTexts] = {}


def _rounded_text(decimals: int) -> Callable[..., str]:
    """:func:`format_rounded` at ``decimals`` of one value; ``(value, False)`` for a value
    not worth remembering."""
    found = _ROUNDED_TEXT.get(decimals)
    if found is None:
        found = _ROUNDED_TEXT[decimals] = _make_rounded_text(decimals)
    return found


_ROUNDED_TEXT: dict[int, Callable[..., str]] = {}


def _make_rounded_text(decimals: int) -> Callable[..., str]:
    memo = _ROUNDED_TEXTS.get(decimals)
    if memo is None:
        memo = _ROUNDED_TEXTS.setdefault(decimals, _RoundedTexts(decimals))
    form = memo.form

    def text(value: Any, remember: bool = True) -> str:
        if type(value) is not float:
            return format_rounded(value, decimals)
        if remember:
            return memo[value]
        return form % (value + 0.0)

    return text


def _rounded_texts(values: Sequence[Any], decimals: int) -> list[str]:
    """:func:`format_rounded` of each value."""
    if {*map(type, values)} <= {float}:
        memo = _ROUNDED_TEXTS.get(decimals)
        if memo is None:
            memo = _ROUNDED_TEXTS.setdefault(decimals, _RoundedTexts(decimals))
        return list(map(memo.__getitem__, values))
    return [format_rounded(v, decimals) for v in values]


def _after_rows(problems: Sequence[Problem]) -> list[list[str]]:
    """:func:`iterate` with one iteration for each problem, as the texts of its rows (see
    :func:`_after_dicts`): the forward pass run for all problems of one structure and
    decimals at once (the rounded chain in float64, ties settled exactly, as
    :meth:`Trace.evaluate` does)."""
    from chainrule.numeric.evaluate import evaluate_rounded

    groups: dict[tuple[int, int], list[int]] = {}
    nets = [_network(p) for p in problems]
    for i, (problem, net) in enumerate(zip(problems, nets, strict=True)):
        groups.setdefault((id(net.forward_trace), problem.decimals), []).append(i)
    found: list[list[str]] = [[] for _ in problems]
    for (_, d), members in groups.items():
        net = nets[members[0]]
        forward = net.forward_trace
        fixed = {*net.inputs, *net.targets, "eta"}
        news = _getter([f"{p}_new" for p in net.parameters])
        givens = [problems[i].givens for i in members]
        rounded = [problems[i].rounded for i in members]
        batch = {}
        for g in forward.givens:  # a given, or a parameter after the update (that first)
            if g in net.parameters:
                column = list(map(itemgetter(f"{g}_new"), rounded))
            elif g in fixed:
                column = list(map(itemgetter(g), givens))
            else:
                raise KeyError(g)
            batch[g] = np.array(column, dtype=np.float64)
        chain = evaluate_rounded(forward, batch, d)
        losses = chain["L"].tolist()
        outputs = np.array([chain[o] for o in net.outputs]).T.tolist()
        before = _getter(["L", *net.outputs])
        for k, i in enumerate(members):
            rounded_values = problems[i].rounded
            found[i] = [*_rounded_texts((*before(rounded_values), losses[k], *outputs[k]), d),
                        *_given_texts(news(rounded_values))]
    return found


def _after_dicts(net: Network, texts: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows before and after the update (as :func:`iterate` gives them) from their
    texts: the loss and outputs before, after, and the parameters after."""
    width = len(net.outputs)
    return [
        {"iteration": 1, "loss": texts[0], "outputs": list(texts[1:width + 1])},
        {"iteration": "after", "loss": texts[width + 1],
         "outputs": list(texts[width + 2:2 * width + 2]),
         "parameters": dict(zip(net.parameters, texts[2 * width + 2:], strict=True))},
    ]


def walkthrough_json(problem: Problem, iterations: int = 1) -> dict[str, Any]:
    """The walkthrough as data: givens, and every step's exact and rounded value."""
    steps = [
        {"name": r["name"], "value": r["value"], "rounded": r["rounded"],
         "formula_tex": r["formula_tex"], "substituted_tex": r["substituted_tex"]}
        for r in problem.step_records(text=False)
    ]
    data: dict[str, Any] = {
        "id": problem.id,
        "givens": dict(problem.givens),
        "decimals": problem.decimals,
        "structure": problem.structure(),
        "steps": steps,
    }
    if iterations > 1:
        data["iterations"] = iterate(problem, iterations)
    return data


def render_walkthrough(
    problem: Problem, fmt: str, *, iterations: int = 1, templates_dir: str | None = None
) -> str:
    """The walkthrough of ``problem`` as Markdown, LaTeX or JSON text.

    A backpropagation problem gets the notes' full walkthrough; a problem of any other family
    its question and worked solution, as in a problem set's solutions.
    """
    if problem.family != "backprop" and iterations > 1:
        from chainrule.errors import ChainruleError

        raise ChainruleError(f"--iterations: only a backprop problem has iterations; "
                             f"{problem.id} is a {problem.family} problem")
    if fmt != "json" and problem.family != "backprop":
        from chainrule.render.problemset import render_set

        return render_set([problem], "solutions", fmt, title=problem.title,
                          templates_dir=templates_dir)
    if fmt == "json":
        import json

        return json.dumps(walkthrough_json(problem, iterations), indent=2) + "\n"
    from chainrule.render.environment import render

    name, folder = _template(fmt, templates_dir)
    return render(name, walkthrough_context(problem, iterations), folder)


def render_walkthroughs(
    problems: Sequence[Problem], fmt: str, *, iterations: int = 1,
    templates_dir: str | None = None,
) -> list[str]:
    """:func:`render_walkthrough` of each problem, the same text: the contexts of backprop
    problems are built together (:func:`walkthrough_contexts`) and rendered by structure
    (:func:`fill_walkthroughs`)."""
    if fmt == "json" or any(p.family != "backprop" for p in problems):
        return [render_walkthrough(p, fmt, iterations=iterations, templates_dir=templates_dir)
                for p in problems]
    from chainrule.collect import paused

    with paused():
        return _render_by_plans(problems, fmt, iterations, templates_dir)


def _render_by_plans(problems: Sequence[Problem], fmt: str, iterations: int,
                     templates_dir: str | None) -> list[str]:
    """:func:`render_walkthroughs` of backprop problems."""
    from chainrule.render.environment import render

    setup = _FillSetup.made(fmt, templates_dir)
    if setup is None:
        return fill_walkthroughs(walkthrough_contexts(problems, iterations), fmt, templates_dir)
    name, folder, read, filler = setup.name, setup.folder, setup.read, setup.filler
    plain, holes, key, post = setup.plain, setup.holes, setup.key, setup.post
    chains, problem_context = "chains" in read, "p" in read
    texts = []
    for problem, plan, after in _planned(problems):
        args = plan.arguments(problem, after, iterations, chains)
        if problem_context:
            args = (args[0], dict(args[1]), *args[2:])
        build = plan.build

        def context(args: tuple[Any, ...] = args, build: Any = build) -> dict[str, Any]:
            return {k: v for k, v in build(*args).items() if k in read}

        try:
            if {*map(type, args[9]), *map(type, args[10])} <= {float}:
                layout = plan.layout(read, holes, iterations)
                structure, values = layout.split(*args)
                texts.append(filler.render_split(plain, context, (layout, structure), values,
                                                 key=key, holes=holes, post=post))
            else:
                texts.append(filler.render(plain, context(), key=key, holes=holes, post=post))
        except Exception:  # rendering plainly says what is wrong, as one error
            texts.append(render(name, dict(plan.build(*args)), folder))
    return texts


class _FillSetup:
    """The walkthrough template of a format (and templates folder) in a fill environment,
    with what it reads, a new :class:`~chainrule.render.fill.Filler` and the Markdown
    rewrite for GitHub."""

    def __init__(self, name: str, folder: str | None, read: frozenset[str],
                 env: Any, template: Any, fmt: str) -> None:
        from chainrule.render.environment import github_math, github_math_unsafe_at
        from chainrule.render.fill import Filler, Post

        self.name, self.folder, self.read, self.template = name, folder, read, template
        self.filler, self.holes, self.key = Filler(), _holes(), (id(env), name)
        self.post = Post(github_math, github_math_unsafe_at) if fmt == "md" else None

    def plain(self, ctx: dict[str, Any]) -> str:
        return self.template.render(**ctx)  # type: ignore[no-any-return]

    @classmethod
    def made(cls, fmt: str, templates_dir: str | None) -> _FillSetup | None:
        """The setup, or None where contexts are rendered one by one (a template that reads
        the problem object, may read anything, or does not load)."""
        from chainrule.render.fill import fill_environment

        name, folder = _template(fmt, templates_dir)
        read = _names_read(name, fmt, folder)
        if read is None or "problem" in read:
            return None
        env = fill_environment(fmt, folder)
        try:
            template = env.get_template(name)
        except Exception:  # rendering plainly says what is wrong
            return None
        return cls(name, folder, read, env, template, fmt)


def fill_walkthroughs(contexts: Sequence[Mapping[str, Any]], fmt: str,
                      templates_dir: str | None = None) -> list[str]:
    """The walkthrough template (md or tex) rendered with each context, the same text as
    rendering it context by context: the template is traced once per structure and each
    context's numbers are filled into the trace (:mod:`chainrule.render.fill`). Markdown's
    math is rewritten for GitHub in the trace, once, for every fill whose pieces rewrite as
    the stand-ins they replace (:func:`~chainrule.render.environment.github_math_unsafe_at`);
    any other fill is rewritten whole. A template that reads the problem object itself is
    rendered context by context."""
    from chainrule.render.environment import render

    name, folder = _template(fmt, templates_dir)
    setup = _FillSetup.made(fmt, templates_dir)
    if setup is None:
        return [render(name, dict(c), folder) for c in contexts]
    texts = []
    for context in contexts:
        slim = {k: v for k, v in context.items() if k in setup.read}
        if "p" in slim:
            slim["p"] = dict(slim["p"])
        try:
            texts.append(setup.filler.render(setup.plain, slim, key=setup.key,
                                             holes=setup.holes, post=setup.post))
        except Exception:  # rendering plainly says what is wrong, as one error
            texts.append(render(name, dict(context), folder))
    return texts


def _template(fmt: str, templates_dir: str | None) -> tuple[str, str | None]:
    """The walkthrough template's name in format ``fmt`` and the templates folder (absolute)."""
    ext = {"md": "md", "tex": "tex"}[fmt]
    return f"{fmt}/walkthrough.{ext}.j2", (
        None if templates_dir is None else str(Path(templates_dir).resolve()))


@lru_cache(maxsize=1)
def _holes() -> Any:
    """The numbers of a walkthrough context: those of a problem context, the learning rate,
    the chain-rule products and keys, the rows after the update and whether the loss went
    down; the problem context ``p`` holds its own as a set document's does (its numbers, ids
    and the network drawing, which is placed by its labels' lengths)."""
    from chainrule.render.fill import NUMBER_KEYS, Holes

    return Holes(keys=NUMBER_KEYS | {"product", "key"},
                 under={"after", "after_down", "iterations", "eta", "drawing"}, roots={"p"})


def _names_read(name: str, fmt: str, templates_dir: str | None) -> frozenset[str] | None:
    """The context names template ``name`` (and what it includes) reads, or None when it
    may read any (it extends a template, or includes one whose name is computed)."""
    import jinja2
    import jinja2.meta

    from chainrule.render.environment import environment

    key = (name, fmt, templates_dir)
    kept = _READ.get(key)
    if kept is not None and all(current() for current in kept[1]):
        return kept[0]
    env = environment(fmt, templates_dir)
    found: set[str] = set()
    seen: set[str] = set()
    todo = [name]
    result: frozenset[str] | None = None
    uptodate: list[Callable[[], bool]] = []
    try:
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            source, _, current_now = env.loader.get_source(env, current)  # type: ignore[union-attr]
            if current_now is not None:
                uptodate.append(current_now)
            tree = env.parse(source)
            found |= jinja2.meta.find_undeclared_variables(tree)
            for node in tree.find_all((jinja2.nodes.Extends, jinja2.nodes.Include,
                                       jinja2.nodes.Import, jinja2.nodes.FromImport)):
                if isinstance(node, (jinja2.nodes.Import, jinja2.nodes.FromImport)) and \
                        not node.with_context:
                    continue  # macros without the context see only their arguments
                template = getattr(node, "template", None)
                if isinstance(node, jinja2.nodes.Extends) or \
                        not isinstance(template, jinja2.nodes.Const):
                    raise LookupError(current)
                todo.append(template.value)
        result = frozenset(found)
    except (jinja2.TemplateError, LookupError):
        result = None  # read as it may; rendering says what is wrong, if anything
    if len(_READ) >= 64:
        _READ.clear()
    _READ[key] = (result, uptodate)
    return result


#: What each template reads, with its sources' checks that they have not changed since.
_READ: dict[tuple[str, str, str | None],
            tuple[frozenset[str] | None, list[Callable[[], bool]]]] = {}


def round_half_up_float(value: float, decimals: int) -> float:
    """``value`` (its shortest decimal text) rounded half away from zero, as a calculator
    does.

    In floats where that decides the same: |value| scaled by 10**decimals is below 1e9 (it
    is then within 3e-7 of the scaled text) and its fraction is more than 1e-6 from a half;
    the rounded integer over 10**decimals is then the float nearest the rounded text.
    Otherwise in decimal arithmetic.
    """
    if type(value) is float:
        scale = _SCALES[decimals]
        scaled = abs(value) * scale
        if scaled < 1e9:
            whole = int(scaled)
            fraction = scaled - whole
            if abs(fraction - 0.5) > 1e-6:
                return math.copysign((whole + (fraction > 0.5)) / scale, value)
    return float(Decimal(repr(value)).quantize(_QUANTA[decimals], ROUND_HALF_UP))


_QUANTA = [Decimal(1).scaleb(-d) for d in range(9)]
_SCALES = [10.0 ** d for d in range(9)]


class _Inexact(Exception):
    """A loss derivative with parts exact rational arithmetic does not cover."""


def _ratio_code(expr: Any, names: dict[Any, str], constants: list[tuple[int, int]]
                ) -> list[str]:
    """Python statements evaluating ``expr`` exactly, as a ratio of integers ``n0 / d0``
    (``d0 > 0``; not reduced), the last one an assignment to ``n0, d0`` (``_Inexact`` where
    it cannot). A symbol ``v`` is the pair ``v_n, v_d``; pieces are evaluated only where
    their condition holds."""
    import sympy as sp

    from chainrule.symbolic.functions import step

    count = [0]

    def fresh() -> str:
        count[0] += 1
        return f"_{count[0]}"

    def value(e: Any, lines: list[str], pad: str) -> tuple[str, str]:
        """Lines appended computing ``e`` as a pair; the pair's names."""
        if e.is_Symbol:
            if e not in names:
                raise _Inexact(str(e))
            return f"{names[e]}_n", f"{names[e]}_d"
        if e.is_Rational:
            constants.append((int(e.p), int(e.q)))
            k = len(constants) - 1
            return f"_c[{k}][0]", f"_c[{k}][1]"
        v = fresh()
        n, d = f"n{v}", f"d{v}"
        if isinstance(e, sp.Piecewise):
            first = True
            for piece, condition in e.args:
                test = truth(condition, lines, pad)
                lines.append(f"{pad}{'if' if first else 'elif'} {test}:")
                first = False
                inner: list[str] = []
                pn, pd = value(piece, inner, pad + "    ")
                lines.extend(inner)
                lines.append(f"{pad}    {n}, {d} = {pn}, {pd}")
            lines.append(f"{pad}else:")
            lines.append(f"{pad}    raise _Inexact('no piece applies')")
            return n, d
        if e.is_Add or e.is_Mul:
            parts = [value(a, lines, pad) for a in e.args]
            an, ad = parts[0]
            for bn, bd in parts[1:]:
                if e.is_Add:
                    lines.append(f"{pad}{n}, {d} = {an} * {bd} + {bn} * {ad}, {ad} * {bd}")
                else:
                    lines.append(f"{pad}{n}, {d} = {an} * {bn}, {ad} * {bd}")
                an, ad = n, d
            return an, ad
        if e.is_Pow and e.exp.is_Integer:
            bn, bd = value(e.base, lines, pad)
            k = int(e.exp)
            if abs(k) > 64:
                raise _Inexact("a large power")
            if k >= 0:
                lines.append(f"{pad}{n}, {d} = {bn} ** {k}, {bd} ** {k}")
            else:  # 1 / x**|k|: ZeroDivisionError where x is 0, the denominator kept positive
                lines.append(f"{pad}{n}, {d} = {bd} ** {-k}, {bn} ** {-k}")
                lines.append(f"{pad}if {d} == 0: raise ZeroDivisionError")
                lines.append(f"{pad}if {d} < 0: {n}, {d} = -{n}, -{d}")
            return n, d
        if isinstance(e, sp.Abs):
            an, ad = value(e.args[0], lines, pad)
            lines.append(f"{pad}{n}, {d} = abs({an}), {ad}")
            return n, d
        if isinstance(e, (sp.sign, step)):
            an, ad = value(e.args[0], lines, pad)
            of = f"({an} > 0) - ({an} < 0)" if isinstance(e, sp.sign) else f"int({an} > 0)"
            lines.append(f"{pad}{n}, {d} = {of}, 1")
            return n, d
        if isinstance(e, (sp.Max, sp.Min)):
            parts = [value(a, lines, pad) for a in e.args]
            an, ad = parts[0]
            better = ">" if isinstance(e, sp.Max) else "<"
            for bn, bd in parts[1:]:
                lines.append(f"{pad}{n}, {d} = ({bn}, {bd}) if {bn} * {ad} {better} "
                             f"{an} * {bd} else ({an}, {ad})")
                an, ad = n, d
            return an, ad
        raise _Inexact(type(e).__name__)

    operators = {sp.StrictLessThan: "<", sp.LessThan: "<=", sp.StrictGreaterThan: ">",
                 sp.GreaterThan: ">=", sp.Eq: "==", sp.Ne: "!="}

    def truth(e: Any, lines: list[str], pad: str) -> str:
        """Lines appended computing condition ``e``; its code."""
        if e is sp.true or e is sp.false:
            return "True" if e is sp.true else "False"
        for kind, op in operators.items():
            if isinstance(e, kind):
                an, ad = value(e.args[0], lines, pad)
                bn, bd = value(e.args[1], lines, pad)
                return f"({an} * {bd} {op} {bn} * {ad})"
        if isinstance(e, sp.Not):
            return f"(not {truth(e.args[0], lines, pad)})"
        if isinstance(e, (sp.And, sp.Or)):
            joined = " and " if isinstance(e, sp.And) else " or "
            return "(" + joined.join(truth(a, lines, pad) for a in e.args) + ")"
        raise _Inexact(type(e).__name__)

    lines: list[str] = []
    n, d = value(expr, lines, "    ")
    lines.append(f"    n0, d0 = {n}, {d}")
    return lines


def _decimal_ratio(value: float) -> tuple[int, int]:
    """The shortest decimal text of ``value`` as a ratio of integers (denominator > 0)."""
    return Decimal(repr(value)).as_integer_ratio()


def _loss_derivative(net: Network) -> Callable[[float, float], float] | None:
    """dL/dyhat of a one-output network as a function of (y, yhat), exact in rational
    arithmetic (integer ratios) and rounded to float once, as SymPy's substitution evaluated
    to 30 digits gives it. None where the derivative needs more than + - * / and whole
    powers, |x|, sign, step, max, min and pieces."""
    import sympy as sp

    y, yhat = sp.Symbol("y", real=True), sp.Symbol("yhat", real=True)
    dl = net.loss.derivative([y], [yhat])[0]
    names = {y: "y", yhat: "yhat"}
    fixed: list[str] = []
    for k, (name, value) in enumerate(net.loss.params.items()):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            names[sp.Symbol(name)] = f"p{k}"
            n, d = _decimal_ratio(float(value))
            fixed.append(f"    p{k}_n, p{k}_d = {n}, {d}")
    constants: list[tuple[int, int]] = []
    try:
        body = _ratio_code(dl, names, constants)
    except _Inexact:
        return None
    source = "\n".join([
        "def _dl(y, yhat):",
        "    y_n, y_d = _ratio(y)",
        "    yhat_n, yhat_d = _ratio(yhat)",
        *fixed, *body,
        "    return n0 / d0"])
    namespace: dict[str, Any] = {"_c": constants, "_ratio": _decimal_ratio,
                                 "_Inexact": _Inexact}
    exec(compile(source, "<dL/dyhat>", "exec"), namespace)
    exact = namespace["_dl"]
    memo: dict[tuple[float, float], float] = {}  # drawn targets and outputs repeat

    def evaluate(target: float, output: float) -> float:
        found = memo.get((target, output))
        if found is None:
            found = exact(target, output)
            if len(memo) >= 100_000:
                memo.clear()
            memo[(target, output)] = found
        return found

    return evaluate


def _loss_derivative_sympy(net: Network, target: float, output: float) -> float:
    """dL/dyhat at (y, yhat) by SymPy's substitution at 30 digits."""
    import sympy as sp

    # Real symbols: |y - yhat| then differentiates to a sign, not to re/im parts.
    y, yhat = sp.Symbol("y", real=True), sp.Symbol("yhat", real=True)
    dl = net.loss.derivative([y], [yhat])[0]
    subs = {y: sp.Rational(repr(target)), yhat: sp.Rational(repr(output))}
    for name, value in net.loss.params.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            subs[sp.Symbol(name)] = sp.Rational(repr(float(value)))
    return float(dl.subs(subs).evalf(30))


def _chain_statics(net: Network, trace: Any) -> list[dict[str, Any]]:
    """Per layer, output first, the chain-rule example's names and texts (cached per trace)."""
    found = trace.cache.get("walkthrough:chain-statics")
    if found is not None:
        return found  # type: ignore[no-any-return]
    last = len(net.layers) - 1
    found = []
    for layer in range(last, 0, -1):
        j = net.neurons[layer][0]
        weight = net.weights_into(j)[0]
        source = weight.source
        out = net.outputs[0] if layer == last else f"a{j}"
        out_tex = trace.tex(out)
        z_tex = trace.tex(f"z{j}")
        entry: dict[str, Any] = {
            "j": j, "out": out, "source": source, "weight": weight.name,
            "weight_tex": trace.tex(weight.name),
            "layer": "output" if layer == last else "hidden",
            "source_tex": (rf"\frac{{\partial {z_tex}}}{{\partial {trace.tex(weight.name)}}} = "
                           f"{trace.tex(source)}"),
            "fprime_tex": rf"\frac{{\partial {out_tex}}}{{\partial {z_tex}}}",
            "fprime": f"fprime{j}", "delta": f"delta{j}",
        }
        if layer == last and not net.output.vector and len(net.outputs) == 1:
            entry["kind"] = "loss"
            entry["target"] = net.targets[0]
            entry["dl_tex"] = rf"\frac{{\partial L}}{{\partial {out_tex}}}"
            entry["dl"] = _loss_derivative(net)
            entry["output_key"] = net.output.key
            entry["factor_texes"] = (entry["dl_tex"], entry["fprime_tex"], entry["source_tex"])
        elif layer == last:
            entry["kind"] = "delta"
            entry["delta_tex"] = rf"\frac{{\partial L}}{{\partial {z_tex}}} = \delta_{{{j}}}"
            entry["factor_texes"] = (entry["delta_tex"], entry["source_tex"])
        else:
            downstream = [w for w in net.weights if w.source == f"a{j}"]
            entry["kind"] = "hidden"
            entry["downstream"] = [(w.name, f"delta{w.target}") for w in downstream]
            entry["upstream_tex"] = (
                rf"\frac{{\partial L}}{{\partial {out_tex}}} = "
                + " + ".join(rf"{trace.tex(w.name)} \delta_{{{w.target}}}" for w in downstream))
            entry["factor_texes"] = (entry["upstream_tex"], entry["fprime_tex"],
                                     entry["source_tex"])
        found.append(entry)
    trace.cache["walkthrough:chain-statics"] = found
    return found


def chain_examples(problem: Problem) -> list[dict[str, Any]]:
    """For one weight per layer (the first into the layer's first neuron): dL/dw as the
    chain-rule factors dL/da . da/dz . dz/dw, each computed from the rounded values, and
    their product, which is the key's gradient."""
    net = _network(problem)
    trace = problem.trace
    assert trace is not None
    statics = _chain_statics(net, trace)
    texts = problem.number_texts()
    return _chain_dicts(statics, _chain_texts(net, statics, problem),
                        [texts[f"dL_d{e['weight']}"] for e in statics])


def _chain_dicts(statics: list[dict[str, Any]], texts: Sequence[Any],
                 keys: Sequence[Any]) -> list[dict[str, Any]]:
    """:func:`chain_examples` from the chain statics, the texts :func:`_chain_texts` gives
    and the key's texts of the weights."""
    found = []
    at = 0
    for entry, key in zip(statics, keys, strict=True):
        texes = entry["factor_texes"]
        width = len(texes)
        found.append({
            "weight": entry["weight"],
            "weight_tex": entry["weight_tex"],
            "layer": entry["layer"],
            "factors": [{"tex": tex, "value": texts[at + k]} for k, tex in enumerate(texes)],
            "product": texts[at + width],
            "key": key,
        })
        at += width + 1
    return found


def _chain_texts(net: Network, statics: list[dict[str, Any]], problem: Problem) -> list[str]:
    """Per chain-rule example (:func:`_chain_statics`), the texts of its factors' values and
    of their product."""
    d, r, givens = problem.decimals, problem.rounded, problem.givens
    text = _rounded_text(d)
    found: list[str] = []
    append = found.append
    for entry in statics:
        source = entry["source"]
        source_value = r[source] if source in r else givens[source]
        kind = entry["kind"]
        if kind == "loss":
            out = entry["out"]
            target, output = givens[entry["target"]], r[out]
            dl = entry["dl"]
            try:
                exact = dl(target, output) if dl is not None else None
            except (_Inexact, ArithmeticError, TypeError, ValueError):
                exact = None
            if exact is None:
                exact = _loss_derivative_sympy(net, target, output)
            dl_value = round_half_up_float(exact, d)
            fprime = r.get(entry["fprime"])
            if fprime is None:  # no step of its own (sigmoid + BCE): f' from the output
                a = output
                activation = entry["output_key"]
                fprime = round_half_up_float(
                    a * (1 - a) if activation == "sigmoid" else
                    1 - a * a if activation == "tanh" else 1.0, d)
            append(text(dl_value))
            append(text(fprime))
            product = round_half_up_float(dl_value * fprime, d)
        elif kind == "delta":
            product = r[entry["delta"]]
            append(text(product))
        else:
            downstream = entry["downstream"]
            weights = r if all([w in r for w, _ in downstream]) else givens
            upstream = sum([weights[w] * r[delta] for w, delta in downstream])
            fprime = r.get(entry["fprime"], 1.0)
            append(text(upstream))
            append(text(fprime))
            upstream = round_half_up_float(upstream, d)
            product = round_half_up_float(upstream * fprime, d)
        append(format_number(source_value) if source in givens else text(source_value))
        append(text(product * source_value, False))
    return found
