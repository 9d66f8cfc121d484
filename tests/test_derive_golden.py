"""``chainrule derive`` prints exactly what main printed before derive was made faster.

The pinned outputs (tests/data/derive-golden, see tests/derive_cases.py for the commit that
wrote them) cover loss derivations, networks from 2-2-1 to 64-64-10, every output format,
activations, losses with parameters, givens files, updates and ``--chain``.
"""

from __future__ import annotations

import json

import pytest

from derive_cases import CASES, GOLDEN, SLOW, digest, run

DIGESTS = json.loads((GOLDEN / "digests.json").read_text(encoding="utf-8"))


def test_every_case_is_pinned():
    assert set(DIGESTS) == set(CASES)


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CASES])
def test_derive_output_is_byte_identical(name):
    code, out = run(CASES[name])
    assert code == 0, out
    whole = GOLDEN / f"{name}.out"
    if whole.exists():
        assert out == whole.read_text(encoding="utf-8")
    assert digest(out) == DIGESTS[name]
