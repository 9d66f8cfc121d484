"""The public Python API: derivations, problems, problem sets, checking and training as objects.

The command line and the web app are thin skins over these functions::

    import chainrule

    chainrule.derive("bce")                       # L, dL/dyhat, and dL/dz = yhat - y
    p = chainrule.problem("backprop", seed=7)     # one seeded problem; p.id regenerates it
    p.check({"z1": 0.3, "a1": 0.574})             # a CheckReport, step by step
    s = chainrule.problem_set("examples/exam.yaml")
    s.write("output/exam"); s.to_moodle("exam.xml")
    run = chainrule.train(data="xor", net="2-2-1", compare=["gd", "adam"], epochs=500)
    run.plot()                                    # a matplotlib Figure

Every error a user can cause is a :class:`chainrule.InputError` whose text is the command
line's one-line message. Heavy modules (SymPy, NumPy, matplotlib) load on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from chainrule.errors import ChainruleError, InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from chainrule.check.judge import Report, StepResult
    from chainrule.io.givens import GivensFile
    from chainrule.problems.base import Problem as _Problem
    from chainrule.problems.spec import SetSpec
    from chainrule.symbolic.network import Network
    from chainrule.training.loop import TrainResult
    from chainrule.training.session import Session

__all__ = [
    "CheckReport",
    "Derivation",
    "NetworkSetup",
    "Problem",
    "ProblemSet",
    "ProblemStep",
    "TrainingRun",
    "derive",
    "families_spec",
    "load_problem",
    "network_setup",
    "problem",
    "problem_from_givens",
    "problem_from_id",
    "problem_set",
    "set_spec",
    "train",
    "walkthrough_problem",
    "walkthroughs",
    "write_problem_set",
]

F = TypeVar("F", bound=Callable[..., Any])

PathLike = str | Path
Givens = PathLike | Mapping[str, Any]


def escape(text: str) -> str:
    """``text`` escaped for HTML (the html module loads here: derive never needs it)."""
    from html import escape as html_escape

    return html_escape(text)


def _input_errors(fn: F) -> F:
    """Plain library errors leave the API as :class:`InputError` (same one-line text)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ChainruleError as exc:
            if type(exc) is ChainruleError:
                raise InputError(str(exc)) from None
            raise

    return wrapper  # type: ignore[return-value]


# --- derivations -----------------------------------------------------------------------------


class Derivation:
    """A loss and its derivative, or a network's forward and backward equations.

    ``to_dict()`` is ``chainrule derive --format json``; in a notebook it shows as LaTeX.
    """

    def __init__(self, kind: str, data: dict[str, Any]) -> None:
        self.kind = kind  #: "loss" or "network"
        self._data = data  # a network's steps print their formulas when first read

    @property
    def data(self) -> dict[str, Any]:
        """The derivation as JSON-ready data, every formula printed."""
        if self.kind == "network":
            from chainrule.render.derive import complete_report

            complete_report(self._data)
        return self._data

    def to_dict(self) -> dict[str, Any]:
        """The derivation as JSON-ready data (what ``derive --format json`` prints)."""
        return self.data

    @property
    def dL_dz(self) -> str | None:
        """A loss's derivative through its usual output activation, simplified (plain text),
        e.g. ``yhat - y`` for BCE with a sigmoid; None when there is no such simplification."""
        combined = self.data.get("combined") if self.kind == "loss" else None
        if not combined:
            return None
        return str(combined["lines"][-1]["text"]).rsplit("=", 1)[-1].strip()

    def render(self, format: str = "text") -> str:
        """The derivation as ``text``, ``md``, ``tex`` or ``json``."""
        if format == "json":
            from chainrule.render.jsontext import dumps

            return dumps(self.data, end="\n")
        from chainrule.render.environment import render

        ext = {"md": "md", "tex": "tex", "text": "txt"}.get(format)
        if ext is None:
            raise InputError(f"format '{format}': expected text, md, tex or json")
        name = "derive_loss" if self.kind == "loss" else "derive_net"
        return render(f"{format}/{name}.{ext}.j2", self._data)  # prints what it reads

    def _repr_latex_(self) -> str:
        lines: list[str] = []
        if self.kind == "loss":
            d = self.data
            lines = [f"&{d['point']['tex']}", f"&{d['derivative']['tex']}"]
            combined = d.get("combined")
            if combined:
                lines += [f"&{line['tex']} && \\text{{({line['why']})}}"
                          for line in combined["lines"]]
        else:
            for step in self.data["steps"]:
                line = f"{step['lhs_tex']} &= {step['formula_tex']}"
                if "rounded_text" in step:
                    line += f" = {step['substituted_tex']} \\approx {step['rounded_text']}"
                lines.append(line)
        return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"

    def _repr_markdown_(self) -> str:
        return self.render("md")

    def __str__(self) -> str:
        return self.render("text")

    def __repr__(self) -> str:
        what = self._data.get("loss") if self.kind == "loss" else self._data.get("net")
        return f"<Derivation {self.kind} {what}>"


def _is_spec(text: str) -> bool:
    parts = text.split("-")
    return len(parts) >= 2 and all(p.strip().isdigit() for p in parts)


@_input_errors
def derive(
    loss_or_net: str | Network | None = None,
    *,
    net: str | None = None,
    hidden: str | Sequence[str] | None = None,
    output: str | None = None,
    loss: str | None = None,
    at: Givens | None = None,
    eta: float | None = None,
    decimals: int | None = None,
    chain: Sequence[str] = (),
    **params: Any,
) -> Derivation:
    """Derive a loss (``derive("bce")``) or a network (``derive("2-2-1", loss="mse")``).

    ``params`` are loss parameters (``delta=1.5``). For a network, ``at`` (a givens file or
    mapping) evaluates every step; ``eta`` adds the update steps; ``chain`` names parameters
    whose gradient is also shown by the chain rule.
    """
    from chainrule.symbolic.network import Network

    if isinstance(loss_or_net, Network):
        if any(v is not None for v in (net, hidden, output, loss)) or params:
            raise InputError("a Network already has its layers, activations and loss")
        setup = NetworkSetup(loss_or_net, None, eta is not None,
                             3 if decimals is None else decimals)
        if at is not None:
            given = network_setup(
                net=loss_or_net.spec, hidden=[a.key for a in loss_or_net.hidden],
                output=loss_or_net.output.key, loss=loss_or_net.loss.key,
                loss_params=dict(loss_or_net.loss.params), givens=at, eta=eta,
                decimals=decimals)
            setup = NetworkSetup(loss_or_net, given.givens, given.updates, given.decimals)
        return _derive_network(setup, chain)
    if loss_or_net is not None and not isinstance(loss_or_net, str):
        raise InputError(f"derive: expected a loss name, a network spec or a Network, "
                         f"got {type(loss_or_net).__name__}")
    spec, name = net, loss
    if loss_or_net is not None:
        if spec is None and _is_spec(loss_or_net):
            spec = loss_or_net
        elif spec is None and at is None:
            if any(v is not None for v in (hidden, output, loss, eta, decimals)) or chain:
                raise InputError(f"'{loss_or_net}' is a loss: network options (hidden, "
                                 "output, loss, eta, decimals, chain) need a network such "
                                 "as '2-2-1'")
            from chainrule.render.derive import loss_report
            from chainrule.symbolic.losses import get_loss

            return Derivation("loss", loss_report(get_loss(loss_or_net, **params)))
        else:
            name = name or loss_or_net
    elif spec is None and at is None:
        raise InputError("name a loss (chainrule derive bce) or a network (--net 2-2-1)")
    setup = network_setup(net=spec, hidden=hidden, output=output, loss=name,
                          loss_params=params, givens=at, eta=eta, decimals=decimals)
    return _derive_network(setup, chain)


def _derive_network(setup: NetworkSetup, chain: Sequence[str]) -> Derivation:
    from chainrule.render.derive import network_report

    network = setup.network
    unknown = [p for p in chain if p not in network.parameters]
    if unknown:
        raise InputError(f"--chain {unknown[0]}: not a parameter of this network; valid: "
                         + ", ".join(network.parameters))
    report = network_report(network, setup.givens, updates=setup.updates,
                            decimals=setup.decimals, chain=tuple(chain), lazy=True)
    return Derivation("network", report)


# --- a network and its numbers, from options and a givens file ----------------------------


@dataclass
class NetworkSetup:
    """A network with (optionally) the numbers of one problem."""

    network: Network
    givens: dict[str, float] | None
    updates: bool
    decimals: int


def _givens_file(source: Givens) -> GivensFile:
    from chainrule.io.givens import GivensFile, load_givens

    if isinstance(source, (str, Path)):
        return load_givens(source)
    if not isinstance(source, Mapping):
        raise InputError(f"givens: expected a file name or a mapping, got "
                         f"{type(source).__name__}")
    values: dict[str, Any] = {}
    for key, value in source.items():
        if not isinstance(key, str):
            raise InputError(f"key {key!r} is not a name", file="givens")
        values[key] = value
    return GivensFile("givens", values)


def network_setup(
    *,
    net: str | None = None,
    hidden: str | Sequence[str] | None = None,
    output: str | None = None,
    loss: str | None = None,
    loss_params: Mapping[str, Any] | None = None,
    givens: Givens | None = None,
    eta: float | None = None,
    decimals: int | None = None,
    hand: bool = False,
) -> NetworkSetup:
    """The network and givens described by options, givens (a file or mapping), or both
    (options win over the file's ``net``, ``hidden``, ``output``, ``loss``, ``decimals``).

    Givens without ``net`` are the notes' 2-2-1 network. With ``hand``, the network must be
    small enough to work by hand. Every error in a givens file names its line and field.
    """
    from chainrule.io.numbers import check_rate
    from chainrule.symbolic.activations import get_activation
    from chainrule.symbolic.losses import get_loss
    from chainrule.symbolic.network import Network, parse_hand_spec, parse_spec

    if eta is not None:
        try:
            check_rate(eta, "--eta")
        except ValueError as exc:
            raise InputError(str(exc)) from None
    gf = _givens_file(givens) if givens is not None else None
    meta = (lambda key: gf.meta(key)) if gf else (lambda key: None)
    spec = net or meta("net") or (DEFAULT_NET if gf else None)
    if spec is None:
        raise ChainruleError("no network: give --net 2-2-1 or 'net:' in the givens file")

    def blame(option: Any, key: str, exc: ChainruleError) -> ChainruleError:
        """An error in a value from the file names its line and field."""
        if gf is None or option is not None or key not in gf.values:
            return exc
        return gf.error(key, str(exc))

    try:
        (parse_hand_spec if hand else parse_spec)(str(spec))
    except ChainruleError as exc:
        raise blame(net, "net", exc) from None
    hidden_value = hidden or meta("hidden") or "sigmoid"
    if isinstance(hidden_value, str) and "," in hidden_value:
        hidden_value = [h.strip() for h in hidden_value.split(",")]
    names = [hidden_value] if isinstance(hidden_value, str) else hidden_value
    try:
        if not isinstance(names, (list, tuple)) or not all(isinstance(h, str) for h in names):
            raise ChainruleError("expected an activation name, or a list of them")
        for name in names:
            if get_activation(name).vector:
                raise ChainruleError("softmax is an output activation, not a hidden one")
    except ChainruleError as exc:
        raise blame(hidden, "hidden", exc) from None
    output_value = output or meta("output")
    if output_value is not None:
        try:
            get_activation(_name(output_value))
        except ChainruleError as exc:
            raise blame(output, "output", exc) from None
    file_params = meta("loss_params") or {}
    if not isinstance(file_params, dict):
        assert gf is not None
        raise gf.error("loss_params", "expected a mapping such as {delta: 1.0}")
    params = {**file_params, **(loss_params or {})}
    loss_value = loss or meta("loss") or "bce"
    try:
        get_loss(_name(loss_value))
    except ChainruleError as exc:
        raise blame(loss, "loss", exc) from None
    try:
        get_loss(str(loss_value), **params)
    except ChainruleError as exc:
        if gf is not None and not loss_params and "loss_params" in gf.values:
            raise gf.error("loss_params", str(exc)) from None
        raise
    if gf is not None:
        _check_file_pairing(gf, str(loss_value), output_value, loss, output)
    try:
        network = Network(str(spec), hidden=hidden_value, output=output_value,
                          loss=str(loss_value), **params)
    except ChainruleError as exc:
        if gf is None:
            raise
        raise InputError(str(exc), file=gf.path) from None
    file_decimals = meta("decimals")
    if decimals is None:
        decimals = 3 if file_decimals is None else _decimals(gf, file_decimals)
    if gf is None:
        return NetworkSetup(network, None, eta is not None, decimals)
    from chainrule.io.givens import resolve_givens  # YAML reading: only with a givens file

    updates = eta is not None or "eta" in gf.values
    expected = network.givens(updates)
    if eta is not None:
        expected = [g for g in expected if g != "eta"]
        gf.values = {k: v for k, v in gf.values.items() if k != "eta"}
    values = resolve_givens(gf, expected)
    if eta is not None:
        values["eta"] = eta
    if network.loss.info.distribution:
        targets = [values[t] for t in network.targets]
        if any(t < 0 for t in targets) or abs(sum(targets) - 1) > 1e-9:
            key = "y" if "y" in gf.values else network.targets[0]
            raise gf.error(key, f"loss '{network.loss.key}' needs targets that are a "
                                "distribution (non-negative, summing to 1)")
    return NetworkSetup(network, values, updates, decimals)


#: The network of givens without ``net``: the notes' example.
DEFAULT_NET = "2-2-1"


def _check_file_pairing(gf: GivensFile, loss: str, output: Any,
                        loss_option: str | None, output_option: str | None) -> None:
    """Refuse an undefined loss and output pair named by a givens file, blaming the field
    the file gave (``output`` if it gave both)."""
    from chainrule.problems.families.network import check_pairing

    try:
        check_pairing(loss, output)
    except ChainruleError as exc:
        if output_option is None and "output" in gf.values:
            raise gf.error("output", str(exc)) from None
        if loss_option is None and "loss" in gf.values:
            raise gf.error("loss", str(exc)) from None
        raise


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise ChainruleError(f"expected a name, got {value!r}")
    return value


def _decimals(gf: Any, value: Any) -> int:
    from chainrule.io.numbers import check_decimals

    try:
        return check_decimals(value)
    except ValueError as exc:
        raise gf.error("decimals", str(exc)) from None


# --- problems --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemStep:
    """One step of a problem: its formula, its exact value and the student's rounded value."""

    name: str
    formula: str
    formula_tex: str
    exact: float
    rounded: float
    asked: bool
    kind: str
    description: str


_QUESTION = {
    "md": '{% import "md/families/" ~ p.family ~ ".md.j2" as fam %}{{ fam.PART(p) }}',
    "tex": '<% import "tex/families/" ~ p.family ~ ".tex.j2" as fam %><< fam.PART(p) >>',
}


class Problem:
    """One problem variant: question, worked solution, key and checker read this object.

    Make one with :func:`problem`, :func:`problem_from_id` or :func:`problem_from_givens`.
    """

    def __init__(self, problem: _Problem) -> None:
        self._problem = problem

    @property
    def core(self) -> _Problem:
        """The underlying problem record that chainrule's renderers and checker read."""
        return self._problem

    @property
    def id(self) -> str:
        """The ID that regenerates this problem (``chainrule.problem_from_id(p.id)``)."""
        return self._problem.id

    @property
    def family(self) -> str:
        """The problem family, e.g. ``backprop``."""
        return self._problem.family

    @property
    def title(self) -> str:
        """The problem's title."""
        return self._problem.title

    @property
    def decimals(self) -> int:
        """Decimals a student rounds to as they go."""
        return self._problem.decimals

    @property
    def version(self) -> str | None:
        """The version letter within a problem set (None outside one)."""
        return self._problem.version

    @property
    def givens(self) -> dict[str, float]:
        """The given numbers, by name (``x1``, ``w13``, ``eta``, ...)."""
        return dict(self._problem.givens)

    @property
    def asked(self) -> tuple[str, ...]:
        """The names of the steps the student is asked for, in order."""
        return tuple(self._problem.asked)

    @property
    def steps(self) -> list[ProblemStep]:
        """Every step of the solution, in order (empty for a multiple-choice problem)."""
        return [
            ProblemStep(r["name"], r["formula_text"], r["formula_tex"], r["value"],
                        r["rounded"], r["asked"], r["kind"], r["description"])
            for r in self._problem.step_records(text=False)
        ]

    @property
    def answers(self) -> dict[str, float]:
        """The key: each asked step's value as a student rounding as they go gets it (for
        steps asked as formulas, see :attr:`formulas`)."""
        return {n: self._problem.rounded[n] for n in self._problem.asked}

    @property
    def marks(self) -> int:
        """Marks the problem is worth: the set's, or one per asked step (one for a choice)."""
        return self._problem.total_marks

    @property
    def code(self) -> str | None:
        """The short code students see in a problem set (None outside one); key.json maps
        it to the ID."""
        return self._problem.code

    @property
    def conventions(self) -> list[str]:
        """Every convention the key depends on, as the question states them (numbering,
        the loss's settings, rounding)."""
        from chainrule.problems.conventions import for_problem

        return for_problem(self.family, self._problem.context, self.decimals)

    @property
    def formulas(self) -> dict[str, str]:
        """The key of the steps asked as formulas: step name -> formula (plain text, in the
        names of earlier steps and givens). A derivation problem asks only for these."""
        return {n: f["formula"] for n, f in self._problem.formula_key.items()}

    @property
    def choices(self) -> list[str] | None:
        """A multiple-choice problem's choices (None for a computed one)."""
        return None if self._problem.choices is None else list(self._problem.choices)

    @property
    def answer(self) -> int | None:
        """A multiple-choice problem's correct choice (its index)."""
        return self._problem.answer

    def to_dict(self) -> dict[str, Any]:
        """The problem's record in key.json (ID, givens, each asked step's values)."""
        return self._problem.key()

    def _part(self, part: str, format: str, templates: PathLike | None) -> str:
        from chainrule.render.environment import environment
        from chainrule.render.problemset import problem_context

        if format not in _QUESTION:
            raise InputError(f"format '{format}': expected md or tex")
        folder = None if templates is None else str(Path(templates).resolve())
        template = environment(format, folder).from_string(
            _QUESTION[format].replace("PART", part))
        return str(template.render(p=problem_context(self._problem))).strip() + "\n"

    @_input_errors
    def question(self, format: str = "md", *, templates: PathLike | None = None) -> str:
        """The question as Markdown (``md``) or LaTeX (``tex``), as the handouts print it."""
        return self._part("question", format, templates)

    @_input_errors
    def solution(self, format: str = "md", *, templates: PathLike | None = None) -> str:
        """The worked solution as Markdown or LaTeX: formula, numbers put in, value."""
        return self._part("solution", format, templates)

    @_input_errors
    def walkthrough(self, format: str = "md", *, iterations: int = 1,
                    templates: PathLike | None = None) -> str:
        """The worked example: the notes' full walkthrough for a backpropagation problem
        (md, tex or json), the question and worked solution for any other family."""
        from chainrule.render.walkthrough import render_walkthrough

        if format not in ("md", "tex", "json"):
            raise InputError(f"format '{format}': expected md, tex or json")
        _check_iterations(iterations)
        return render_walkthrough(self._problem, format, iterations=iterations,
                                  templates_dir=None if templates is None else str(templates))

    @_input_errors
    def check(
        self,
        answers: Mapping[str, Any] | PathLike,
        *,
        student: str | None = None,
        carried_credit: float = 1.0,
        decimals_credit: float = 0.5,
    ) -> CheckReport:
        """Judge a student's answers (a mapping of step names to numbers, formula strings or
        ``{"formula": ..., "value": ...}``, or an answers file) step by step: correct,
        carried forward, too few decimals, wrong (with the slip) or missing."""
        from chainrule.check.answers import parse_answers, read_answers
        from chainrule.check.judge import judge

        valid, outputs = self.answer_names()
        tex_names = self._problem.trace.tex_names if self._problem.trace is not None else {}
        if isinstance(answers, (str, Path)):
            sheet = read_answers(answers, valid, outputs, tex_names)
            if not sheet.answers:
                raise InputError("; ".join(sheet.errors[:3]) or f"{answers}: no answers")
        elif isinstance(answers, Mapping):
            sheet = parse_answers([(str(k), v, None) for k, v in answers.items()], valid,
                                  outputs, "answers", tex_names)
            if sheet.errors and not sheet.answers:
                raise InputError("; ".join(sheet.errors[:3]))
        else:
            raise InputError(f"answers: expected a mapping of step names to values or a "
                             f"file name, got {type(answers).__name__}")
        for label, credit in (("carried_credit", carried_credit),
                              ("decimals_credit", decimals_credit)):
            if not 0 <= credit <= 1:
                raise InputError(f"{label}: expected a number from 0 to 1")
        sheet.student = student
        return CheckReport(judge(self._problem, sheet, carried_credit=carried_credit,
                                 decimals_credit=decimals_credit))

    @_input_errors
    def check_class(self, path: PathLike, *, carried_credit: float = 1.0,
                    decimals_credit: float = 0.5, rows: str | None = None) -> dict[str, Any]:
        """Judge a class's answers (a CSV: an id column, then one column per step): each
        student's score and the class's most common mistakes and first errors. With a
        ``problem`` column, ``rows`` chooses the rows naming that problem."""
        from chainrule.check.batch import read_class, unknown_columns
        from chainrule.check.judge import class_verdicts
        from chainrule.check.report import class_summary

        valid, outputs = self.answer_names()
        tex_names = self._problem.trace.tex_names if self._problem.trace is not None else {}
        sheets = read_class(path, valid, outputs, problem=rows, tex_names=tex_names)
        return class_summary(class_verdicts(self._problem, sheets,
                                            carried_credit=carried_credit,
                                            decimals_credit=decimals_credit),
                             unknown_columns(path, valid, outputs))

    def answer_names(self) -> tuple[list[str], dict[str, str]]:
        """Names an answer may use (givens and steps) and the output neurons' yhat names."""
        trace = self._problem.trace
        if trace is None:
            raise ChainruleError(f"problem {self.id} has no steps to check (multiple choice)")
        network = trace.meta.get("network")
        outputs: dict[str, str] = {}
        if network is not None:
            last = network.neurons[-1]
            outputs = {f"a{j}": o for j, o in zip(last, network.outputs, strict=True)}
        return [*trace.givens, *trace.names], outputs

    def network_svg(self) -> str | None:
        """The network drawn as an inline SVG with its givens (None if not a network)."""
        from chainrule.render.svg import network_svg

        net = self._problem.context.get("network")
        if not isinstance(net, dict):
            return None
        texts = {g: t for g, t in self._problem.number_texts().items()
                 if g in self._problem.givens}
        return network_svg(net["layers"], net["neurons"], net["inputs"], net["outputs"],
                           net["weights"], texts)

    def _repr_markdown_(self) -> str:
        return (f"### {self.title} · `{self.id}`\n\n{self.question('md')}\n"
                f"#### Solution\n\n{self.solution('md')}")

    def _repr_latex_(self) -> str:
        lines = [f"{r['lhs_tex']} &= {r['formula_tex']}"
                 + ("" if r["substituted_tex"] == r["formula_tex"] else
                    f" = {r['substituted_tex']}")
                 + (" \\approx " if r["approx"] else " = ") + r["rounded_text"]
                 for r in self._problem.step_records(text=False)]
        if not lines:
            return f"$\\text{{{self.title}}}$"
        return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"

    def _repr_html_(self) -> str:
        from chainrule.export.html import markdown_html

        svg = self.network_svg() or ""
        figure = f'<div class="chainrule-network">{svg}</div>' if svg else ""
        return (f'<div class="chainrule-problem"><h3>{escape(self.title)} · '
                f"<code>{escape(self.id)}</code></h3>{figure}"
                f"{markdown_html(self.question('md'))}"
                f"<details><summary>Solution</summary>{markdown_html(self.solution('md'))}"
                "</details></div>")

    def __repr__(self) -> str:
        return f"<Problem {self.id}: {self.title}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and other.to_dict() == self.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _wrap(problem: _Problem) -> Problem:
    return Problem(problem)


@_input_errors
def problem(
    family: str,
    *,
    seed: int | None = None,
    decimals: int = 3,
    **options: Any,
) -> Problem:
    """One problem of ``family`` (e.g. ``backprop``, ``forward``, ``loss_value``), drawn from
    ``seed`` (a fresh one if None) with the family's ``options`` (``net="2-3-1"``)."""
    from chainrule.problems.base import get_family, make_problems
    from chainrule.problems.ids import SEED_BITS

    if seed is None:
        import secrets

        seed = secrets.randbits(SEED_BITS)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**SEED_BITS:
        raise InputError(f"seed: expected a whole number from 0 to {2**SEED_BITS - 1}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 8:
        raise InputError("decimals: expected a whole number from 0 to 8")
    fam = get_family(family)
    parsed = fam.parse_options(options)
    return _wrap(make_problems([(fam, seed, parsed, decimals, None)])[0])


def _check_iterations(iterations: Any) -> None:
    if isinstance(iterations, bool) or not isinstance(iterations, int) or \
            not 1 <= iterations <= 100:
        raise InputError("iterations: expected a whole number from 1 to 100")


@_input_errors
def walkthroughs(problems: Iterable[Problem], format: str = "md", *, iterations: int = 1,
                 templates: PathLike | None = None) -> list[str]:
    """:meth:`Problem.walkthrough` of each problem, the same texts, made together: the
    template is run once per structure and each problem's numbers are filled in (many
    variants of one network render many times faster than one by one)."""
    from chainrule.render.walkthrough import render_walkthroughs

    if format not in ("md", "tex", "json"):
        raise InputError(f"format '{format}': expected md, tex or json")
    _check_iterations(iterations)
    found = list(problems)
    for item in found:
        if not isinstance(item, Problem):
            raise InputError(f"problems: expected chainrule problems, got {type(item).__name__}")
    return render_walkthroughs([p.core for p in found], format, iterations=iterations,
                               templates_dir=None if templates is None else str(templates))


@_input_errors
def problem_from_id(id: str, *, decimals: int | None = None) -> Problem:
    """Regenerate the problem an ID names, e.g. ``problem_from_id("bp-00000C1S")``."""
    from chainrule.problems.base import problem_from_id as regenerate

    if not isinstance(id, str):
        raise InputError(f"expected a problem ID (text), got {type(id).__name__}")
    return _wrap(regenerate(id, decimals))


def _backprop(setup: NetworkSetup, *, updates: bool) -> _Problem:
    from chainrule.problems.base import problem_from_values
    from chainrule.problems.families.network import describe

    net = setup.network
    assert setup.givens is not None
    trace = net.trace if updates else net.gradient_trace
    trace.meta["network"] = net
    return problem_from_values("backprop", trace, setup.givens, setup.decimals,
                               title=f"Backpropagation: {net.spec} network",
                               context={"network": describe(net)})


@_input_errors
def problem_from_givens(
    givens: Givens,
    *,
    net: str | None = None,
    hidden: str | Sequence[str] | None = None,
    output: str | None = None,
    loss: str | None = None,
    eta: float | None = None,
    decimals: int | None = None,
) -> Problem:
    """The backpropagation problem of a givens file or mapping (e.g. the notes' example).

    With a learning rate (``eta`` in the givens or the argument) it asks for the updates too;
    without, the forward pass, loss and gradients.
    """
    setup = network_setup(net=net, hidden=hidden, output=output, loss=loss, givens=givens,
                          eta=eta, decimals=decimals, hand=True)
    return _wrap(_backprop(setup, updates=setup.updates))


def walkthrough_problem(
    *,
    net: str | None = None,
    hidden: str | None = None,
    output: str | None = None,
    loss: str | None = None,
    eta: float | None = None,
    decimals: int | None = None,
    seed: int | None = None,
    problem_id: str | None = None,
    givens_path: PathLike | None = None,
) -> Problem:
    """The problem of ``chainrule walkthrough``: regenerated from an ID, read from givens
    (which must give a learning rate), or drawn."""
    choices = {"net": net, "hidden": hidden, "output": output, "loss": loss, "eta": eta}
    if problem_id is not None:
        if givens_path or seed is not None or any(v is not None for v in choices.values()):
            raise InputError("--id regenerates a problem: give no other problem options")
        if "-file-" in problem_id:
            raise InputError(
                f"{problem_id} is a problem from a givens file: it regenerates only from that "
                "file (--givens FILE) or from its record in key.json (chainrule check)")
        return problem_from_id(problem_id, decimals=decimals)
    if givens_path is not None:
        if seed is not None:
            raise InputError("--givens fixes every number: --seed has nothing to draw")
        setup = network_setup(net=net, hidden=hidden, output=output, loss=loss,
                              givens=givens_path, eta=eta, decimals=decimals, hand=True)
        if setup.givens is None or not setup.updates:
            raise InputError("a walkthrough needs a learning rate (eta in the file or --eta)",
                             file=str(givens_path), field="eta")
        return _wrap(_backprop(setup, updates=True))
    raw = {k: v for k, v in choices.items() if v is not None}
    return problem("backprop", seed=seed, decimals=3 if decimals is None else decimals, **raw)


@_input_errors
def load_problem(source: PathLike, problem_id: str | None = None) -> Problem:
    """The PROBLEM of ``chainrule check``: a problem JSON, a key.json (choose with
    ``problem_id``), a givens YAML file, or a problem ID."""
    from chainrule.check.load import load_record_problem

    path = Path(source)
    if path.suffix.lower() in (".yaml", ".yml"):
        return problem_from_givens(path)
    return _wrap(load_record_problem(str(source), problem_id))


# --- checking --------------------------------------------------------------------------------

_HTML_COLOURS = {"correct": "#d9f2d9", "carried": "#fff3c4", "too_few_decimals": "#fde2c4",
                 "wrong": "#f9d0d0", "missing": "#eeeeee"}


class CheckReport:
    """How a student's sheet fares, step by step; ``to_dict()`` is ``check --format json``."""

    def __init__(self, report: Report) -> None:
        self._report = report

    @property
    def problem_id(self) -> str:
        """The ID of the problem checked."""
        return self._report.problem_id

    @property
    def student(self) -> str | None:
        """The student's name, when given."""
        return self._report.student

    @property
    def first_error(self) -> str | None:
        """The first step that is wrong (None if nothing is)."""
        return self._report.first_error

    @property
    def score(self) -> dict[str, Any]:
        """Points, maximum, percent and the count of each verdict."""
        return self._report.score

    @property
    def steps(self) -> list[StepResult]:
        """Each asked step's verdict: status, the value given and expected, the slip."""
        return list(self._report.steps)

    @property
    def verdicts(self) -> dict[str, str]:
        """Step name -> its verdict: correct, carried, too_few_decimals, wrong or missing."""
        return {s.name: s.status for s in self._report.steps}

    @property
    def input_errors(self) -> list[str]:
        """Answers that could not be read (unknown names, not numbers), one line each."""
        return list(self._report.errors)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data, exactly what ``chainrule check --format json``
        prints."""
        return self._report.as_json()

    def render(self, format: str = "text", *, colour: bool = False) -> str:
        """The report as ``text`` (optionally coloured for a terminal), ``md`` or ``json``."""
        from chainrule.check.report import render_report

        if format not in ("text", "md", "json"):
            raise InputError(f"format '{format}': expected text, md or json")
        return render_report(self._report, format, colour)

    def __str__(self) -> str:
        return self.render("text")

    def __repr__(self) -> str:
        score = self.score
        return (f"<CheckReport {self.problem_id}: {score['points']:g}/{score['max']}, "
                f"first error {self.first_error or 'none'}>")

    def _repr_html_(self) -> str:
        from chainrule.symbolic.printing import format_number

        d = self._report.decimals
        rows = []
        for s in self._report.steps:
            given = "" if s.given is None else format_number(s.given)
            note = escape(s.message) if s.status != "correct" else ""
            hint = getattr(s, "hint", "")
            if hint and s.status != "correct":
                note += f"<br><small>{escape(hint)}</small>"
            rows.append(
                f'<tr style="background:{_HTML_COLOURS.get(s.status, "#fff")}">'
                f"<td><code>{escape(s.name)}</code></td>"
                f"<td>{escape(s.status.replace('_', ' '))}</td>"
                f"<td>{escape(given)}</td><td>{escape(format_number(s.expected, d))}</td>"
                f"<td>{note}</td></tr>"
            )
        score = self.score
        errors = "".join(f"<li>{escape(e)}</li>" for e in self._report.errors)
        return (
            f'<div class="chainrule-check"><p><b>Problem <code>{escape(self.problem_id)}'
            f"</code></b>{', student ' + escape(self.student) if self.student else ''}: "
            f"{escape(format_number(score['points']))}/{score['max']} "
            f"({score['percent']}%); first error: "
            f"<code>{escape(self.first_error or 'none')}</code></p>"
            + (f"<ul>{errors}</ul>" if errors else "")
            + "<table><thead><tr><th>step</th><th>verdict</th><th>yours</th>"
            "<th>expected</th><th>note</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></div>"
        )


# --- problem sets ----------------------------------------------------------------------------


class ProblemSet:
    """A problem set: every version's problems, its key, and its files and exports."""

    def __init__(self, spec: SetSpec, versions: Mapping[str | None, Sequence[_Problem]],
                 folder: Path | None = None, titles: Mapping[str, str] | None = None) -> None:
        self.spec = spec
        self._versions = {v: list(ps) for v, ps in versions.items()}
        #: The set's folder: where it was read from or last written (None before).
        self.folder = folder
        self._titles = dict(titles or {})
        self._marks: dict[str, Any] = {}

    @classmethod
    def _from_folder(cls, folder: Path) -> ProblemSet:
        from chainrule.export.common import load_set
        from chainrule.problems.spec import SetSpec

        checked = load_set(folder)
        versions: dict[str | None, list[_Problem]] = {}
        for entry in checked.problems:
            versions.setdefault(entry.version, []).append(entry.problem)
        seed = checked.seed if isinstance(checked.seed, int) else 0
        spec = SetSpec(checked.title, seed, max(len(versions), 1), [])
        titles = {e.problem.id: e.title for e in checked.problems}
        made = cls(spec, versions, checked.folder, titles)
        made._marks = {e.problem.id: e.marks for e in checked.problems if e.marks is not None}
        return made

    @property
    def title(self) -> str:
        """The set's title."""
        return self.spec.title

    @property
    def seed(self) -> int:
        """The set's seed: the same spec and seed give byte-identical files."""
        return self.spec.seed

    @property
    def versions(self) -> dict[str | None, list[Problem]]:
        """Version letter (``"A"``, ``"B"``, ...; None for a one-version set) -> problems."""
        return {v: [_wrap(p) for p in ps] for v, ps in self._versions.items()}

    @property
    def problems(self) -> list[Problem]:
        """Every problem of every version, in order."""
        return [_wrap(p) for ps in self._versions.values() for p in ps]

    @property
    def groups(self) -> list[tuple[int, str]]:
        """(position, family) of each question an LMS quiz holds: every version of a
        position is one category (Moodle) or question group (Canvas)."""
        found = {(i, p.family) for ps in self._versions.values()
                 for i, p in enumerate(ps, start=1)}
        return sorted(found)

    @property
    def key(self) -> dict[str, Any]:
        """The answer key: what key.json holds."""
        from chainrule.render.writer import key_data

        return key_data(self.spec, self._versions)

    @_input_errors
    def files(self, *, templates: PathLike | None = None) -> dict[str, str]:
        """File name -> text of the set's folder (questions, solutions, key)."""
        from chainrule.render.writer import set_files

        return set_files(self.spec, self._versions, _templates(templates))

    @_input_errors
    def write(self, folder: PathLike, *, force: bool = False,
              templates: PathLike | None = None) -> Path:
        """Write questions and solutions (Markdown and LaTeX, per version), key.tex and
        key.json into ``folder`` (all or nothing; an existing folder needs ``force``)."""
        from chainrule.io.outputs import check_output
        from chainrule.render.writer import write_set

        path = Path(folder)
        check_output(path, force=force)
        write_set(self.spec, self._versions, path, force=force,
                  templates_dir=_templates(templates))
        self.folder = path
        return path

    @_input_errors
    def to_pdf(self, folder: PathLike, *, force: bool = False,
               templates: PathLike | None = None, timeout: float = 120.0) -> list[Path]:
        """Write the folder and compile questions, solutions and key PDFs (needs TeX Live;
        raises TexNotFoundError, with the .tex files written, when it is missing)."""
        from chainrule.io.outputs import check_output
        from chainrule.render.writer import write_set

        path = Path(folder)
        check_output(path, force=force)
        pdfs = write_set(self.spec, self._versions, path, force=force,
                         templates_dir=_templates(templates), pdf=True, timeout=timeout)
        self.folder = path
        return pdfs

    def _export_set(self, target: Path) -> Any:
        from chainrule.export.common import ProblemSet as ExportSet
        from chainrule.export.common import SetProblem

        entries = []
        for version, problems in self._versions.items():
            for position, p in enumerate(problems, start=1):
                entries.append(SetProblem(p, position, version,
                                          self._titles.get(p.id, p.title),
                                          self._marks.get(p.id)))
        letters = [v for v in self._versions if v is not None]
        return ExportSet(target.parent, self.title, self.seed, letters, entries)

    @_input_errors
    def to_lms(self, target: str, path: PathLike, *, force: bool = False,
               templates: PathLike | None = None, mistakes: int = 3) -> Path:
        """Write the set as an LMS quiz file: ``target`` is moodle, gift, canvas or qti21;
        each value lists up to ``mistakes`` named-mistake values with their feedback."""
        from chainrule.errors import ChainruleError
        from chainrule.export import (
            canvas_package,
            gift_text,
            moodle_xml,
            qti21_package,
            write_output,
        )
        from chainrule.io.outputs import check_file

        builders = {"moodle": moodle_xml, "gift": gift_text, "canvas": canvas_package,
                    "qti21": qti21_package}
        if target not in builders:
            raise ChainruleError(f"no LMS target '{target}': use one of {', '.join(builders)}")
        if not 0 <= mistakes <= 20:
            raise ChainruleError(f"mistakes must be 0 to 20, not {mistakes}")
        out = Path(path)
        check_file(out, force=force)
        data = builders[target](self._export_set(out), _templates(templates), mistakes)
        write_output(out, data, force=force)
        return out

    def lms_notes(self, target: str) -> list[str]:
        """What a teacher must know about this set in ``target`` (a multi-value problem in
        GIFT is one question per value, marks a target cannot hold, ...)."""
        from chainrule.export import export_notes

        return export_notes(self._export_set(self.folder or Path(".") / "quiz"), target)

    def to_moodle(self, path: PathLike, *, force: bool = False,
                  templates: PathLike | None = None, mistakes: int = 3) -> Path:
        """Write a Moodle XML quiz (a category per problem, one version drawn per student)."""
        return self.to_lms("moodle", path, force=force, templates=templates, mistakes=mistakes)

    def to_gift(self, path: PathLike, *, force: bool = False,
                templates: PathLike | None = None, mistakes: int = 3) -> Path:
        """Write a Moodle GIFT file (a multi-value problem is one question per value)."""
        return self.to_lms("gift", path, force=force, templates=templates, mistakes=mistakes)

    def to_canvas(self, path: PathLike, *, force: bool = False,
                  templates: PathLike | None = None, mistakes: int = 3) -> Path:
        """Write a Canvas QTI 1.2 package (.zip; a question group per problem)."""
        return self.to_lms("canvas", path, force=force, templates=templates, mistakes=mistakes)

    def to_qti21(self, path: PathLike, *, force: bool = False,
                 templates: PathLike | None = None, mistakes: int = 3) -> Path:
        """Write a QTI 2.1 package (.zip; Blackboard, D2L Brightspace, Canvas New Quizzes)."""
        return self.to_lms("qti21", path, force=force, templates=templates, mistakes=mistakes)

    def __repr__(self) -> str:
        count = sum(len(ps) for ps in self._versions.values())
        return f"<ProblemSet {self.title!r}: {count} problems, seed {self.seed}>"

    def _repr_markdown_(self) -> str:
        lines = [f"### {self.title}", "", f"Seed {self.seed}.", "",
                 "| version | # | ID | problem |", "| --- | --- | --- | --- |"]
        for version, problems in self._versions.items():
            for i, p in enumerate(problems, start=1):
                lines.append(f"| {version or ''} | {i} | `{p.id}` | {p.title} |")
        return "\n".join(lines) + "\n"


def _templates(folder: PathLike | None) -> str | None:
    return None if folder is None else str(folder)


@_input_errors
def set_spec(
    spec_or_path: PathLike | Mapping[str, Any] | SetSpec,
    *,
    seed: int | None = None,
    versions: int | None = None,
    decimals: int | None = None,
) -> SetSpec:
    """A checked problem-set spec from a spec file, a mapping (as the file would hold) or a
    SetSpec; ``seed``, ``versions`` and ``decimals`` (for every entry) override its own."""
    from chainrule.problems.spec import SetSpec, load_spec, override, spec_from_data

    if isinstance(spec_or_path, SetSpec):
        spec = spec_or_path
    elif isinstance(spec_or_path, (str, Path)):
        spec = load_spec(str(spec_or_path))
    elif isinstance(spec_or_path, Mapping):
        spec = spec_from_data(dict(spec_or_path))
    else:
        raise InputError(f"problem_set: expected a spec file or mapping, got "
                         f"{type(spec_or_path).__name__}")
    return override(spec, seed=seed, versions=versions, decimals=decimals)


@_input_errors
def families_spec(
    families: Sequence[str],
    *,
    count: int = 1,
    options: Mapping[str, Any] | None = None,
    title: str = "Problem set",
    decimals: int = 3,
) -> SetSpec:
    """A spec drawing each family ``count`` times; each option goes to the families that
    have it (an option no family has is an error)."""
    from chainrule.problems.spec import spec_from_options

    if not families:
        raise InputError("name at least one problem family")
    return spec_from_options(list(families), _whole("count", count, 1, 1000), 0,
                             _whole("decimals", decimals, 0, 8), 1, title, dict(options or {}))


@_input_errors
def problem_set(
    spec_or_path: PathLike | Mapping[str, Any] | SetSpec,
    *,
    seed: int | None = None,
    versions: int | None = None,
    decimals: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ProblemSet:
    """Build a problem set from a spec file, a spec mapping (as the file would hold) or a
    SetSpec; ``seed``, ``versions`` and ``decimals`` override the spec's. ``progress(n)``
    hears how many problems are drawn so far.

    A folder that ``write`` or ``chainrule generate`` made is read back instead: every
    problem regenerated from its ID and checked against key.json.
    """
    from chainrule.problems.spec import build_set

    if isinstance(spec_or_path, (str, Path)) and Path(spec_or_path).is_dir():
        if seed is not None or versions is not None or decimals is not None:
            raise InputError("a problem-set folder is read as it is: give no seed, versions "
                             "or decimals")
        return ProblemSet._from_folder(Path(spec_or_path))
    spec = set_spec(spec_or_path, seed=seed, versions=versions, decimals=decimals)
    return ProblemSet(spec, build_set(spec, progress))


@_input_errors
def write_problem_set(
    spec_or_path: PathLike | Mapping[str, Any] | SetSpec,
    folder: PathLike,
    *,
    seed: int | None = None,
    versions: int | None = None,
    decimals: int | None = None,
    force: bool = False,
    templates: PathLike | None = None,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """:func:`problem_set` and :meth:`ProblemSet.write` in one pass that writes as it draws:
    the same files, with memory flat whatever the number of problems."""
    from chainrule.io.outputs import check_output
    from chainrule.render.stream import stream_set

    spec = set_spec(spec_or_path, seed=seed, versions=versions, decimals=decimals)
    path = Path(folder)
    check_output(path, force=force)
    stream_set(spec, path, force=force, templates_dir=_templates(templates), progress=progress)
    return path


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{name}: expected a whole number from {low} to {high}")
    return value


# --- training --------------------------------------------------------------------------------


class TrainingRun:
    """One or more training runs (compared from the same initial weights) and their history."""

    def __init__(self, session: Session, written: bool = False) -> None:
        self._session = session
        self._written = written

    @property
    def session(self) -> Session:
        """The session: settings, dataset, network and per-run configs."""
        return self._session

    @property
    def runs(self) -> list[TrainResult]:
        """Each run: its optimizer, hyper-parameters, final parameters and history."""
        return list(self._session.results)

    @property
    def labels(self) -> list[str]:
        """The runs' names (the optimizers)."""
        return [r.label for r in self._session.results]

    @property
    def history(self) -> dict[str, dict[str, np.ndarray]]:
        """Run label -> column (epoch, steps, lr, loss, batch_loss, accuracy) -> array; row
        k is after epoch k (row 0 before training)."""
        return {r.label: dict(r.history) for r in self._session.results}

    @property
    def final_loss(self) -> dict[str, float]:
        """Run label -> the mean loss after its last epoch."""
        return {r.label: r.final_loss for r in self._session.results}

    @property
    def folder(self) -> Path | None:
        """Where the run's files were written (None if they were not)."""
        return self._session.folder if self._written else None

    def to_dict(self) -> dict[str, Any]:
        """Settings and final figures: ``chainrule train --format json`` (with the folder
        and files when written)."""
        data = self._session.summary()
        if not self._written:
            data.pop("folder")
            data.pop("files")
        return data

    def plot(self) -> Any:
        """Loss (and accuracy) per epoch of every run: a matplotlib Figure."""
        from chainrule.training.plots import loss_figure

        return loss_figure(self._session.results, self._session.net, self._session.data)

    @_input_errors
    def plot_trajectory(self) -> Any:
        """Each run's path over the loss contours (a two-parameter model trained with
        ``trajectory=True``): a matplotlib Figure."""
        from chainrule.training.plots import trajectory_figure

        if any(r.path is None for r in self._session.results):
            raise InputError("no paths recorded: train with trajectory=True")
        return trajectory_figure(self._session.results, self._session.net,
                                 self._session.data)

    @_input_errors
    def write(self, folder: PathLike, *, force: bool = False) -> Path:
        """Write history.csv, loss.png (trajectory.png) and summary.json into ``folder``."""
        from dataclasses import replace

        from chainrule.io.outputs import check_output
        from chainrule.training.session import write_files

        path = Path(folder)
        check_output(path, force=force)
        self._session = replace(self._session, folder=path,
                                spec=replace(self._session.spec, force=force))
        write_files(self._session)
        self._written = True
        return path

    def __repr__(self) -> str:
        losses = ", ".join(f"{k} {v:.4g}" for k, v in self.final_loss.items())
        return f"<TrainingRun {self._session.net.spec} on {self._session.data.name}: {losses}>"

    def _repr_html_(self) -> str:
        rows = []
        for r in self._session.results:
            acc = "" if r.final_accuracy is None else f"{100 * r.final_accuracy:.1f}%"
            status = "" if r.diverged_at is None else f"diverged in epoch {r.diverged_at}"
            rows.append(f"<tr><td>{escape(r.label)}</td><td>{r.hyper['eta']:g}</td>"
                        f"<td>{r.history['loss'][0]:.5g}</td><td>{r.final_loss:.5g}</td>"
                        f"<td>{acc}</td><td>{r.epochs_run}</td><td>{escape(status)}</td></tr>")
        return ("<table><thead><tr><th>optimizer</th><th>eta</th><th>first loss</th>"
                "<th>final loss</th><th>accuracy</th><th>epochs</th><th></th></tr></thead>"
                "<tbody>" + "".join(rows) + "</tbody></table>")


def _number_params(values: Mapping[str, Any] | None, what: str) -> dict[str, float]:
    result: dict[str, float] = {}
    for key, value in (values or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{what} {key}={value}: the value must be a number")
        result[str(key)] = value
    return result


@_input_errors
def train(
    data: str = "xor",
    *,
    net: str | None = None,
    hidden: str = "sigmoid",
    output: str | None = None,
    loss: str | None = None,
    loss_params: Mapping[str, Any] | None = None,
    optimizer: str = "adam",
    compare: Sequence[str] | str | None = None,
    lr: float | None = None,
    hyper: Mapping[str, float] | None = None,
    convention: str | None = None,
    eps_placement: str | None = None,
    schedule: str | None = None,
    schedule_params: Mapping[str, Any] | None = None,
    batching: str | None = None,
    batch_size: int | None = None,
    epochs: int = 1000,
    seed: int = 0,
    init: str = "glorot",
    trajectory: bool = False,
    label: str | None = None,
    samples: int | None = None,
    noise: float | None = None,
    out: PathLike | None = None,
    name: str | None = None,
    force: bool = False,
    write: bool = False,
    on_epoch: Callable[[str, int, float], None] | None = None,
) -> TrainingRun:
    """Train a small network on kernels generated from its derivation.

    ``data`` is a built-in dataset (xor, and, or, blobs, moons, circles, linear, three) or a
    CSV file; ``compare`` lists optimizers trained from the same initial weights. Nothing is
    written unless ``write`` (or ``out``/``name``) is given: then the folder gets
    history.csv, loss.png and summary.json as ``chainrule train`` writes them.
    """
    from chainrule.training.loop import compare as compare_runs
    from chainrule.training.session import Session, SessionSpec, plan, prepare, run_session

    hyper_values = _number_params(hyper, "--hyper")
    if lr is not None:
        hyper_values["eta"] = lr
    options = {}
    if convention is not None:
        options["convention"] = convention
    if eps_placement is not None:
        options["eps_placement"] = eps_placement
    _whole("epochs", epochs, 1, 10_000_000)
    _whole("seed", seed, 0, 2**32 - 1)
    for name_, value in (("samples", samples), ("batch_size", batch_size)):
        if value is not None:
            _whole(name_, value, 1 if name_ == "batch_size" else 2, 1_000_000)
    if compare is None:
        optimizers: tuple[str, ...] = (optimizer,)
    elif isinstance(compare, str):
        optimizers = tuple(compare.split(","))
    elif isinstance(compare, Sequence) and all(isinstance(o, str) for o in compare):
        optimizers = tuple(compare)
    else:
        raise InputError("compare: expected optimizer names, like ['gd', 'adam']")
    if not isinstance(optimizer, str) or not isinstance(data, (str, Path)):
        raise InputError("data and optimizer: expected names (or a CSV file for data)")
    spec = SessionSpec(
        data=str(data), label=label, samples=samples, noise=noise, net=net, hidden=hidden,
        output=output, loss=loss, loss_params=dict(loss_params or {}), optimizers=optimizers,
        hyper=hyper_values, options=options, schedule=schedule,
        schedule_params=dict(schedule_params or {}),
        batching=batching or ("mini" if batch_size is not None else "full"),
        batch_size=batch_size or 32, epochs=epochs, seed=seed, init=init,
        trajectory=trajectory, name=name, folder=None if out is None else str(out),
        force=force,
    )
    if write or out is not None or name is not None:
        session = prepare(spec)
        run_session(session, on_epoch)
        return TrainingRun(session, written=True)
    spec, dataset, network, configs = plan(spec)
    results = compare_runs(network, dataset, configs, on_epoch=on_epoch,
                           record_path=spec.trajectory)
    return TrainingRun(Session(spec, dataset, network, configs, Path(), results))
