"""Network problems drawn many seeds at once are the problems drawn one at a time.

Oracles: NumPy's own SeedSequence, PCG64 and Generator calls (the batched path decodes the
stream itself), the family's draw-one-at-a-time path (``make_problems`` with ``draw_many``
switched off: each candidate drawn with ``rng.random``, ``rng.integers`` and ``rng.choice``,
tested by ``accept`` and ``accept_chain``), and the acceptance rules restated plainly from
the family's docstring on every problem.
"""

import math
import random

import numpy as np
import pytest

from chainrule.problems import base
from chainrule.problems.base import get_family, make_problems
from chainrule.problems.families import network_batch
from chainrule.problems.families.network import NetworkFamily

SEEDS = [0, 1, 2, 7, 2**31, 2**32 - 1, 2**32, 2**32 + 5, 2**40 - 1, 2**63 + 11, 2**64 - 1]


def test_seed_states_are_numpys():
    seeds = SEEDS + [int(s) for s in np.random.default_rng(3).integers(0, 2**62, 500)]
    got = network_batch.seed_states(np.array(seeds, dtype=np.uint64))
    for seed, row in zip(seeds, got, strict=True):
        assert row.tolist() == np.random.SeedSequence(seed).generate_state(4, np.uint64).tolist()


def test_generators_continue_default_rng():
    seeds = [*SEEDS, 2**70, 12345]
    for seed, bits in zip(seeds, network_batch.generators(seeds), strict=True):
        assert (bits.random_raw(40) == np.random.default_rng(seed).bit_generator.random_raw(40)
                ).all()


@pytest.mark.parametrize("ops", [
    [("d", 6, 0), ("u", 1, 2), ("d", 27, 0), ("u", 1, 3)],
    [("d", 6, 0), ("u", 3, 2), ("d", 9, 0)],
    [("d", 3, 0), ("u", 1, 4), ("d", 12, 0), ("u", 1, 3), ("u", 2, 2)],
    [("u", 1, 3), ("d", 3, 0), ("u", 1, 3)],
])
def test_stream_plan_reads_what_generator_calls_return(ops):
    """Decoded numbers equal rng.random / rng.integers / rng.choice called in order."""
    plan = network_batch.stream_plan(ops)
    seeds = [*range(40), 2**33 + 1]
    candidates = 9
    words = np.stack([np.random.default_rng(s).bit_generator.random_raw(
        plan.words_for(candidates)) for s in seeds])
    numbers, redraw = network_batch._decode(plan, ops, words, 0, candidates)
    assert not redraw.any()
    for row, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        for c in range(candidates):
            for o, (kind, n, bound) in enumerate(ops):
                got = numbers[o][row * candidates + c]
                if kind == "d":
                    want = rng.random(n)
                elif bound == 3 and n == 1:  # the learning rate: rng.choice of three
                    want = [[0.1, 0.2, 0.4].index(rng.choice((0.1, 0.2, 0.4)))]
                elif n == 1:  # a one-hot target's class
                    want = [rng.integers(bound)]
                else:
                    want = rng.integers(0, bound, size=n)
                assert np.array_equal(got, want), (seed, c, o)


def test_lemire_redraw_is_detected():
    """A 32-bit half of 0 below 3 would be redrawn by NumPy: the seed is left alone."""
    ops = [("u", 1, 3)]
    plan = network_batch.stream_plan(ops)
    assert plan.words_for(2) == 1
    words = np.array([[np.uint64(7) << np.uint64(32), np.uint64(5)]], dtype=np.uint64)
    _, redraw = network_batch._decode(plan, ops, words, 0, 2)
    assert redraw.tolist() == [True]


def _one_at_a_time(requests):
    saved = NetworkFamily.draw_many
    del NetworkFamily.draw_many
    try:
        return make_problems(requests)
    finally:
        NetworkFamily.draw_many = saved


def _fields(p):
    return (p.id, p.family, p.title, p.seed, p.decimals, p.givens, p.asked, p.exact, p.rounded,
            p.exactly, p.context, p.version, list(p.givens), list(p.exact))


CONFIGS = [
    ("backprop", {}, 3, 150),
    ("backprop", {"net": "2-3-1", "hidden": "tanh", "eta": 0.3}, 3, 40),
    ("backprop", {"net": "2-3-2", "loss": "cce"}, 4, 40),
    ("backprop", {"net": "2-2-2", "loss": "lsce", "lsce_epsilon": 0.2, "hidden": "relu"}, 3, 30),
    ("backprop", {"net": "2-2-1", "loss": "mse", "output": "linear", "hidden": "linear"}, 5, 40),
    ("backprop", {"net": "2-2-1", "loss": "huber", "output": "sigmoid", "huber_delta": 0.5},
     3, 30),
    ("backprop", {"net": "3-2-1", "loss": "hinge", "output": "tanh", "zero_input": True}, 3, 30),
    ("backprop", {"net": "2-2-2", "loss": "hinge", "hinge_labels": "01", "output": "linear"},
     3, 20),
    ("backprop", {"net": "2-2-1", "loss": "mae", "output": "tanh"}, 3, 30),
    ("backprop", {"net": "2-2-2", "loss": "kl"}, 4, 10),
    ("backprop", {"net": "1-1-1"}, 0, 30),
    ("forward", {"net": "3-4-1", "hidden": "relu", "zero_input": True}, 4, 40),
    ("forward", {"net": "2-2-2-1", "hidden": "tanh", "loss": "mse"}, 3, 30),
    ("derivation", {"net": "2-3-2", "loss": "cce", "weight": "w21"}, 3, 15),
    ("derivation", {"net": "2-2-1", "hidden": "tanh", "zero_input": True}, 3, 30),
]


def _seeds(family, raw, count):
    rng = random.Random(f"{family}{raw}")
    return list(range(count // 2)) + [rng.randrange(2**40) for _ in range(count - count // 2)]


@pytest.mark.parametrize("family,raw,decimals,count", CONFIGS)
def test_batched_equals_one_at_a_time(family, raw, decimals, count):
    fam = get_family(family)
    options = fam.parse_options(raw)
    seeds = _seeds(family, raw, count)
    requests = [(fam, s, options, decimals, "A" if s % 3 == 0 else None) for s in seeds]
    batched = make_problems(requests)
    plain = _one_at_a_time(requests)
    assert [_fields(p) for p in batched] == [_fields(p) for p in plain]


def test_mixed_batch_keeps_order_and_counts():
    """Several families, options and decimals in one call; a group the batched path leaves
    (KL targets) and a family without it are drawn one at a time, in the same order."""
    requests = []
    for k, (family, raw, decimals, _) in enumerate([*CONFIGS[:8], CONFIGS[9]]):
        fam = get_family(family)
        requests += [(fam, 1000 + k * 10 + s, fam.parse_options(raw), decimals, None)
                     for s in range(4)]
    gd = get_family("gd_step")
    requests += [(gd, s, gd.parse_options({}), 3, None) for s in range(4)]
    random.Random(5).shuffle(requests)
    before = {k: list(v) for k, v in base.DRAW_COUNTS.items()}
    batched = make_problems(requests)
    middle = {k: list(v) for k, v in base.DRAW_COUNTS.items()}
    plain = _one_at_a_time(requests)
    after = {k: list(v) for k, v in base.DRAW_COUNTS.items()}
    assert [_fields(p) for p in batched] == [_fields(p) for p in plain]
    for name in ("backprop", "gd_step"):
        first = [a - b for a, b in zip(middle[name], before.get(name, [0, 0]), strict=True)]
        second = [a - b for a, b in zip(after[name], middle[name], strict=True)]
        assert first == second


def _tie(value, decimals):
    scaled = abs(value) * 10**decimals
    return abs(scaled - math.floor(scaled) - 0.5) < 0.01


@pytest.mark.parametrize("family,raw,decimals,count", [c for c in CONFIGS if c[0] != "derivation"])
def test_accepted_problems_keep_the_rules(family, raw, decimals, count):
    """The docstring's rules, restated on the problem's own numbers."""
    fam = get_family(family)
    options = fam.parse_options(raw)
    problems = make_problems([(fam, s, options, decimals, None)
                              for s in _seeds(family, raw, count)])
    for p in problems:
        net = p.context["network"]
        d = p.decimals
        for x in net["inputs"]:
            assert p.givens[x] * 10 == round(p.givens[x] * 10)
            assert -1 <= p.givens[x] <= 1
        assert sum(p.givens[x] == 0 for x in net["inputs"]) <= (1 if options["zero_input"]
                                                                else 0)
        for w in net["parameters"]:
            assert p.givens[w] != 0 and -1 <= p.givens[w] <= 1
            assert abs(p.givens[w] * 10 - round(p.givens[w] * 10)) < 1e-9
        layers = net["neurons"]
        for li, ids in enumerate(layers[1:], start=1):
            act = net["hidden"][li - 1] if li < len(layers) - 1 else net["output"]
            for pos, j in enumerate(ids):
                a = p.exact[net["outputs"][pos]] if li == len(layers) - 1 else p.exact[f"a{j}"]
                if act == "sigmoid":
                    assert 0.02 <= a <= 0.98
                if act == "tanh":
                    assert abs(a) <= 0.96
                if act == "relu":
                    assert abs(p.exact[f"z{j}"]) >= 0.05
        assert 0.001 <= abs(p.exact["L"]) < 20
        for name in p.trace.names:
            assert math.isfinite(p.exact[name])
            assert not _tie(p.exact[name], d), (p.id, name)
            if p.trace[name].kind in ("backward", "gradient") and not name.startswith("fprime"):
                assert abs(p.exact[name]) >= 10.0 ** (1 - d) or p.exact[name] == 0


def test_stream_check_agrees_with_this_numpy_and_catches_a_wrong_decoding(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The once-per-process check passes here, and fails (every seed then drawn one at a
    time, the same problems) when the decoding is not what NumPy's generator gives."""
    from chainrule.problems.families import network_batch as nb

    assert nb._check_stream()
    monkeypatch.setattr(nb, "_DOUBLE", nb._DOUBLE * 2)
    assert not nb._check_stream()
    monkeypatch.setattr(nb, "_AGREES", [False])
    family = get_family("backprop")
    options = family.parse_options({"net": "2-2-1"})
    assert nb.draw_batch(family, [1, 2], options, 3) is None
