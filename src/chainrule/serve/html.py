"""HTML pieces of the web page: math as MathML, the question, the network and the chart as SVG.

Math is converted on the server from the same LaTeX the handouts print (latex2mathml), and
the browser typesets it: nothing is fetched. Every text is escaped; the SVGs are built from
numbers and escaped labels only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

__all__ = ["bar_chart_svg", "math_html", "network_svg", "question_html"]


# A minus right after "=", "(", "," or at the start of a group is a sign, not an operator.
_PREFIX_MINUS = re.compile(r"(<mo>(?:&#x0003D;|&#x00028;|&#x0002C;|,|&#x02248;)</mo>|<mrow>)"
                           r"<mo>&#x02212;</mo>")


# Environments latex2mathml writes as line breaks (which browsers do not draw), as tables.
_ENVIRONMENTS = {"{gathered}": "{matrix}", "{aligned}": "{split}"}


@lru_cache(maxsize=4096)
def math_html(tex: str, display: bool = False) -> str:
    """``tex`` as MathML (shown as code if it cannot be converted)."""
    from latex2mathml.converter import convert

    for latex_env, supported in _ENVIRONMENTS.items():
        tex = tex.replace(latex_env, supported)
    if not display and "\\frac" not in tex:  # in a line of text, parentheses need not stretch
        tex = tex.replace("\\left(", "(").replace("\\right)", ")")
    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises several kinds; the code is still readable
        return f'<code class="tex">{html.escape(tex)}</code>'
    mathml = _PREFIX_MINUS.sub(r'\1<mo form="prefix" lspace="0" rspace="0">&#x02212;</mo>',
                               mathml)
    mathml = mathml.replace('fence="true" form="prefix">', 'fence="true" form="prefix" '
                            'lspace="0" rspace="0">').replace(
        'fence="true" form="postfix">', 'fence="true" form="postfix" lspace="0" rspace="0">')
    return f'<span class="math" title="{html.escape(tex)}">{mathml}</span>' if not display \
        else f'<div class="math display">{mathml}</div>'


def _math(tex: str, display: bool) -> str:
    return math_html(tex, display)


def question_html(context: dict[str, Any]) -> str:
    """The question text of a problem (its template context) as the handouts word it, as
    HTML with MathML."""
    from chainrule.export.html import markdown_html
    from chainrule.render.environment import render

    data: dict[str, Any] = {"p": context, "blanks": [], "single": None}
    return markdown_html(render("html/question.md.j2", data), math=_math)


def markdown(text: str) -> str:
    """A line of the templates' Markdown (a convention, a message) as inline HTML."""
    from chainrule.export.html import markdown_inline

    return markdown_inline(text, math=_math)


_SUB = re.compile(r"^([A-Za-z]+)_?(\d[\d_]*)$")


def _label(name: str) -> str:
    """``w13`` as SVG text with the index lowered (escaped)."""
    m = _SUB.match(name)
    if not m:
        return html.escape(name)
    return (f'{html.escape(m.group(1))}<tspan class="sub" dy="3">'
            f'{html.escape(m.group(2))}</tspan><tspan dy="-3"> </tspan>')


def network_svg(net: dict[str, Any], givens: Sequence[dict[str, str]]) -> str:
    """The network with its given weights on the edges and biases on the neurons (SVG).

    Layer l is a column; a label sits on its edge at 1 / (units of the next layer + 1) of
    the way, so the labels of a gap form one evenly spaced column (as in the handouts).
    """
    values = {g["name"]: g["value"] for g in givens}
    layers: list[int] = list(net["layers"])
    widest = max(layers)
    dy, r, gap = 80.0, 20.0, 230.0
    height = dy * widest + 30
    xs = [70 + gap * i for i in range(len(layers))]
    width = xs[-1] + 150

    def y(n: int, k: int) -> float:
        return height / 2 + (k - (n - 1) / 2) * dy

    units: list[list[tuple[str, float, float]]] = [[
        (net["inputs"][k], xs[0], y(layers[0], k)) for k in range(layers[0])]]
    for layer in range(1, len(layers)):
        units.append([(str(j), xs[layer], y(layers[layer], k))
                      for k, j in enumerate(net["neurons"][layer])])
    where = {(layer, name): (ux, uy)
             for layer, column in enumerate(units) for name, ux, uy in column}
    parts = [f'<svg class="network" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
             f'aria-labelledby="net-title" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="net-title">The {html.escape(str(net["spec"]))} network with its '
             'given weights and biases</title>']
    labels = []
    for w in net["weights"]:
        layer = int(w["layer"])
        source = str(w["source"]) if layer == 1 else str(w["source"])[1:]
        x1, y1 = where[(layer - 1, source)]
        x2, y2 = where[(layer, str(w["target"]))]
        parts.append(f'<line x1="{x1 + r:.1f}" y1="{y1:.1f}" x2="{x2 - r:.1f}" y2="{y2:.1f}" '
                     'class="edge" marker-end="url(#arrow)"/>')
        t = 1 / (layers[layer] + 1)
        lx, ly = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
        text = f'{_label(w["name"])}= {html.escape(values.get(w["name"], "?"))}'
        labels.append(f'<text x="{lx:.1f}" y="{ly + 4:.1f}" class="weight" '
                      f'text-anchor="middle">{text}</text>')
    parts.insert(2, '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
                 'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
                 '<path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>')
    parts.extend(labels)
    for layer, column in enumerate(units):
        for name, ux, uy in column:
            kind = "input" if layer == 0 else "unit"
            inner = _label(name) if layer == 0 else html.escape(name)
            parts.append(f'<circle cx="{ux:.1f}" cy="{uy:.1f}" r="{r:.0f}" class="{kind}"/>'
                         f'<text x="{ux:.1f}" y="{uy + 5:.1f}" text-anchor="middle" '
                         f'class="unit-label">{inner}</text>')
            if layer == 0 and name in values:
                parts.append(f'<text x="{ux - r - 6:.1f}" y="{uy + 5:.1f}" '
                             f'text-anchor="end" class="value">{html.escape(values[name])}'
                             '</text>')
            if layer > 0:
                bias = f"b{name}"
                parts.append(f'<text x="{ux:.1f}" y="{uy - r - 6:.1f}" text-anchor="middle" '
                             f'class="bias">{_label(bias)}= '
                             f'{html.escape(values.get(bias, "?"))}</text>')
    last = units[-1]
    for k, (_, ux, uy) in enumerate(last):
        out = net["outputs"][k] if k < len(net["outputs"]) else "yhat"
        target = net["targets"][k] if k < len(net.get("targets", [])) else "y"
        label = "ŷ" + (out[4:] if out.startswith("yhat") else "")
        parts.append(f'<line x1="{ux + r:.1f}" y1="{uy:.1f}" x2="{ux + r + 34:.1f}" '
                     f'y2="{uy:.1f}" class="edge" marker-end="url(#arrow)"/>'
                     f'<text x="{ux + r + 40:.1f}" y="{uy + 5:.1f}" class="value">'
                     f'{html.escape(label)}'
                     + (f' (y = {html.escape(values[target])})' if target in values else "")
                     + "</text>")
    parts.append("</svg>")
    return "".join(parts)


def bar_chart_svg(rows: Sequence[tuple[str, int]], title: str) -> str:
    """A horizontal bar chart (label, count) as SVG, longest bar first."""
    if not rows:
        return ""
    top = max(count for _, count in rows) or 1
    bar_h, left, width = 24, 190, 560
    height = bar_h * len(rows) + 36
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{html.escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{html.escape(title)}</title>"]
    span = width - left - 50
    for i, (label, count) in enumerate(rows):
        y = 10 + i * bar_h
        w = max(2.0, span * count / top)
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" class="bar-label">'
                     f"{html.escape(label)}</text>"
                     f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" '
                     'class="bar"/>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 16}" class="bar-count">{count}'
                     "</text>")
    parts.append("</svg>")
    return "".join(parts)
