"""Fully connected networks as derivation traces, derived layer by layer.

Naming follows the notes: inputs ``x1..xn``; non-input neurons are numbered globally in
layer order (a 2-2-1 net has hidden neurons 1, 2 and output neuron 3); ``w{i}{j}`` is the
weight into neuron j from input i (first layer) or from neuron i (later layers), written
``w{i}_{j}`` when an index has two digits. A single output is ``yhat`` with target ``y``;
several are ``yhat1..yhatK`` with targets ``y1..yK``.

The backward pass is the chain rule through deltas, delta_j = dL/dz_j:

* output layer: delta = yhat - y where the loss and output activation combine (sigmoid + BCE,
  softmax + CCE), otherwise delta = dL/dyhat * f'(z) (or through the softmax Jacobian);
* hidden layer: delta_j = (sum_k w_jk delta_k) * f'(z_j);
* gradients: dL/dw_ij = delta_j * a_i (or x_i), dL/db_j = delta_j.

Every local derivative is symbolic (the activation's identity form, SymPy's derivative of the
loss), so building a trace is linear in the number of weights.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.symbolic.activations import Activation, get_activation
from chainrule.symbolic.losses import Loss, get_loss
from chainrule.symbolic.trace import LazyTable, Step, Trace, sym

__all__ = ["Network", "parse_hand_spec", "parse_spec"]

MAX_LAYER_WIDTH = 64
#: The most layers (input and output included) a network may have.
MAX_LAYERS = 8
#: The most nodes ``derive --chain`` writes out for one gradient in the givens alone.
MAX_EXPANDED_NODES = 20_000


def parse_spec(spec: str | Sequence[int]) -> tuple[int, ...]:
    """``"2-2-1"`` -> (2, 2, 1): at least an input and an output layer, all positive."""
    if not isinstance(spec, str):
        sizes = tuple(int(n) for n in spec)
        text = "-".join(str(n) for n in sizes)
    else:
        text = spec.strip()
        parts = re.split(r"\s*-\s*", text)
        if not all(re.fullmatch(r"\d+", p) for p in parts):
            raise ChainruleError(
                f"bad network spec '{spec}': write layer sizes joined by '-', like 2-2-1"
            )
        sizes = tuple(int(p) for p in parts)
    if len(sizes) < 2:
        raise ChainruleError(f"bad network spec '{text}': need at least 2 layers, like 2-1")
    if any(n < 1 for n in sizes):
        raise ChainruleError(f"bad network spec '{text}': every layer needs at least 1 neuron")
    if len(sizes) > MAX_LAYERS:
        raise ChainruleError(
            f"bad network spec '{text}': at most {MAX_LAYERS} layers (input and output "
            "included)"
        )
    if any(n > MAX_LAYER_WIDTH for n in sizes):
        raise ChainruleError(
            f"bad network spec '{text}': at most {MAX_LAYER_WIDTH} neurons in a layer"
        )
    return sizes


#: A network worked by hand (walkthrough, problem sets, check, the web page): at most this
#: many layers of at most this many neurons.
MAX_HAND_LAYERS = 4
MAX_HAND_WIDTH = 5


def parse_hand_spec(spec: str | Sequence[int]) -> tuple[int, ...]:
    """:func:`parse_spec` within the size of a problem worked by hand."""
    sizes = parse_spec(spec)
    if len(sizes) > MAX_HAND_LAYERS or max(sizes) > MAX_HAND_WIDTH:
        text = "-".join(str(n) for n in sizes)
        raise ChainruleError(
            f"network {text} is too large to work by hand: a problem has at most "
            f"{MAX_HAND_LAYERS} layers of at most {MAX_HAND_WIDTH} neurons (derive and train "
            "take larger networks)")
    return sizes


def _product(*factors: sp.Expr) -> sp.Expr:
    """``Mul(*factors, evaluate=False)`` for factors that are symbols or sums and products of
    symbols, built directly: derive builds thousands, and sympifying, caching and
    post-processing them (which change nothing for symbols) took most of its time. Two
    factors or more: what ``Mul._from_args(factors, True)`` makes, made here."""
    if len(factors) < 2:
        return sp.Mul._from_args(factors, True)
    made = _new_basic(_MUL, *factors)
    made.is_commutative = True
    return made


def _sum(*terms: sp.Expr) -> sp.Expr:
    """``Add(*terms, evaluate=False)`` for symbols and products of symbols (see _product)."""
    if len(terms) < 2:
        return sp.Add._from_args(terms, True)
    made = _new_basic(_ADD, *terms)
    made.is_commutative = True
    return made


_new_basic = sp.Basic.__new__
_MUL, _ADD = sp.Mul, sp.Add


def _known(step: Step, *names: str) -> Step:
    """``step`` told the names its formula uses (sorted, as ``Step.dependencies`` finds
    them), where its builder knows them: finding them again walked every formula of a
    large network."""
    step.__dict__["dependencies"] = tuple(sorted(set(names)))
    return step


def _pair(letter: str, i: int, j: int) -> str:
    return f"{letter}{i}{j}" if i < 10 and j < 10 else f"{letter}{i}_{j}"


def _pair_tex(i: int, j: int) -> str:
    return f"{i}{j}" if i < 10 and j < 10 else f"{i},{j}"


@dataclass(frozen=True)
class Weight:
    """A weight ``name`` from source unit ``source`` (a name: x1, a2) into neuron ``target``."""

    name: str
    layer: int
    source: str
    target: int


class Network:
    """A fully connected network with its activations and loss; ``.trace`` derives it."""

    def __init__(
        self,
        spec: str | Sequence[int],
        hidden: str | Sequence[str] = "sigmoid",
        output: str | None = None,
        loss: str | Loss = "bce",
        **loss_params: Any,
    ) -> None:
        self.layers = parse_spec(spec)
        self.loss = loss if isinstance(loss, Loss) else get_loss(loss, **loss_params)
        n_hidden = len(self.layers) - 2
        names = [hidden] * n_hidden if isinstance(hidden, str) else list(hidden)
        if len(names) != n_hidden:
            raise ChainruleError(
                f"{len(names)} hidden activations given for {n_hidden} hidden layers"
            )
        self.hidden: tuple[Activation, ...] = tuple(get_activation(h) for h in names)
        for act in self.hidden:
            if act.vector:
                raise ChainruleError("softmax is an output activation, not a hidden one")
        self.output = get_activation(output or self.loss.info.default_output)
        if self.loss.info.distribution and self.layers[-1] < 2:
            raise ChainruleError(
                f"loss '{self.loss.key}' compares class distributions: "
                "the output layer needs at least 2 neurons"
            )
        if self.output.vector and self.layers[-1] < 2:
            raise ChainruleError("softmax output needs at least 2 output neurons")
        # Global numbering of non-input neurons, layer by layer.
        self.neurons: list[list[int]] = [list(range(1, self.layers[0] + 1))]
        start = 1
        for size in self.layers[1:]:
            self.neurons.append(list(range(start, start + size)))
            start += size

    # -- names ------------------------------------------------------------------------
    @property
    def spec(self) -> str:
        return "-".join(str(n) for n in self.layers)

    @property
    def n_outputs(self) -> int:
        return self.layers[-1]

    def __repr__(self) -> str:
        hidden = ",".join(a.key for a in self.hidden)
        return (
            f"Network({self.spec}, hidden={hidden or '-'}, output={self.output.key}, "
            f"loss={self.loss!r})"
        )

    def unit(self, layer: int, index: int) -> str:
        """Name of the value unit ``index`` of ``layer`` passes on (x1, a2, yhat)."""
        if layer == 0:
            return f"x{self.neurons[0][index]}"
        if layer == len(self.layers) - 1:
            return self.outputs[index]
        return f"a{self.neurons[layer][index]}"

    @cached_property
    def inputs(self) -> list[str]:
        return [f"x{i}" for i in self.neurons[0]]

    @cached_property
    def outputs(self) -> list[str]:
        if self.n_outputs == 1:
            return ["yhat"]
        return [f"yhat{k}" for k in range(1, self.n_outputs + 1)]

    @cached_property
    def targets(self) -> list[str]:
        return ["y"] if self.n_outputs == 1 else [f"y{k}" for k in range(1, self.n_outputs + 1)]

    @cached_property
    def weights(self) -> list[Weight]:
        """Every weight, grouped by target neuron, in layer order."""
        result = []
        for layer in range(1, len(self.layers)):
            sources = self.neurons[layer - 1]
            units = [self.unit(layer - 1, i_pos) for i_pos in range(len(sources))]
            for j in self.neurons[layer]:
                for i, unit in zip(sources, units, strict=True):
                    result.append(Weight(_pair("w", i, j), layer, unit, j))
        return result

    @cached_property
    def _weights_by_target(self) -> dict[int, list[Weight]]:
        result: dict[int, list[Weight]] = {}
        for w in self.weights:
            result.setdefault(w.target, []).append(w)
        return result

    @cached_property
    def _weights_by_source(self) -> dict[str, list[Weight]]:
        result: dict[str, list[Weight]] = {}
        for w in self.weights:
            result.setdefault(w.source, []).append(w)
        return result

    def weights_into(self, j: int) -> list[Weight]:
        """The weights into neuron j, in source order."""
        return self._weights_by_target.get(j, [])

    def biases(self) -> list[str]:
        return [f"b{j}" for layer in self.neurons[1:] for j in layer]

    @cached_property
    def parameters(self) -> list[str]:
        """Weights and biases neuron by neuron: w11, w21, b1, w12, w22, b2, ..."""
        result = []
        for layer in self.neurons[1:]:
            for j in layer:
                result += [w.name for w in self.weights_into(j)] + [f"b{j}"]
        return result

    def givens(self, updates: bool = True) -> list[str]:
        """Names a problem must give: inputs, targets, parameters (and eta for updates)."""
        return self.inputs + self.targets + self.parameters + (["eta"] if updates else [])

    def layer_of(self, j: int) -> int:
        for layer, ids in enumerate(self.neurons[1:], start=1):
            if j in ids:
                return layer
        raise KeyError(j)

    def activation_of(self, layer: int) -> Activation:
        return self.output if layer == len(self.layers) - 1 else self.hidden[layer - 1]

    # -- LaTeX names ------------------------------------------------------------------
    @cached_property
    def tex_names(self) -> dict[str, str]:
        tex: dict[str, str] = {"L": "L", "eta": r"\eta", "y": "y", "yhat": r"\hat{y}"}
        for i in self.neurons[0]:
            tex[f"x{i}"] = f"x_{{{i}}}"
        for k in range(1, self.n_outputs + 1):
            tex[f"y{k}"] = f"y_{{{k}}}"
            tex[f"yhat{k}"] = rf"\hat{{y}}_{{{k}}}"
        for name in self.outputs:
            tex[f"dL_d{name}"] = rf"\frac{{\partial L}}{{\partial {tex[name]}}}"
        for layer in range(1, len(self.layers)):
            act = self.activation_of(layer)
            for j in self.neurons[layer]:
                tex[f"z{j}"] = f"z_{{{j}}}"
                tex[f"a{j}"] = f"a_{{{j}}}"
                tex[f"b{j}"] = f"b_{{{j}}}"
                tex[f"delta{j}"] = rf"\delta_{{{j}}}"
                tex[f"fprime{j}"] = act.prime_tex(f"z_{{{j}}}")
        for w in self.weights:
            i = int(w.name[1:].split("_")[0]) if "_" in w.name else int(w.name[1])
            tex[w.name] = f"w_{{{_pair_tex(i, w.target)}}}"
        for p in self.parameters:
            tex[f"dL_d{p}"] = rf"\frac{{\partial L}}{{\partial {tex[p]}}}"
            tex[f"{p}_new"] = rf"{tex[p]}^{{\text{{new}}}}"
        return tex

    # -- the derivation ---------------------------------------------------------------
    @cached_property
    def trace(self) -> Trace:
        """Forward pass, loss, backward pass and a gradient-descent update of every parameter."""
        return self._build(updates=True)

    @cached_property
    def gradient_trace(self) -> Trace:
        """The same derivation without the update steps (no learning rate needed)."""
        return self._build(updates=False)

    @cached_property
    def forward_trace(self) -> Trace:
        """The forward pass and the loss only."""
        full = self.gradient_trace
        steps = [s for s in full.steps if s.kind in ("forward", "loss")]
        return Trace(
            givens=tuple(self.givens(False)), steps=tuple(steps),
            tex_names=dict(self.tex_names), title=full.title, meta=dict(full.meta),
        )

    def _build(self, updates: bool) -> Trace:
        steps = [*self._forward(), self._loss_step(), *self._backward()]
        if updates:
            steps += self._updates()
        title = f"{self.spec} network, {self._activation_summary()}, {self.loss.info.title}"
        return Trace(
            givens=tuple(self.givens(updates)),
            steps=tuple(steps),
            tex_names=LazyTable(lambda: dict(self.tex_names)),
            title=title,
            meta={"net": self.spec, "loss": self.loss.key, "output": self.output.key,
                  "hidden": [a.key for a in self.hidden], "loss_params": dict(self.loss.params)},
        )

    def _activation_summary(self) -> str:
        hidden = sorted({a.key for a in self.hidden})
        text = f"{'/'.join(hidden)} hidden, " if hidden else ""
        return text + f"{self.output.key} output"

    def _forward(self) -> list[Step]:
        steps: list[Step] = []
        last = len(self.layers) - 1
        for layer in range(1, len(self.layers)):
            act = self.activation_of(layer)
            kind_text = "output" if layer == last else "hidden"
            zs = []
            for j in self.neurons[layer]:
                into = self.weights_into(j)
                terms = [_product(sym(w.name), sym(w.source)) for w in into]
                z = _sum(*terms, sym(f"b{j}"))
                names = [w.name for w in into] + [w.source for w in into] + [f"b{j}"]
                steps.append(_known(Step(f"z{j}", z, "forward",
                                         f"{kind_text} neuron {j}: weighted sum"), *names))
                zs.append(sym(f"z{j}"))
                if layer != last:
                    steps.append(Step(f"a{j}", act.forward(sym(f"z{j}")), "forward",
                                      f"{kind_text} neuron {j}: activation"))
            if layer == last:
                if act.vector:
                    shown, stable = act.softmax(zs), act.softmax_stable(zs)
                    for name, expr, num in zip(self.outputs, shown, stable, strict=True):
                        steps.append(Step(name, expr, "forward", "softmax output", numeric=num))
                else:
                    for name, z in zip(self.outputs, zs, strict=True):
                        steps.append(Step(name, act.forward(z), "forward", "network output"))
        return steps

    def _loss_step(self) -> Step:
        ys = [sym(t) for t in self.targets]
        yhats = [sym(o) for o in self.outputs]
        point = self.loss.point(ys, yhats)
        return Step("L", point, "loss", f"{self.loss.info.title} loss",
                    numeric=self.loss.numeric(point))

    def _backward(self) -> list[Step]:
        steps: list[Step] = []
        last = len(self.layers) - 1
        ys = [sym(t) for t in self.targets]
        yhats = [sym(o) for o in self.outputs]
        out_ids = self.neurons[last]
        combined = self.loss.combined(self.output.key, ys, yhats)
        if combined is not None:
            why = "linear output: dL/dz = dL/dyhat" if self.output.key == "linear" else (
                f"{self.output.key} + {self.loss.key}: dL/dz = yhat - target")
            for j, d in zip(out_ids, combined, strict=True):
                steps.append(Step(f"delta{j}", d, "backward", f"output delta ({why})"))
        else:
            grads = self.loss.derivative(ys, yhats)
            for name, g in zip(self.outputs, grads, strict=True):
                steps.append(Step(f"dL_d{name}", g, "backward", "derivative of the loss"))
            dl = [sym(f"dL_d{o}") for o in self.outputs]
            if self.output.vector:
                inner = sp.Add(*[sp.Mul(d, p, evaluate=False) for d, p in zip(dl, yhats,
                                                                                strict=True)],
                               evaluate=False)
                for j, d, p in zip(out_ids, dl, yhats, strict=True):
                    delta = sp.Mul(p, sp.Add(d, sp.Mul(-1, inner, evaluate=False),
                                             evaluate=False), evaluate=False)
                    steps.append(Step(f"delta{j}", delta, "backward",
                                      "output delta through the softmax Jacobian"))
            else:
                for j, d, p in zip(out_ids, dl, yhats, strict=True):
                    steps.append(Step(f"fprime{j}", self.output.derivative(p, sym(f"z{j}")),
                                      "backward", f"{self.output.title} derivative"))
                    steps.append(Step(f"delta{j}", sp.Mul(d, sym(f"fprime{j}"), evaluate=False),
                                      "backward", "output delta: dL/dyhat * f'(z)"))
        steps += self._gradients(last)
        for layer in range(last - 1, 0, -1):
            act = self.hidden[layer - 1]
            for j in self.neurons[layer]:
                out_of = self._weights_by_source.get(f"a{j}", [])
                back = [_product(sym(w.name), sym(f"delta{w.target}")) for w in out_of]
                if act.derivative_is_one:
                    factors: list[sp.Expr] = []
                else:
                    steps.append(Step(f"fprime{j}", act.derivative(sym(f"a{j}"), sym(f"z{j}")),
                                      "backward", f"{act.title} derivative"))
                    factors = [sym(f"fprime{j}")]
                if len(back) == 1:
                    delta = _product(*back[0].args, *factors)
                else:
                    delta = _product(_sum(*back), *factors)
                if not factors and len(back) > 1:
                    delta = _sum(*back)
                names = ([w.name for w in out_of] + [f"delta{w.target}" for w in out_of]
                         + ([f"fprime{j}"] if factors else []))
                steps.append(_known(Step(f"delta{j}", delta, "backward",
                                         f"hidden delta: back-propagated error times "
                                         f"f'(z{j})"), *names))
            steps += self._gradients(layer)
        return steps

    def _gradients(self, layer: int) -> list[Step]:
        steps = []
        known = Step.known
        for j in self.neurons[layer]:
            delta = f"delta{j}"
            delta_symbol = sym(delta)
            for w in self.weights_into(j):
                source = w.source
                steps.append(known(f"dL_d{w.name}", _product(delta_symbol, sym(source)),
                                   "gradient", f"gradient of {w.name}",
                                   (delta, source) if delta < source else (source, delta)))
            steps.append(known(f"dL_db{j}", delta_symbol, "gradient", f"gradient of b{j}",
                               (delta,)))
        return steps

    def _updates(self) -> list[Step]:
        eta, minus_one, known = sym("eta"), sp.S.NegativeOne, Step.known
        steps = []
        for p in self.parameters:
            gradient = f"dL_d{p}"
            formula = _sum(sym(p), _product(minus_one, eta, sym(gradient)))
            steps.append(known(f"{p}_new", formula, "update", f"gradient descent update of {p}",
                               tuple(sorted((p, "eta", gradient)))))
        return steps

    @cached_property
    def step_layers(self) -> dict[str, int]:
        """The layer each backward, gradient and update step belongs to (by its neuron)."""
        result: dict[str, int] = {}
        last = len(self.layers) - 1
        for name in self.outputs:
            result[f"dL_d{name}"] = last
        for layer in range(1, last + 1):
            for j in self.neurons[layer]:
                for stem in ("fprime", "delta", "dL_db", "b"):
                    result[f"{stem}{j}"] = layer
                result[f"b{j}_new"] = layer
                for w in self.weights_into(j):
                    result[f"dL_d{w.name}"] = layer
                    result[f"{w.name}_new"] = layer
        return result

    # -- display helpers --------------------------------------------------------------
    def chain_rule_tex(self, parameter: str) -> list[str]:
        """The chain rule for dL/d(parameter), one LaTeX line per delta it passes through."""
        trace = self.gradient_trace
        grad = f"dL_d{parameter}"
        if grad not in trace:
            raise ChainruleError(f"unknown parameter '{parameter}'")
        tex = self.tex_names
        lines = [f"{tex[grad]} = {trace.formula_tex(grad)}"]
        seen: set[str] = set()
        todo = [d for d in trace[grad].dependencies if d.startswith("delta")]
        while todo:
            delta = todo.pop(0)
            if delta in seen:
                continue
            seen.add(delta)
            j = delta[len("delta"):]
            lines.append(rf"{tex[delta]} = \frac{{\partial L}}{{\partial z_{{{j}}}}} = "
                         + trace.formula_tex(delta))
            todo += [d for d in trace[delta].dependencies if d.startswith("delta")]
        return lines

    def expanded_gradient(self, parameter: str) -> sp.Expr:
        """dL/d(parameter) written out in the givens alone (for display; grows fast: more
        than MAX_EXPANDED_NODES nodes is an error, raised before anything is built)."""
        name = f"dL_d{parameter}"
        if name not in self.gradient_trace:
            raise ChainruleError(f"unknown parameter '{parameter}'")
        size = self.gradient_trace.expanded_size(name)
        if size > MAX_EXPANDED_NODES:
            raise ChainruleError(
                f"dL/d{parameter} written out in the givens alone would have {size:,} terms "
                f"(at most {MAX_EXPANDED_NODES:,} are shown): choose a smaller network or a "
                "parameter nearer the output")
        return self.gradient_trace.expanded(name)

    def expanded_loss(self) -> sp.Expr:
        """The loss written out in the givens alone."""
        return self.gradient_trace.expanded("L")
