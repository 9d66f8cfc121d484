"""``python -m chainrule``."""

from chainrule.cli import program

program()
