"""Shared by the web app's tests: a 2-2-1 forward pass worked by hand, and a client."""

from __future__ import annotations

import math
import warnings
from decimal import ROUND_HALF_UP, Decimal

PROBLEM = "bp-00000C1S"  # backprop, 2-2-1, sigmoid hidden and output, BCE, 3 decimals


def r3(value: float) -> float:
    """Rounded half away from zero to 3 decimals, as a calculator shows it."""
    return float(Decimal(repr(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def hand_forward(g: dict[str, float]) -> dict[str, float]:
    """The forward pass and BCE loss of a 2-2-1 sigmoid net, rounded as you go (by hand)."""
    def sig(z: float) -> float:
        return 1 / (1 + math.exp(-z))

    v: dict[str, float] = {}
    v["z1"] = r3(g["w11"] * g["x1"] + g["w21"] * g["x2"] + g["b1"])
    v["a1"] = r3(sig(v["z1"]))
    v["z2"] = r3(g["w12"] * g["x1"] + g["w22"] * g["x2"] + g["b2"])
    v["a2"] = r3(sig(v["z2"]))
    v["z3"] = r3(g["w13"] * v["a1"] + g["w23"] * v["a2"] + g["b3"])
    v["yhat"] = r3(sig(v["z3"]))
    y = g["y"]
    v["L"] = r3(-(y * math.log(v["yhat"]) + (1 - y) * math.log(1 - v["yhat"])))
    return v


def client(app):  # type: ignore[no-untyped-def]
    """Starlette's in-process client (httpx over ASGI)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        return TestClient(app, base_url="http://testserver")
