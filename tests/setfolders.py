"""Problem-set folders for the export tests, written as ``chainrule generate`` writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chainrule.problems import base
from chainrule.problems.spec import build_set, spec_from_options
from chainrule.render.problemset import render_set
from chainrule.render.writer import key_data


def all_families() -> list[str]:
    base._load_families()
    return sorted(base.FAMILIES)


def make_set(folder: Path, families: list[str], *, seed: int, title: str = "Practice",
             versions: int = 2, decimals: int = 3,
             options: dict[str, Any] | None = None) -> Path:
    """A problem-set folder (Markdown questions and key.json); ``options`` go to every
    family that has them."""
    spec = spec_from_options(families, 1, seed, decimals, versions, title, options or {})
    problems = build_set(spec)
    folder.mkdir(parents=True)
    for version, items in problems.items():
        suffix = f"-{version}" if version else ""
        (folder / f"questions{suffix}.md").write_text(
            render_set(items, "questions", "md", title=title, version=version), encoding="utf-8")
    (folder / "key.json").write_text(json.dumps(key_data(spec, problems), indent=2),
                                     encoding="utf-8")
    return folder
