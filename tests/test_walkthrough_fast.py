"""The fast walkthrough path (contexts built per structure, numbers filled in, the
after-update forward pass evaluated for all variants at once) against the original
per-variant path, kept below verbatim as the oracle: equal contexts and byte-identical
Markdown and LaTeX for many seeds, every network shape a walkthrough takes and every loss and
activation pairing it supports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.problems.base import Problem, get_family, make_problems
from chainrule.problems.conventions import for_problem
from chainrule.render.environment import render
from chainrule.render.walkthrough import render_walkthrough, walkthrough_contexts
from chainrule.symbolic.network import Network
from chainrule.symbolic.printing import format_number, format_rounded

# --- the original per-variant walkthrough context (the oracle) -------------------------------
# Copied unchanged from render/walkthrough.py as it was before contexts were built per
# structure; only the public names carry an ``oracle_`` prefix.

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
    found = trace.cache.get("oracle:backward")
    if found is None:
        last = len(net.layers) - 1
        found = [
            (layer, [s.name for s in trace.steps if s.kind in ("backward", "gradient")
                     and net.step_layers.get(s.name) == layer])
            for layer in range(last, 0, -1)
        ]
        trace.cache["oracle:backward"] = found
    return found  # type: ignore[no-any-return]


def _static_context(net: Network, trace: Any) -> dict[str, Any]:
    """The parts of a walkthrough that depend on the network only (cached per trace)."""
    found = trace.cache.get("oracle:static")
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
    trace.cache["oracle:static"] = found
    return found


def oracle_context(problem: Problem, iterations: int = 1) -> dict[str, Any]:
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


# --- the comparison --------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]

#: (net, options): every network shape a walkthrough is asked for here, and every loss and
#: output pairing it supports (softmax needs two outputs), with each hidden activation and
#: each loss convention option.
STRUCTURES: list[tuple[str, dict[str, Any]]] = [
    ("2-2-1", {}),
    ("2-3-1", {}),
    ("3-2-2", {}),
    ("2-2-2-1", {}),
    *[("2-2-1", {"hidden": h}) for h in ("tanh", "relu", "linear")],
    *[("2-2-1", {"loss": loss, "output": out})
      for loss in ("bce", "mse", "mae", "huber", "hinge")
      for out in ("sigmoid", "linear", "tanh") if loss != "bce" or out == "sigmoid"],
    *[("2-2-2", {"loss": loss, "output": "softmax"}) for loss in ("bce", "cce", "kl", "lsce")],
    ("3-2-2", {"loss": "mse", "output": "linear", "hidden": "tanh"}),
    ("2-2-1", {"loss": "mse", "output": "linear", "mse_half": True}),
    ("2-2-1", {"loss": "huber", "output": "linear", "huber_delta": 0.5}),
    ("2-2-1", {"loss": "huber", "output": "tanh", "huber_delta": 1.5, "huber_half": False}),
    ("2-2-1", {"loss": "hinge", "output": "sigmoid", "hinge_labels": "01"}),
    ("2-2-2", {"loss": "kl", "output": "softmax", "kl_direction": "reverse"}),
    ("2-2-2", {"loss": "lsce", "output": "softmax", "lsce_epsilon": 0.2}),
    ("2-2-1", {"zero_input": True, "eta": 0.1}),
]


def _problems(net: str, options: dict[str, Any], seeds: range, decimals: int = 3) -> list[Problem]:
    family = get_family("backprop")
    parsed = family.parse_options({"net": net, **options})
    return make_problems([(family, s, parsed, decimals, None) for s in seeds])


def _shape(context: dict[str, Any]) -> list[Any]:
    """Every leaf with its type (1.0 is not 1, -0.0 not 0.0) and every dict or list met
    again as a reference to where it was first met: what rendering by structure keys on."""
    found: list[Any] = []
    seen: dict[int, int] = {}

    def walk(item: Any) -> None:
        if type(item) in (dict, list, tuple):
            if id(item) in seen:
                found.append(("again", seen[id(item)]))
                return
            seen[id(item)] = len(seen)
            found.append((type(item).__name__, len(item)))
            for key, value in (item.items() if type(item) is dict else enumerate(item)):
                found.append(key)
                walk(value)
        elif type(item) is float:
            found.append(("float", repr(item)))
        else:
            found.append((type(item).__name__, item))

    walk({k: v for k, v in context.items() if k not in ("problem", "p")})
    return found


def _same_context(fast: dict[str, Any], oracle: dict[str, Any]) -> None:
    assert list(fast) == list(oracle)
    for key in oracle:
        if key == "p":
            assert dict(fast["p"]) == oracle["p"]
        else:
            assert fast[key] == oracle[key], key
    assert fast["problem"] is oracle["problem"]
    assert _shape(fast) == _shape(oracle)


def _compare(problems: list[Problem], iterations: int = 1, formats: tuple[str, ...] = ("md",),
             ) -> None:
    fast = walkthrough_contexts(problems, iterations)
    for problem, context in zip(problems, fast, strict=True):
        oracle = oracle_context(problem, iterations)
        _same_context(context, oracle)
        for fmt in formats:
            expected = render(f"{fmt}/walkthrough.{fmt}.j2", oracle)
            assert render_walkthrough(problem, fmt, iterations=iterations) == expected
            assert render(f"{fmt}/walkthrough.{fmt}.j2", context) == expected


@pytest.mark.parametrize("net, options", STRUCTURES, ids=lambda v: str(v))
def test_fast_contexts_equal_the_per_variant_path(net, options):
    _compare(_problems(net, options, range(8)), formats=("md",))


@pytest.mark.parametrize("net, options", [("2-2-1", {}), ("3-2-2", {}),
                                          ("2-2-1", {"loss": "huber", "output": "linear"}),
                                          ("2-2-2", {"loss": "cce", "output": "softmax"})])
def test_fast_tex_equals_the_per_variant_path(net, options):
    _compare(_problems(net, options, range(3)), formats=("md", "tex"))


def test_iterations_decimals_and_a_givens_file_equal_the_per_variant_path():
    from chainrule.api import walkthrough_problem

    _compare(_problems("2-3-1", {"hidden": "tanh"}, range(3), decimals=5), iterations=3)
    notes = walkthrough_problem(givens_path=ROOT / "examples" / "notes-2-2-1.yaml")
    _compare([notes._problem], formats=("md", "tex"))
    _compare([notes._problem], iterations=4)


def test_contexts_made_in_loops_equal_the_per_variant_path(monkeypatch):
    """A network too large for generated code has its contexts made in loops."""
    from chainrule.render import walkthrough

    problems = [p for net, options in STRUCTURES[::5] for p in _problems(net, options, range(2))]
    monkeypatch.setattr(walkthrough, "_GENERATED_STEPS", 0)
    for problem in problems:
        problem.trace.cache.pop("walkthrough:plans", None)
    try:
        _compare(problems, formats=("md",))
    finally:
        for problem in problems:
            problem.trace.cache.pop("walkthrough:plans", None)


def test_mixed_structures_in_one_batch_equal_the_per_variant_path():
    problems = [p for net, options in STRUCTURES[:8] for p in _problems(net, options, range(2))]
    problems.reverse()
    _compare(problems)


def test_the_exact_loss_derivative_agrees_with_sympy_at_ties_and_kinks():
    from chainrule.problems.families.network import network_for
    from chainrule.render.walkthrough import _loss_derivative, _loss_derivative_sympy

    cases = [("bce", "sigmoid", ()), ("mse", "linear", ()), ("mae", "linear", ()),
             ("huber", "linear", (("delta", 0.5), ("half", True))),
             ("huber", "tanh", (("delta", 1.5), ("half", False))),
             ("hinge", "tanh", (("labels", "pm1"),)), ("hinge", "sigmoid", (("labels", "01"),))]
    # 1 / 0.128 = 7.8125 is a rounding tie at 3 decimals; y = yhat is MAE's kink, |y - yhat| =
    # delta Huber's and y yhat = 1 the hinge's.
    points = [(0.0, 0.872), (1.0, 0.872), (0.0, 0.5), (1.0, 1.0), (0.3, 0.3), (0.0, 0.5),
              (1.0, -0.5), (-1.0, 0.25), (1.0, 1.5), (0.0, 1.5), (-1.0, -1.0), (0.1, 0.7)]
    for loss, out, params in cases:
        net = network_for("2-2-1", "sigmoid", out, loss, params)
        fast = _loss_derivative(net)
        assert fast is not None, loss
        for y, yhat in points:
            if loss == "bce" and yhat in (0.0, 1.0):
                continue
            assert fast(y, yhat) == _loss_derivative_sympy(net, y, yhat), (loss, y, yhat)


@pytest.mark.slow
@pytest.mark.parametrize("net, options", STRUCTURES, ids=lambda v: str(v))
def test_fast_walkthroughs_equal_the_per_variant_path_for_many_seeds(net, options):
    _compare(_problems(net, options, range(1000, 1080)), formats=("md",))
    _compare(_problems(net, options, range(5000, 5006)), formats=("tex",))


def test_plan_texts_and_substitutions_equal_the_problems_own():
    """A plan's number texts and its substitutions (one % format; format_map where a
    format does more) are the problem's number texts and step records."""
    from chainrule.render.walkthrough import _Plan

    for net, options in STRUCTURES:
        for problem in _problems(net, options, range(3), decimals=4):
            plan = _Plan(problem)
            texts, rounded = plan.texts(problem)
            numbers = problem.number_texts()
            assert texts == [numbers[n] for n in (*problem.givens, *plan.names)]
            assert rounded == tuple(problem.rounded[n] for n in plan.names)
            expected = [r["substituted_tex"] for r in problem.step_records(text=False)]
            assert plan.percent
            assert plan.substituted(texts) == expected
            plan.percent = False
            assert plan.substituted(texts) == expected


LOSS_CASES = [("bce", "sigmoid", ()), ("mse", "linear", ()), ("mae", "linear", ()),
              ("huber", "linear", (("delta", 0.5), ("half", True))),
              ("huber", "tanh", (("delta", 1.5), ("half", False))),
              ("hinge", "tanh", (("labels", "pm1"),)), ("hinge", "sigmoid", (("labels", "01"),))]


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(LOSS_CASES),
       y=st.integers(-2000, 2000).map(lambda k: k / 1000),
       yhat=st.integers(-2000, 2000).map(lambda k: k / 1000))
def test_the_exact_loss_derivative_agrees_with_sympy_at_drawn_points(case, y, yhat):
    from chainrule.problems.families.network import network_for
    from chainrule.render.walkthrough import _loss_derivative, _loss_derivative_sympy

    loss, out, params = case
    net = network_for("2-2-1", "sigmoid", out, loss, params)
    fast = _loss_derivative(net)
    assert fast is not None
    try:
        found = fast(y, yhat)
    except ArithmeticError:  # a pole (BCE at 0 or 1): the walkthrough asks SymPy instead
        return
    assert found == _loss_derivative_sympy(net, y, yhat), (case, y, yhat)
