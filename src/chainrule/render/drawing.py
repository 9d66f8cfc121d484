"""Where a network drawing puts its units and its weight labels, so that none overlaps.

Each weight's label (``w_{13} = 0.7``) is set along its own edge, just above or below the
line, at a point of the edge chosen so that the label touches no other label, no other edge
and no unit. Candidates are tried from the middle of the edge outwards; when a gap between
two layers has no room, it is widened and the search starts again. Lengths are centimetres,
label sizes an estimate of TikZ's scriptsize text (checked by the tests with the same model).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Box", "Layout", "label_box", "layout", "overlaps", "segment_hits"]

RADIUS = 0.375          # a unit's circle (minimum size 7.5 mm)
CHAR = 0.125            # width of one character of a scriptsize label
LABEL_HEIGHT = 0.30
LIFT = 0.07             # gap between an edge and its label (above=2pt in the drawing)
_POSITIONS = tuple(sorted((round(0.12 + 0.04 * k, 2) for k in range(20)),
                          key=lambda p: (abs(p - 0.5), p)))
_MAX_WIDEN = 40


@dataclass(frozen=True)
class Box:
    """A rectangle rotated by ``angle`` (radians) about its centre."""

    cx: float
    cy: float
    width: float
    height: float
    angle: float

    def corners(self) -> list[tuple[float, float]]:
        c, s = math.cos(self.angle), math.sin(self.angle)
        w, h = self.width / 2, self.height / 2
        return [(self.cx + c * dx - s * dy, self.cy + s * dx + c * dy)
                for dx, dy in ((-w, -h), (w, -h), (w, h), (-w, h))]


def _axes(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    found = []
    for i in range(len(points)):
        (x0, y0), (x1, y1) = points[i], points[(i + 1) % len(points)]
        length = math.hypot(x1 - x0, y1 - y0)
        if length > 1e-12:
            found.append((-(y1 - y0) / length, (x1 - x0) / length))
    return found


def _separated(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> bool:
    for ax, ay in _axes(a) + _axes(b):
        pa = [x * ax + y * ay for x, y in a]
        pb = [x * ax + y * ay for x, y in b]
        if max(pa) < min(pb) or max(pb) < min(pa):
            return True
    return False


def overlaps(a: Box, b: Box) -> bool:
    """Whether two label boxes overlap (separating axis test)."""
    return not _separated(a.corners(), b.corners())


def segment_hits(box: Box, start: tuple[float, float], end: tuple[float, float]) -> bool:
    """Whether the segment from ``start`` to ``end`` passes through ``box``."""
    return not _separated(box.corners(), [start, end])


def circle_hits(box: Box, centre: tuple[float, float], radius: float) -> bool:
    octagon = [(centre[0] + radius * 1.08 * math.cos(k * math.pi / 4),
                centre[1] + radius * 1.08 * math.sin(k * math.pi / 4)) for k in range(8)]
    return not _separated(box.corners(), octagon)


def label_box(start: tuple[float, float], end: tuple[float, float], pos: float, side: int,
              text_length: int) -> Box:
    """The box of a label of ``text_length`` characters set along the edge at ``pos``,
    above (side 1) or below (side -1) the line."""
    (x0, y0), (x1, y1) = start, end
    angle = math.atan2(y1 - y0, x1 - x0)
    # TikZ measures pos along the path from one unit's border to the other's.
    c, s = math.cos(angle), math.sin(angle)
    x0, y0, x1, y1 = x0 + RADIUS * c, y0 + RADIUS * s, x1 - RADIUS * c, y1 - RADIUS * s
    px, py = x0 + pos * (x1 - x0), y0 + pos * (y1 - y0)
    lift = side * (LABEL_HEIGHT / 2 + LIFT)
    return Box(px - s * lift, py + c * lift, text_length * CHAR + 0.2, LABEL_HEIGHT + 0.06,
               angle)


@dataclass
class Layout:
    """Unit centres, gap widths and each weight's label placement."""

    dy: float
    xs: list[float]
    units: dict[str, tuple[float, float]]
    labels: dict[str, dict[str, Any]]
    boxes: dict[str, Box]


def _place(layers: Sequence[int], unit_names: Sequence[Sequence[str]],
           edges: Sequence[tuple[str, str, str, int]], xs: list[float], dy: float,
           lengths: Mapping[str, int]) -> Layout | int:
    units = {}
    for layer, names in enumerate(unit_names):
        n = len(names)
        for k, name in enumerate(names):
            units[name] = (xs[layer], ((n - 1) / 2 - k) * dy)
    segments = {w: (units[a], units[b]) for w, a, b, _ in edges}
    placed: dict[str, Box] = {}
    # The bias notes above the neurons (b_j = -0.5) are obstacles too.
    for layer, names in enumerate(unit_names):
        if layer == 0:
            continue
        for name in names:
            x, y = units[name]
            placed[f"bias:{name}"] = Box(x, y + RADIUS + 0.2, 1.7, 0.42, 0.0)
    labels: dict[str, dict[str, Any]] = {}
    for weight, _source, _target, layer in edges:
        start, end = segments[weight]
        done = False
        for pos in _POSITIONS:
            for side in (1, -1):
                box = label_box(start, end, pos, side, lengths[weight])
                if any(overlaps(box, other) for other in placed.values()):
                    continue
                if any(segment_hits(box, *seg) for w, seg in segments.items() if w != weight):
                    continue
                if any(circle_hits(box, centre, RADIUS) for centre in units.values()):
                    continue
                placed[weight] = box
                labels[weight] = {"pos": pos, "side": "above" if side > 0 else "below",
                                  "box": box, "layer": layer}
                done = True
                break
            if done:
                break
        if not done:
            return layer
    return Layout(dy, xs, units, labels, placed)


def layout(layers: Sequence[int], unit_names: Sequence[Sequence[str]],
           edges: Sequence[tuple[str, str, str, int]], lengths: Mapping[str, int]) -> Layout:
    """A drawing with no label touching another label, another edge or a unit: gaps are
    widened until every label finds a place."""
    key = (tuple(layers), tuple(tuple(n) for n in unit_names), tuple(edges),
           tuple(sorted(lengths.items())))
    return _cached(key)


@lru_cache(maxsize=256)
def _cached(key: tuple[Any, ...]) -> Layout:
    layers, unit_names, edges, lengths = key
    lengths = dict(lengths)
    dy = 1.5 if max(layers) >= 3 else 1.6
    gaps = [3.0] * (len(layers) - 1)
    for _ in range(_MAX_WIDEN):
        xs = [0.0]
        for gap in gaps:
            xs.append(xs[-1] + gap)
        found = _place(layers, unit_names, edges, xs, dy, lengths)
        if isinstance(found, Layout):
            return found
        gaps[found - 1] += 0.5  # widen the gap that had no room
        if gaps[found - 1] > 6.0:
            dy += 0.15
    raise ValueError(f"no drawing without overlaps for a {'-'.join(map(str, layers))} network")
