"""Short problem IDs that regenerate a problem exactly.

An ID is ``<family code>-<seed>`` with the seed in Crockford base 32 (``bp-0K2M7Q3D``), and
``~name:value`` for each option that differs from the family's default
(``bp-0K2M7Q3D~net:2-3-1~hidden:tanh``). Decoding gives back the family, seed and options.
"""

from __future__ import annotations

import re

from chainrule.errors import ChainruleError

__all__ = ["SEED_BITS", "decode_id", "encode_id", "is_short_code", "seed_for", "short_code"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SEED_BITS = 40
_SEED_CHARS = SEED_BITS // 5
_ID = re.compile(
    r"^([a-z]{2,4})-([0-9A-HJKMNP-TV-Z]{" + str(_SEED_CHARS) + r"})((?:~[a-z_]+:[^~\s]+)*)$"
)


def _b32(number: int) -> str:
    chars = []
    for _ in range(_SEED_CHARS):
        chars.append(_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def encode_id(code: str, seed: int, options: dict[str, str] | None = None) -> str:
    """The ID of a problem of family ``code`` drawn with ``seed`` and non-default options."""
    if not 0 <= seed < 2**SEED_BITS:
        raise ValueError("seed out of range")
    text = f"{code}-{_b32(seed)}"
    for name, value in sorted((options or {}).items()):
        if "~" in value or ":" in name or not value or any(c.isspace() for c in value):
            raise ValueError(f"option {name}={value!r} cannot be written in an ID")
        text += f"~{name}:{value}"
    return text


def decode_id(text: str) -> tuple[str, int, dict[str, str]]:
    """(family code, seed, options as text) of an ID; ChainruleError if it is not one."""
    match = _ID.match(text.strip())
    if not match:
        raise ChainruleError(f"'{text}' is not a problem ID (like bp-0K2M7Q3D)")
    code, seed_text, rest = match.groups()
    seed = 0
    for char in seed_text:
        seed = seed * 32 + _ALPHABET.index(char)
    options = {}
    for part in rest.split("~")[1:]:
        name, _, value = part.partition(":")
        options[name] = value
    return code, seed, options


def seed_for(set_seed: int, *path: int) -> int:
    """A problem's own seed from its set's seed and its place (version, position, ...)."""
    import numpy as np

    state = np.random.SeedSequence([set_seed, *path]).generate_state(2, np.uint32)
    return (int(state[0]) << 8 | int(state[1]) & 0xFF) % 2**SEED_BITS


_CODE = re.compile(r"^(?:[A-Z]-)?[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def short_code(secret: str, problem_id: str, version: str | None = None) -> str:
    """The code students see for a problem of a set (``A-7KQ2-M4XD``): a keyed hash of its
    ID, so it names the problem in the set's key.json but regenerates nothing without it."""
    import hashlib

    digest = hashlib.sha256(f"{secret}\n{problem_id}".encode()).digest()
    number = int.from_bytes(digest[:5], "big")
    text = _b32(number)
    code = f"{text[:4]}-{text[4:]}"
    return f"{version}-{code}" if version else code


def is_short_code(text: str) -> bool:
    """Whether ``text`` looks like a student-facing code (not a full problem ID)."""
    return bool(_CODE.match(text.strip().upper()))
