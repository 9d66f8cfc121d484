"""Network drawings: at every network size the families allow, every weight label sits by its
own edge and touches no other label, edge, unit or bias note.

The check is independent of the layout's own collision test: it samples points over each
label's rectangle and measures their distance to every other edge and unit directly.
"""

from __future__ import annotations

import itertools
import math

import pytest

from chainrule.problems.base import make_problem
from chainrule.problems.families.network import MAX_HIDDEN_LAYERS, MAX_PARAMETERS, MAX_WIDTH
from chainrule.render.drawing import RADIUS
from chainrule.render.problemset import network_drawing


def allowed_nets() -> list[str]:
    found = []
    for hidden in range(MAX_HIDDEN_LAYERS + 1):
        for sizes in itertools.product(range(1, MAX_WIDTH + 1), repeat=hidden + 2):
            params = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
            if params <= MAX_PARAMETERS:
                found.append("-".join(map(str, sizes)))
    return found


def points_of(box) -> list[tuple[float, float]]:
    c, s = math.cos(box.angle), math.sin(box.angle)
    found = []
    for i in range(9):
        for j in range(5):
            dx = (i / 8 - 0.5) * box.width * 0.96
            dy = (j / 4 - 0.5) * box.height * 0.96
            found.append((box.cx + c * dx - s * dy, box.cy + s * dx + c * dy))
    return found


def inside(point, box) -> bool:
    c, s = math.cos(box.angle), math.sin(box.angle)
    dx, dy = point[0] - box.cx, point[1] - box.cy
    u, v = c * dx + s * dy, -s * dx + c * dy
    return abs(u) <= box.width / 2 and abs(v) <= box.height / 2


def distance_to_segment(p, a, b) -> float:
    ax, ay = a
    bx, by = b
    t = max(0.0, min(1.0, ((p[0] - ax) * (bx - ax) + (p[1] - ay) * (by - ay))
                     / ((bx - ax) ** 2 + (by - ay) ** 2)))
    return math.hypot(p[0] - ax - t * (bx - ax), p[1] - ay - t * (by - ay))


COMMON = ["2-2-1", "2-3-1", "2-2-2", "3-3-2", "2-3-3-2", "4-4-1", "1-1", "4-1"]


@pytest.mark.parametrize("net", COMMON)
def test_labels_touch_nothing_but_their_own_edge(net):
    check_layout(net)


@pytest.mark.slow
@pytest.mark.parametrize("net", [n for n in allowed_nets() if n not in COMMON])
def test_every_allowed_size_draws_without_overlaps(net):
    check_layout(net)


def check_layout(net: str) -> None:
    from chainrule.render.drawing import layout

    layers = [int(n) for n in net.split("-")]
    names = [[f"x{k + 1}" for k in range(layers[0])]]
    start = 1
    for size in layers[1:]:
        names.append([f"n{j}" for j in range(start, start + size)])
        start += size
    edges = []
    for layer in range(1, len(layers)):
        for t in names[layer]:
            for s in names[layer - 1]:
                edges.append((f"w{s}{t}", s, t, layer))
    found = layout(layers, names, edges, {e[0]: 12 for e in edges})
    boxes = {w: found.labels[w]["box"] for w, *_ in edges}
    segments = {w: (found.units[s], found.units[t]) for w, s, t, _ in edges}
    for w, box in boxes.items():
        pts = points_of(box)
        own = segments[w]
        assert min(distance_to_segment(p, *own) for p in pts) < 0.3, (net, w)  # attached
        for other, seg in segments.items():
            if other != w:
                assert all(distance_to_segment(p, *seg) > 0.01 for p in pts), (net, w, other)
        for name, centre in found.units.items():
            assert all(math.dist(p, centre) > RADIUS for p in pts), (net, w, name)
        for other, obox in found.boxes.items():
            if other != w:
                assert not any(inside(p, obox) for p in pts), (net, w, other)


def test_drawing_names_biases_and_shows_the_target():
    from chainrule.render.problemset import render_set

    p = make_problem("backprop", 4, {"net": "2-3-1"})
    text = render_set([p], "questions", "tex", title="t")
    for j in (1, 2, 3, 4):
        assert f"$b_{{{j}}} = " in text
    assert "(target $y = " in text
    assert network_drawing(p) is not None and network_drawing(make_problem("gd_step", 1)) is None
