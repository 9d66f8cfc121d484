"""Reading formula answers: one exact-output row per grammar rule, the ambiguity notes,
and the bounds on hostile input."""

from __future__ import annotations

import pytest
import sympy as sp

from chainrule.check.answers import canonical_name
from chainrule.formulas import FormulaError, Vocabulary, read_formula
from chainrule.symbolic.functions import sigmoid
from chainrule.symbolic.trace import sym

NAMES = ["a", "b", "x1", "x2", "y", "yhat", "z", "z1", "a1", "w13", "w1_12", "delta3",
         "fprime1", "eta", "dL_dw13", "theta_1"]
TEX = {"yhat": r"\hat{y}", "delta3": r"\delta_{3}",
       "dL_dw13": r"\frac{\partial L}{\partial w_{13}}"}
VOCAB = Vocabulary.of(NAMES, TEX, lambda raw: canonical_name(raw, NAMES, {"a3": "yhat"}))
S = {n: sym(n) for n in NAMES}


def read(text: str):
    return read_formula(text, VOCAB)


# (input, SymPy value, notes' text, LaTeX)
ROWS = [
    ("a + b", S["a"] + S["b"], "a + b", "a + b"),
    ("a - b", S["a"] - S["b"], "a − b", "a - b"),
    ("a*b", S["a"] * S["b"], "a b", "a b"),
    ("2*3", sp.Integer(6), "2 · 3", r"2 \cdot 3"),
    ("a/b", S["a"] / S["b"], "a/b", r"\frac{a}{b}"),
    ("2a", 2 * S["a"], "2 a", "2 a"),
    ("-a", -S["a"], "−a", "-a"),
    ("a^2", S["a"] ** 2, "a^2", "a^{2}"),
    ("a**2", S["a"] ** 2, "a^2", "a^{2}"),
    ("a²", S["a"] ** 2, "a^2", "a^{2}"),
    ("(a + b)", S["a"] + S["b"], "(a + b)", r"\left(a + b\right)"),
    ("0.25", sp.Rational(1, 4), "0.25", "0.25"),
    ("2.5e-1", sp.Rational(1, 4), "2.5e-1", "2.5e-1"),
    ("exp(z)", sp.exp(S["z"]), "exp(z)", r"\exp\left(z\right)"),
    ("ln(yhat)", sp.log(S["yhat"]), "ln(ŷ)", r"\ln\left(\hat{y}\right)"),
    ("sqrt(a)", sp.sqrt(S["a"]), "sqrt(a)", r"\sqrt{a}"),
    ("σ(z1)", sigmoid(S["z1"]), "σ(z1)", r"\sigma\left(z_{1}\right)"),
    ("sigmoid(z)", sigmoid(S["z"]), "σ(z)", r"\sigma\left(z\right)"),
    ("tanh(z)", sp.tanh(S["z"]), "tanh(z)", r"\tanh\left(z\right)"),
    ("max(0, z)", sp.Max(0, S["z"]), "max(0, z)", r"\max\left(0, z\right)"),
    ("η a", S["eta"] * S["a"], "η a", r"\eta a"),
    ("δ3", S["delta3"], "δ3", r"\delta_{3}"),
    ("ŷ - y", S["yhat"] - S["y"], "ŷ − y", r"\hat{y} - y"),
    (r"\frac{a}{b}", S["a"] / S["b"], "a/b", r"\frac{a}{b}"),
    (r"\sqrt{a}", sp.sqrt(S["a"]), "sqrt(a)", r"\sqrt{a}"),
    (r"\sigma(z_1)", sigmoid(S["z1"]), "σ(z1)", r"\sigma\left(z_{1}\right)"),
    (r"\delta_1", None, None, None),  # delta1 is not a name here: an error
    (r"\delta_3", S["delta3"], "δ3", r"\delta_{3}"),
    (r"w_{13}", S["w13"], "w13", "w_{13}"),
    (r"w_{1,12}", S["w1_12"], "w1_12", "w_{1,12}"),
    (r"\hat{y}", S["yhat"], "ŷ", r"\hat{y}"),
    (r"\hat y", S["yhat"], "ŷ", r"\hat{y}"),
    (r"a \cdot b", S["a"] * S["b"], "a b", "a b"),
    (r"a \times b", S["a"] * S["b"], "a b", "a b"),
    (r"\left(a + b\right) y", (S["a"] + S["b"]) * S["y"], "(a + b) y",
     r"\left(a + b\right) y"),
    (r"\ln \hat{y}", sp.log(S["yhat"]), "ln(ŷ)", r"\ln\left(\hat{y}\right)"),
    ("2 ln(a)", 2 * sp.log(S["a"]), "2 ln(a)", r"2 \ln\left(a\right)"),
    ("$a+b$", S["a"] + S["b"], "a + b", "a + b"),
    ("sigma'(z1)", S["fprime1"], "f′(z1)", r"f'\left(z_{1}\right)"),
    ("sigma'(z)", sigmoid(S["z"]) * (1 - sigmoid(S["z"])), "σ′(z)",
     r"\sigma'\left(z\right)"),
    ("dL_dw13", S["dL_dw13"], "∂L/∂w13", r"\frac{\partial L}{\partial w_{13}}"),
    ("theta_1", S["theta_1"], "θ_1", r"\theta_{1}"),
    ("a3", S["yhat"], "ŷ", r"\hat{y}"),
    ("e^z", sp.exp(S["z"]), "e^z", "e^{z}"),
    ("pi a", sp.pi * S["a"], "π a", r"\pi a"),
    ("a − b · y", S["a"] - S["b"] * S["y"], "a − b y", "a - b y"),
    ("|a - b|", sp.Abs(S["a"] - S["b"]), "|a − b|", r"\left|a - b\right|"),
    (r"\left|y - \hat{y}\right|", sp.Abs(S["y"] - S["yhat"]), "|y − ŷ|",
     r"\left|y - \hat{y}\right|"),
    ("2*|a| b", 2 * sp.Abs(S["a"]) * S["b"], "2 |a| b", r"2 \left|a\right| b"),
    (r"\log{\left(\hat{y} \right)}", sp.log(S["yhat"]), "ln(ŷ)", r"\ln\left(\hat{y}\right)"),
    (r"1 - \tanh^{2}{\left(z \right)}", 1 - sp.tanh(S["z"]) ** 2, "1 − tanh(z)^2",
     r"1 - \tanh\left(z\right)^{2}"),
    ("tanh^2(z)", sp.tanh(S["z"]) ** 2, "tanh(z)^2", r"\tanh\left(z\right)^{2}"),
]


@pytest.mark.parametrize(("text", "expr", "shown", "tex"), ROWS)
def test_each_rule_reads_exactly(text: str, expr, shown, tex) -> None:
    if expr is None:
        with pytest.raises(FormulaError):
            read(text)
        return
    reading = read(text)
    assert sp.simplify(reading.expr - expr) == 0
    assert reading.text == shown
    assert reading.tex == tex


def test_fprime_latex_uses_the_problem_name() -> None:
    vocab = Vocabulary.of(NAMES, {**TEX, "fprime1": r"f'\left(z_{1}\right)"})
    assert read_formula("fprime1", vocab).tex == r"f'\left(z_{1}\right)"


@pytest.mark.parametrize(("text", "expr", "note"), [
    ("a1(1-a1)", S["a1"] * (1 - S["a1"]),
     "'a1(1-a1)' is read as the product a1 · (1 − a1): a1 is not a function"),
    ("w13a1", S["w13"] * S["a1"],
     "'w13a1' is read as w13 · a1 (names run together); write w13*a1 to say so"),
    ("1/2a", S["a"] / 2,
     "'1/2a' is read as (1/2) a, not as a fraction with a in the denominator"),
    ("e^-z", sp.exp(-S["z"]), "'e^-z' is read as e^(−z)"),
    ("log(a)", sp.log(S["a"]), "log is read as the natural log ln"),
])
def test_ambiguous_input_is_flagged(text: str, expr, note: str) -> None:
    reading = read(text)
    assert sp.simplify(reading.expr - expr) == 0
    assert note in reading.notes


def test_unambiguous_input_has_no_notes() -> None:
    for text in ("w13*delta3*a1*(1-a1)", "1/(2a)", "e^(-z)", "(1/2) a", "ln(yhat)"):
        assert read(text).notes == (), text


def test_echo_in_the_notes_notation() -> None:
    reading = read("w13*delta3*a1*(1-a1)")
    assert reading.text == "w13 δ3 a1 (1 − a1)"
    assert reading.tex == r"w_{13} \delta_{3} a_{1} \left(1 - a_{1}\right)"
    assert reading.as_json()["read_as_tex"] == reading.tex


@pytest.mark.parametrize(("text", "message"), [
    ("foo(a)", "unknown name 'foo'"),
    ("a +", "ends too early"),
    ("a ) b", "column 3: unexpected ')'"),
    ("a # b", "column 3: unexpected '#'"),
    ("1/0", "division by zero"),
    ("0^-1", "division by zero"),
    ("ln", "ends too early"),
    ("max(a)", "max takes 2 arguments"),
    ("", "empty formula"),
    ("delta1", "unknown name 'delta1' (did you mean 'delta3'?)"),
    ("10^99^99", "exponent too large"),
    ("1" * 40, "too long"),
    ("2|a|", "column 2: unexpected '|'"),
])
def test_bad_formulas_are_errors(text: str, message: str) -> None:
    with pytest.raises(FormulaError) as info:
        read(text)
    assert message in str(info.value)


HOSTILE = [
    "2^2^2^2^2^2^2",
    "(" * 10_000 + "a" + ")" * 10_000,
    "a+" * 500_000 + "a",
    "__import__('os')",
    "__import__('os').system('true')",
    "exec('1')",
    "lambda: 1",
    "a" * 1_000_000,
    "-" * 1999 + "a",
    "a^" * 999 + "a",
    "sigma(" * 41 + "a" + ")" * 41,
    "9" * 1999,
    "1e999999",
    "(a+b)^64^64",
    "((a+b)^64)^64",
    "\\frac{" * 45 + "a" + "}{b}" * 45,
    "a\x00b",
    "[" * 41 + "a" + "]" * 41,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_refused(text: str) -> None:
    # How fast: bench/formulas.py (each case well under a second).
    with pytest.raises(FormulaError):
        read(text)


def test_deep_but_legal_formula_reads() -> None:
    reading = read("sigma(" * 39 + "a" + ")" * 39)
    assert reading.text == "σ(" * 39 + "a" + ")" * 39


def test_long_but_legal_formula_reads() -> None:
    text = "+".join(["a*b"] * 400)
    assert len(text) < 2000
    assert read(text).expr == 400 * S["a"] * S["b"]
