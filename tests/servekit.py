"""Shared by the web app's tests: a 2-2-1 forward pass worked by hand, and a client."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``chainrule serve`` on a free loopback port, in its own process group."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chainrule", "serve", "--port", str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    stop_server(proc)
    pytest.fail("the server did not start: " + log.read_text())


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Kill the server's process group at once (no shutdown, no flush)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
