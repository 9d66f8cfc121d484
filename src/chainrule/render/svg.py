"""A network drawn as an inline SVG (for notebooks and web pages): no plotting library.

Inputs on the left, one column per layer, neurons numbered as in the notes, and each weight's
value on its edge when the numbers are known. Every label is XML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["network_svg"]

_R = 17  # neuron radius
_DX = 190  # distance between layers
_DY = 84  # distance between neurons of a layer
_PAD = 30


def _subscript(name: str) -> str:
    """``x1`` -> ``x<tspan>1</tspan>`` written small and low, ``yhat`` -> ``ŷ``."""
    if name == "yhat":
        return "ŷ"
    head = name.rstrip("0123456789_")
    tail = name[len(head):].lstrip("_")
    shown = "ŷ" if head == "yhat" else escape(head)
    if not tail:
        return shown
    return (f'{shown}<tspan dy="4" font-size="10">{escape(tail)}</tspan>'
            '<tspan dy="-4"></tspan>')


def network_svg(
    layers: Sequence[int],
    neurons: Sequence[Sequence[int]],
    inputs: Sequence[str],
    outputs: Sequence[str],
    weights: Sequence[Mapping[str, object]],
    values: Mapping[str, str] | None = None,
) -> str:
    """An ``<svg>`` element: circles for inputs and neurons, an arrow per weight.

    ``neurons[l]`` numbers layer ``l``'s neurons (layer 0 are the inputs), ``weights`` are
    records with ``name``, ``layer`` (of the target neuron), ``source`` (a unit name: ``x1``,
    ``a2``) and ``target`` (a neuron number), and ``values`` the texts to print (a weight's
    value on its edge, a bias under its neuron, an input's value beside it).
    """
    values = values or {}
    tall = max(layers)
    width = _PAD * 2 + _DX * (len(layers) - 1) + 2 * _R + 60
    height = _PAD * 2 + _DY * (tall - 1) + 2 * _R + 16

    def centre(layer: int, pos: int) -> tuple[float, float]:
        offset = (tall - layers[layer]) * _DY / 2
        return (_PAD + _R + 30 + layer * _DX, _PAD + _R + offset + pos * _DY)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13" '
        'role="img" aria-label="network diagram">',
        '<defs><marker id="cr-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
    ]
    many = len(weights) > 12
    for w in weights:
        layer = int(str(w["layer"]))
        source, target = str(w["source"]), int(str(w["target"]))
        before = (list(inputs).index(source) if layer == 1
                  else list(neurons[layer - 1]).index(int(source.lstrip("a"))))
        x1, y1 = centre(layer - 1, before)
        x2, y2 = centre(layer, list(neurons[layer]).index(target))
        dx, dy = x2 - x1, y2 - y1
        length = (dx * dx + dy * dy) ** 0.5
        ux, uy = dx / length, dy / length
        parts.append(
            f'<line x1="{x1 + ux * _R:.1f}" y1="{y1 + uy * _R:.1f}" x2="{x2 - ux * _R:.1f}" '
            f'y2="{y2 - uy * _R:.1f}" stroke="#555" stroke-width="1.2" '
            'marker-end="url(#cr-arrow)"/>'
        )
        name = str(w["name"])
        if not many:
            # Along the edge, just above it: level edges in the middle, falling ones near
            # their source and rising ones near their target, so crossing edges keep apart.
            t = 0.5 if abs(dy) < 1 else (0.27 if dy > 0 else 0.73)
            lx, ly = x1 + dx * t + uy * 5, y1 + dy * t - ux * 5
            angle = math.degrees(math.atan2(dy, dx))
            label = _subscript(name)
            if name in values:
                label += f" = {escape(values[name])}"
            parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" '
                         f'transform="rotate({angle:.1f} {lx:.1f} {ly:.1f})" '
                         f'font-size="11" fill="#1f4e9c">{label}</text>')
    for layer, ids in enumerate(neurons):
        for pos, j in enumerate(ids):
            cx, cy = centre(layer, pos)
            fill = "#eef3fb" if layer == 0 else "#fff4e0"
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{_R}" fill="{fill}" '
                         'stroke="#333" stroke-width="1.2"/>')
            text = _subscript(inputs[pos]) if layer == 0 else escape(str(j))
            parts.append(f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle">'
                         f"{text}</text>")
            if layer == 0 and inputs[pos] in values:
                parts.append(f'<text x="{cx - _R - 4:.1f}" y="{cy + 4:.1f}" '
                             f'text-anchor="end" font-size="11">'
                             f"{escape(values[inputs[pos]])}</text>")
            bias = f"b{j}" if layer else ""
            if bias and bias in values and not many:
                parts.append(f'<text x="{cx:.1f}" y="{cy + _R + 13:.1f}" text-anchor="middle" '
                             f'font-size="11" fill="#8a5a00">{_subscript(bias)} = '
                             f"{escape(values[bias])}</text>")
            if layer == len(layers) - 1:
                parts.append(f'<text x="{cx + _R + 6:.1f}" y="{cy + 4:.1f}">'
                             f"→ {_subscript(outputs[pos])}</text>")
    parts.append("</svg>")
    return "".join(parts)
