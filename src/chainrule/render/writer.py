"""Writing a problem set's folder: all files or none, and nothing replaced without --force."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from chainrule.files import write_folder
from chainrule.problems.base import Problem
from chainrule.problems.spec import SetSpec
from chainrule.render.problemset import render_set

__all__ = ["key_data", "set_files", "write_folder"]


def key_data(spec: SetSpec, versions: Mapping[str | None, Sequence[Problem]]) -> dict[str, Any]:
    """key.json: the set's title and seed, and every problem's givens and answers."""
    return {
        "title": spec.title,
        "seed": spec.seed,
        "versions": [v for v in versions if v is not None],
        "problems": [p.key() for problems in versions.values() for p in problems],
    }


def set_files(
    spec: SetSpec,
    versions: Mapping[str | None, Sequence[Problem]],
    templates_dir: str | None = None,
) -> dict[str, str]:
    """File name -> text for the whole set (questions and solutions per version, the key)."""
    files: dict[str, str] = {}
    instructions = spec.meta.get("instructions", "")
    for version, problems in versions.items():
        suffix = f"-{version}" if version else ""
        for kind in ("questions", "solutions"):
            for fmt in ("md", "tex"):
                files[f"{kind}{suffix}.{fmt}"] = render_set(
                    problems, kind, fmt, title=spec.title, version=version,
                    instructions=instructions, templates_dir=templates_dir,
                )
    files["key.json"] = json.dumps(key_data(spec, versions), indent=2, ensure_ascii=False) + "\n"
    return files
