"""Imports every family module in ``problems/families`` so each registers itself."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from chainrule.problems import families

for _info in sorted(pkgutil.iter_modules(families.__path__), key=lambda m: m.name):
    import_module(f"chainrule.problems.families.{_info.name}")
