"""The walkthrough teaches: sigma defined, chain-rule factors for one weight per layer, why
delta3 = yhat - y, the old weights in the backward pass, and the forward pass after the
update with the loss going down (recomputed here, not copied from the notes)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[1]


def r3(x: float) -> float:
    return float(Decimal(repr(x)).quantize(Decimal("0.001"), ROUND_HALF_UP))


def notes_after_update() -> tuple[float, float]:
    """The notes' 2-2-1 example, one rounded step of gradient descent, then the loss again."""
    g = {"x1": 1.0, "x2": 0.0, "y": 1.0, "w11": 0.2, "w21": 0.4, "b1": 0.1, "w12": 0.3,
         "w22": 0.1, "b2": 0.2, "w13": 0.7, "w23": 0.5, "b3": 0.3, "eta": 0.1}
    s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731

    def forward(p):
        a1 = r3(s(r3(p["w11"] * p["x1"] + p["w21"] * p["x2"] + p["b1"])))
        a2 = r3(s(r3(p["w12"] * p["x1"] + p["w22"] * p["x2"] + p["b2"])))
        yhat = r3(s(r3(p["w13"] * a1 + p["w23"] * a2 + p["b3"])))
        return a1, a2, yhat, r3(-math.log(yhat))

    a1, a2, yhat, loss = forward(g)
    d3 = r3(yhat - g["y"])
    d1 = r3(g["w13"] * d3 * r3(a1 * (1 - a1)))
    d2 = r3(g["w23"] * d3 * r3(a2 * (1 - a2)))
    grads = {"w13": r3(d3 * a1), "w23": r3(d3 * a2), "b3": d3, "w11": r3(d1 * g["x1"]),
             "w21": r3(d1 * g["x2"]), "b1": d1, "w12": r3(d2 * g["x1"]),
             "w22": r3(d2 * g["x2"]), "b2": d2}
    new = dict(g)
    for k, v in grads.items():
        new[k] = r3(g[k] - g["eta"] * v)
    return loss, forward(new)[3]


def test_notes_walkthrough_teaches_and_shows_the_loss_going_down():
    result = CliRunner().invoke(main, ["walkthrough", "--givens",
                                       str(ROOT / "examples" / "notes-2-2-1.yaml")])
    assert result.exit_code == 0, result.output
    text = result.output
    before, after = notes_after_update()
    assert after < before
    assert f"The loss went down from {before:.3f} to {after:.3f}" in text
    assert r"\sigma(z) = \dfrac{1}{1 + e^{-z}}" in text
    assert "old weights" in text
    assert r"$`\hat{y} - y`$" in text and "chainrule derive bce" in text
    # chain-rule factors for one output weight and one hidden weight
    assert r"The chain rule for one output weight, $`w_{13}`$" in text
    assert r"The chain rule for one hidden weight, $`w_{11}`$" in text
    assert r"\frac{\partial L}{\partial \hat{y}} = -1.362" in text  # -y/yhat at yhat = 0.734
    assert r"\frac{\partial \hat{y}}{\partial z_{3}} = 0.195" in text  # 0.734 (1 - 0.734)
    assert "rounds to 0.000" not in text


@pytest.mark.parametrize("loss, output", [("huber", "linear"), ("mae", "linear"),
                                          ("huber", "sigmoid"), ("hinge", "tanh"),
                                          ("mse", "tanh")])
@pytest.mark.parametrize("seed", [1, 5, 9])
def test_walkthrough_of_every_regression_loss_works(loss, output, seed):
    # Losses with |y - yhat| inside: their chain-rule factor dL/dyhat is a sign or a clipped
    # residual, evaluated at the drawn numbers without error.
    result = CliRunner().invoke(main, ["walkthrough", "--seed", str(seed), "--net", "2-2-1",
                                       "--loss", loss, "--output", output])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "\\frac{\\partial L}" in result.output
