"""The problem a sheet answers: from a problem JSON, a key.json, or an ID."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chainrule.errors import ChainruleError, InputError
from chainrule.io.inputs import read_json
from chainrule.io.numbers import check_decimals, check_given, check_rate, parse_number
from chainrule.problems.base import Problem, problem_from_id, problem_from_values

__all__ = ["load_record_problem", "problem_from_record"]


def problem_from_record(record: dict[str, Any], where: str) -> Problem:
    """A problem from its JSON record (walkthrough JSON or one entry of key.json)."""
    problem_id = record.get("id")
    givens = record.get("givens")
    decimals = record.get("decimals", 3)
    if not isinstance(problem_id, str) or not isinstance(givens, dict):
        raise InputError("not a problem: expected 'id' and 'givens'", file=where)
    try:
        check_decimals(decimals)
    except ValueError as exc:
        raise InputError(str(exc), file=where, field="decimals") from None
    givens = _numbers(givens, where)
    if "-file-" in problem_id:
        structure = record.get("structure")
        if not isinstance(structure, dict):
            raise InputError("a problem from a givens file needs its 'structure'", file=where)
        return _network_problem(structure, givens, decimals, where)
    problem = problem_from_id(problem_id, decimals)
    if {k: float(v) for k, v in problem.givens.items()} != givens:
        raise InputError(f"its givens do not match problem {problem_id}", file=where,
                         field="givens")
    return problem


def _numbers(givens: dict[str, Any], where: str) -> dict[str, float]:
    """A record's givens as numbers within the range of a hand calculation."""
    result = {}
    for name, value in givens.items():
        try:
            number = parse_number(value)
            result[str(name)] = check_rate(number, name) if name == "eta" else check_given(number)
        except ValueError as exc:
            raise InputError(str(exc), file=where, field=f"givens.{name}") from None
    return result


def _network_problem(
    structure: dict[str, Any], givens: dict[str, Any], decimals: int, where: str
) -> Problem:
    from chainrule.problems.families.network import describe
    from chainrule.symbolic.network import Network, parse_hand_spec

    if not isinstance(structure.get("loss_params", {}), dict):
        raise InputError("expected a mapping such as {delta: 1.0}", file=where,
                         field="structure.loss_params")
    try:
        parse_hand_spec(str(structure["net"]))
        net = Network(structure["net"], hidden=structure.get("hidden", "sigmoid"),
                      output=structure.get("output"), loss=structure.get("loss", "bce"),
                      **structure.get("loss_params", {}))
    except (KeyError, TypeError, ValueError, ChainruleError) as exc:
        raise InputError(f"bad structure: {exc}", file=where, field="structure") from None
    trace = net.trace if "eta" in givens else net.gradient_trace
    trace.meta["network"] = net
    values = {g: float(givens[g]) for g in trace.givens if g in givens}
    missing = [g for g in trace.givens if g not in values]
    if missing:
        raise InputError(f"missing given {missing[0]}", file=where, field="givens")
    return problem_from_values("backprop", trace, values, decimals,
                               title=f"Backpropagation: {net.spec} network",
                               context={"network": describe(net)})


def load_record_problem(source: str, problem_id: str | None = None) -> Problem:
    """A problem from a JSON file (a problem, or a key.json with ``problem_id``) or an ID.

    (Givens YAML files are read by :func:`chainrule.api.load_problem`.)
    """
    path = Path(source)
    if path.is_dir() and (path / "key.json").is_file():
        path, source = path / "key.json", str(path / "key.json")
    if path.suffix.lower() == ".json" or path.exists():
        data = read_json(path, "problem file").data
        if isinstance(data, dict) and isinstance(data.get("problems"), list):
            records = [p for p in data["problems"] if isinstance(p, dict)]
            if problem_id is None:
                if len(records) != 1:
                    raise InputError(f"holds {len(records)} problem"
                                     f"{'' if len(records) == 1 else 's'}: choose one with "
                                     "--problem ID",
                                     file=source)
                return problem_from_record(records[0], source)
            wanted = problem_id.strip()
            for record in records:
                code = record.get("code")
                if record.get("id") == wanted or (
                        isinstance(code, str) and code.upper() == wanted.upper()):
                    problem = problem_from_record(record, source)
                    problem.code = code if isinstance(code, str) else None
                    return problem
            raise InputError(f"has no problem {problem_id}", file=source, field="problems")
        if not isinstance(data, dict):
            raise InputError("not a problem", file=source)
        return problem_from_record(data, source)
    from chainrule.problems.ids import is_short_code

    if is_short_code(source):
        raise InputError(f"'{source}' is a problem set's short code: give the set's key.json "
                         f"with --problem {source}")
    return problem_from_id(source)
