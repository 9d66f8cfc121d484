"""Where a network drawing puts its units and its weight labels, so that every label is read
with its own edge.

A weight's label (``w_{13} = 0.7``) is set on its own edge, turned along it, in a white box
that interrupts the line: the edge leaves the box at both short ends, so the label cannot be
read as another edge's. Another edge may pass under a label only across it (in at one long
side, out at the other, clear of the ends, at an angle), never along it; labels touch no
other label, unit or bias note. Each label's places along its edge are ranked (fewest edges
under it, then nearest the middle) and a depth-first search picks one per edge; a gap
between two layers is widened (and the layers spaced out) until every label finds a place.
A gap of more than :data:`DENSE` edges, or whose labels do not fit within :data:`MAX_GAP`
(or the page, :data:`MAX_WIDTH`), is drawn without labels, named "weights in table k" under
it, and its weights and its neurons' biases are printed in table k below the drawing, each
as ``w_{ij} = value``. Other bias notes stand above or below their neuron, where no edge
passes; when some neuron of a layer has no such place and the gap after the layer is
tabulated, that layer's biases are listed in its table too, beside their neurons' rows.

Lengths are centimetres. Label boxes are the size TikZ gives them: the node's text height,
depth and inner sep are fixed in the template, and its width is an upper bound of the
scriptsize text (:func:`label_width`, checked against pdflatex by the tests).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = ["Box", "Layout", "label_width", "layout", "network_drawing"]

PT = 2.54 / 72.27       # one TeX point in centimetres
RADIUS = 0.375          # a unit's circle (minimum size 7.5 mm)
#: A label's box: text height 4.6pt + depth 2.2pt + inner sep 1pt above and below.
LABEL_HEIGHT = 8.8 * PT
LABEL_SEP = 1.0 * PT    # the label node's inner sep
CLEAR = 0.05            # white kept between a label and an edge
LABEL_CLEAR = 0.08      # white kept between two labels
UNIT_CLEAR = 0.2        # length of line seen between a label and a unit (past its arrow tip)
NOTE_CLEAR = 0.1        # white kept between a label and a bias note
END = 0.12              # an edge crossing under a label stays this far from its ends
MIN_CROSSING = math.radians(18)  # and crosses it at least this steeply
BASE_GAP = 3.0          # a gap's width when its labels need no more (or it has none)
MAX_GAP = 6.0           # the widest gap labelled on its edges
MAX_WIDTH = 10.5        # the most the gaps may add up to (the rest of the line is text)
DENSE = 8               # a gap with more edges is always tabulated (none fits MAX_GAP)
_STEP = 0.5
_SEARCH = 600          # placements tried in one gap before it is widened
_LIFTS = (0.04, 0.2, 0.4, 0.6, 0.8, 1.0)  # how far a bias note may stand off its neuron
_POSITIONS = tuple(sorted((round(0.1 + 0.025 * k, 3) for k in range(33)),
                          key=lambda p: (abs(p - 0.5), p)))

# Upper bounds of scriptsize widths in points (lmodern, measured with pdflatex).
_MAIN = {"-": 6.4, ".": 2.5, "=": 10.3, " ": 0.0, ",": 2.5, "e": 4.6}
_DIGIT = 4.05
_SUB_DIGIT = 3.45
_LETTER = 6.3
_OTHER = 7.2


def label_width(name_tex: str, value: str) -> float:
    """An upper bound of the width of the label ``$name_tex = value$`` (centimetres)."""
    points = 1.5 + 2 * LABEL_SEP / PT
    sub = 0
    chars = iter(name_tex)
    for ch in chars:
        if ch == "_":
            sub = 1
            continue
        if ch in "{}":
            if ch == "}":
                sub = 0
            continue
        if sub:
            points += _SUB_DIGIT if ch.isdigit() else (2.6 if ch == "," else 5.0)
        else:
            points += _LETTER if ch.isalpha() else _OTHER
    points += _MAIN["="]
    for ch in value:
        points += _DIGIT if ch.isdigit() else _MAIN.get(ch, _OTHER)
    return points * PT


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

    def local(self, x: float, y: float) -> tuple[float, float]:
        """``(x, y)`` in the box's own frame: along it and across it from its centre."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        dx, dy = x - self.cx, y - self.cy
        return c * dx + s * dy, -s * dx + c * dy

    def grown(self, by: float) -> Box:
        return Box(self.cx, self.cy, self.width + 2 * by, self.height + 2 * by, self.angle)


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
    """Whether two boxes overlap (separating axis test)."""
    if math.hypot(a.cx - b.cx, a.cy - b.cy) > (math.hypot(a.width, a.height)
                                                + math.hypot(b.width, b.height)) / 2:
        return False
    return not _separated(a.corners(), b.corners())


def circle_distance(box: Box, centre: tuple[float, float]) -> float:
    """How far ``centre`` is from the box (0 inside it)."""
    u, v = box.local(*centre)
    du = max(abs(u) - box.width / 2, 0.0)
    dv = max(abs(v) - box.height / 2, 0.0)
    return math.hypot(du, dv)


def _clip(box: Box, start: tuple[float, float], end: tuple[float, float]) -> bool:
    """Whether the segment meets the box (Liang-Barsky in the box's frame)."""
    (u0, v0), (u1, v1) = box.local(*start), box.local(*end)
    t0, t1 = 0.0, 1.0
    for p, q in ((-(u1 - u0), u0 + box.width / 2), (u1 - u0, box.width / 2 - u0),
                 (-(v1 - v0), v0 + box.height / 2), (v1 - v0, box.height / 2 - v0)):
        if abs(p) < 1e-12:
            if q < 0:
                return False
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return False
    return True


def crossing(box: Box, start: tuple[float, float], end: tuple[float, float]) -> str:
    """How an edge meets a label's box: ``clear`` (not within :data:`CLEAR` of it),
    ``across`` (in at one long side and out at the other, clear of the ends, steeply) or
    ``along`` (anything else: it would read as the label's own edge or strike its text)."""
    grown = box.grown(CLEAR)
    if not _clip(grown, start, end):
        return "clear"
    (u0, v0), (u1, v1) = grown.local(*start), grown.local(*end)
    length = math.hypot(u1 - u0, v1 - v0)
    if abs(v1 - v0) < length * math.sin(MIN_CROSSING):
        return "along"
    half = grown.height / 2
    if max(v0, v1) < half or min(v0, v1) > -half:
        return "along"  # ends inside the box's band: it does not cross it
    for v in (half, -half):
        u = u0 + (u1 - u0) * (v - v0) / (v1 - v0)
        if abs(u) > box.width / 2 - END:
            return "along"
    return "across"


@dataclass
class Layout:
    """Unit centres, gap widths, each labelled weight's place and the gaps tabulated."""

    dy: float
    xs: list[float]
    units: dict[str, tuple[float, float]]
    labels: dict[str, dict[str, Any]]
    boxes: dict[str, Box]
    tabulated: list[int] = field(default_factory=list)
    notes: dict[str, tuple[str, float]] = field(default_factory=dict)
    #: The tabulated gaps whose tables also list their from-neurons' biases.
    source_biases: list[int] = field(default_factory=list)


def _edge_ends(a: tuple[float, float], b: tuple[float, float]) -> tuple[tuple[float, float],
                                                                       tuple[float, float]]:
    """The edge as TikZ draws it: from one unit's border to the other's."""
    angle = math.atan2(b[1] - a[1], b[0] - a[0])
    c, s = math.cos(angle), math.sin(angle)
    return (a[0] + RADIUS * c, a[1] + RADIUS * s), (b[0] - RADIUS * c, b[1] - RADIUS * s)


def label_box(start: tuple[float, float], end: tuple[float, float], pos: float,
              width: float) -> Box:
    """The box of a label ``width`` wide centred on the edge from unit centre ``start`` to
    unit centre ``end``, at ``pos`` of the way from border to border."""
    (x0, y0), (x1, y1) = _edge_ends(start, end)
    angle = math.atan2(y1 - y0, x1 - x0)
    return Box(x0 + pos * (x1 - x0), y0 + pos * (y1 - y0), width, LABEL_HEIGHT, angle)


def bias_box(centre: tuple[float, float], text_width: float, side: str = "above",
             lift: float = 0.04) -> Box:
    """The bias note ``b_j = value`` by a neuron: ``above`` (anchor south, 0.4 mm over its
    top) or ``below`` (anchor north, 0.4 mm under it), centred on the neuron or, with
    ``right`` or ``left`` (``above right``), starting or ending at its centre line; ``lift``
    centimetres from the circle."""
    height = 0.12 + 7.0 * PT + 2 * 0.6 * PT
    sign = 1 if side.startswith("above") else -1
    shift = text_width / 2 if side.endswith("right") else (
        -text_width / 2 if side.endswith("left") else 0.0)
    return Box(centre[0] + shift, centre[1] + sign * (RADIUS + lift + height / 2), text_width,
               height, 0.0)


def _units(unit_names: Sequence[Sequence[str]], xs: Sequence[float],
           dy: float) -> dict[str, tuple[float, float]]:
    units = {}
    for layer, names in enumerate(unit_names):
        n = len(names)
        for k, name in enumerate(names):
            units[name] = (xs[layer], ((n - 1) / 2 - k) * dy)
    return units


def _place_gap(sources: Sequence[tuple[str, float]], targets: Sequence[tuple[str, float]],
               edges: Sequence[tuple[str, str, str]], widths: Mapping[str, float],
               biases: Mapping[str, float], gap: float,
               reserve: bool = False) -> dict[str, tuple[float, Box]] | None:
    """Each edge's label position in one gap (sources at x = 0, targets at x = gap), or
    None when some label has no place. With ``reserve`` the places left of the targets'
    tops and bottoms are kept free too (for their bias notes when the next gap's edges
    fill the places above and below them)."""
    units = {name: (0.0, y) for name, y in sources} | {name: (gap, y) for name, y in targets}
    segments = {w: _edge_ends(units[s], units[t]) for w, s, t in edges}
    # Both places a bias note may take (above or below its neuron) are kept free.
    obstacles = [bias_box(units[n], biases[n], side).grown(NOTE_CLEAR)
                 for n in units if n in biases for side in ("above", "below")]
    if reserve:
        obstacles += [bias_box(units[n], biases[n], side).grown(NOTE_CLEAR)
                      for n, _ in targets if n in biases for side in ("above left", "below left")]
    # Each label's places on its own edge that clear the units, the notes and other edges,
    # fewest edges passing under it first, then nearest the middle.
    options: dict[str, list[tuple[float, Box]]] = {}
    for weight, source, target in edges:
        ranked = []
        for pos in _POSITIONS:
            box = label_box(units[source], units[target], pos, widths[weight])
            xs = [x for x, _ in box.corners()]
            if min(xs) < 0.0 or max(xs) > gap:
                continue
            if any(circle_distance(box, c) < RADIUS + UNIT_CLEAR for c in units.values()):
                continue
            if any(overlaps(box, o) for o in obstacles):
                continue
            hows = [crossing(box, *seg) for other, seg in segments.items() if other != weight]
            if "along" in hows:
                continue
            ranked.append(((hows.count("across"), abs(pos - 0.5), pos), pos, box))
        if not ranked:
            return None
        options[weight] = [(pos, box) for _, pos, box in sorted(ranked, key=lambda r: r[0])]
    # Then a depth-first search for labels clear of each other, the edge with the fewest
    # places first; it gives up after _SEARCH tries (the gap is widened instead).
    order = sorted(options, key=lambda w: (len(options[w]), w))
    chosen: list[tuple[float, Box]] = []
    tries = 0

    def search(k: int) -> bool:
        nonlocal tries
        if k == len(order):
            return True
        for pos, box in options[order[k]]:
            tries += 1
            if tries > _SEARCH:
                return False
            grown = box.grown(LABEL_CLEAR)
            if any(overlaps(grown, other) for _, other in chosen):
                continue
            chosen.append((pos, box))
            if search(k + 1):
                return True
            chosen.pop()
        return False

    if not search(0):
        return None
    return dict(zip(order, chosen, strict=True))


@lru_cache(maxsize=4096)
def _gap_labels(sources: tuple[float, ...], targets: tuple[float, ...],
                widths: tuple[tuple[float, ...], ...], bias_left: tuple[float, ...],
                bias_right: tuple[float, ...], gap: float, reserve: bool = False,
                ) -> tuple[tuple[float, Box], ...] | None:
    src = [(f"s{i}", y) for i, y in enumerate(sources)]
    tgt = [(f"t{j}", y) for j, y in enumerate(targets)]
    edges = [(f"w{i}.{j}", f"s{i}", f"t{j}") for j in range(len(targets))
             for i in range(len(sources))]
    width_of = {f"w{i}.{j}": widths[j][i] for j in range(len(targets))
                for i in range(len(sources))}
    biases = {f"s{i}": w for i, w in enumerate(bias_left) if w > 0}
    biases |= {f"t{j}": w for j, w in enumerate(bias_right) if w > 0}
    found = _place_gap(src, tgt, edges, width_of, biases, gap, reserve)
    if found is None:
        return None
    return tuple(found[e[0]] for e in edges)


Placed = tuple[float, tuple[tuple[float, Box], ...]]  # a gap's width, each label's place


def layout(layers: Sequence[int], unit_names: Sequence[Sequence[str]],
           edges: Sequence[tuple[str, str, str, int]], widths: Mapping[str, float],
           bias_widths: Mapping[str, float] | None = None) -> Layout:
    """Units and labels of a drawing: each gap as narrow as its labels allow, the gaps
    that cannot be labelled within :data:`MAX_GAP` and :data:`MAX_WIDTH` tabulated.

    ``edges`` are (weight, source unit, target unit, layer of the target); ``widths`` each
    weight label's width (:func:`label_width`), ``bias_widths`` each bias note's."""
    bias_widths = dict(bias_widths or {})
    by_gap: dict[int, list[tuple[str, str, str]]] = {}
    for w, s, t, layer in edges:
        by_gap.setdefault(layer, []).append((w, s, t))
    n_gaps = len(layers) - 1
    base_dy = 1.5 if max(layers) >= 3 else 1.6
    candidates = [g for g in range(1, n_gaps + 1) if len(by_gap.get(g, [])) <= DENSE]

    def ys(names: Sequence[str], dy: float) -> tuple[float, ...]:
        n = len(names)
        return tuple(((n - 1) / 2 - k) * dy for k in range(n))

    def attempt(gap: int, dy: float) -> Placed | None:
        left, right = unit_names[gap - 1], unit_names[gap]
        index = {(s, t): w for w, s, t in by_gap[gap]}
        key_widths = tuple(tuple(round(widths[index[(s, t)]], 3) for s in left) for t in right)
        bl = tuple(round(bias_widths.get(n, 0.0), 3) for n in left) if gap > 1 else \
            tuple(0.0 for _ in left)
        br = tuple(round(bias_widths.get(n, 0.0), 3) for n in right)
        width = BASE_GAP
        while width <= MAX_GAP + 1e-9:
            found = _gap_labels(ys(left, dy), ys(right, dy), key_widths, bl, br, width,
                                gap + 1 in tabulated)
            if found is not None:
                return width, found
            width += _STEP
        return None

    tabulated = set(range(1, n_gaps + 1)) - set(candidates)
    dys = [round(base_dy + 0.2 * k, 2) for k in range(5)]
    while True:
        labelled = [g for g in range(1, n_gaps + 1) if g not in tabulated]
        chosen: tuple[float, dict[int, Placed]] | None = None
        failing: set[int] = set()
        for dy in dys:
            tried = {g: attempt(g, dy) for g in labelled}
            failing = {g for g, r in tried.items() if r is None}
            if not failing:
                chosen = (dy, {g: r for g, r in tried.items() if r is not None})
                break
        if chosen is None:
            tabulated |= failing
            continue
        dy, results = chosen
        gaps = [results[g][0] if g in results else BASE_GAP for g in range(1, n_gaps + 1)]
        if sum(gaps) > MAX_WIDTH and labelled:
            widest = max(labelled, key=lambda g: (results[g][0], g))
            tabulated.add(widest)
            continue
        break
    xs = [0.0]
    for width in gaps:
        xs.append(xs[-1] + width)
    units = _units(unit_names, xs, dy)
    labels: dict[str, dict[str, Any]] = {}
    boxes: dict[str, Box] = {}
    for g, (_width, found) in results.items():
        left, right = unit_names[g - 1], unit_names[g]
        index = {(s, t): w for w, s, t in by_gap[g]}
        order = [index[(s, t)] for t in right for s in left]
        for weight, (pos, box) in zip(order, found, strict=True):
            moved = Box(box.cx + xs[g - 1], box.cy, box.width, box.height, box.angle)
            labels[weight] = {"pos": pos, "box": moved, "layer": g}
            boxes[weight] = moved
    # A bias note goes above its neuron or below it, where no edge passes (the neurons of
    # the lower half try below first); a tabulated gap's targets have their biases in its
    # table. When some neuron of a layer whose next gap is tabulated has no such place, the
    # whole layer's biases go into that table instead (a column beside its from-neurons).
    segments = [_edge_ends(units[s], units[t]) for _, s, t, _ in edges]
    notes: dict[str, tuple[str, float]] = {}
    source_biases: list[int] = []
    for layer, names in enumerate(unit_names):
        if not layer or layer in tabulated:
            continue
        crossed = False
        for k, name in enumerate(names):
            if name not in bias_widths:
                continue
            sides = ["below", "above"] if k > (len(names) - 1) / 2 else ["above", "below"]
            sides += [f"{v} {h}" for h in ("right", "left") for v in sides]
            places = [(side, lift) for lift in _LIFTS for side in sides]
            clear = [(side, lift) for side, lift in places if not any(
                circle_distance(bias_box(units[name], bias_widths[name], side, lift), c)
                < RADIUS + CLEAR for c in units.values()) and not any(
                overlaps(bias_box(units[name], bias_widths[name], side, lift).grown(NOTE_CLEAR),
                         b) for b in boxes.values())]
            free = [(side, lift) for side, lift in clear if not any(
                _clip(bias_box(units[name], bias_widths[name], side, lift).grown(CLEAR), *seg)
                for seg in segments)]
            crossed = crossed or not free
            notes[name] = (free or clear or places)[0]
            boxes[f"bias:{name}"] = bias_box(units[name], bias_widths[name], *notes[name])
        if crossed and layer + 1 in tabulated:
            source_biases.append(layer + 1)
            for name in names:
                notes.pop(name, None)
                boxes.pop(f"bias:{name}", None)
    return Layout(dy, xs, units, labels, boxes, sorted(tabulated), notes, source_biases)


#: Every label is laid out at least as wide as one with this value (a sign, a digit, a point
#: and a digit: the widest value a drawn net's weights take), so the problems of one net share
#: a layout; a narrower label sits inside the box laid out for it.
LAID_VALUE = "-0.0"


def laid_width(name_tex: str, value: str) -> float:
    """The width a label is laid out at: its own, or that of :data:`LAID_VALUE` if wider."""
    return max(label_width(name_tex, value), label_width(name_tex, LAID_VALUE))


@lru_cache(maxsize=256)
def _layout_of(layers: tuple[int, ...], unit_names: tuple[tuple[str, ...], ...],
               edges: tuple[tuple[str, str, str, int], ...],
               widths: tuple[tuple[str, float], ...],
               bias_widths: tuple[tuple[str, float], ...]) -> Layout:
    return layout(layers, unit_names, edges, dict(widths), dict(bias_widths))


def network_drawing(net: Mapping[str, Any], values: Mapping[str, str],
                    texs: Mapping[str, str]) -> dict[str, Any]:
    """What the TikZ template needs to draw a problem's network: unit places, each
    labelled weight's position and text, and the tables of the gaps drawn unlabelled."""
    units = [list(net["inputs"])] + [[f"n{j}" for j in ids] for ids in net["neurons"][1:]]
    edges = [(w["name"], w["source"] if w["layer"] == 1 else f"n{w['source'][1:]}",
              f"n{w['target']}", w["layer"]) for w in net["weights"]]
    text = {w["name"]: f"{texs.get(w['name'], w['tex'])} = {values.get(w['name'], '?')}"
            for w in net["weights"]}
    widths = tuple((w["name"], laid_width(texs.get(w["name"], w["tex"]),
                                          values.get(w["name"], "?")))
                   for w in net["weights"])
    bias_widths = tuple((f"n{j}", laid_width(f"b_{{{j}}}", values.get(f"b{j}", "?")))
                        for ids in net["neurons"][1:] for j in ids)
    found = _layout_of(tuple(net["layers"]), tuple(map(tuple, units)), tuple(edges), widths,
                       bias_widths)
    into: dict[tuple[int, int], list[str]] = {}
    for w in net["weights"]:
        into.setdefault((w["layer"], w["target"]), []).append(w["name"])  # in source order
    tables: list[dict[str, Any]] = []
    for g in found.tabulated:
        rows = [{"source": texs.get(s, s) if g == 1 else s[1:],
                 "cells": [text[into[(g, t)][k]] for t in net["neurons"][g]],
                 "bias": f"b_{{{s[1:]}}} = {values.get(f'b{s[1:]}', '?')}"
                 if g in found.source_biases else None}
                for k, s in enumerate(units[g - 1])]
        biases = [f"b_{{{t}}} = {values.get(f'b{t}', '?')}" for t in net["neurons"][g]]
        tables.append({"layer": g, "number": len(tables) + 1, "first": g == 1,
                       "targets": [str(t) for t in net["neurons"][g]], "rows": rows,
                       "biases": biases, "source_biases": g in found.source_biases,
                       "x": f"{(found.xs[g - 1] + found.xs[g]) / 2:.2f}"})
    corners = [p for box in found.boxes.values() for p in box.corners()]
    tops = [y + RADIUS for _, y in found.units.values()] + [y for _, y in corners]
    bottoms = [y - RADIUS for _, y in found.units.values()] + [y for _, y in corners]
    return {
        "xs": [f"{x:.2f}" for x in found.xs],
        "units": {n: (f"{x:.2f}", f"{y:.3f}") for n, (x, y) in found.units.items()},
        "labels": {w: {"pos": f"{v['pos']:.3f}", "text": text[w]}
                   for w, v in found.labels.items()},
        "tables": tables,
        "notes": {n[1:]: {"side": side, "lift": f"{lift:.2f}"}
                  for n, (side, lift) in found.notes.items()},
        "top": f"{max(tops) + 0.35:.3f}",
        "bottom": f"{min(bottoms) - 0.15:.3f}",
    }

