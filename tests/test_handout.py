"""`chainrule handout`: real PDFs, compiled with TeX Live and read back with pdftotext.

The PDFs are compiled once per module (fixtures) and shared: the version letters and problem
IDs on every page, the key values, hostile user text printed literally and harmless, the
network drawing, and nothing running off the page. Without pdflatex or pdftotext these tests
skip with the reason; the no-TeX exit code and the log excerpts are tested everywhere.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.commands.handout import NO_TEX_EXIT_CODE, handout
from chainrule.errors import ChainruleError
from chainrule.problems.base import FAMILIES, _load_families
from chainrule.problems.spec import build_set, load_spec
from chainrule.render.pdf import (
    LatexError,
    TexNotFoundError,
    compile_pdf,
    find_tex,
    log_excerpt,
    write_pdfs,
)
from chainrule.render.writer import set_files

HAVE_TEX = shutil.which("pdflatex") is not None
HAVE_PDFTOTEXT = shutil.which("pdftotext") is not None
needs_tex = pytest.mark.skipif(
    not (HAVE_TEX and HAVE_PDFTOTEXT),
    reason="needs TeX Live (pdflatex) and poppler-utils (pdftotext); "
    "apt-get install texlive-latex-recommended texlive-pictures lmodern poppler-utils",
)


def _kpsewhich(name: str) -> bool:
    if shutil.which("kpsewhich") is None:
        return False
    found = subprocess.run(["kpsewhich", name], capture_output=True, text=True)
    return bool(found.stdout.strip())


def _font(name: str) -> bool:
    if shutil.which("fc-list") is None:
        return False
    return name in subprocess.run(["fc-list", ":", "family"], capture_output=True,
                                  text=True).stdout


HAVE_CJK = (HAVE_TEX and shutil.which("lualatex") is not None and _kpsewhich("fontspec.sty")
            and _font("Noto Serif") and _font("Noto Serif CJK SC"))
needs_cjk = pytest.mark.skipif(
    not HAVE_CJK,
    reason="needs LuaLaTeX and the Noto fonts: apt-get install texlive-luatex "
    "fonts-noto-core fonts-noto-cjk",
)

MARGIN_PT = 2.2 / 2.54 * 72  # the templates' geometry margin
HOSTILE = [
    r"\input{/etc/passwd}",
    "%", "&", "_", "#", "$", "{", "}", "~", "^", "\\",
    "-- --- `` '' << >> ,, !` ?`",
]


def pdf_text(pdf: Path) -> list[str]:
    """The text of each page, minus signs as '-', IDs broken after '~' joined again."""
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    out = out.replace("\u2212", "-").replace("~\n", "~")
    return out.split("\f")[:-1]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def words_outside_margins(pdf: Path, tolerance: float = 1.0) -> list[tuple[int, str]]:
    """Words whose box leaves the text block on the left or the right (pdftotext -bbox)."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    bad = []
    for number, page in enumerate(html.split("<page ")[1:], start=1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>'
                             r"(.*?)</word>", page):
            x0, x1 = float(m.group(1)), float(m.group(2))
            if x0 < MARGIN_PT - tolerance or x1 > width - MARGIN_PT + tolerance:
                bad.append((number, m.group(3)))
    return bad


def hostile_spec(tmp: Path, cjk: bool = True) -> str:
    """A spec whose every free-text field is hostile; the shell escape would touch ``tmp/x``.

    ``cjk``: put Chinese in the date (needs the CJK fonts to compile).
    """
    instructions = "\n\n".join([*HOSTILE, rf"\write18{{touch {tmp}/x}}"])
    course = r"Course 100% & more_ #1 $5 {x} ~ ^ \ end"
    lines = [
        "title: 'Exam -- ''quoted'' <<stuff>>'",
        f"course: {json.dumps(course)}",
        "instructor: Zoë Łukasiewicz",
        f"date: {'学生 ' if cjk else ''}2026",
        f"instructions: {json.dumps(instructions)}",
        "seed: 2026",
        "versions: 3",
        "problems:",
        "  - {family: forward, options: {net: 2-2-1}}",
        "  - {family: backprop, options: {net: 2-3-2, loss: cce}}",
        "  - family: concept",
        "  - family: loss_value",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    """The hostile three-version exam, handed out once: folder, key.json and page texts."""
    if not (HAVE_TEX and HAVE_PDFTOTEXT):
        pytest.skip("needs pdflatex and pdftotext (see needs_tex)")
    tmp = tmp_path_factory.mktemp("handout")
    spec = tmp / "exam.yaml"
    spec.write_text(hostile_spec(tmp, cjk=False), encoding="utf-8")  # pdflatex (fast)
    result = CliRunner().invoke(handout, [str(spec), "--out", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    folder = tmp / "out"
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    pages = {pdf.stem: pdf_text(pdf) for pdf in folder.glob("*.pdf")}
    return {"tmp": tmp, "folder": folder, "key": key, "pages": pages, "output": result.output}


# --- without TeX ------------------------------------------------------------------------------


def test_log_excerpt_keeps_errors_and_their_context():
    log = "\n".join([
        "This is pdfTeX", "(./x.tex", "./x.tex:12: Undefined control sequence.",
        r"l.12 \foo", "           bar", "Type  H <return>  for immediate help.",
        "! LaTeX Error: File `CJKutf8.sty' not found.", "", "Type X to quit or <RETURN>",
        r"l.3 \usepackage", "Output written",
    ])
    lines = log_excerpt(log)
    assert lines[:2] == ["./x.tex:12: Undefined control sequence.", r"l.12 \foo"]
    assert "! LaTeX Error: File `CJKutf8.sty' not found." in lines
    assert not any(line.startswith(("Type", "Output")) for line in lines)
    assert lines[-1] == ("hint: CJKutf8.sty is missing; on Debian/Ubuntu: "
                         "apt-get install latex-cjk-common")
    assert log_excerpt("no errors here\nbut it stopped") == ["no errors here", "but it stopped"]


def test_without_tex_the_tex_is_written_and_the_exit_code_is_3(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nseed: 1\nversions: 2\nproblems: [forward, concept]\n")
    empty = tmp_path / "bin"
    empty.mkdir()
    result = CliRunner().invoke(handout, [str(spec), "--out", str(tmp_path / "o")],
                                env={"PATH": str(empty)})
    assert result.exit_code == NO_TEX_EXIT_CODE == 3
    assert result.output.count("\n") == 1 and "no TeX installation found" in result.output
    names = sorted(p.name for p in (tmp_path / "o").iterdir() if p.suffix != ".md")
    assert names == [".chainrule-manifest.json", "key.json", "key.tex",
                     "questions-A.tex", "questions-B.tex",
                     "solutions-A.tex", "solutions-B.tex"]


def test_find_tex_refuses_unknown_engines_and_says_when_tex_is_missing(monkeypatch):
    with pytest.raises(ChainruleError, match="unknown TeX engine"):
        find_tex("xelatex")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(TexNotFoundError, match="pdflatex is not on PATH"):
        find_tex()


def test_handout_tex_is_deterministic_and_escapes_user_text(tmp_path):
    spec_path = tmp_path / "exam.yaml"
    spec_path.write_text(hostile_spec(tmp_path), encoding="utf-8")
    spec = load_spec(str(spec_path))
    first = set_files(spec, build_set(spec))
    assert first == set_files(spec, build_set(spec))
    tex = sorted(name for name in first if name.endswith(".tex"))
    assert tex == ["key.tex", *[f"{k}-{v}.tex" for k in ("questions", "solutions")
                                for v in "ABC"]]
    questions = first["questions-A.tex"]
    assert r"\textbackslash{}input\{/etc/passwd\}" in questions
    assert r"\input{/etc/passwd}" not in questions and r"\write18" not in questions
    assert "% !TEX program = lualatex" in questions[:300]  # 学生 in the date
    assert r"\usepackage{fontspec}" in questions and "NotoSerifCJKsc" in questions


# --- with TeX ---------------------------------------------------------------------------------


@needs_tex
def test_every_document_and_the_sources_are_written(exam):
    names = sorted(p.name for p in exam["folder"].iterdir())
    docs = [f"{k}-{v}" for k in ("questions", "solutions") for v in "ABC"] + ["key"]
    md = [f"{k}-{v}.md" for k in ("questions", "solutions") for v in "ABC"]
    assert names == sorted([*(f"{d}.pdf" for d in docs), *(f"{d}.tex" for d in docs),
                            *md, "key.json", ".chainrule-manifest.json"])
    assert "wrote 7 PDFs" in exam["output"]


@needs_tex
def test_version_letter_and_problem_ids_on_every_page(exam):
    problems = exam["key"]["problems"]
    for version in "ABC":
        ids = [p["code"] for p in problems if p["version"] == version]
        others = [p["code"] for p in problems if p["version"] != version]
        for kind in ("questions", "solutions"):
            pages = exam["pages"][f"{kind}-{version}"]
            assert len(pages) >= 2
            for number, page in enumerate(pages, start=1):
                where = f"{kind}-{version} page {number}"
                assert f"Version {version}" in page, where
                assert any(i in page for i in ids), where
                assert not any(i in page for i in others), where
                assert f"Page {number} of {len(pages)}" in page, where
            text = "".join(pages)
            for i in ids:
                assert i in text
    for number, page in enumerate(exam["pages"]["key"], start=1):
        assert any(p["id"] in page for p in problems), f"key page {number}"


@needs_tex
def test_versions_share_families_but_not_numbers(exam):
    problems = exam["key"]["problems"]
    by_version = {v: [p for p in problems if p["version"] == v] for v in "ABC"}
    families = {v: [p["family"] for p in ps] for v, ps in by_version.items()}
    assert families["A"] == families["B"] == families["C"]
    assert by_version["A"][0]["givens"] != by_version["B"][0]["givens"]


@needs_tex
def test_key_and_solutions_show_every_answer(exam):
    key_text = flat("".join(exam["pages"]["key"]))
    for problem in exam["key"]["problems"]:
        solutions = flat("".join(exam["pages"][f"solutions-{problem['version']}"]))
        assert problem["code"] in key_text
        if problem.get("choices"):
            answer = "ABCD"[problem["answer"]]
            assert f"({answer})" in key_text
            assert "\\$" not in key_text  # a choice's math is typeset, not escaped
            assert f"Answer: ({answer})" in solutions
            continue
        for step in problem["steps"]:
            value = f"{step['rounded']:.{problem['decimals']}f}"
            value = "0.000" if value == "-0.000" else value
            assert value in key_text, (problem["id"], step["name"])
            assert value in solutions, (problem["id"], step["name"])


@needs_tex
def test_hostile_text_is_printed_literally_and_does_nothing(exam):
    first_page = exam["pages"]["questions-A"][0]
    text = flat(first_page)
    for hostile in HOSTILE:
        assert hostile in text, hostile
    assert r"\write18{touch " in text
    assert r"Course 100% & more_ #1 $5 {x} ~ ^ \ end" in text
    assert "Exam -- 'quoted' <<stuff>>" in text
    assert "Zoë Łukasiewicz" in text
    assert not (exam["tmp"] / "x").exists()
    everything = "".join("".join(pages) for pages in exam["pages"].values())
    assert "root:x:0:0" not in everything and "/bin/bash" not in everything
    for tex in exam["folder"].glob("*.tex"):
        assert r"\input{/etc/passwd}" not in tex.read_text(encoding="utf-8")


@needs_tex
@needs_cjk
@pytest.mark.slow
def test_chinese_user_text_comes_out_in_chinese_glyphs(tmp_path):
    """The hostile exam with Chinese in the date: LuaLaTeX with the Noto CJK fallback."""
    spec = tmp_path / "exam.yaml"
    spec.write_text(hostile_spec(tmp_path, cjk=True).replace("versions: 3", "versions: 2"),
                    encoding="utf-8")
    result = CliRunner().invoke(handout, [str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    first_page = pdf_text(tmp_path / "out" / "questions-A.pdf")[0]
    assert "学生 2026" in first_page.replace("学 生", "学生")
    solutions = pdf_text(tmp_path / "out" / "solutions-B.pdf")[0]
    assert "学生" in solutions.replace(" ", "")
    assert not (tmp_path / "x").exists()


@needs_tex
def test_network_problems_are_drawn_with_weights_and_biases(exam):
    problem = next(p for p in exam["key"]["problems"]
                   if p["version"] == "A" and p["family"] == "backprop")
    page = next(pg for pg in exam["pages"]["questions-A"] if problem["code"] in pg)
    for name in ("w14", "w25", "b1", "b5"):
        value = problem["givens"][name]
        assert f"{value:g}" in page
    assert "input" in page and "hidden: sigmoid" in page and "output: softmax" in page
    solutions = flat("".join(exam["pages"]["solutions-A"]))
    assert "weight given ∂L/∂w new" in solutions


@needs_tex
def test_nothing_runs_off_the_page(exam):
    for pdf in sorted(exam["folder"].glob("*.pdf")):
        assert words_outside_margins(pdf) == [], pdf.name


@needs_tex
def test_the_same_source_gives_the_same_pdf_bytes(exam, tmp_path):
    again = compile_pdf(exam["folder"] / "key.tex", tmp_path)
    assert again.read_bytes() == (exam["folder"] / "key.pdf").read_bytes()


@needs_tex
def test_tex_cannot_read_or_write_outside_its_folder_or_run_commands(tmp_path):
    secret = "/etc/hostname" if Path("/etc/hostname").exists() else "/etc/passwd"
    tex = tmp_path / "probe.tex"
    tex.write_text("\n".join([
        r"\documentclass{article}", r"\begin{document}",
        rf"\immediate\write18{{touch {tmp_path}/ran}}",
        rf"\newread\r \openin\r={secret} \ifeof\r NOREAD\else READ\fi",
        r"\end{document}", "",
    ]))
    page = pdf_text(compile_pdf(tex))[0]
    assert "NOREAD" in page and not (tmp_path / "ran").exists()
    tex.write_text(r"\documentclass{article}\begin{document}\input{/etc/passwd}\end{document}")
    with pytest.raises(LatexError) as caught:
        compile_pdf(tex)
    assert "/etc/passwd" in str(caught.value)
    tex.write_text("\\documentclass{article}\\begin{document}\\newwrite\\w"
                   f"\\immediate\\openout\\w={tmp_path}/written.txt\\end{{document}}")
    with pytest.raises(LatexError, match="write on file"):
        compile_pdf(tex)
    assert not (tmp_path / "written.txt").exists()


@needs_tex
def test_a_latex_error_shows_the_log_lines_and_keeps_the_tex(tmp_path):
    templates = tmp_path / "templates" / "tex"
    templates.mkdir(parents=True)
    (templates / "key.tex.j2").write_text(
        "\\documentclass{article}\n\\begin{document}\nfine\n\\nosuchmacro\n\\end{document}\n")
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nseed: 1\nproblems: [concept]\n")
    out = tmp_path / "o"
    result = CliRunner().invoke(handout, [str(spec), "--out", str(out),
                                          "--templates", str(tmp_path / "templates")])
    assert result.exit_code == 2
    assert "key.tex: LaTeX failed" in result.output
    assert "key.tex:4: Undefined control sequence." in result.output
    assert r"l.4 \nosuchmacro" in result.output
    assert (out / "key.tex").exists() and (out / "key.log").exists()
    assert (out / "questions.pdf").exists() and not (out / "key.pdf").exists()


@needs_tex
def test_a_runaway_document_is_stopped_at_the_time_limit(tmp_path):
    tex = tmp_path / "loop.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\\def\\x{\\x}\\x\\end{document}\n")
    with pytest.raises(LatexError, match="longer than 1 s"):
        compile_pdf(tex, timeout=1)


@needs_tex
def test_write_pdfs_compiles_generate_output_and_names_missing_documents(tmp_path):
    from chainrule.cli import main

    spec = tmp_path / "s.yaml"
    spec.write_text("title: Plain & simple\nseed: 4\nproblems: [forward, loss_value]\n")
    result = CliRunner().invoke(main, ["generate", str(spec), "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    pdfs = write_pdfs(tmp_path / "g")
    assert sorted(p.name for p in pdfs) == ["key.pdf", "questions.pdf", "solutions.pdf"]
    assert "Plain & simple" in pdf_text(tmp_path / "g" / "questions.pdf")[0]
    with pytest.raises(ChainruleError, match=r"no such document: exam\.tex"):
        write_pdfs(tmp_path / "g", ["exam.tex"])


@needs_tex
@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk not installed")
def test_latexmk_engine(tmp_path):
    tex = tmp_path / "small.tex"
    tex.write_text("\\documentclass{article}\\begin{document}Hello\\end{document}\n")
    assert "Hello" in pdf_text(compile_pdf(tex, engine="latexmk"))[0]


@needs_tex
@pytest.mark.slow
def test_every_family_and_network_shape_compiles_within_the_margins(tmp_path):
    """One problem of every family, and networks up to the biggest the families allow."""
    from chainrule.problems.spec import Entry, SetSpec

    _load_families()
    entries = [Entry(family, 1, family.parse_options({}), 3) for family in FAMILIES.values()]
    backprop = FAMILIES["backprop"]
    for net, loss in [("1-1", "mse"), ("4-1", "bce"), ("3-1-4", "cce"), ("2-4-2", "kl"),
                      ("2-3-3-2", "cce"), ("3-3-2", "lsce"), ("2-3-1", "huber")]:
        entries.append(Entry(backprop, 1, backprop.parse_options({"net": net, "loss": loss}), 3))
    spec = SetSpec("Every family", 17, 1, entries)
    (tmp_path / "all").mkdir()
    for name, text in set_files(spec, build_set(spec)).items():
        if name.endswith(".tex"):
            (tmp_path / "all" / name).write_text(text, encoding="utf-8")
    for pdf in write_pdfs(tmp_path / "all"):
        assert words_outside_margins(pdf) == [], pdf.name
    questions = "".join(pdf_text(tmp_path / "all" / "questions.pdf"))
    assert questions.count("hidden: sigmoid") >= 7


def test_generate_pdf_without_tex_exits_3_and_keeps_the_sources(tmp_path):
    from chainrule.cli import main

    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nseed: 2\nproblems: [forward]\n")
    empty = tmp_path / "bin"
    empty.mkdir()
    result = CliRunner().invoke(main, ["generate", str(spec), "--out", str(tmp_path / "o"),
                                       "--pdf"], env={"PATH": str(empty)})
    assert result.exit_code == 3 and "no TeX installation found" in result.output
    assert (tmp_path / "o" / "questions.tex").exists()


@needs_tex
def test_generate_pdf_compiles_every_document(tmp_path):
    from chainrule.cli import main

    spec = tmp_path / "s.yaml"
    spec.write_text("title: Quiz\nseed: 2\nversions: 2\nproblems: [forward]\n")
    result = CliRunner().invoke(main, ["generate", str(spec), "--out", str(tmp_path / "o"),
                                       "--pdf"])
    assert result.exit_code == 0, result.output
    pdfs = sorted(p.name for p in (tmp_path / "o").glob("*.pdf"))
    assert pdfs == ["key.pdf", "questions-A.pdf", "questions-B.pdf", "solutions-A.pdf",
                    "solutions-B.pdf"]
    key = json.loads((tmp_path / "o" / "key.json").read_text())
    assert key["problems"][0]["id"] in "".join(pdf_text(tmp_path / "o" / "key.pdf"))
