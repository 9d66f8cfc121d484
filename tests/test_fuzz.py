"""Fuzzing every reader and every command's options (hypothesis): random and mutated input
gives a result or one InputError / one-line error with exit code 2, never a traceback.

The quick part runs by default; the ``slow`` part runs many more examples."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chainrule.cli import main
from chainrule.errors import ChainruleError
from chainrule.io.inputs import answer_rows, parse_csv, parse_json, parse_yaml, read_text
from chainrule.io.numbers import parse_number

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTES = EXAMPLES / "notes-2-2-1.yaml"
VALID = [NOTES.read_text(encoding="utf-8"), (EXAMPLES / "exam.yaml").read_text(encoding="utf-8"),
         (EXAMPLES / "notes-answers.txt").read_text(encoding="utf-8"),
         '{"z1": 0.3, "a1": 0.574}', "id,z1,a1\nann,0.3,0.574\n"]
QUICK = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HEAVY = settings(max_examples=300, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid example with a few characters replaced, inserted, deleted or duplicated."""
    text = draw(st.sampled_from(VALID))
    specials = st.sampled_from([*"[]{}&*!|>:-,'\"#%\n\t\\\x00", "&a ", "*a", "1e400", "nan",
                                ".inf", "9" * 50])
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "repeat"]))
        piece = draw(st.one_of(specials, st.text(max_size=5)))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif action == "replace":
            text = text[:at] + piece + text[at + len(piece):]
        else:
            text = text[:at] + text[at:at + 40] * draw(st.integers(2, 30)) + text[at:]
    return text


TEXTS = st.one_of(st.text(max_size=300), mutated())


def readers_accept_or_refuse(text: str) -> None:
    for read in (lambda: parse_yaml(text, "f.yaml"), lambda: parse_yaml(text, "f.yaml",
                                                                        aliases=True),
                 lambda: parse_json(text, "f.json"), lambda: parse_csv(text, "f.csv")):
        try:
            read()
        except ChainruleError as exc:
            assert "\n" not in str(exc)
    for name in ("a.json", "a.yaml", "a.csv", "a.txt"):
        try:
            answer_rows(text, name)
        except ChainruleError as exc:
            assert str(exc).startswith(name) and "\n" not in str(exc)


@QUICK
@given(TEXTS)
def test_every_reader_accepts_or_refuses_in_one_line(text):
    readers_accept_or_refuse(text)


@pytest.mark.slow
@HEAVY
@given(TEXTS)
def test_every_reader_accepts_or_refuses_in_one_line_heavy(text):
    readers_accept_or_refuse(text)


@QUICK
@given(st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.booleans(), st.none(),
                 st.lists(st.integers(), max_size=2)))
def test_a_number_is_finite_or_a_value_error(value):
    try:
        number = parse_number(value)
    except ValueError as exc:
        assert str(exc)
    else:
        assert number == number and abs(number) != float("inf")


@QUICK
@given(st.binary(max_size=400))
def test_any_bytes_read_as_text_or_an_input_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.txt"
        path.write_bytes(data)
        try:
            text = read_text(path)
        except ChainruleError as exc:
            assert "\n" not in str(exc)
        else:
            assert "\x00" not in text


# --- commands ------------------------------------------------------------------------------

NETS = st.one_of(st.sampled_from(["2-2-1", "2-3-2", "1-1", "3-4-4-2", "64-64-64-10", "2-x-1",
                                  "0-1", "2", "99-99", "2-2-2-2-2-2-2-2-2-1", "5-5-5-5"]),
                 st.text(max_size=12))
NUMBERS = st.one_of(st.sampled_from(["0", "-1", "1e30", "inf", "nan", "-0", "1e-300", "0.1",
                                     "1/0", "abc", "1e308"]),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))
NAMES = st.one_of(st.sampled_from(["sigmoid", "tanh", "relu", "linear", "softmax", "bce",
                                   "mse", "huber", "cce", "kl", "adam", "sgd", "momentum"]),
                  st.text(max_size=10))
PARAMS = st.tuples(st.sampled_from(["delta", "beta", "gamma", "eps", "half", "x", ""]),
                   NUMBERS).map(lambda kv: f"{kv[0]}={kv[1]}")


def option(flag: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), values.map(lambda v: [flag, v]))


def command_lines() -> st.SearchStrategy[list[str]]:
    walkthrough = st.tuples(
        st.just(["walkthrough"]), option("--net", NETS), option("--hidden", NAMES),
        option("--eta", NUMBERS), option("--decimals", NUMBERS), option("--seed", NUMBERS),
        option("--iterations", st.sampled_from(["1", "3", "0", "1000"])),
        option("--id", st.one_of(st.sampled_from(["bp-00000005", "lv-00000005~loss:mse",
                                                  "co-0000000Z", "bp-file-ABCDEF12",
                                                  "zz-00000000", "bp-00000005~net:99-99"]),
                                 st.text(max_size=20))),
        option("--format", st.sampled_from(["md", "tex", "json", "pdf"])))
    derive = st.tuples(
        st.just(["derive"]), st.one_of(st.just([]), NAMES.map(lambda n: [n])),
        option("--net", NETS), option("--param", PARAMS), option("--eta", NUMBERS),
        option("--decimals", NUMBERS), option("--chain", st.sampled_from(["w11", "b1", "x"])),
        option("--at", st.just(str(NOTES))))
    generate = st.tuples(
        st.just(["generate", "--out", "o"]),
        st.lists(st.sampled_from(["backprop", "forward", "concept", "loss_value", "cost",
                                  "gd_step", "lr_schedule", "optimizer_steps",
                                  "loss_derivative", "nope"]), min_size=1, max_size=2)
        .map(lambda fs: [a for f in fs for a in ("--family", f)]),
        option("--count", st.sampled_from(["1", "2", "0", "1000", "-1", "x"])),
        option("--versions", st.sampled_from(["1", "2", "26", "27", "0"])),
        option("--option", st.tuples(st.sampled_from(["net", "eta", "loss", "hidden", "steps"]),
                                     st.one_of(NETS, NUMBERS, NAMES))
               .map(lambda kv: f"{kv[0]}={kv[1]}")),
        option("--decimals", NUMBERS), option("--seed", NUMBERS),
        option("--title", st.text(max_size=30)))
    train = st.tuples(
        st.just(["train", "--out", "o", "--epochs"]), st.sampled_from([["2"], ["1"], ["0"]]),
        option("--data", st.sampled_from(["xor", "moons", "three", "linear", "nope",
                                          "missing.csv"])),
        option("--net", NETS), option("--optimizer", NAMES), option("--lr", NUMBERS),
        option("--hyper", PARAMS), option("--schedule", st.sampled_from(
            ["step", "exponential", "inverse_time", "cosine_restarts", "nope"])),
        option("--schedule-param", PARAMS),
        option("--batch-size", st.sampled_from(["1", "0", "1000000"])),
        option("--samples", st.sampled_from(["2", "10", "1"])))
    check = st.tuples(
        st.just(["check"]), st.sampled_from([[str(NOTES)], ["bp-00000005"], ["nope"],
                                             ["lv-00000005"]]),
        st.just(["answers.txt"]), st.sampled_from([[], ["--batch"], ["--format", "json"]]))
    return st.one_of(walkthrough, derive, generate, train, check).map(
        lambda parts: [a for part in parts for a in part])


def run_command(args: list[str], answers: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            Path("answers.txt").write_text(answers, encoding="utf-8")
            before = sorted(os.listdir("."))
            result = CliRunner().invoke(main, args)
            after = sorted(n for n in os.listdir(".") if n != "o")
        finally:
            os.chdir(cwd)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__}") from result.exception
    assert result.exit_code in (0, 2), (args, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
    assert after == before, args


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command_lines(), TEXTS)
def test_every_command_with_random_options_exits_0_or_2_in_one_line(args, answers):
    assume("--format" not in args or args[args.index("--format") + 1] != "pdf")
    run_command(args, answers)


@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command_lines(), TEXTS)
def test_every_command_with_random_options_exits_0_or_2_in_one_line_heavy(args, answers):
    run_command(args, answers)
