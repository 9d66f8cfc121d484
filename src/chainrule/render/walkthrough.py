"""The worked example of one network problem, in the notes' style.

Formulas are printed once per structure (the trace caches them) and numbers are filled in
per variant, so rendering many variants costs little more than the templates themselves.
"""

from __future__ import annotations

from typing import Any

from chainrule.problems.base import Problem
from chainrule.problems.conventions import for_problem
from chainrule.symbolic.network import Network
from chainrule.symbolic.printing import format_number, format_rounded

__all__ = [
    "iterate",
    "render_walkthrough",
    "walkthrough_context",
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


def _loss_after(rows: list[dict[str, Any]]) -> float:
    return float(rows[-1]["loss"])


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
    }
    trace.cache["walkthrough:static"] = found
    return found


def walkthrough_context(problem: Problem, iterations: int = 1) -> dict[str, Any]:
    """Everything the walkthrough templates need, grouped as the notes present it."""
    net = _network(problem)
    trace = problem.trace
    static = _static_context(net, trace)
    records = problem.step_records(text=False)
    numbers = problem.number_texts()
    by_name = {r["name"]: r for r in records}
    layers = [
        {**layer, "neurons": [
            {**n, "weights": [{"tex": tex, "value": numbers[w]} for tex, w in n["weights"]],
             "bias": {"tex": n["bias"][0], "value": numbers[n["bias"][1]]}}
            for n in layer["neurons"]
        ]}
        for layer in static["layers"]
    ]
    kinds = static["kinds"]
    after = iterate(problem, 1)
    from chainrule.render.problemset import problem_context

    return {
        "problem": problem,
        "p": problem_context(problem),
        "id": problem.id,
        "title": problem.title,
        "net": static["net"],
        "decimals": problem.decimals,
        "inputs": [{"tex": tex, "value": numbers[x]} for tex, x in static["inputs"]],
        "targets": [{"tex": tex, "value": numbers[t]} for tex, t in static["targets"]],
        "eta": numbers["eta"],
        "layers": layers,
        "loss_title": static["loss_title"],
        "loss_tex": static["loss_tex"],
        "loss_params": static["loss_params"],
        "hidden_count": static["hidden_count"],
        "forward": [by_name[n] for n in kinds["forward"]],
        "loss": [by_name[n] for n in kinds["loss"]],
        "backward": [{"title": title, "layer": layer, "steps": [by_name[n] for n in names]}
                     for title, layer, names in static["backward"]],
        "updates": [by_name[n] for n in kinds["update"]],
        "iterations": iterate(problem, iterations) if iterations > 1 else [],
        "after": after,
        "after_down": problem.rounded["L"] > _loss_after(after),
        "uses_sigmoid": "sigmoid" in (*(a.key for a in net.hidden), net.output.key),
        "conventions": for_problem("backprop", problem.context, problem.decimals)
        if isinstance(problem.context.get("network"), dict) else [],
        "combined": _combined(net),
        "out_index": net.neurons[-1][0],
        "chains": chain_examples(problem),
        "records": records,
        "outputs_tex": static["outputs_tex"],
    }


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

    ext = {"md": "md", "tex": "tex"}[fmt]
    return render(f"{fmt}/walkthrough.{ext}.j2", walkthrough_context(problem, iterations),
                  templates_dir)


def round_half_up_float(value: float, decimals: int) -> float:
    """``value`` rounded half away from zero, as a calculator does."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))


def _decimal_text(value: float, decimals: int) -> str:
    return format_rounded(value, decimals)


def chain_examples(problem: Problem) -> list[dict[str, Any]]:
    """For one weight per layer (the first into the layer's first neuron): dL/dw as the
    chain-rule factors dL/da . da/dz . dz/dw, each computed from the rounded values, and
    their product, which is the key's gradient."""
    import sympy as sp

    net = _network(problem)
    trace = problem.trace
    assert trace is not None
    d, r = problem.decimals, problem.rounded
    last = len(net.layers) - 1
    found = []
    for layer in range(last, 0, -1):
        j = net.neurons[layer][0]
        weight = net.weights_into(j)[0]
        source = weight.source
        out = net.outputs[0] if layer == last else f"a{j}"
        out_tex = trace.tex(out)
        z_tex = trace.tex(f"z{j}")
        source_value = r[source] if source in r else problem.givens[source]
        factors = []
        if layer == last and not net.output.vector and len(net.outputs) == 1:
            # Real symbols: |y - yhat| then differentiates to a sign, not to re/im parts.
            y, yhat = sp.Symbol("y", real=True), sp.Symbol("yhat", real=True)
            dl = net.loss.derivative([y], [yhat])[0]
            subs = {y: sp.Rational(repr(problem.givens[net.targets[0]])),
                    yhat: sp.Rational(repr(r[out]))}
            for name, value in net.loss.params.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    subs[sp.Symbol(name)] = sp.Rational(repr(float(value)))
            dl_value = round_half_up_float(float(dl.subs(subs).evalf(30)), d)
            fprime = r.get(f"fprime{j}")
            if fprime is None:  # no step of its own (sigmoid + BCE): f' from the output
                a = r[out]
                fprime = {"sigmoid": a * (1 - a), "tanh": 1 - a * a}.get(net.output.key, 1.0)
                fprime = round_half_up_float(fprime, d)
            factors = [
                (rf"\frac{{\partial L}}{{\partial {out_tex}}}", _decimal_text(dl_value, d)),
                (rf"\frac{{\partial {out_tex}}}{{\partial {z_tex}}}", _decimal_text(fprime, d)),
            ]
            product = round_half_up_float(dl_value * fprime, d)
        elif layer == last:
            factors = [(rf"\frac{{\partial L}}{{\partial {z_tex}}} = \delta_{{{j}}}",
                        _decimal_text(r[f"delta{j}"], d))]
            product = r[f"delta{j}"]
        else:
            downstream = [w for w in net.weights if w.source == f"a{j}"]
            upstream = sum(r[w.name] * r[f"delta{w.target}"] for w in downstream) if all(
                w.name in r for w in downstream) else sum(
                problem.givens[w.name] * r[f"delta{w.target}"] for w in downstream)
            fprime = r.get(f"fprime{j}", 1.0)
            factors = [
                (rf"\frac{{\partial L}}{{\partial {out_tex}}} = "
                 + " + ".join(rf"{trace.tex(w.name)} \delta_{{{w.target}}}" for w in downstream),
                 _decimal_text(upstream, d)),
                (rf"\frac{{\partial {out_tex}}}{{\partial {z_tex}}}", _decimal_text(fprime, d)),
            ]
            upstream = round_half_up_float(upstream, d)
            product = round_half_up_float(upstream * fprime, d)
        factors.append((rf"\frac{{\partial {z_tex}}}{{\partial {trace.tex(weight.name)}}} = "
                        f"{trace.tex(source)}", format_number(source_value)
                        if source in problem.givens else _decimal_text(source_value, d)))
        found.append({
            "weight": weight.name,
            "weight_tex": trace.tex(weight.name),
            "layer": "output" if layer == last else "hidden",
            "factors": [{"tex": t, "value": v} for t, v in factors],
            "product": _decimal_text(product * source_value, d),
            "key": problem.number_texts()[f"dL_d{weight.name}"],
        })
    return found
