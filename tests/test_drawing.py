"""Network drawings: at every network size a family or a hand-worked givens file allows, every
weight is shown once with its name (on its own edge, or in a table the drawing names), and no
label touches another label, a unit or a bias note, nor has an edge run along it.

The checks are geometry restated here: each label's rectangle is rebuilt from the drawing's
coordinates (unit centres, the label's fraction along its edge as TikZ measures it) and the
label width bound, which ``test_label_widths_bound_what_pdflatex_sets`` checks against the
widths pdflatex gives. Polygons are intersected exactly (segment crossings and containment),
not with the layout's own collision tests.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chainrule.problems.base import make_problem
from chainrule.problems.families.network import MAX_HIDDEN_LAYERS, MAX_PARAMETERS, MAX_WIDTH
from chainrule.render import drawing
from chainrule.render.drawing import (
    LABEL_HEIGHT,
    RADIUS,
    label_width,
    laid_width,
    network_drawing,
)
from chainrule.symbolic.network import MAX_HAND_LAYERS, MAX_HAND_WIDTH

ROOT = Path(__file__).resolve().parents[1]
Point = tuple[float, float]


def family_nets() -> list[str]:
    found = []
    for hidden in range(MAX_HIDDEN_LAYERS + 1):
        for sizes in itertools.product(range(1, MAX_WIDTH + 1), repeat=hidden + 2):
            if sum((a + 1) * b for a, b in itertools.pairwise(sizes)) <= MAX_PARAMETERS:
                found.append("-".join(map(str, sizes)))
    return found


def hand_nets() -> list[str]:
    return ["-".join(map(str, sizes)) for depth in range(2, MAX_HAND_LAYERS + 1)
            for sizes in itertools.product(range(1, MAX_HAND_WIDTH + 1), repeat=depth)]


def net_of(spec: str, value: str) -> tuple[dict, dict[str, str], dict[str, str]]:
    """A network description as the families give it, named by the conventions (neurons
    numbered in layer order; w_ij from unit i into neuron j, w_{i,j} past 9), every weight
    and bias given as ``value``."""
    layers = [int(n) for n in spec.split("-")]
    neurons = [list(range(1, layers[0] + 1))]
    start = 1
    for size in layers[1:]:
        neurons.append(list(range(start, start + size)))
        start += size
    weights = []
    for layer in range(1, len(layers)):
        for j in neurons[layer]:
            for i in neurons[layer - 1]:
                name = f"w{i}{j}" if i < 10 and j < 10 else f"w{i}_{j}"
                tex = f"w_{{{i}{j}}}" if i < 10 and j < 10 else f"w_{{{i},{j}}}"
                weights.append({"name": name, "tex": tex, "layer": layer, "target": j,
                                "source": f"x{i}" if layer == 1 else f"a{i}"})
    net = {"layers": layers, "inputs": [f"x{i}" for i in neurons[0]], "neurons": neurons,
           "weights": weights}
    values = {w["name"]: value for w in weights}
    values |= {f"b{j}": value for ids in neurons[1:] for j in ids}
    texs = {w["name"]: w["tex"] for w in weights} | {x: f"x_{{{x[1:]}}}" for x in net["inputs"]}
    return net, values, texs


# -- exact plane geometry ----------------------------------------------------------------------

def rectangle(cx: float, cy: float, width: float, height: float, angle: float) -> list[Point]:
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + c * dx - s * dy, cy + s * dx + c * dy)
            for dx, dy in ((-width / 2, -height / 2), (width / 2, -height / 2),
                           (width / 2, height / 2), (-width / 2, height / 2))]


def cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def segments_meet(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = cross(q1, q2, p1), cross(q1, q2, p2)
    d3, d4 = cross(p1, p2, q1), cross(p1, p2, q2)
    if max(abs(d1), abs(d2), abs(d3), abs(d4)) < 1e-12:  # on one line: do they overlap?
        k = 0 if abs(p2[0] - p1[0]) >= abs(p2[1] - p1[1]) else 1
        return max(min(p1[k], p2[k]), min(q1[k], q2[k])) <= min(max(p1[k], p2[k]),
                                                                 max(q1[k], q2[k]))
    return d1 * d2 <= 0 and d3 * d4 <= 0


def inside(p: Point, poly: list[Point]) -> bool:
    signs = [cross(poly[k], poly[(k + 1) % len(poly)], p) for k in range(len(poly))]
    return all(s >= 0 for s in signs) or all(s <= 0 for s in signs)


def sides(poly: list[Point]) -> list[tuple[Point, Point]]:
    return [(poly[k], poly[(k + 1) % len(poly)]) for k in range(len(poly))]


def polygons_meet(a: list[Point], b: list[Point]) -> bool:
    if any(inside(p, b) for p in a) or any(inside(p, a) for p in b):
        return True
    return any(segments_meet(*e, *f) for e in sides(a) for f in sides(b))


def point_to_segment(p: Point, a: Point, b: Point) -> float:
    t = ((p[0] - a[0]) * (b[0] - a[0]) + (p[1] - a[1]) * (b[1] - a[1])) / math.dist(a, b) ** 2
    t = max(0.0, min(1.0, t))
    return math.dist(p, (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))


def circle_meets(poly: list[Point], centre: Point, radius: float) -> bool:
    return inside(centre, poly) or any(point_to_segment(centre, *e) <= radius
                                       for e in sides(poly))


def border_to_border(a: Point, b: Point) -> tuple[Point, Point]:
    d = math.dist(a, b)
    ux, uy = (b[0] - a[0]) / d, (b[1] - a[1]) / d
    return (a[0] + RADIUS * ux, a[1] + RADIUS * uy), (b[0] - RADIUS * ux, b[1] - RADIUS * uy)


# -- the check -------------------------------------------------------------------------------

def check(spec: str, value: str) -> dict[str, int]:
    net, values, texs = net_of(spec, value)
    found = network_drawing(net, values, texs)
    units = {n: (float(x), float(y)) for n, (x, y) in found["units"].items()}

    def unit(source: str, layer: int) -> str:
        return source if layer == 1 else f"n{source[1:]}"

    edges = {w["name"]: border_to_border(units[unit(w["source"], w["layer"])],
                                         units[f"n{w['target']}"]) for w in net["weights"]}
    shown: list[str] = []
    boxes: dict[str, list[Point]] = {}
    for w in net["weights"]:
        label = found["labels"].get(w["name"])
        if label is None:
            continue
        text = label["text"]
        assert text == f"{w['tex']} = {values[w['name']]}", (spec, text)  # named, own value
        shown.append(text)
        (x0, y0), (x1, y1) = edges[w["name"]]
        t = float(label["pos"])
        boxes[w["name"]] = rectangle(x0 + t * (x1 - x0), y0 + t * (y1 - y0),
                                     label_width(w["tex"], values[w["name"]]), LABEL_HEIGHT,
                                     math.atan2(y1 - y0, x1 - x0))
    for table in found["tables"]:
        for row in table["rows"]:
            shown.extend(row["cells"])
    # Every weight once, with its name beside its value.
    assert sorted(shown) == sorted(f"{w['tex']} = {values[w['name']]}"
                                   for w in net["weights"]), spec
    gaps = [float(b) - float(a) for a, b in itertools.pairwise(found["xs"])]
    assert sum(gaps) <= drawing.MAX_WIDTH + 1e-9, (spec, gaps)
    # Each bias once: as a note by its neuron, in the last row of the table of the gap into
    # it, or in the bias column of the table of the gap out of it (beside its own row).
    tabled = [cell for t in found["tables"] for cell in t["biases"]]
    for t in found["tables"]:
        for row in t["rows"]:
            if t["source_biases"]:
                assert row["bias"] == f"b_{{{row['source']}}} = {values['b' + row['source']]}"
                tabled.append(row["bias"])
            else:
                assert row["bias"] is None
    everywhere = [f"b_{{{j}}} = {values[f'b{j}']}" for ids in net["neurons"][1:] for j in ids]
    assert sorted(tabled + [f"b_{{{j}}} = {values[f'b{j}']}" for j in map(int, found["notes"])]
                  ) == sorted(everywhere), spec
    notes = {}
    for ids in net["neurons"][1:]:
        for j in ids:
            if str(j) in found["notes"]:
                x, y = units[f"n{j}"]
                where = found["notes"][str(j)]["side"]
                lift = float(found["notes"][str(j)]["lift"])
                side = 1 if where.startswith("above") else -1
                height = 7.4 * drawing.PT  # scriptsize text + inner sep 0.6pt twice
                width = label_width(f"b_{{{j}}}", values[f"b{j}"])
                shift = {"right": width / 2, "left": -width / 2}.get(where.split()[-1], 0.0)
                notes[j] = rectangle(x + shift, y + side * (RADIUS + lift + height / 2),
                                     width, height, 0)
    names = list(boxes)
    for w in names:
        box = boxes[w]
        start, end = edges[w]
        # On its own edge: the edge enters at one short side and leaves at the other.
        assert not inside(start, box) and not inside(end, box), (spec, w)
        assert point_to_segment(((box[0][0] + box[2][0]) / 2, (box[0][1] + box[2][1]) / 2),
                                start, end) < 1e-9, (spec, w)
        assert segments_meet(start, end, box[0], box[3]), (spec, w)
        assert segments_meet(start, end, box[1], box[2]), (spec, w)
        for other in names:
            if other < w:
                assert not polygons_meet(box, boxes[other]), (spec, w, other)
        for name, centre in units.items():
            assert not circle_meets(box, centre, RADIUS), (spec, w, name)
        for j, note in notes.items():
            assert not polygons_meet(box, note), (spec, w, j)
        for other, (a, b) in edges.items():
            if other == w:
                continue
            # Another edge may pass under the label only across it: through both long
            # sides, never through a short side, where it would read as the label's edge.
            assert not segments_meet(a, b, box[0], box[3]), (spec, w, other)
            assert not segments_meet(a, b, box[1], box[2]), (spec, w, other)
            if segments_meet(a, b, box[0], box[1]) or segments_meet(a, b, box[2], box[3]):
                assert segments_meet(a, b, box[0], box[1]) and segments_meet(
                    a, b, box[2], box[3]), (spec, w, other)
    for j, note in notes.items():
        for name, centre in units.items():
            assert not circle_meets(note, centre, RADIUS), (spec, j, name)
        for k, other in notes.items():
            if k < j:
                assert not polygons_meet(note, other), (spec, j, k)
    crossed = sum(any(polygons_meet(note, [a, b, a]) for a, b in edges.values())
                  for note in notes.values())
    return {"labels": len(boxes), "tables": len(found["tables"]), "crossed_notes": crossed}


COMMON = ["2-2-1", "2-3-1", "3-4-1", "4-4-1", "2-4-1", "3-3-3-1", "4-4-2", "1-1", "4-1",
          "5-5-5-5", "4-4-4-1", "3-4-3-1", "2-5-1"]


@pytest.mark.parametrize("spec", COMMON)
def test_labels_are_named_and_touch_nothing_but_their_own_edge(spec):
    for value in ("-0.6", "-0.125", "1"):  # "1" sits in a box laid out wider than itself
        check(spec, value)


def test_small_nets_are_labelled_on_their_edges_and_dense_gaps_tabulated():
    assert check("2-2-1", "-0.6") == {"labels": 6, "tables": 0, "crossed_notes": 0}
    assert check("2-3-1", "-0.6") == {"labels": 9, "tables": 0, "crossed_notes": 0}
    result = check("3-4-1", "-0.6")
    assert result["labels"] == 4 and result["tables"] == 1  # 12 edges: a table


@pytest.mark.parametrize("spec", ["1-4-4", "2-3-3", "1-3-4"])
def test_a_note_with_no_place_clear_of_the_edges_goes_into_the_next_table(spec):
    result = check(spec, "-0.125")  # every bias once, no note crossed by an edge
    assert result["crossed_notes"] == 0 and result["tables"] == 1
    net, values, texs = net_of(spec, "-0.125")
    (table,) = network_drawing(net, values, texs)["tables"]
    assert table["layer"] == 2 and table["source_biases"]
    assert [r["bias"] for r in table["rows"]] == [f"b_{{{j}}} = -0.125"
                                                  for j in net["neurons"][1]]


@pytest.mark.slow
def test_every_family_net_draws_without_overlaps():
    for spec in family_nets():
        for value in ("-0.6", "-0.125", "1"):
            assert check(spec, value)["crossed_notes"] == 0, (spec, value)


@pytest.mark.slow
def test_every_hand_net_draws_without_overlaps():
    for spec in hand_nets():
        assert check(spec, "-0.125")["crossed_notes"] == 0, spec


def test_problems_draw_what_their_givens_state():
    for spec in ("2-3-1", "3-4-1", "4-4-2"):
        p = make_problem("backprop", 4, {"net": spec})
        givens = {g["name"]: g for g in p.givens_records()}
        found = network_drawing(p.context["network"], p.number_texts(),
                                {n: g["tex"] for n, g in givens.items()})
        texts = [v["text"] for v in found["labels"].values()]
        texts += [c for t in found["tables"] for r in t["rows"] for c in r["cells"]]
        assert sorted(texts) == sorted(f"{givens[w['name']]['tex']} = {givens[w['name']]['value']}"
                                       for w in p.context["network"]["weights"])


def test_drawing_names_biases_and_shows_the_target():
    from chainrule.render.problemset import network_drawing as of_problem
    from chainrule.render.problemset import render_set

    p = make_problem("backprop", 4, {"net": "2-3-1"})
    text = render_set([p], "questions", "tex", title="t")
    for j in (1, 2, 3, 4):
        assert f"$b_{{{j}}} = " in text
    assert "(target $y = " in text
    assert of_problem(p) is not None and of_problem(make_problem("gd_step", 1)) is None
    dense = render_set([make_problem("backprop", 4, {"net": "3-4-1"})], "questions", "tex",
                       title="t")
    assert "weights in table 1" in dense and r"\textbf{Table 1.}" in dense
    crowded = render_set([make_problem("forward", 4, {"net": "1-4-4"})], "questions", "tex",
                         title="t")
    table = crowded[crowded.index(r"\textbf{Table 1.}"):]
    assert r"\text{bias } b_i" in table
    drawn = crowded[crowded.index(r"\begin{tikzpicture}"):crowded.index(r"\end{tabular}")]
    for j in range(1, 9):  # each bias once: by its neuron or in the table
        assert drawn.count(f"b_{{{j}}} = ") == 1, j


def test_label_boxes_are_set_at_the_size_the_layout_assumes():
    template = (ROOT / "templates/tex/_network.tex.j2").read_text()
    style = re.search(r"weight/\.style=\{([^}]*)\}", template)
    assert style is not None
    assert "inner sep=1pt" in style.group(1) and "fill=white" in style.group(1)
    height = re.search(r"text height=([\d.]+)pt", style.group(1))
    depth = re.search(r"text depth=([\d.]+)pt", style.group(1))
    assert height and depth
    assert math.isclose((float(height.group(1)) + float(depth.group(1)) + 2) * drawing.PT,
                        LABEL_HEIGHT)


LABELS = [("w_{11}", "0.4"), ("w_{13}", "-0.4"), ("w_{1,10}", "-0.125"),
          ("w_{10,15}", "-0.888"), ("w_{44}", "1"), ("w_{5,14}", "-0.123456"),
          ("b_{13}", "-0.5"), ("w_{99}", "-88.88")]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_label_widths_bound_what_pdflatex_sets(tmp_path):
    lines = [r"\documentclass{article}", r"\usepackage[T1]{fontenc}\usepackage{lmodern}",
             r"\usepackage{amsmath}\newsavebox\probe\begin{document}"]
    for name, value in LABELS:
        lines.append(rf"\sbox\probe{{\scriptsize${name} = {value}$}}"
                     rf"\typeout{{WIDTH \the\wd\probe}}")
    lines.append(r"\end{document}")
    (tmp_path / "w.tex").write_text("\n".join(lines))
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "w.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    widths = [float(w) for w in re.findall(r"WIDTH ([\d.]+)pt", run.stdout)]
    assert len(widths) == len(LABELS)
    for (name, value), points in zip(LABELS, widths, strict=True):
        box = (points + 2.0) * drawing.PT  # the text and the inner sep on both sides
        assert box <= label_width(name, value) <= box + 0.25, (name, value, points)


def givens_yaml(spec: str) -> str:
    """A hand-worked givens file for ``spec``: every weight and bias a distinct small value."""
    net, _, _ = net_of(spec, "0")
    lines = [f"net: {spec}", "hidden: sigmoid", "output: sigmoid", "loss: mse",
             "x: [" + ", ".join(f"0.{k + 1}" for k in range(net["layers"][0])) + "]",
             "y: [" + ", ".join("0.5" for _ in range(net["layers"][-1])) + "]", "eta: 0.1"]
    for k, w in enumerate(net["weights"]):
        lines.append(f"{w['name']}: {(k * 7 % 19 - 9) / 10}")
    for ids in net["neurons"][1:]:
        lines.extend(f"b{j}: {(j * 5 % 9 - 4) / 10}" for j in ids)
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
@pytest.mark.parametrize("spec", ["5-5-5-5", "4-4-4-1"])
def test_the_largest_walkthroughs_compile_with_their_tables(tmp_path, spec):
    from click.testing import CliRunner

    from chainrule.cli import main

    (tmp_path / "g.yaml").write_text(givens_yaml(spec))
    result = CliRunner().invoke(main, ["walkthrough", "--givens", str(tmp_path / "g.yaml"),
                                       "--format", "tex"])
    assert result.exit_code == 0, result.output
    assert "weights in table 1" in result.output and r"\textbf{Table 2.}" in result.output
    (tmp_path / "w.tex").write_text(result.output)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "w.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]


def test_problems_of_one_net_share_a_layout_wide_enough_for_each():
    """Labels are laid out at least as wide as one valued -0.0, so nets drawn with values of
    one decimal share one layout (each label's own box inside it: the check above with
    value 1), and a wider value gets a layout of its own."""
    short = [network_drawing(*net_of("2-3-1", v)) for v in ("1", "-0.6", "0.3")]
    assert all(d["units"] == short[0]["units"] and
               {w: lab["pos"] for w, lab in d["labels"].items()} ==
               {w: lab["pos"] for w, lab in short[0]["labels"].items()} for d in short)
    assert laid_width("w_{13}", "1") == laid_width("w_{13}", "-0.6") == label_width(
        "w_{13}", "-0.6") < laid_width("w_{13}", "-0.125") == label_width("w_{13}", "-0.125")
