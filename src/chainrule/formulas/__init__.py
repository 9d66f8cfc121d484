"""Formula answers: a safe grammar for what students type, read back in the notes' notation,
and judged by equivalence with a step's formula."""

from chainrule.formulas.reading import (
    MAX_CHARS,
    MAX_DEPTH,
    MAX_EXPONENT,
    FormulaError,
    Reading,
    read_formula,
)
from chainrule.formulas.vocabulary import FUNCTIONS, Vocabulary, name_tex, name_text

__all__ = [
    "FUNCTIONS",
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "FormulaError",
    "Reading",
    "Vocabulary",
    "name_tex",
    "name_text",
    "read_formula",
]
