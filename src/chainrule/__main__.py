"""``python -m chainrule``."""

from chainrule.cli import run

run()
