"""derive's network equations against a plain restatement of the notes' conventions.

Every weighted sum, hidden delta, gradient and update step of a network is written out here
from the naming rules alone (neurons numbered globally, ``w{i}{j}`` or ``w{i}_{j}`` when an
index has two digits, a hidden delta the back-propagated sum times f'(z)), as plain text and
LaTeX, and compared with what ``derive`` prints: no SymPy, no printer of chainrule.
"""

from __future__ import annotations

import pytest

from chainrule import api

_PRIME_TEX = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}"}


def restated(sizes: list[int], hidden: str) -> dict[str, tuple[str, str]]:
    """name -> (plain text, LaTeX) of the steps the conventions fix."""
    layers, start = [list(range(1, sizes[0] + 1))], 1
    for size in sizes[1:]:
        layers.append(list(range(start, start + size)))
        start += size

    def unit(layer: int, i: int) -> tuple[str, str]:
        return (f"x{i}", f"x_{{{i}}}") if layer == 0 else (f"a{i}", f"a_{{{i}}}")

    def weight(i: int, j: int) -> tuple[str, str]:
        if i < 10 and j < 10:
            return f"w{i}{j}", f"w_{{{i}{j}}}"
        return f"w{i}_{j}", f"w_{{{i},{j}}}"

    out: dict[str, tuple[str, str]] = {}
    for layer in range(1, len(sizes)):
        for j in layers[layer]:
            text, tex = [], []
            for i in layers[layer - 1]:
                (w, w_tex), (u, u_tex) = weight(i, j), unit(layer - 1, i)
                text.append(f"{w}*{u}")
                tex.append(f"{w_tex} {u_tex}")
                out[f"dL_d{w}"] = (f"delta{j}*{u}", rf"\delta_{{{j}}} {u_tex}")
                out[f"{w}_new"] = (f"{w} - eta*dL_d{w}",
                                   rf"{w_tex} - \eta \frac{{\partial L}}{{\partial {w_tex}}}")
            out[f"z{j}"] = (" + ".join([*text, f"b{j}"]), " + ".join([*tex, f"b_{{{j}}}"]))
            out[f"dL_db{j}"] = (f"delta{j}", rf"\delta_{{{j}}}")
            out[f"b{j}_new"] = (f"b{j} - eta*dL_db{j}",
                                rf"b_{{{j}}} - \eta \frac{{\partial L}}{{\partial b_{{{j}}}}}")
    for layer in range(1, len(sizes) - 1):
        for j in layers[layer]:
            back = [(f"{weight(j, k)[0]}*delta{k}", rf"{weight(j, k)[1]} \delta_{{{k}}}")
                    for k in layers[layer + 1]]
            text = " + ".join(t for t, _ in back)
            tex = " + ".join(t for _, t in back)
            if hidden == "linear":
                out[f"delta{j}"] = (text, tex)
            else:
                prime = rf"{_PRIME_TEX[hidden]}'\left(z_{{{j}}}\right)"
                if len(back) > 1:
                    out[f"delta{j}"] = (f"({text})*fprime{j}", rf"\left({tex}\right) {prime}")
                else:
                    out[f"delta{j}"] = (f"{text}*fprime{j}", f"{tex} {prime}")
    return out


@pytest.mark.parametrize(("net", "hidden"), [
    ("2-2-1", "sigmoid"),
    ("3-4-2", "tanh"),
    ("3-12-2", "relu"),
    ("3-4-4-2", "linear"),
    ("4-1-3", "sigmoid"),
    ("12-11-10-3", "tanh"),
    ("16-32-10", "sigmoid"),
])
def test_network_steps_print_as_the_conventions_write_them(net, hidden):
    sizes = [int(n) for n in net.split("-")]
    expected = restated(sizes, hidden)
    steps = {s["name"]: s for s in api.derive(net=net, hidden=hidden, eta=0.5).to_dict()["steps"]}
    checked = [name for name in expected if name in steps]
    assert len(checked) == len(expected)
    for name in checked:
        assert (steps[name]["formula_text"], steps[name]["formula_tex"]) == expected[name], name
