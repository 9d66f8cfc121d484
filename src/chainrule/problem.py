"""Setting up a network problem from command-line choices and a givens file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainrule.errors import ChainruleError
from chainrule.io.givens import load_givens, resolve_givens
from chainrule.symbolic.network import Network

__all__ = ["NetworkProblem", "network_problem"]


@dataclass
class NetworkProblem:
    """A network with (optionally) the numbers of one problem."""

    network: Network
    givens: dict[str, float] | None
    updates: bool
    decimals: int


def network_problem(
    *,
    net: str | None = None,
    hidden: str | None = None,
    output: str | None = None,
    loss: str | None = None,
    loss_params: dict[str, Any] | None = None,
    givens_path: str | None = None,
    eta: float | None = None,
    decimals: int | None = None,
) -> NetworkProblem:
    """The network and givens described by options, a givens file, or both (options win)."""
    gf = load_givens(givens_path) if givens_path else None
    meta = (lambda key: gf.meta(key)) if gf else (lambda key: None)
    spec = net or meta("net")
    if spec is None:
        raise ChainruleError("no network: give --net 2-2-1 or 'net:' in the givens file")
    hidden_value = hidden or meta("hidden") or "sigmoid"
    if isinstance(hidden_value, str) and "," in hidden_value:
        hidden_value = [h.strip() for h in hidden_value.split(",")]
    file_params = meta("loss_params") or {}
    if not isinstance(file_params, dict):
        raise gf.error("loss_params", "expected a mapping such as {delta: 1.0}")  # type: ignore[union-attr]
    params = {**file_params, **(loss_params or {})}
    try:
        network = Network(str(spec), hidden=hidden_value, output=output or meta("output"),
                          loss=loss or meta("loss") or "bce", **params)
    except ChainruleError as exc:
        if gf is None or (net and loss):
            raise
        raise ChainruleError(f"{gf.path}: {exc}") from None
    file_decimals = meta("decimals")
    if decimals is None:
        decimals = 3 if file_decimals is None else _decimals(gf, file_decimals)
    if gf is None:
        return NetworkProblem(network, None, eta is not None, decimals)
    updates = eta is not None or "eta" in gf.values
    expected = network.givens(updates)
    if eta is not None:
        expected = [g for g in expected if g != "eta"]
        gf.values.pop("eta", None)
    givens = resolve_givens(gf, expected)
    if eta is not None:
        givens["eta"] = eta
    if network.loss.info.distribution:
        targets = [givens[t] for t in network.targets]
        if any(t < 0 for t in targets) or abs(sum(targets) - 1) > 1e-9:
            key = "y" if "y" in gf.values else network.targets[0]
            raise gf.error(key, f"loss '{network.loss.key}' needs targets that are a "
                                "distribution (non-negative, summing to 1)")
    return NetworkProblem(network, givens, updates, decimals)


def _decimals(gf: Any, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 12:
        raise gf.error("decimals", "expected a whole number from 0 to 12")
    return int(value)
