"""Network problems: a forward pass, and backpropagation with one gradient-descent update.

Givens are drawn to be good to work by hand: weights and biases with one decimal in
[-1, 1] (never 0), inputs with one decimal in [-1, 1] (never 0 unless ``zero_input`` asks
for one), no activation saturated, no ReLU unit at its kink, softmax outputs not all equal,
every value clear of a rounding tie, and every delta and gradient with at least two
significant digits at the problem's decimals (or exactly 0, through an inactive ReLU or a
zero input).

Only well-posed pairs of loss and output activation are drawn: BCE needs an output in
(0, 1) (sigmoid or softmax), and CCE, KL and label smoothing a softmax output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.problems.base import Draft, Family, Option, register
from chainrule.problems.families.losses import CONVENTION_OPTIONS, loss_params
from chainrule.symbolic.losses import get_loss
from chainrule.symbolic.network import Network

__all__ = ["BackpropFamily", "ForwardFamily", "network_for"]

_OUTPUTS = ("sigmoid", "softmax", "linear", "tanh")
_LOSSES = ("bce", "cce", "mse", "mae", "huber", "hinge", "kl", "lsce")
#: Learning rates drawn: eta * dL/dw then has no more decimals than a tie needs often
#: (0.5 would put half of all updates on a rounding tie).
_ETAS = (0.1, 0.2, 0.4)

NETWORK_OPTIONS: dict[str, Option] = {
    "net": Option("2-2-1", "net", "network spec, e.g. 2-2-1 or 2-3-2"),
    "hidden": Option("sigmoid", "choice", "hidden activation",
                     ("sigmoid", "tanh", "relu", "linear")),
    "output": Option("auto", "choice", "output activation (auto: the loss's usual one)",
                     ("auto", *_OUTPUTS)),
    "loss": Option("bce", "choice", "loss", _LOSSES),
    "eta": Option(None, "rate", "learning rate (default: drawn from 0.1, 0.2, 0.4)",
                  low=0.0, high=10.0),
    "zero_input": Option(False, "bool", "allow an input of 0 (its weights' gradients are 0)"),
    **CONVENTION_OPTIONS,
}

#: Output activations each loss is defined for (others give log of a negative number, or a
#: loss below zero). MSE, MAE and Huber take any output.
_DEFINED_OUTPUTS: dict[str, tuple[str, ...]] = {
    "bce": ("sigmoid", "softmax"),
    "cce": ("softmax",),
    "kl": ("softmax",),
    "lsce": ("softmax",),
}


def check_pairing(loss: str, output: str | None, where: str = "") -> None:
    """Refuse a loss whose value is undefined for this output activation (ChainruleError)."""
    key = get_loss(loss).key
    out = output if output not in (None, "auto") else get_loss(key).info.default_output
    allowed = _DEFINED_OUTPUTS.get(key)
    if allowed is not None and out not in allowed:
        prefix = f"{where}: " if where else ""
        need = "an output in (0, 1)" if key == "bce" else "probabilities that sum to 1"
        raise ChainruleError(
            f"{prefix}loss '{key}' needs {need} ({' or '.join(allowed)} output), "
            f"not a {out} output"
        )


#: The biggest networks worked by hand: wider or deeper ones have so many steps that almost
#: no draw keeps every value clear of rounding ties (and no page holds their drawing).
MAX_WIDTH = 4
MAX_HIDDEN_LAYERS = 2
MAX_PARAMETERS = 30


def check_size(net: str, where: str = "") -> None:
    """Refuse a network too big for a problem worked by hand (ChainruleError)."""
    layers = [int(n) for n in net.split("-")]
    params = sum((a + 1) * b for a, b in pairwise(layers))
    prefix = f"{where}: " if where else ""
    if max(layers) > MAX_WIDTH or len(layers) - 2 > MAX_HIDDEN_LAYERS or params > MAX_PARAMETERS:
        raise ChainruleError(
            f"{prefix}option 'net': {net} is too big to work by hand ({params} weights and "
            f"biases); at most {MAX_WIDTH} units a layer, {MAX_HIDDEN_LAYERS} hidden layers "
            f"and {MAX_PARAMETERS} weights and biases"
        )


@lru_cache(maxsize=64)
def network_for(net: str, hidden: str, output: str, loss: str,
                params: tuple[tuple[str, Any], ...] = ()) -> Network:
    """One Network (and so one trace) per structure and loss conventions."""
    return Network(net, hidden=hidden, output=None if output == "auto" else output, loss=loss,
                   **dict(params))


def _tenths(rng: np.random.Generator, size: int, zero_ok: bool = False) -> np.ndarray:
    """One-decimal values in [-1, 1] without 0 (with zero_ok, 0 with probability 0.15)."""
    u = rng.random((3, size))
    values = (np.floor(u[0] * 10) + 1) * np.where(u[1] < 0.5, -1.0, 1.0) / 10
    if zero_ok:
        values = np.where(u[2] < 0.15, 0.0, values)
    return values


def draw_targets(rng: np.random.Generator, net: Network) -> list[float]:
    """Targets a problem of this loss and output would have."""
    k, loss, out = net.n_outputs, net.loss.key, net.output.key
    if loss in ("cce", "lsce"):
        return [float(v) for v in np.eye(k)[rng.integers(k)]]
    if loss == "kl":
        cuts = np.sort(rng.choice(np.arange(1, 10), size=k - 1, replace=False))
        parts = np.diff(np.concatenate([[0], cuts, [10]]))
        return [float(p) / 10 for p in parts]
    if loss == "bce" or (out == "sigmoid" and loss in ("mse", "mae", "huber")):
        return [float(v) for v in rng.integers(0, 2, size=k)]
    if loss == "hinge":
        labels = rng.choice([-1.0, 1.0], size=k)
        if net.loss.params["labels"] == "01":
            labels = (labels + 1) / 2
        return [float(v) for v in labels]
    return [float(v) for v in _tenths(rng, k)]


class NetworkFamily(Family):
    options = NETWORK_OPTIONS
    #: Which steps a student is asked for (and the key lists).
    kinds: tuple[str, ...] = ()

    def network(self, options: Mapping[str, Any]) -> Network:
        loss = options["loss"]
        return network_for(options["net"], options["hidden"], options["output"], loss,
                           loss_params(loss, options))

    def parse_options(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Options with defaults filled in; an undefined loss and output pair, or a network
        too big to work by hand, is an error."""
        options = super().parse_options(raw, where)
        check_pairing(options["loss"], options["output"], where)
        check_size(options["net"], where)
        return options

    def min_decimals(self, options: Mapping[str, Any]) -> int:
        """Three with one hidden layer, one more for each further one: every delta and
        gradient keeps two significant digits (each layer back multiplies by f' <= 1/4 for
        sigmoid), and no drawn probability (in [0.02, 0.98]) rounds to 0 or 1."""
        hidden = len(options["net"].split("-")) - 2
        return min(8, 2 + max(1, hidden))

    def trace_of(self, net: Network) -> Any:
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        net = self.network(options)
        trace = self.trace_of(net)
        givens: dict[str, float] = {}
        xs = _tenths(rng, len(net.inputs), zero_ok=bool(options.get("zero_input")))
        givens.update({name: float(v) for name, v in zip(net.inputs, xs, strict=True)})
        givens.update(dict(zip(net.targets, draw_targets(rng, net), strict=True)))
        params = _tenths(rng, len(net.parameters))
        givens.update({name: float(v) for name, v in zip(net.parameters, params, strict=True)})
        if "eta" in trace.givens:
            eta = options["eta"]
            givens["eta"] = float(eta if eta is not None else rng.choice(_ETAS))
        return self.draft_for(net, trace, {g: givens[g] for g in trace.givens}, options)

    def draft_for(self, net: Network, trace: Any, givens: dict[str, float],
                  options: Mapping[str, Any]) -> Draft:
        """The draft of drawn ``givens`` (in the trace's order)."""
        return self.draft_maker(net, trace, options)(givens)

    def draft_maker(self, net: Network, trace: Any,
                    options: Mapping[str, Any]) -> Callable[[dict[str, float]], Draft]:
        """:meth:`draft_for` of one network and options, as a function of the givens."""
        if type(self).draft_for is not NetworkFamily.draft_for:
            return lambda givens: self.draft_for(net, trace, givens, options)
        asked = trace.cache.get(f"asked:{self.name}")
        if asked is None:
            asked = trace.cache[f"asked:{self.name}"] = tuple(
                s.name for s in trace.steps if s.kind in self.kinds)
        described, title = _described(net), self.title_for(net)
        zero_input = bool(options.get("zero_input"))
        return lambda givens: Draft(trace, givens, asked, title,
                                    {"network": described, "zero_input": zero_input})

    def draw_many(self, seeds: list[int], options: Mapping[str, Any],
                  decimals: int) -> list[Any] | None:
        """The accepted variants of many seeds at once (see :mod:`.network_batch`): each is
        what :meth:`draw`, :meth:`accept` and :meth:`accept_chain` give, redrawing from the
        seed's generator until accepted; None where a seed is left to that path (or all of
        them, for targets this path does not draw)."""
        from chainrule.problems.families.network_batch import draw_batch

        return draw_batch(self, seeds, options, decimals)

    def title_for(self, net: Network) -> str:
        return _title(self.title, net)

    def accept(self, draft: Draft, exact: Mapping[str, float]) -> bool:
        if not super().accept(draft, exact):
            return False
        trace = draft.trace
        assert trace is not None
        net: Network = trace.meta["network"]
        if sum(1 for x in net.inputs if draft.givens[x] == 0) > 1:
            return False
        for layer in range(1, len(net.layers)):
            act = net.activation_of(layer)
            last = layer == len(net.layers) - 1
            for pos, j in enumerate(net.neurons[layer]):
                z = exact[f"z{j}"]
                a = exact[net.outputs[pos]] if last else exact[f"a{j}"]
                if act.key == "sigmoid" and not 0.02 <= a <= 0.98:
                    return False
                if act.key == "tanh" and abs(a) > 0.96:
                    return False
                if act.key == "relu" and abs(z) < 0.05:
                    return False
            if act.key == "relu" and not any(exact[f"z{j}"] > 0 for j in net.neurons[layer]):
                return False
        outputs = [exact[o] for o in net.outputs]
        if net.output.vector and (max(outputs) - min(outputs) < 0.05 or min(outputs) < 0.02):
            return False
        return self._gradients_ok(draft, exact, net)

    def accept_chain(self, draft: Draft, exact: Mapping[str, np.ndarray],
                     raw: Mapping[str, np.ndarray], decimals: int) -> np.ndarray:
        """Clear of rounding ties (see :meth:`Family.accept_chain`), and every delta and
        gradient with two significant digits at ``decimals`` on both chains, unless it is
        exactly 0 through an inactive ReLU or a zero input."""
        ok = super().accept_chain(draft, exact, raw, decimals)
        trace = draft.trace
        assert trace is not None
        names = trace.cache.get("significant")
        if names is None:
            names = trace.cache["significant"] = [
                s.name for s in trace.steps if s.kind in ("backward", "gradient")
                and not s.name.startswith("fprime")]
        smallest = 10.0 ** (1 - decimals)
        net: Network = trace.meta["network"]
        zero_possible = any(a.key == "relu" for a in net.hidden) or bool(
            draft.context.get("zero_input"))
        for name in names:
            value, before = np.abs(exact[name]), np.abs(raw[name])
            good = (value >= smallest) & (before >= smallest)
            if zero_possible:
                good |= (value == 0) & (before == 0)
            ok &= good
        return ok

    def _gradients_ok(self, draft: Draft, exact: Mapping[str, float], net: Network) -> bool:
        if "L" in exact and not 0.001 <= abs(exact["L"]) < 20:
            return False
        deltas = draft.trace.cache.get("deltas") if draft.trace is not None else None
        if deltas is None and draft.trace is not None:
            deltas = draft.trace.cache["deltas"] = [
                n for n in draft.trace.names if n.startswith("delta")]
        for n in deltas or ():
            # An inactive ReLU unit's delta is 0 by design (its f' is 0); others must not be.
            if abs(exact[n]) < 0.002 and exact.get("fprime" + n[len("delta"):], 1.0) != 0:
                return False
        loss = net.loss.key
        for k, out in enumerate(net.outputs):
            y, p = draft.givens[net.targets[k]], exact[out]
            if loss == "hinge" and abs(1 - y * p) < 0.05:
                return False
            if loss in ("mae", "huber") and abs(y - p) < 0.05:
                return False
            if loss == "huber" and abs(abs(y - p) - float(net.loss.params["delta"])) < 0.05:
                return False
        return True


@lru_cache(maxsize=256)
def _title(title: str, net: Network) -> str:
    return f"{title}: {net.spec} network"


@lru_cache(maxsize=64)
def _described(net: Network) -> dict[str, Any]:
    """:func:`describe`, once per network (problems share it: read-only)."""
    return describe(net)


def describe(net: Network) -> dict[str, Any]:
    """What templates need to draw and describe a network."""
    return {
        "spec": net.spec,
        "layers": list(net.layers),
        "inputs": net.inputs,
        "outputs": net.outputs,
        "targets": net.targets,
        "neurons": [list(ids) for ids in net.neurons],
        "hidden": [a.key for a in net.hidden],
        "hidden_titles": [a.title for a in net.hidden],
        "output": net.output.key,
        "output_title": net.output.title,
        "loss": net.loss.key,
        "loss_title": net.loss.info.title,
        "loss_params": dict(net.loss.params),
        "weights": [{"name": w.name, "source": w.source, "target": w.target, "layer": w.layer,
                     "tex": net.forward_trace.tex(w.name)}
                    for w in net.weights],
        "biases": net.biases(),
        "parameters": net.parameters,
    }


@register
class ForwardFamily(NetworkFamily):
    name = "forward"
    code = "fw"
    title = "Forward pass"
    kinds = ("forward", "loss")

    def trace_of(self, net: Network) -> Any:
        trace = net.forward_trace
        trace.meta["network"] = net
        return trace


@register
class BackpropFamily(NetworkFamily):
    name = "backprop"
    code = "bp"
    title = "Backpropagation"
    kinds = ("forward", "loss", "backward", "gradient", "update")

    def trace_of(self, net: Network) -> Any:
        trace = net.trace
        trace.meta["network"] = net
        return trace
