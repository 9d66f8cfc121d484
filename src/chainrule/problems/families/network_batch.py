"""Network problems of many seeds drawn at once, the same problems as one draw at a time.

:meth:`NetworkFamily.draw` takes a variant's numbers from its seed's generator (a fresh
``numpy.random.default_rng(seed)``) with ``rng.random((3, n))`` for one-decimal values,
``rng.integers`` or ``rng.choice`` for targets and the learning rate, and a rejected variant
is redrawn from the same generator. Those calls read the generator's PCG64 stream in a fixed
pattern: a float takes one 64-bit word (``(word >> 11) * 2**-53``); a bounded integer takes
a 32-bit half (the low half of a new word, the high half kept for the next one) through
Lemire's method, which redraws only when ``(u32 * n) mod 2**32`` falls below
``(2**32 - n) mod n``. Here each seed's stream is read in bulk (``random_raw``) and decoded
into the numbers of many candidates at once; the candidates of all seeds are evaluated and
tested together with NumPy, and each seed keeps its first candidate that passes, as the draw
one at a time would. A seed whose stream would redraw an integer, or whose values reach a
case this path does not restate (a rounding tie that needs exact arithmetic), is left to the
draw one at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import compress
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.numeric.evaluate import _step_function, round_array
from chainrule.numeric.kernels import compile_trace
from chainrule.problems.base import DRAW_COUNTS, MAX_TRIES, TIE_MARGIN, _Drawn
from chainrule.problems.families.network import _ETAS

if TYPE_CHECKING:
    from chainrule.problems.families.network import NetworkFamily

__all__ = ["draw_batch", "stream_plan"]

#: Candidates drawn per seed in the first block (about twice the draws a 2-2-1 problem
#: takes); later blocks double, for the seeds still without a variant.
FIRST_BLOCK = 16
_DOUBLE = 1.0 / 9007199254740992.0
_LOW = np.uint64(0xFFFFFFFF)


class _Plan:
    """Where in a seed's stream each number of each candidate comes from."""

    def __init__(self, ops: list[tuple[str, int, int]]) -> None:
        self.ops = ops  # (kind, count, bound): "d" floats, or "u" integers below bound
        self.words: list[int] = []  # per candidate: the word index it starts at
        self.index: dict[int, list[np.ndarray]] = {}
        self._state = (0, False, -1)  # next word, a high half kept, that half's word

    def extend(self, candidates: int) -> None:
        """Lay out the numbers of candidates up to ``candidates``."""
        word, kept, kept_word = self._state
        for c in range(len(self.words), candidates):
            self.words.append(word)
            parts = []
            for kind, count, _ in self.ops:
                if kind == "d":
                    parts.append(np.arange(word, word + count, dtype=np.int64) * 2)
                    word += count
                    continue
                slots = []
                for _ in range(count):
                    if kept:  # the high half of the word drawn for the last integer
                        slots.append(kept_word * 2 + 1)
                        kept = False
                    else:
                        slots.append(word * 2)
                        kept, kept_word = True, word
                        word += 1
                parts.append(np.array(slots, dtype=np.int64))
            self.index[c] = parts
        self._state = (word, kept, kept_word)

    def words_for(self, candidates: int) -> int:
        self.extend(candidates)
        return self._state[0]


_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_M32 = 0xFFFFFFFF


def _hash_constants() -> tuple[list[int], list[int]]:
    """The multipliers SeedSequence's hashmix uses, call by call (they depend on no data)."""
    mixing, const = [], _INIT_A
    for _ in range(4 + 12):
        mixing.append(const)
        const = const * _MULT_A & _M32
    state, const = [], _INIT_B
    for _ in range(8):
        state.append(const)
        const = const * _MULT_B & _M32
    return mixing, state


_MIXING, _STATE = _hash_constants()


def seed_states(seeds: np.ndarray) -> np.ndarray:
    """``SeedSequence(seed).generate_state(4, np.uint64)`` of seeds in [0, 2**64), at once."""
    u32 = np.uint32

    def hashmix(value: Any, k: int) -> Any:
        const = _MIXING[k]
        value = (value ^ u32(const)) * u32(const * _MULT_A & _M32)
        return value ^ (value >> u32(16))

    def mix(x: Any, y: Any) -> Any:
        result = u32(_MIX_L) * x - u32(_MIX_R) * y
        return result ^ (result >> u32(16))

    seeds = np.asarray(seeds, dtype=np.uint64)
    words = [(seeds & np.uint64(_M32)).astype(u32), (seeds >> np.uint64(32)).astype(u32)]
    zero = np.zeros_like(words[0])
    pool = [hashmix(w, k) for k, w in enumerate((*words, zero, zero))]
    k = 4
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src], k))
                k += 1
    state = []
    for i in range(8):
        const = _STATE[i]
        value = (pool[i % 4] ^ u32(const)) * u32(const * _MULT_B & _M32)
        state.append((value ^ (value >> u32(16))).astype(np.uint64))
    return np.stack([state[2 * i] | state[2 * i + 1] << np.uint64(32) for i in range(4)],
                    axis=1)


class _Seeded(np.random.bit_generator.ISeedSequence):
    """A seed sequence whose state is already generated (by :func:`seed_states`)."""

    def __init__(self, state: np.ndarray) -> None:
        self.state = state

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        assert n_words == 4 and np.dtype(dtype) == np.uint64
        return self.state


def generators(seeds: list[int]) -> list[np.random.PCG64]:
    """``np.random.default_rng(seed).bit_generator`` of each seed (seeded at once)."""
    plain = [type(s) is int and 0 <= s < 2**64 for s in seeds]
    states = seed_states(np.array([s if ok else 0 for s, ok in zip(seeds, plain, strict=True)],
                                  dtype=np.uint64))
    made = []
    for seed, ok, state in zip(seeds, plain, states, strict=True):
        source: Any = _Seeded(state) if ok else seed
        made.append(np.random.PCG64(source))
    return made


def stream_plan(ops: list[tuple[str, int, int]]) -> _Plan:
    """The layout of ``ops`` (per candidate, in order: ``("d", n, 0)`` for ``rng.random(n)``,
    ``("u", n, bound)`` for ``n`` integers below ``bound``) in a PCG64 stream."""
    return _Plan(ops)


def _ops(family: NetworkFamily, net: Any, trace: Any,
         options: Mapping[str, Any]) -> tuple[list[tuple[str, int, int]], str] | None:
    """The generator calls of one draw, and how targets are made of them (None: not here)."""
    k, loss, out = net.n_outputs, net.loss.key, net.output.key
    ops = [("d", 3 * len(net.inputs), 0)]
    if loss in ("cce", "lsce"):
        ops.append(("u", 1, k))
        how = "onehot"
    elif loss == "kl":
        return None
    elif loss == "bce" or (out == "sigmoid" and loss in ("mse", "mae", "huber")):
        ops.append(("u", k, 2))
        how = "bits"
    elif loss == "hinge":
        ops.append(("u", k, 2))
        how = "hinge01" if net.loss.params["labels"] == "01" else "hinge"
    else:
        ops.append(("d", 3 * k, 0))
        how = "tenths"
    ops.append(("d", 3 * len(net.parameters), 0))
    if "eta" in trace.givens and options["eta"] is None:
        ops.append(("u", 1, 3))
    return ops, how


def _tenths(u: np.ndarray, zero_ok: bool = False) -> np.ndarray:
    """``network._tenths`` of uniforms ``u`` of shape (candidates, 3, n)."""
    values = (np.floor(u[:, 0] * 10) + 1) * np.where(u[:, 1] < 0.5, -1.0, 1.0) / 10
    if zero_ok:
        values = np.where(u[:, 2] < 0.15, 0.0, values)
    return values


def _decode(plan: _Plan, ops: list[tuple[str, int, int]], words: np.ndarray,
            first: int, last: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Each op's numbers for candidates first..last-1 of every seed (rows of ``words``), and
    which seeds' integers would have been redrawn (Lemire's rejection)."""
    seeds = words.shape[0]
    count = last - first
    redraw = np.zeros(seeds, dtype=bool)
    result = []
    for o, (kind, n, bound) in enumerate(ops):
        index = np.stack([plan.index[c][o] for c in range(first, last)])  # (count, n)
        picked = np.take(words, index // 2, axis=1)
        if kind == "d":
            numbers = (picked >> np.uint64(11)).astype(np.float64) * _DOUBLE
        else:
            halves = (picked >> ((index & 1) * 32).astype(np.uint64)) & _LOW
            product = halves * np.uint64(bound)
            threshold = (2**32 - bound) % bound
            if threshold:
                redraw |= ((product & _LOW) < np.uint64(threshold)).any(axis=(1, 2))
            numbers = (product >> np.uint64(32)).astype(np.int64)
        result.append(numbers.reshape(seeds * count, n))
    return result, redraw


def _near_tie(values: np.ndarray, decimals: int) -> np.ndarray:
    scaled = np.abs(values) * 10.0**decimals
    return np.abs(scaled - np.floor(scaled) - 0.5) < TIE_MARGIN


def _accept(family: NetworkFamily, net: Any, trace: Any, exact: dict[str, np.ndarray],
            givens: dict[str, np.ndarray]) -> np.ndarray:
    """:meth:`NetworkFamily.accept` over a batch (every step an array)."""
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.ones(len(next(iter(givens.values()))), dtype=bool)
        for values in (*givens.values(), *exact.values()):
            ok &= np.isfinite(values)
        ok &= sum((givens[x] == 0).astype(np.int64) for x in net.inputs) <= 1
        for layer in range(1, len(net.layers)):
            act = net.activation_of(layer).key
            last = layer == len(net.layers) - 1
            for pos, j in enumerate(net.neurons[layer]):
                z = exact[f"z{j}"]
                a = exact[net.outputs[pos]] if last else exact[f"a{j}"]
                if act == "sigmoid":
                    ok &= (a >= 0.02) & (a <= 0.98)
                elif act == "tanh":
                    ok &= ~(np.abs(a) > 0.96)
                elif act == "relu":
                    ok &= ~(np.abs(z) < 0.05)
            if act == "relu":
                ok &= np.any([exact[f"z{j}"] > 0 for j in net.neurons[layer]], axis=0)
        outputs = np.array([exact[o] for o in net.outputs])
        if net.output.vector:
            ok &= ~((outputs.max(axis=0) - outputs.min(axis=0) < 0.05)
                    | (outputs.min(axis=0) < 0.02))
        if "L" in exact:
            ok &= (np.abs(exact["L"]) >= 0.001) & (np.abs(exact["L"]) < 20)
        for n in trace.names:
            if n.startswith("delta"):
                fprime = exact.get("fprime" + n[len("delta"):])
                small = np.abs(exact[n]) < 0.002
                ok &= ~small if fprime is None else ~(small & (fprime != 0))
        loss = net.loss.key
        for k, out in enumerate(net.outputs):
            y, p = givens[net.targets[k]], exact[out]
            if loss == "hinge":
                ok &= ~(np.abs(1 - y * p) < 0.05)
            if loss in ("mae", "huber"):
                ok &= ~(np.abs(y - p) < 0.05)
            if loss == "huber":
                ok &= ~(np.abs(np.abs(y - p) - float(net.loss.params["delta"])) < 0.05)
    return ok


def _chain(family: NetworkFamily, net: Any, trace: Any, givens: dict[str, np.ndarray],
           exact: dict[str, np.ndarray], decimals: int, zero_input: bool
           ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The rounded chain of a batch as :func:`evaluate_rounded` gives it, where it needs no
    exact arithmetic; which candidates :meth:`NetworkFamily.accept_chain` keeps; and which
    need the exact arithmetic this path leaves out (a tie within a hair that the margin of
    ``accept_chain`` does not already reject)."""
    current = dict(givens)
    raw: dict[str, np.ndarray] = {}
    ok = np.ones(len(next(iter(givens.values()))), dtype=bool)
    hair = np.zeros_like(ok)
    exempt = family.tie_exempt_kinds
    smallest = 10.0 ** (1 - decimals)
    zero_possible = any(a.key == "relu" for a in net.hidden) or zero_input
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        for step in trace.steps:
            name = step.name
            fn = _step_function(trace, name)
            value = np.asarray(fn(*[current[d] for d in step.dependencies]), dtype=np.float64)
            value = np.broadcast_to(value, ok.shape)
            rounded, near = round_array(value, decimals)
            tie = _near_tie(value, decimals)
            hair |= near & ~tie
            if step.kind not in exempt:
                ok &= ~_near_tie(exact[name], decimals) & ~tie
            else:
                hair |= near
            if step.kind in ("backward", "gradient") and not name.startswith("fprime"):
                size, before = np.abs(exact[name]), np.abs(value)
                good = (size >= smallest) & (before >= smallest)
                if zero_possible:
                    good |= (size == 0) & (before == 0)
                ok &= good
            current[name] = rounded
            raw[name] = value
    return ok, hair, current, raw


class _Config:
    """What every seed of one family, options and decimals shares."""

    def __init__(self, family: NetworkFamily, options: Mapping[str, Any]) -> None:
        self.net = net = family.network(options)
        self.trace = trace = family.trace_of(net)
        found = _ops(family, net, trace, options)
        self.supported = found is not None
        if found is None:
            return
        self.ops, self.how = found
        self.plan = stream_plan(self.ops)
        self.zero_input = bool(options.get("zero_input"))
        self.eta = options.get("eta")
        self.zero_input_context = self.zero_input


def _givens(config: _Config, numbers: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The givens of a block of candidates, as the draw one at a time makes them."""
    net, trace = config.net, config.trace
    size = numbers[0].shape[0]
    n_in, n_p, k = len(net.inputs), len(net.parameters), net.n_outputs
    values: dict[str, np.ndarray] = {}
    xs = _tenths(numbers[0].reshape(size, 3, n_in), config.zero_input)
    values.update({name: xs[:, i] for i, name in enumerate(net.inputs)})
    drawn = numbers[1]
    if config.how == "onehot":
        targets = (drawn[:, :1] == np.arange(k)).astype(np.float64)
    elif config.how == "bits":
        targets = drawn.astype(np.float64)
    elif config.how in ("hinge", "hinge01"):
        targets = np.array([-1.0, 1.0])[drawn]
        if config.how == "hinge01":
            targets = (targets + 1) / 2
    else:
        targets = _tenths(drawn.reshape(size, 3, k))
    values.update({name: targets[:, i] for i, name in enumerate(net.targets)})
    params = _tenths(numbers[2].reshape(size, 3, n_p))
    values.update({name: params[:, i] for i, name in enumerate(net.parameters)})
    if "eta" in trace.givens:
        if config.eta is not None:
            values["eta"] = np.full(size, float(config.eta))
        else:
            values["eta"] = np.array((0.1, 0.2, 0.4))[numbers[3][:, 0]]
    return {g: values[g] for g in trace.givens}


_AGREES: list[bool] = []


def stream_agrees() -> bool:
    """Whether this NumPy's generators give what this module decodes (checked once per
    process, on two seeds, against the calls the draw one at a time makes); if not, every
    seed is drawn one at a time."""
    if not _AGREES:
        _AGREES.append(_check_stream())
    return _AGREES[0]


def _check_stream() -> bool:
    ops = [("d", 6, 0), ("u", 3, 2), ("u", 1, 5), ("d", 3, 0), ("u", 1, 3)]
    seeds = [20261130, 2**63 + 12345]
    plan = stream_plan(ops)
    candidates = 3
    need = plan.words_for(candidates)
    try:
        bits = generators(seeds)
        words = np.stack([b.random_raw(need) for b in bits])
        numbers, redraw = _decode(plan, ops, words, 0, candidates)
        for s, seed in enumerate(seeds):
            rng = np.random.default_rng(seed)
            for c in range(candidates):
                row = s * candidates + c
                expected = [rng.random((3, 2)).ravel(), rng.integers(0, 2, size=3),
                            np.array([rng.integers(5)]), rng.random((3, 1)).ravel(),
                            np.array([_ETAS.index(rng.choice(_ETAS))])]
                for got, want in zip(numbers, expected, strict=True):
                    if not np.array_equal(got[row], want):
                        return False
    except Exception:
        return False
    return not redraw.any()  # (these seeds draw no integer twice where NumPy agrees)


def draw_batch(family: NetworkFamily, seeds: list[int], options: Mapping[str, Any],
               decimals: int) -> list[_Drawn | None] | None:
    """Each seed's accepted variant (None where the seed is left to the draw one at a time);
    None if this path does not draw these options at all."""
    config = _Config(family, options)
    if not config.supported or not stream_agrees():
        return None
    net, trace, plan, ops = config.net, config.trace, config.plan, config.ops
    names = (*trace.givens, *trace.names)
    kernel = compile_trace(trace)
    bits = generators(seeds)
    result: list[_Drawn | None] = [None] * len(seeds)
    pending = np.arange(len(seeds))
    words = np.empty((len(seeds), 0), dtype=np.uint64)
    first, block = 0, FIRST_BLOCK
    drawn_count = 0
    exactly_sets: dict[bytes, frozenset[str]] = {}
    make_draft = family.draft_maker(net, trace, options)
    # As accept_chain reads it: from the draft's context (a derivation's has none).
    config.zero_input_context = bool(make_draft(
        dict.fromkeys(trace.givens, 0.5)).context.get("zero_input"))
    while len(pending) and first < MAX_TRIES:
        last = min(first + block, MAX_TRIES)
        need = plan.words_for(last)
        have = words.shape[1]
        more = np.empty((len(pending), need), dtype=np.uint64)
        more[:, :have] = words
        for p, s in enumerate(pending.tolist()):
            more[p, have:] = bits[s].random_raw(need - have)
        words = more
        numbers, redraw = _decode(plan, ops, words, first, last)
        count = last - first
        givens = _givens(config, numbers)
        exact = kernel(givens)
        steps = {n: exact[n] for n in trace.names}
        ok = _accept(family, net, trace, steps, givens)
        rows = np.flatnonzero(ok)
        sub_givens = {g: a[rows] for g, a in givens.items()}
        sub_exact = {n: a[rows] for n, a in steps.items()}
        good, hair, chain, raw = _chain(family, net, trace, sub_givens, sub_exact, decimals,
                                        config.zero_input_context)
        passed_flat = np.zeros(len(ok), dtype=bool)
        passed_flat[rows[good]] = True
        flagged_flat = np.zeros(len(ok), dtype=bool)
        flagged_flat[rows[hair]] = True
        passed = passed_flat.reshape(len(pending), count)
        flagged = flagged_flat.reshape(len(pending), count)
        any_pass = passed.any(axis=1)
        chosen = passed.argmax(axis=1)
        # A candidate before the chosen one that needs exact arithmetic: leave the seed.
        before = np.cumsum(flagged, axis=1) > 0
        unsure = redraw | before[np.arange(len(pending)), np.where(any_pass, chosen, count - 1)]
        keep = np.flatnonzero(any_pass & ~unsure)
        chosen_rows = keep * count + chosen[keep]
        inverse = np.full(len(ok), -1, dtype=np.int64)
        inverse[rows] = np.arange(len(rows))
        chosen_sub = inverse[chosen_rows]
        drawn_count += int((first + chosen[keep] + 1).sum())
        values_all = (np.array([exact[n][chosen_rows] for n in names]).T + 0.0).tolist()
        table_all = np.array([chain[n][chosen_sub] for n in names]).T + 0.0
        steps_rounded = table_all[:, len(trace.givens):]
        raw_all = np.array([raw[n][chosen_sub] for n in trace.names]).T
        same_all = np.abs(raw_all - steps_rounded) <= (
            1e-12 * np.maximum(1.0, np.abs(steps_rounded)))
        given_all = np.array([givens[g][chosen_rows] for g in trace.givens]).T.tolist()
        step_names, given_names = trace.names, trace.givens
        table_rows = table_all.tolist()
        flags = [bytes(row) for row in np.packbits(same_all, axis=1)]
        for k, p in enumerate(pending[keep].tolist()):
            exactly = exactly_sets.get(flags[k])
            if exactly is None:
                exactly = exactly_sets[flags[k]] = frozenset(
                    compress(step_names, same_all[k].tolist()))
            result[p] = _Drawn(
                make_draft(dict(zip(given_names, given_all[k], strict=True))),
                dict(zip(names, values_all[k], strict=True)),
                dict(zip(names, table_rows[k], strict=True)), exactly)
        left = ~any_pass & ~unsure
        pending = pending[left]
        words = words[left]
        first = last
        block *= 2
    counts = DRAW_COUNTS.setdefault(family.name, [0, 0])
    counts[0] += drawn_count
    counts[1] += sum(r is not None for r in result)
    return result
