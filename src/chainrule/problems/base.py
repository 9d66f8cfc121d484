"""Problems and problem families.

A family draws the givens of one variant from a seeded ``numpy.random.Generator`` and builds
its trace (a :class:`Draft`); :func:`make_problems` evaluates many drafts at once (exact and
rounded as a student goes) and returns :class:`Problem` objects that every renderer, the key,
the checker and the LMS exports read. One seed, one problem: never global random state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.io.numbers import check_rate, check_steps, parse_number
from chainrule.problems.ids import decode_id, encode_id
from chainrule.symbolic.printing import format_number, format_rounded, prepare_numbers
from chainrule.symbolic.trace import Trace

__all__ = [
    "FAMILIES",
    "Draft",
    "Family",
    "Option",
    "Problem",
    "family_by_code",
    "get_family",
    "make_problem",
    "make_problems",
    "problem_from_id",
    "register",
]

MAX_TRIES = 2000
DEFAULT_DECIMALS = 3
#: How far (in units of the last decimal asked) every value must stay from a rounding tie,
#: on the exact chain and on the rounded chain before each step is rounded: a calculator
#: showing two more digits than asked then decides the rounding the same way as the key.
TIE_MARGIN = 0.01
#: Kinds of step whose values are whole numbers (counts of cycles, lengths): printed as such.
WHOLE_KINDS = frozenset({"cycle"})


@dataclass(frozen=True)
class Option:
    """A family option: its default, kind and help. ``kind`` is one of
    choice, int, float, bool, str, net (a network spec), list (of choices)."""

    default: Any
    kind: str
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def parse(self, value: Any, where: str) -> Any:
        """The option's value from YAML, the command line or an ID; ChainruleError if bad."""
        if value is None:
            return None
        kind = self.kind
        try:
            if kind == "bool":
                if isinstance(value, bool):
                    return value
                if str(value).lower() in ("true", "yes", "1"):
                    return True
                if str(value).lower() in ("false", "no", "0"):
                    return False
                raise ValueError("expected true or false")
            if kind == "int":
                if isinstance(value, bool):
                    raise ValueError("expected a whole number")
                number = parse_number(value)
                if not float(number).is_integer():
                    raise ValueError("expected a whole number")
                return self._range(int(number))
            if kind == "float":
                return self._range(parse_number(value))
            if kind == "rate":  # a learning rate: finite and > 0
                return self._range(check_rate(parse_number(value)))
            if kind == "choice":
                text = str(value).strip().lower()
                if text not in self.choices:
                    raise ValueError(f"expected one of {', '.join(self.choices)}")
                return text
            if kind == "list":
                items = value if isinstance(value, list) else str(value).split(",")
                result = [str(i).strip().lower() for i in items if str(i).strip()]
                bad = [i for i in result if self.choices and i not in self.choices]
                if bad or not result:
                    raise ValueError(f"expected some of {', '.join(self.choices)}")
                return result
            if kind == "net":
                from chainrule.symbolic.network import parse_hand_spec

                return "-".join(str(n) for n in parse_hand_spec(str(value)))
            return str(value)
        except (ValueError, ChainruleError) as exc:
            raise ChainruleError(f"{where}: {exc}") from None

    def _range(self, number: float) -> Any:
        if self.low is not None and number < self.low:
            raise ValueError(f"must be at least {format_number(self.low)}")
        if self.high is not None and number > self.high:
            raise ValueError(f"must be at most {format_number(self.high)}")
        return number

    def to_text(self, value: Any) -> str:
        if isinstance(value, list):
            return ",".join(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return format_number(value)
        return str(value)


@dataclass
class Draft:
    """One drawn variant before evaluation."""

    trace: Trace | None
    givens: dict[str, float]
    asked: tuple[str, ...]
    title: str
    context: dict[str, Any] = field(default_factory=dict)
    choices: list[str] | None = None
    answer: int | None = None


@dataclass
class Problem:
    """One problem variant: everything a question, solution, key, checker or export needs."""

    id: str
    family: str
    title: str
    seed: int
    options: dict[str, Any]
    decimals: int
    trace: Trace | None
    givens: dict[str, float]
    asked: tuple[str, ...]
    exact: dict[str, float]
    rounded: dict[str, float]
    context: dict[str, Any] = field(default_factory=dict)
    choices: list[str] | None = None
    answer: int | None = None
    version: str | None = None
    #: Steps whose value (from the rounded earlier values) needed no rounding: shown with =.
    exactly: frozenset[str] = frozenset()
    #: Marks the problem is worth (None: one per asked step, one for a choice question).
    marks: int | None = None
    #: The short code students see (set by a problem set; None outside a set).
    code: str | None = None

    @property
    def total_marks(self) -> int:
        """The marks given, or by default one per asked step (one for multiple choice)."""
        if self.marks is not None:
            return self.marks
        return max(1, len(self.asked))

    def number_texts(self) -> dict[str, str]:
        """Every given as given and every step as rounded, as a student writes them."""
        cached: dict[str, str] | None = self.__dict__.get("_number_texts")
        if cached is not None:
            return cached
        texts = {g: format_number(v) for g, v in self.givens.items()}
        if self.trace is not None:
            d, rounded = self.decimals, self.rounded
            for step in self.trace.steps:
                name = step.name
                if step.kind in WHOLE_KINDS:
                    texts[name] = format_number(rounded[name])
                else:
                    texts[name] = format_rounded(rounded[name], d)
        self.__dict__["_number_texts"] = texts
        return texts

    def step_records(
        self, names: Iterable[str] | None = None, *, text: bool = True
    ) -> list[dict[str, Any]]:
        """Each step as formula, numbers put in (student's chain) and value, for templates.

        Formulas are printed once per trace; per problem only numbers are filled in. With
        ``text=False`` the plain-text substitution is left out (LaTeX only).
        """
        trace = self.trace
        if trace is None:
            return []
        rounded, exact = self.rounded, self.exact
        texts = self.number_texts()
        tex_numbers = prepare_numbers(texts, tex=True)
        text_numbers = prepare_numbers(texts, tex=False) if text else None
        asked = set(self.asked)
        records = []
        statics = _static_records(trace)
        for name in names if names is not None else trace.names:
            static = statics[name]
            record = {
                **static,
                "asked": name in asked,
                "substituted_tex": static["_tex_format"].format_map(tex_numbers),
                "value": exact[name],
                "rounded": rounded[name],
                "rounded_text": texts[name],
                "approx": name not in self.exactly,
            }
            if text_numbers is not None:
                record["substituted_text"] = static["_text_format"].format_map(text_numbers)
            records.append(record)
        return records

    @property
    def formula_key(self) -> dict[str, dict[str, str]]:
        """Steps asked as formulas: their formula as text and LaTeX (the key's answer)."""
        return self.context.get("formula_key", {})  # type: ignore[no-any-return]

    @property
    def derivation(self) -> bool:
        """Whether the problem asks for formulas only (numbers are not answers)."""
        return self.context.get("formulas_only") is True

    def givens_records(self) -> list[dict[str, str]]:
        trace = self.trace
        tex = trace.tex if trace is not None else (lambda n: n)
        return [{"name": g, "tex": tex(g), "value": format_number(v)}
                for g, v in self.givens.items()]

    def structure(self) -> dict[str, Any] | None:
        """For a network problem: the network, activations and loss (rebuilds its trace)."""
        net = self.context.get("network")
        if not isinstance(net, dict):
            return None
        return {"net": net["spec"], "hidden": net["hidden"], "output": net["output"],
                "loss": net["loss"], "loss_params": net["loss_params"]}

    def key(self) -> dict[str, Any]:
        """The problem's entry in key.json."""
        entry: dict[str, Any] = {
            "id": self.id,
            "code": self.code,
            "family": self.family,
            "version": self.version,
            "title": self.title,
            "givens": dict(self.givens),
            "decimals": self.decimals,
            "marks": self.total_marks,
            "steps": [
                {"name": n, "value": self.exact[n], "rounded": self.rounded[n],
                 **self.formula_key.get(n, {})}
                for n in self.asked
            ],
        }
        structure = self.structure()
        if structure is not None:
            entry["structure"] = structure
        if self.choices is not None:
            entry["choices"] = list(self.choices)
            entry["answer"] = self.answer
        return entry


def _static_records(trace: Trace) -> dict[str, dict[str, Any]]:
    """The parts of each step's record that do not depend on the numbers (cached per trace)."""
    found = trace.cache.get("records")
    if found is None:
        found = trace.cache["records"] = {}
        for step in trace.steps:
            name = step.name
            found[name] = {
                "name": name,
                "kind": step.kind,
                "description": step.description,
                "lhs_tex": trace.tex(name),
                "formula_tex": trace.formula_tex(name),
                "formula_text": trace.formula_text(name),
                "_tex_format": trace.substitution(name).format_string,
                "_text_format": trace.substitution(name, tex=False).format_string,
            }
    return found  # type: ignore[no-any-return]


class Family:
    """A kind of problem. Subclasses set the class attributes and implement :meth:`draw`."""

    name: str = ""
    code: str = ""
    title: str = ""
    options: ClassVar[dict[str, Option]] = {}
    #: Kinds of step whose value the options alone fix (a smoothed target such as
    #: 0.9 + 0.1/4 = 0.925): a tie there cannot be drawn away, and is rounded half away
    #: from zero as the question says.
    tie_exempt_kinds: ClassVar[tuple[str, ...]] = ()

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        raise NotImplementedError

    def min_decimals(self, options: Mapping[str, Any]) -> int:
        """The fewest decimals that keep this family's hand calculation meaningful.

        A set asking for fewer gets this many for these problems (the question says so).
        """
        return 0

    def accept(self, draft: Draft, exact: Mapping[str, float]) -> bool:
        """Whether a drawn variant is good to work by hand (default: every value finite)."""
        return all(map(math.isfinite, exact.values()))

    def accept_chain(self, draft: Draft, exact: Mapping[str, np.ndarray],
                     raw: Mapping[str, np.ndarray], decimals: int) -> np.ndarray:
        """Which of a batch of variants (one trace) are safe to round by hand: no step within
        :data:`TIE_MARGIN` of a rounding tie, on the exact chain or on the rounded chain
        before it is rounded. ``exact`` and ``raw`` hold one array per step name."""
        assert draft.trace is not None
        names = draft.trace.names
        ok = np.ones(len(exact[names[0]]) if names else 0, dtype=bool)
        for step in draft.trace.steps:
            if step.kind in self.tie_exempt_kinds:
                continue
            ok &= ~near_tie(exact[step.name], decimals) & ~near_tie(raw[step.name], decimals)
        return ok

    def settle(self, rng: np.random.Generator, options: Mapping[str, Any]) -> dict[str, Any]:
        """Options with every pool (a list to draw from, a size left to chance) decided, so
        that all versions of one position of a set ask the same thing."""
        return dict(options)

    def version_options(self, options: Mapping[str, Any], version: int) -> dict[str, Any]:
        """The settled options of one version (the same for every version by default)."""
        return dict(options)

    def parse_options(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Options with defaults filled in; unknown names and bad values are errors."""
        prefix = f"{where}: " if where else ""
        unknown = set(raw) - set(self.options)
        if unknown:
            import difflib

            name = sorted(unknown)[0]
            close = difflib.get_close_matches(name, list(self.options), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            valid = ", ".join(self.options) or "none"
            raise ChainruleError(
                f"{prefix}family '{self.name}' has no option '{name}'{hint}; valid: {valid}"
            )
        result = {}
        for name, option in self.options.items():
            value = option.parse(raw.get(name), f"{prefix}option '{name}'")
            result[name] = option.default if value is None else value
        return result

    def id_options(self, options: Mapping[str, Any]) -> dict[str, str]:
        """The options that differ from the defaults, as ID text."""
        return {
            name: opt.to_text(options[name])
            for name, opt in self.options.items()
            if options.get(name) != opt.default and options.get(name) is not None
        }


def near_tie(values: np.ndarray, decimals: int, margin: float = TIE_MARGIN) -> np.ndarray:
    """Where values lie within ``margin`` units of the last decimal of a rounding tie."""
    scaled = np.abs(np.asarray(values, dtype=np.float64)) * 10.0**decimals
    fraction = scaled - np.floor(scaled)
    return np.abs(fraction - 0.5) < margin


FAMILIES: dict[str, Family] = {}


def register(family_class: type[Family]) -> type[Family]:
    """Class decorator: make a family available by name and by ID code."""
    family = family_class()
    FAMILIES[family.name] = family
    return family_class


def _load_families() -> None:
    from chainrule.problems import catalogue  # noqa: F401  (registers the families)


def get_family(name: str) -> Family:
    """The family called ``name``."""
    _load_families()
    from chainrule.symbolic.registry import lookup

    return lookup("problem family", name, FAMILIES)


def family_by_code(code: str) -> Family:
    _load_families()
    for family in FAMILIES.values():
        if family.code == code:
            return family
    raise ChainruleError(f"no problem family has the ID code '{code}'")


@dataclass
class _Drawn:
    """A drawn, accepted variant with its exact chain and its rounded-as-you-go chain."""

    draft: Draft
    exact: dict[str, float]
    rounded: dict[str, float] = field(default_factory=dict)
    exactly: frozenset[str] = frozenset()


#: Draws made and variants accepted, per family, since the process started (for benchmarks).
DRAW_COUNTS: dict[str, list[int]] = {}


def _draw_batched(
    requests: Sequence[tuple[Family, int, Mapping[str, Any], int, str | None]],
    done: list[_Drawn | None],
) -> list[int]:
    """Draw what families can draw many seeds at a time (``draw_many``: the same variants
    as one draw at a time) into ``done``; the indices of the requests left."""
    groups: dict[tuple[int, str, int], list[int]] = {}
    keys: dict[int, str] = {}
    left = []
    for i, (family, _, options, decimals, _) in enumerate(requests):
        if getattr(family, "draw_many", None) is None:
            left.append(i)
            continue
        text = keys.get(id(options))
        if text is None:
            text = keys[id(options)] = repr(sorted(options.items()))
        groups.setdefault((id(family), text, decimals), []).append(i)
    for (_, _, decimals), members in groups.items():
        family, _, options, _, _ = requests[members[0]]
        found = family.draw_many(  # type: ignore[attr-defined]
            [requests[i][1] for i in members], options, decimals)
        if found is None:
            left += members
            continue
        for i, item in zip(members, found, strict=True):
            if item is None:
                left.append(i)
            else:
                done[i] = item
    return sorted(left)


def _draw_all(
    requests: Sequence[tuple[Family, int, Mapping[str, Any], int, str | None]],
    progress: Callable[[int], None] | None,
) -> list[_Drawn]:
    """Draw every request's variant: each from its own seeded generator, redrawn until the
    family accepts it and its chains are safe to round. Candidates that share a trace and
    decimals are evaluated together (exact, then rounded as a student goes)."""
    from chainrule.numeric.evaluate import evaluate_rounded
    from chainrule.numeric.kernels import compile_trace

    done: list[_Drawn | None] = [None] * len(requests)
    pending = _draw_batched(requests, done)
    if progress is not None and len(pending) < len(requests):
        progress(len(requests) - len(pending))
    rngs = {i: np.random.default_rng(requests[i][1]) for i in pending}
    for _ in range(MAX_TRIES):
        if not pending:
            break
        drafts = {i: requests[i][0].draw(rngs[i], requests[i][2]) for i in pending}
        groups: dict[tuple[int, int], list[int]] = {}
        for i, draft in drafts.items():
            groups.setdefault((id(draft.trace), requests[i][3]), []).append(i)
        rejected = []
        for (_, decimals), members in groups.items():
            family = requests[members[0]][0]
            counts = DRAW_COUNTS.setdefault(family.name, [0, 0])
            counts[0] += len(members)
            trace = drafts[members[0]].trace
            if trace is None:
                for i in members:
                    if requests[i][0].accept(drafts[i], {}):
                        done[i] = _Drawn(drafts[i], {})
                        counts[1] += 1
                    else:
                        rejected.append(i)
                continue
            names = (*trace.givens, *trace.names)
            batch = {g: np.array([drafts[i].givens[g] for i in members], dtype=np.float64)
                     for g in trace.givens}
            values = compile_trace(trace)(batch)
            rows = (np.array([values[n] for n in names]).T + 0.0).tolist()
            good = [row for row, i in enumerate(members)
                    if requests[i][0].accept(drafts[i], dict(zip(names, rows[row],
                                                                 strict=True)))]
            chosen = set(good)
            rejected += [i for row, i in enumerate(members) if row not in chosen]
            if not good:
                continue
            sub = {g: a[good] for g, a in batch.items()}
            raw: dict[str, np.ndarray] = {}
            chain = evaluate_rounded(trace, sub, decimals, raw)
            exact_sub = {n: np.broadcast_to(np.asarray(values[n], dtype=np.float64),
                                            (len(members),))[good] for n in trace.names}
            safe = family.accept_chain(drafts[members[good[0]]], exact_sub, raw, decimals)
            stacked = np.array([chain[n] for n in trace.names])
            same = np.abs(np.array([raw[n] for n in trace.names]) - stacked) <= (
                1e-12 * np.maximum(1.0, np.abs(stacked)))
            table = (np.array([chain[n] for n in names]).T + 0.0).tolist()
            flags = same.T.tolist()
            for k, row in enumerate(good):
                i = members[row]
                if not safe[k]:
                    rejected.append(i)
                    continue
                counts[1] += 1
                done[i] = _Drawn(
                    drafts[i], dict(zip(names, rows[row], strict=True)),
                    dict(zip(names, table[k], strict=True)),
                    frozenset(n for n, ok in zip(trace.names, flags[k], strict=True) if ok),
                )
        if progress is not None:
            progress(len(requests) - len(rejected))
        pending = sorted(rejected)
    if pending:
        family = requests[pending[0]][0]
        raise ChainruleError(f"family '{family.name}': no good variant in {MAX_TRIES} draws")
    return [d for d in done if d is not None]


def make_problems(
    requests: Sequence[tuple[Family, int, Mapping[str, Any], int, str | None]],
    progress: Callable[[int], None] | None = None,
) -> list[Problem]:
    """Problems for (family, seed, options, decimals, version) requests, in order.

    Drafts that share a trace are evaluated together, vectorized, exactly and in the
    student's rounded chain.
    """
    from chainrule.collect import paused

    with paused():
        return _make_problems(requests, progress)


def _make_problems(
    requests: Sequence[tuple[Family, int, Mapping[str, Any], int, str | None]],
    progress: Callable[[int], None] | None,
) -> list[Problem]:
    fewest: dict[tuple[int, int], int] = {}

    def at_least(family: Family, options: Mapping[str, Any], decimals: int) -> int:
        key = (id(family), id(options))
        least = fewest.get(key)
        if least is None:
            least = fewest[key] = family.min_decimals(options)
        return max(decimals, least)

    requests = [
        (family, seed, options, at_least(family, options, decimals), version)
        for family, seed, options, decimals, version in requests
    ]
    drawn = _draw_all(requests, progress)
    problems = []
    # The ID's option text, once per family, options and decimals (options are not changed).
    id_texts: dict[tuple[int, int, int], dict[str, str]] = {}
    for (family, seed, options, decimals, version), item in zip(requests, drawn, strict=True):
        draft = item.draft
        key = (id(family), id(options), decimals)
        id_options = id_texts.get(key)
        if id_options is None:
            id_options = id_texts[key] = family.id_options(options)
            if decimals != DEFAULT_DECIMALS:
                id_options["decimals"] = str(decimals)
        problems.append(Problem(
            id=encode_id(family.code, seed, id_options),
            family=family.name,
            title=draft.title,
            seed=seed,
            options=dict(options),
            decimals=decimals,
            trace=draft.trace,
            givens=dict(draft.givens),
            asked=draft.asked,
            exact=item.exact,
            rounded=item.rounded,
            context=draft.context,
            choices=draft.choices,
            answer=draft.answer,
            version=version,
            exactly=item.exactly,
        ))
    return problems


def make_problem(
    family: str | Family, seed: int, options: Mapping[str, Any] | None = None,
    decimals: int = 3, version: str | None = None,
) -> Problem:
    """One problem of ``family`` from ``seed`` (options are parsed and defaulted)."""
    fam = get_family(family) if isinstance(family, str) else family
    parsed = fam.parse_options(options or {})
    return make_problems([(fam, seed, parsed, decimals, version)])[0]


def problem_from_id(problem_id: str, decimals: int | None = None) -> Problem:
    """Regenerate the problem an ID names (its decimals too, unless ``decimals`` is given)."""
    code, seed, text_options = decode_id(problem_id)
    family = family_by_code(code)
    id_decimals = Option(DEFAULT_DECIMALS, "int", "decimals", low=0, high=8).parse(
        text_options.pop("decimals", None), f"ID {problem_id}: decimals")
    if decimals is None:
        decimals = DEFAULT_DECIMALS if id_decimals is None else id_decimals
    options = family.parse_options(text_options, where=f"ID {problem_id}")
    return make_problems([(family, seed, options, decimals, None)])[0]


def problem_from_values(
    family: str | Family, trace: Trace, givens: Mapping[str, float], decimals: int,
    *, title: str, context: dict[str, Any] | None = None,
) -> Problem:
    """A problem whose givens come from a person (a givens file), not from a seed.

    Its ID is a hash of the givens: it names the problem, but the file regenerates it.
    """
    import hashlib
    import json

    fam = get_family(family) if isinstance(family, str) else family
    kinds = getattr(fam, "kinds", ())
    asked = tuple(s.name for s in trace.steps if not kinds or s.kind in kinds)
    from chainrule.numeric.evaluate import evaluate_rounded

    exact = trace.evaluate(givens)
    check_steps(exact)
    raw: dict[str, np.ndarray] = {}
    chain = evaluate_rounded(trace, {g: np.array([givens[g]]) for g in trace.givens}, decimals,
                             raw)
    rounded = {n: float(v[0]) for n, v in chain.items()}
    exactly = frozenset(n for n in trace.names
                        if abs(raw[n][0] - rounded[n]) <= 1e-12 * max(1.0, abs(rounded[n])))
    digest = hashlib.sha256(
        json.dumps([trace.title, sorted(givens.items()), decimals]).encode()
    ).hexdigest()[:8].upper()
    return Problem(
        id=f"{fam.code}-file-{digest}", family=fam.name, title=title, seed=-1, options={},
        decimals=decimals, trace=trace, givens={g: float(givens[g]) for g in trace.givens},
        asked=asked, exact=dict(exact), rounded=rounded, context=context or {},
        exactly=exactly,
    )
