"""The README's Library examples run as doctests (from the repository root)."""

import doctest
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pycon_blocks(text: str) -> list[str]:
    return re.findall(r"^```pycon\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_library_examples(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    blocks = pycon_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs: dict = {}
    for number, block in enumerate(blocks, start=1):
        test = parser.get_doctest(block, globs, f"README block {number}", "README.md", 0)
        assert test.examples, f"README block {number} has no examples"
        runner.run(test, clear_globs=False)
        globs.update(test.globs)  # later blocks use earlier names, as a reader would
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted >= 15
