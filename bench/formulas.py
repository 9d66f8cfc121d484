"""Formula answers: time to read hostile and ordinary formulas, and to judge equivalence.

    python3 bench/formulas.py

Every hostile case must be refused, and every case (reading, or reading plus equivalence
with a backprop step) must take well under a second: medians of 5 runs with min-max.
The baseline is reading a plain number with chainrule.io.numbers.parse_number.
"""

from __future__ import annotations

import statistics
import time

from chainrule.check.answers import canonical_name
from chainrule.formulas import FormulaError, Vocabulary, read_formula
from chainrule.formulas.equivalence import equivalent
from chainrule.io.numbers import parse_number
from chainrule.problems.base import make_problem

HOSTILE = {
    "2^2^2^2^2^2^2": "2^2^2^2^2^2^2",
    "10,000-deep (": "(" * 10_000 + "x1" + ")" * 10_000,
    "1 MB formula": "x1+" * 350_000 + "x1",
    "__import__('os')": "__import__('os')",
    "1990 minus signs": "-" * 1990 + "x1",
    "600 nested powers": "x1^" * 600 + "x1",
    "((a+b)^64)^64": "((x1+x2)^64)^64",
    "1e999999": "1e999999",
}
ORDINARY = {
    "delta1 (steps)": ("delta1", "w13*delta3*a1*(1-a1)"),
    "delta1 (expanded)": ("delta1", "w13*(yhat - y)*sigma(z1)*(1 - sigma(z1))"),
    "delta1 (wrong)": ("delta1", "w13*delta3*a1"),
    "dL_dw11 in givens": ("dL_dw11", "w13*(sigma(w13*sigma(w11*x1+w21*x2+b1)+w23*sigma(w12*x1"
                                     "+w22*x2+b2)+b3)-y)*sigma(w11*x1+w21*x2+b1)*(1-sigma(w11*x1"
                                     "+w21*x2+b1))*x1"),
    "L (BCE)": ("L", "-(y ln(yhat) + (1-y) ln(1-yhat))"),
}

#: Wrong formulas: the whole catalogue of mistakes is tried on each.
WRONG = {
    "delta1": "w13*delta3*a1*(1+a1)",
    "L": "-(y*ln(yhat) + (1-y)*ln(yhat))",
    "w11_new": "w11 + 2*eta*dL_dw11",
    "dL_dw11": "w13*(sigma(w13*sigma(w11*x1+w21*x2+b1)+w23*sigma(w12*x1+w22*x2+b2)+b3)+y)"
               "*sigma(w11*x1+w21*x2+b1)*(1-sigma(w11*x1+w21*x2+b1))*x1",
}


def timed(fn, runs: int = 5) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    problem = make_problem("backprop", 1, {"eta": 0.1})
    trace = problem.trace
    names = [*trace.givens, *trace.names]
    vocab = Vocabulary.of(names, trace.tex_names,
                          lambda raw: canonical_name(raw, names, {"a3": "yhat"}))
    read_formula("x1", vocab)  # build the parser once
    base = timed(lambda: parse_number("0.748"), 1000)[0]
    print(f"baseline parse_number('0.748'): {base * 1e6:.1f} us")
    print(f"{'hostile case':<22} {'median ms':>10} {'min-max ms':>16}  result")
    worst = 0.0

    for label, text in HOSTILE.items():
        def attempt(text: str = text) -> str:
            try:
                read_formula(text, vocab)
            except FormulaError as exc:
                return f"refused: {exc}"
            return "READ (should be refused)"
        outcome = attempt()
        med, lo, hi = timed(attempt)
        worst = max(worst, hi)
        print(f"{label:<22} {med * 1e3:>10.2f} {lo * 1e3:>7.2f}-{hi * 1e3:<8.2f}  {outcome[:60]}")
    print(f"{'reading + equivalence':<22} {'median ms':>10} {'min-max ms':>16}  verdict")
    for label, (step, text) in ORDINARY.items():
        def judge(step: str = step, text: str = text) -> str:
            reading = read_formula(text, vocab)
            return str(equivalent(reading.expr, trace[step].formula, trace, problem.givens,
                                  step=step))
        outcome = judge()
        med, lo, hi = timed(judge)
        worst = max(worst, hi)
        print(f"{label:<22} {med * 1e3:>10.2f} {lo * 1e3:>7.2f}-{hi * 1e3:<8.2f}  {outcome[:60]}")
    print(f"{'judge a wrong formula':<22} {'median ms':>10} {'min-max ms':>16}  verdict")
    from chainrule.check.answers import parse_answers
    from chainrule.check.judge import judge as judge_sheet

    for step, text in WRONG.items():
        sheet = parse_answers([(step, text, 1)], names, {"a3": "yhat"}, "bench",
                              trace.tex_names)

        def whole(step: str = step, sheet: object = sheet) -> str:
            result = next(s for s in judge_sheet(problem, sheet).steps if s.name == step)
            return f"{result.status} {result.mistake or ''}"
        outcome = whole()
        med, lo, hi = timed(whole)
        worst = max(worst, hi)
        print(f"{step:<22} {med * 1e3:>10.2f} {lo * 1e3:>7.2f}-{hi * 1e3:<8.2f}  {outcome[:60]}")
    print(f"slowest single run: {worst * 1e3:.1f} ms (target: under 1000 ms)")


if __name__ == "__main__":
    main()
