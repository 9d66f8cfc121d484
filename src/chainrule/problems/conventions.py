"""The conventions a problem's key depends on, as sentences its question prints.

One place writes them for every family: how values are rounded, which logarithm, each loss's
settings (the factor 1/2 of MSE, Huber's delta, hinge labels, KL direction, label smoothing's
epsilon), that several outputs sum their losses, and how a network's neurons and weights are
numbered, said for the network drawn. Sentences use inline math in ``$...$`` (Markdown and
LaTeX alike).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chainrule.symbolic.printing import format_number

__all__ = ["for_problem", "loss_sentences", "network_sentences", "rounding_sentence"]

_LOG_LOSSES = frozenset({"bce", "cce", "kl", "lsce"})
_ELEMENTWISE = frozenset({"mse", "mae", "huber", "bce", "hinge"})


def rounding_sentence(decimals: int) -> str:
    """How to round: as you go, halves away from zero, with an example at ``decimals``."""
    digits = "12345678"[:decimals]
    before = f"0.{digits}5" if decimals else "2.5"
    after = format_number(round(float(before) + 0.5 * 10.0**-decimals, decimals))
    if decimals == 0:
        after = "3"
    unit = "decimal" if decimals == 1 else "decimals"
    return (f"Round every value to {decimals} {unit} as you compute it and carry the rounded "
            f"value into the next step; a value exactly halfway is rounded away from zero "
            f"(${before}$ becomes ${after}$, and $-{before}$ becomes $-{after}$).")


def loss_sentences(key: str, params: Mapping[str, Any], *, outputs: int = 1) -> list[str]:
    """The settings of loss ``key`` that a value depends on, one sentence each."""
    found: list[str] = []
    if key == "mse":
        if params.get("half"):
            found.append(r"The squared error carries a factor $\frac{1}{2}$: "
                         r"$L = \frac{1}{2}(y - \hat{y})^{2}$, so that "
                         r"$\partial L / \partial \hat{y} = \hat{y} - y$.")
        else:
            found.append(r"The squared error has no factor $\frac{1}{2}$: "
                         r"$L = (y - \hat{y})^{2}$, as in the notes.")
    elif key == "mae":
        found.append(r"The loss of a point is its absolute error, $L = |y - \hat{y}|$.")
    elif key == "huber":
        delta = format_number(float(params.get("delta", 1.0)))
        if params.get("half", True):
            found.append(
                rf"Huber's threshold is $\delta = {delta}$: the loss is "
                r"$\frac{1}{2}(y - \hat{y})^{2}$ where $|y - \hat{y}| < \delta$ and "
                r"$\delta |y - \hat{y}| - \frac{1}{2}\delta^{2}$ otherwise, as in the notes.")
        else:
            found.append(
                rf"Huber's threshold is $\delta = {delta}$, and this Huber loss has no factors "
                r"$\frac{1}{2}$: it is $(y - \hat{y})^{2}$ where $|y - \hat{y}| < \delta$ and "
                r"$2\delta |y - \hat{y}| - \delta^{2}$ otherwise (twice the notes' form).")
    elif key == "bce":
        found.append(r"The label is $y \in \lbrace 0, 1 \rbrace$ and $\hat{y}$ is the predicted "
                     r"probability that $y = 1$.")
    elif key == "cce":
        found.append(r"The target $y$ is one-hot: 1 for the true class, 0 for the others.")
    elif key == "hinge":
        if params.get("labels") == "01":
            found.append(r"Labels are given as $y \in \lbrace 0, 1 \rbrace$ and mapped to "
                         r"$2y - 1 \in \lbrace -1, 1 \rbrace$ before the loss is taken; "
                         r"$\hat{y}$ is the model's raw score.")
        else:
            found.append(r"Labels are $y \in \lbrace -1, 1 \rbrace$ (the usual convention for "
                         r"the hinge loss; the notes do not fix one), and $\hat{y}$ is the "
                         r"model's raw score.")
    elif key == "kl":
        if params.get("direction") == "reverse":
            found.append(r"The divergence is taken in the reverse direction, "
                         r"$D_{KL}(\hat{y} \parallel y)$, the prediction first.")
        else:
            found.append(r"The divergence is taken in the forward direction, "
                         r"$D_{KL}(y \parallel \hat{y})$, the true distribution $y$ first, "
                         r"as in the notes' $D_{KL}(P \parallel Q)$.")
    elif key == "lsce":
        eps = format_number(float(params.get("epsilon", 0.1)))
        found.append(r"Label smoothing replaces the one-hot target by "
                     r"$\tilde{y}_{k} = (1 - \varepsilon) y_{k} + \frac{\varepsilon}{K}$ with "
                     rf"$\varepsilon = {eps}$ and $K$ classes (the notes give no formula; this "
                     r"is the usual one, as in PyTorch), then takes the cross-entropy.")
    if key in _LOG_LOSSES:
        found.append(r"$\log$ is the natural logarithm.")
    if outputs > 1 and key in _ELEMENTWISE:
        found.append(rf"With {outputs} outputs the loss is the sum of the outputs' losses, "
                     rf"$L = L_{{1}} + \dots + L_{{{outputs}}}$.")
    return found


def _weight(net: Mapping[str, Any], source: str, target: int) -> str:
    """The LaTeX name of the weight from ``source`` (x1 or a neuron number) into ``target``."""
    for w in net["weights"]:
        if str(w["source"]) == source and w["target"] == target:
            return str(w.get("tex", w["name"]))
    raise KeyError(f"no weight from {source} into {target}")


def _and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def network_sentences(net: Mapping[str, Any], *, backward: bool) -> list[str]:
    """How the drawn network's neurons and weights are named, with its own examples."""
    neurons: list[list[int]] = net["neurons"]
    last = len(neurons) - 1
    parts = []
    for layer in range(1, last + 1):
        ids = [str(j) for j in neurons[layer]]
        if layer == last:
            word = "output neuron" if len(ids) == 1 else "output neurons"
        else:
            which = "hidden" if last == 2 else f"hidden layer {layer}:"
            word = f"{which} neuron" if len(ids) == 1 else f"{which} neurons"
        parts.append(f"{word} {_and(ids)}")
    first_layer = neurons[1]
    examples = [rf"${_weight(net, 'x1', first_layer[-1])}$ joins input $x_{{1}}$ to neuron "
                rf"{first_layer[-1]}"]
    if last >= 2:
        source, target = neurons[last - 1][0], neurons[last][0]
        examples.append(rf"${_weight(net, f'a{source}', target)}$ joins neuron {source} to "
                        rf"neuron {target}")
    found = [
        "Neurons other than the inputs are numbered in layer order: " + "; ".join(parts) + ". "
        r"$z_{j}$, $a_{j}$ and $b_{j}$ belong to neuron $j$, and $w_{ij}$ is the weight into "
        r"neuron $j$ from input $x_{i}$ (first layer) or from neuron $i$ (later layers): "
        f"here {_and(examples)}."
    ]
    outputs = net["outputs"]
    out_ids = neurons[last]
    if len(outputs) == 1:
        found.append(rf"The output is $\hat{{y}} = a_{{{out_ids[0]}}}$ and the target is $y$.")
    else:
        found.append(rf"The outputs are $\hat{{y}}_{{k}} = a_{{{out_ids[0]}+k-1}}$ for "
                     rf"$k = 1, \dots, {len(outputs)}$, with targets $y_{{k}}$.")
    if backward:
        found.append(r"$\delta_{j} = \partial L / \partial z_{j}$ is the error of neuron $j$, "
                     r"and $f'(z_{j})$ the derivative of its activation at $z_{j}$.")
    return found


def for_problem(family: str, context: Mapping[str, Any], decimals: int) -> list[str]:
    """Every convention a problem of ``family`` with this context depends on."""
    found: list[str] = []
    net = context.get("network")
    if isinstance(net, Mapping):
        found += network_sentences(net, backward=family in ("backprop", "derivation"))
        found += loss_sentences(net["loss"], net["loss_params"], outputs=len(net["outputs"]))
    elif "loss_params" in context and family in ("loss_value", "cost", "loss_derivative"):
        found += loss_sentences(context["loss"], context["loss_params"])
    elif family == "gd_step":
        found += loss_sentences(context["loss"], {"half": False})
    if family not in ("concept", "derivation"):  # no numbers to round in these
        found.append(rounding_sentence(decimals))
    return found
