"""Templates read the items of dicts (and of derive's step records) straight away where the
dict has no attribute of that name: what they read is what Jinja's own sandbox reads."""

from __future__ import annotations

import jinja2
import jinja2.sandbox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.render.derive import StepRecord, trace_steps
from chainrule.render.environment import _item_names, environment
from chainrule.symbolic.network import Network

_NAMES = ["name", "items", "keys", "get", "copy", "update", "x", "lhs_tex", "complete",
          "_printing", "__class__", "__len__", "missing", "formula_text", "mro"]
_EXPRESSIONS = [
    "{{ d.%s }}", "{{ d.%s is defined }}", "{{ d.%s is callable }}",
    "{% if d.%s is defined %}{{ d.%s }}{% else %}-{% endif %}",
]


def stock(source: str, **context: object) -> str:
    """Jinja's sandbox as it comes: the oracle."""
    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    try:
        return env.from_string(source).render(**context)
    except Exception as exc:  # the error is part of what is compared
        return f"{type(exc).__name__}: {exc}"


def ours(source: str, **context: object) -> str:
    env = environment("text")
    try:
        return env.from_string(source).render(**context)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _plain_value(text: str) -> str:
    return text.split(" at 0x")[0]  # bound methods print their object's address


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.sampled_from(_NAMES), max_size=6, unique=True),
       name=st.sampled_from(_NAMES), form=st.sampled_from(_EXPRESSIONS))
def test_a_dict_reads_as_in_the_stock_sandbox(keys, name, form):
    d = {k: f"<{k}>" for k in keys}
    source = form.replace("%s", name)
    assert _plain_value(ours(source, d=d)) == _plain_value(stock(source, d=d))


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("form", _EXPRESSIONS)
def test_a_step_record_reads_as_in_the_stock_sandbox(name, form):
    trace = Network("2-2-1").gradient_trace
    source = form.replace("%s", name)
    fresh = [trace_steps(trace, lazy=True)[3] for _ in range(2)]  # nothing read before
    assert isinstance(fresh[0], StepRecord)
    assert _plain_value(ours(source, d=fresh[0])) == _plain_value(stock(source, d=fresh[1]))


def test_only_dicts_and_records_that_say_so_are_read_item_first():
    class Loose(dict):  # instances may hold attributes
        _template_items = True

    class Hooked(dict):
        __slots__ = ()
        _template_items = True

        def __getattr__(self, name: str) -> str:
            return "attribute"

    class Unsaid(dict):
        __slots__ = ()

    assert _item_names(dict) is not None and _item_names(StepRecord) is not None
    assert _item_names(Loose) is None and _item_names(Hooked) is None
    assert _item_names(Unsaid) is None and _item_names(list) is None
    hooked = Hooked(x=1)
    assert ours("{{ d.x }}", d=hooked) == stock("{{ d.x }}", d=hooked) == "attribute"
