"""User text in every script a handout must print: Latin, Greek with its accents, Cyrillic,
CJK (LuaLaTeX with the Noto fonts), and a clear error, before LaTeX runs, for what no font
prints."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from click.testing import CliRunner

from chainrule.cli import main
from chainrule.render.fonts import describe_char, tex_engine, unprintable

GREEK = "Νευρωνικά δίκτυα ΐΰ"
CYRILLIC = "Нейронные сети ёЇє"
CJK = "神经网络 テスト 신경망"

HAVE_LUA = (shutil.which("lualatex") is not None and shutil.which("pdftotext") is not None
            and shutil.which("fc-list") is not None
            and "Noto Serif CJK SC" in subprocess.run(["fc-list", ":", "family"],
                                                       capture_output=True, text=True).stdout)
needs_lua = pytest.mark.skipif(not HAVE_LUA, reason="needs lualatex, pdftotext and the Noto "
                               "fonts (apt-get install texlive-luatex fonts-noto-core "
                               "fonts-noto-cjk poppler-utils)")


def spec(tmp_path, title, course="Course"):
    path = tmp_path / "s.yaml"
    path.write_text(f"title: {title!r}\ncourse: {course!r}\nseed: 3\nproblems: [forward]\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("texts", "engine"),
    [(["Exam -- Zoë Łukasiewicz ‘q’ “q” …"], "pdflatex"), ([GREEK], "lualatex"),
     (["x", CYRILLIC], "lualatex"), ([CJK], "lualatex"), (["ǅ"], "lualatex")],
)
def test_the_engine_is_pdflatex_unless_the_text_needs_more(texts, engine):
    assert tex_engine(texts) == engine


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_unprintable_characters_are_named_from_the_fonts_cmaps():
    assert unprintable(GREEK + CYRILLIC + "Zoë") == []
    if HAVE_LUA:
        assert unprintable(CJK) == []
    assert unprintable("ok 😀 and 😀 \u0e01") == ["😀", "\u0e01"]  # an emoji, Thai
    assert describe_char("😀") == "'😀' (U+1F600 GRINNING FACE)"


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_an_emoji_title_is_refused_before_latex_and_nothing_is_written(tmp_path):
    path = spec(tmp_path, "Exam 😀")
    for command in (["handout", str(path)], ["generate", str(path), "--pdf"]):
        result = CliRunner().invoke(main, [*command, "--out", str(tmp_path / "o")])
        assert result.exit_code == 2, result.output
        assert result.output.strip() == (
            f"Error: {path}: line 1: field 'title': no font of the PDF handouts prints "
            "'😀' (U+1F600 GRINNING FACE); remove it (the .md files can hold it: generate "
            "without --pdf)")
        assert not (tmp_path / "o").exists()
    plain = CliRunner().invoke(main, ["generate", str(path), "--out", str(tmp_path / "md")])
    assert plain.exit_code == 0 and "😀" in (tmp_path / "md" / "questions.md").read_text()


@needs_lua
@pytest.mark.slow
def test_greek_cyrillic_and_cjk_print(tmp_path):
    path = spec(tmp_path, GREEK, course=f"{CYRILLIC} · {CJK}")
    result = CliRunner().invoke(main, ["handout", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(tmp_path / "o" / "questions.pdf"), "-"],
                          capture_output=True, text=True).stdout
    assert GREEK in text and CYRILLIC in text
    assert CJK.replace(" ", "") in text.replace(" ", "")
