"""The web app in process: every route, what students may and may not see, hostile bodies."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pytest
from click.testing import CliRunner

from chainrule.cli import main
from chainrule.serve.app import create_app, routes
from chainrule.serve.security import CSP
from servekit import PROBLEM, client, hand_forward, r3

TOKEN = "teacher-secret-token"


@pytest.fixture
def app(tmp_path):
    made = create_app(str(tmp_path / "class.sqlite"), token=TOKEN)
    yield made
    made.state.site.store.close()


@pytest.fixture
def web(app):
    c = client(app)
    c.get("/")  # the CSRF cookie
    return c


def named(web, name="Ada"):
    r = web.post("/name", data={"csrf": web.cookies["chainrule_csrf"], "name": name,
                                "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    return web


def givens(web, code=PROBLEM):
    return {k: float(v) for k, v in web.get(f"/api/problem/{code}").json()["givens"].items()}


def check(web, answers, **extra):
    r = web.post("/api/check", json={"problem": PROBLEM, "answers": answers, **extra})
    assert r.status_code == 200, r.text
    return {s["name"]: s for s in r.json()["steps"]}, r.json()


# -- the routes ------------------------------------------------------------------------------
def test_routes_are_listed_in_one_place():
    paths = {r.path for r in routes()}
    assert {"/", "/p/{code}", "/api/problem/{code}", "/api/check", "/api/parse",
            "/api/reveal", "/teacher", "/teacher/attempts.csv"} <= paths


def test_index_lists_families_and_opens_by_id(web):
    page = web.get("/")
    assert page.status_code == 200
    assert 'href="/new/backprop"' in page.text and 'href="/new/concept"' not in page.text
    r = web.get(f"/open?code={PROBLEM}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/p/{PROBLEM}"
    assert web.get("/open?code=bp-nonsense").status_code == 404


def test_new_numbers_draw_another_variant_of_the_same_kind(web):
    first = web.get("/new/backprop", follow_redirects=False).headers["location"]
    second = web.get(f"/new/backprop?like={first[3:]}", follow_redirects=False)
    assert second.status_code == 303
    assert re.fullmatch(r"/p/bp-[0-9A-Z]{8}", first)
    assert second.headers["location"] != first
    options = web.get("/new/backprop?like=bp-00000C1S~net:2-3-1", follow_redirects=False)
    assert options.headers["location"].endswith("~net:2-3-1")
    assert web.get("/new/nofamily").status_code == 404


def test_problem_page_shows_math_drawing_givens_and_one_input_per_step(web):
    page = web.get(f"/p/{PROBLEM}").text
    assert "<math" in page and "<svg" in page and 'class="givens"' in page
    assert "Conventions" in page
    inputs = re.findall(r'name="ans-([A-Za-z0-9_]+)"', page)
    asked = [a["name"] for a in web.get(f"/api/problem/{PROBLEM}").json()["asked"]]
    assert inputs == asked and inputs[:3] == ["z1", "a1", "z2"] and len(inputs) == 30
    assert "http://" not in page.replace('xmlns="http://www.w3.org', "")
    assert "https://" not in page


def test_security_headers_allow_no_external_source(web):
    r = web.get(f"/p/{PROBLEM}")
    assert r.headers["content-security-policy"] == CSP
    assert "http" not in CSP and "'unsafe-inline'" not in CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert web.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert web.get("/static/../app.py").status_code == 404


# -- what a student sees ---------------------------------------------------------------------
def test_api_problem_never_holds_the_answers(web, app):
    from chainrule.problems.base import problem_from_id

    body = web.get(f"/api/problem/{PROBLEM}").text
    data = json.loads(body)
    assert set(data) >= {"givens", "asked", "conventions", "question_html"}
    given_texts = set(data["givens"].values())
    hand = hand_forward(givens(web))
    for name, value in hand.items():
        text = f"{value:.3f}".rstrip("0")
        assert text not in given_texts
        assert text not in body, name
    p = problem_from_id(PROBLEM)  # every later step too (read here only as what to hide)
    hidden = [f"{p.rounded[n]:.3f}" for n in p.asked if f"{p.rounded[n]:.3f}" not in body]
    assert len(hidden) >= 25


def test_check_marks_correct_carried_and_wrong_and_hides_unearned_values(web):
    named(web)
    hand = hand_forward(givens(web))
    slipped = r3(hand["z3"] + 0.1)  # a slip at z3
    yhat_from_slip = r3(1 / (1 + math.exp(-slipped)))  # then worked on correctly
    steps, report = check(web, {"z1": hand["z1"], "a1": hand["a1"], "z2": hand["z2"],
                                "a2": hand["a2"], "z3": slipped, "yhat": yhat_from_slip})
    assert [steps[n]["status"] for n in ("z1", "a1", "z2", "a2")] == ["correct"] * 4
    assert steps["z1"]["expected"] == pytest.approx(hand["z1"])
    assert steps["z3"]["status"] == "wrong"
    assert steps["yhat"]["status"] == "carried"
    for name in ("z3", "yhat", "L", "delta3", "w13_new"):
        assert not {"expected", "exact", "expected_from_your_values"} & set(steps[name])
    assert f"{hand['z3']:.3f}" not in json.dumps(report)
    assert f"{hand['yhat']:.3f}" not in json.dumps(report)
    assert report["score"]["correct"] == 4 and report["first_error"] == "z3"


def test_a_hint_that_would_give_the_answer_is_withheld(web):
    hand = hand_forward(givens(web))
    right_inputs = {"z1": hand["z1"], "a1": hand["a1"], "z2": hand["z2"], "a2": hand["a2"]}
    steps, report = check(web, {**right_inputs, "z3": 0.123})
    assert steps["z3"]["status"] == "wrong" and steps["z3"]["message"]
    assert steps["z3"]["hint"] == "The step's formula: z3 = w13 a1 + w23 a2 + b3."
    assert f"{hand['z3']:.3f}" not in json.dumps(report)
    # a sign slip: the answer (with its sign) is in no field but the student's own
    steps, report = check(web, {**right_inputs, "z3": -hand["z3"]})
    assert steps["z3"]["status"] == "wrong"
    shown = {k: v for k, v in steps["z3"].items() if k != "given"}
    text = json.dumps(shown, ensure_ascii=False).replace("\u2212", "-")
    answer = f"{hand['z3']:.3f}"
    assert not re.search(rf"(?<![\d.-]){re.escape(answer)}(?!\d)", text), text
    # from wrong inputs the computation is the student's own, not the answer: it stays
    slipped_a1 = 0.9
    z3_from_slip = r3(givens(web)["w13"] * slipped_a1 + givens(web)["w23"] * hand["a2"]
                      + givens(web)["b3"])
    steps, _ = check(web, {**right_inputs, "a1": slipped_a1, "z3": 0.5})
    assert steps["z3"]["hint"].endswith(f"= {z3_from_slip:.3f}")
    assert "0.9" in steps["z3"]["hint"]


def test_check_one_step_reports_only_that_step(web):
    hand = hand_forward(givens(web))
    steps, _ = check(web, {"z1": hand["z1"], "a1": 0.5}, step="a1")
    assert list(steps) == ["a1"] and steps["a1"]["status"] == "wrong"


def test_cli_json_keeps_every_value(web, tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text("z1: 0.1\n")
    out = CliRunner().invoke(main, ["check", PROBLEM, str(answers), "--format", "json"])
    cli = json.loads(out.output)
    _, report = check(web, {"z1": "0.1"})
    assert set(report) == set(cli)
    assert [s["status"] for s in report["steps"]] == [s["status"] for s in cli["steps"]]
    assert all("expected" in s for s in cli["steps"])


def test_reveal_is_recorded_and_makes_that_step_visible(web, app):
    named(web)
    r = web.post("/api/reveal", json={"problem": PROBLEM, "step": "z1"})
    assert r.status_code == 200
    worked = r.json()
    hand = hand_forward(givens(web))
    assert worked["value"] == pytest.approx(hand["z1"]) and "<math" in worked["mathml"]
    assert app.state.site.store.count("reveals") == 1
    steps, _ = check(web, {})
    assert steps["z1"]["revealed"] and steps["z1"]["expected"] == pytest.approx(hand["z1"])
    assert "expected" not in steps["a1"]
    bad = web.post("/api/reveal", json={"problem": PROBLEM, "step": "x1"})
    assert bad.status_code == 400 and app.state.site.store.count("reveals") == 1


def test_parse_reads_numbers_and_says_what_it_cannot_read(web):
    r = web.post("/api/parse", json={"text": "−0.252"}).json()
    assert r["kind"] == "number" and r["value"] == -0.252 and "<math" in r["mathml"]
    assert web.post("/api/parse", json={"text": "1/4"}).json()["value"] == 0.25
    assert web.post("/api/parse", json={"text": "abc("}).json()["kind"] == "error"
    assert web.post("/api/parse", json={"text": 3}).status_code == 400


@pytest.mark.parametrize(("text", "tex", "noted"), [
    ("w13*a1 + w23 a2 + b3", "w_{13} a_{1} + w_{23} a_{2} + b_{3}", False),
    ("\\sigma(z_1)", "\\sigma", False),
    ("a1(1-a1)", "a_{1}", True),
])
def test_parse_reads_formulas_over_the_problems_names(web, text, tex, noted):
    r = web.post("/api/parse", json={"text": text, "problem": PROBLEM}).json()
    assert r["kind"] == "formula", r
    assert tex in r["tex"] and "<math" in r["mathml"]
    assert bool(r["notes"]) is noted


@pytest.mark.parametrize("text", ["__import__('os')", "2^2^2^2^2^2^2", "(" * 5000, "q7 + 1"])
def test_parse_refuses_what_is_not_a_formula_of_the_problem(web, text):
    r = web.post("/api/parse", json={"text": text, "problem": PROBLEM})
    assert r.status_code == 200 and r.json()["kind"] == "error"


# -- the page without JavaScript -------------------------------------------------------------
def test_form_post_checks_and_reveals_without_javascript(web, app):
    named(web)
    hand = hand_forward(givens(web))
    csrf = web.cookies["chainrule_csrf"]
    form = {"csrf": csrf, "ans-z1": str(hand["z1"]), "ans-a1": "0.999", "action": "check"}
    page = web.post(f"/p/{PROBLEM}", data=form).text
    assert re.search(r'class="step correct" id="step-z1"', page)
    assert re.search(r'class="step wrong" id="step-a1"', page)
    assert "1 correct" in page and app.state.site.store.count("attempts") == 1
    shown = web.post(f"/p/{PROBLEM}", data={**form, "action": "reveal:a1"}).text
    assert app.state.site.store.count("reveals") == 1
    worked = re.search(r'<div class="worked" id="worked-a1">(.*?)</div>\s*</li>', shown, re.S)
    assert worked and "<math" in worked.group(1)
    assert f"{hand['a1']:.3f}" in worked.group(1)
    # a page seen later keeps the reveal (it is in the database, not in the process)
    assert "<math" in re.search(r'id="worked-a1">(.*?)</div>', web.get(f"/p/{PROBLEM}").text,
                                re.S).group(1)


def test_form_post_needs_the_csrf_token_and_a_name(web, app):
    r = web.post(f"/p/{PROBLEM}", data={"ans-z1": "1", "action": "check"})
    assert r.status_code == 403
    r = web.post(f"/p/{PROBLEM}", data={"csrf": "forged", "ans-z1": "1"})
    assert r.status_code == 403
    r = web.post(f"/p/{PROBLEM}", data={"csrf": web.cookies["chainrule_csrf"], "ans-z1": "1"})
    assert r.status_code == 400  # no name yet
    assert app.state.site.store.count("attempts") == 0


def test_names_are_checked_and_escaped(web):
    csrf = web.cookies["chainrule_csrf"]
    r = web.post("/name", data={"csrf": csrf, "name": "<script>x</script>", "next": "/"})
    assert r.status_code == 400 and "<script>x" not in r.text
    r = web.post("/name", data={"csrf": csrf, "name": "Zoë O'Brien", "next": "//evil.example"},
                 follow_redirects=False)
    assert r.headers["location"] == "/"
    assert "Zoë O&#39;Brien" in web.get("/").text


# -- hostile requests ------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    b"{", b"[]", b"null", b'{"problem": "bp-00000C1S", "answers": []}',
    b'{"problem": "bp-00000C1S", "answers": {"z1": {"a": 1}}}',
    b'{"problem": "bp-00000C1S", "answers": {"z1": true}}',
    b'{"problem": "<script>", "answers": {}}', b'{"problem": "bp-ZZZZZZZZZZ", "answers": {}}',
    b'{"problem": "bp-00000C1S", "answers": {"z1": "' + b"9" * 2000 + b'"}}',
    b"[" * 30000, b"\xff\xfe", b'{"problem": "bp-00000C1S", "problem": "x", "answers": {}}',
    b'{"problem": "bp-00000C1S", "answers": {"z1": NaN}}',
])
def test_hostile_json_bodies_get_400(web, body):
    r = web.post("/api/check", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()


def test_odd_answers_are_reported_not_judged(web):
    steps, report = check(web, {"z1": "__import__('os')", "nosuch": "1", "a1": "1e999",
                                "z2": "0.5"})
    assert steps["z1"]["status"] == "missing" and len(report["input_errors"]) == 3
    r = web.post("/api/check", json={"problem": PROBLEM, "answers": {"z1": "__import__('os')"}})
    assert r.status_code == 400 and "not a number" in r.json()["error"]
    named(web)
    page = web.post(f"/p/{PROBLEM}", data={"csrf": web.cookies["chainrule_csrf"],
                                           "ans-z1": "<b>x</b>", "action": "check"})
    assert page.status_code == 400 and "Nothing on the sheet could be read" in page.text
    assert 'value="&lt;b&gt;x&lt;/b&gt;"' in page.text and "<b>x</b>" not in page.text


def test_bodies_over_the_limit_get_413(web):
    big = json.dumps({"problem": PROBLEM, "answers": {"z1": "1" * 100_000}})
    assert web.post("/api/check", content=big,
                    headers={"content-type": "application/json"}).status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b" " * 1000

    r = web.post("/api/check", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = web.post(f"/p/{PROBLEM}", data={"csrf": web.cookies["chainrule_csrf"],
                                        "ans-z1": "1" * 70_000})
    assert r.status_code == 413


def test_cross_site_posts_are_refused(web):
    r = web.post("/api/check", json={"problem": PROBLEM, "answers": {}},
                 headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    r = web.post("/api/check", data={"problem": PROBLEM})  # a form cannot reach the API
    assert r.status_code == 415
    r = web.post("/name", content=b'{"name": "x"}', headers={"content-type": "text/plain"})
    assert r.status_code == 415


# -- the teacher -----------------------------------------------------------------------------
def test_teacher_pages_need_the_token(web):
    assert web.get("/teacher").status_code == 401
    assert web.get("/teacher/attempts.csv").status_code == 401
    assert web.get("/teacher/attempts.csv",
                   headers={"authorization": "Bearer wrong"}).status_code == 401
    csrf = web.cookies["chainrule_csrf"]
    assert web.post("/teacher/login", data={"csrf": csrf, "token": "wrong"}).status_code == 403
    r = web.post("/teacher/login", data={"csrf": csrf, "token": TOKEN})
    assert r.status_code == 200 and "How the class is doing" in r.text


def test_teacher_page_counts_and_csv_export_read_back_by_check_batch(app, tmp_path):
    hand = None
    for name, z3 in (("Ada", None), ("Ben", 0.5), ("Cy", 0.5)):
        web = named(_fresh(app), name)
        hand = hand or hand_forward(givens(web))
        answers = {"z1": hand["z1"], "a1": hand["a1"], "z3": z3 if z3 is not None
                   else hand["z3"]}
        check(web, answers)
    web = _fresh(app)
    web.post("/teacher/login", data={"csrf": web.cookies["chainrule_csrf"], "token": TOKEN})
    page = web.get("/teacher").text
    row = re.search(rf"{PROBLEM}</a></td><td>(\d+)</td><td>(\d+)</td>", page)
    assert row and row.groups() == ("3", "3")
    assert "z3 (bp-00000C1S)" in page and '<svg class="chart"' in page
    exported = web.get("/teacher/attempts.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:2] == ["id", "problem"] and len(rows) == 4
    assert {r[0] for r in rows[1:]} == {"Ada", "Ben", "Cy"}
    path = tmp_path / "attempts.csv"
    path.write_text(exported.text)
    out = CliRunner().invoke(main, ["check", PROBLEM, str(path), "--batch", "--format",
                                    "json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)["problems"][0]
    first = {s["student"]: s["first_error"] for s in summary["students"]}
    assert first == {"Ada": None, "Ben": "z3", "Cy": "z3"}


def _fresh(app):
    c = client(app)
    c.get("/")
    return c


def test_teacher_token_is_created_once_and_kept(tmp_path):
    db = str(tmp_path / "t.sqlite")
    apps = [create_app(db), create_app(db), create_app(db, token="given")]
    first = apps[0].state.site.token
    assert len(first) >= 20
    assert apps[1].state.site.token == first
    assert apps[2].state.site.token == "given"
    for made in apps:
        made.state.site.store.close()


@pytest.mark.parametrize("family", [
    "loss_value", "cost", "loss_derivative", "forward", "backprop", "optimizer_steps",
    "lr_schedule", "gd_step",
])
def test_every_family_renders_as_mathml_with_one_box_per_step(web, family):
    from chainrule.api import problem

    p = problem(family, seed=5)
    page = web.get(f"/p/{p.id}").text
    assert re.findall(r'name="ans-([A-Za-z0-9_]+)"', page) == list(p.asked)
    assert '<code class="tex">' not in page  # every formula converted
    worked = web.post("/api/reveal", json={"problem": p.id, "step": p.asked[-1]}).json()
    assert "<math" in worked["mathml"] and '<code class="tex">' not in worked["mathml"]


def test_a_sets_problems_open_by_their_code_and_never_show_the_full_id(tmp_path):
    from setfolders import make_set

    folder = make_set(tmp_path / "exam", ["backprop", "loss_value"], seed=11, versions=2)
    key = json.loads((folder / "key.json").read_text())
    assert re.fullmatch(r"A-[0-9A-Z]{4}-[0-9A-Z]{4}", key["problems"][0]["code"])
    app = create_app(str(tmp_path / "c.sqlite"), sets=[str(folder)], token=TOKEN)
    web = named(_fresh(app))
    index = web.get("/").text
    record = key["problems"][0]
    full, code = record["id"], record["code"]
    assert f'href="/p/{code}"' in index and full not in index
    seen = [web.get(f"/p/{code.lower()}"), web.get(f"/api/problem/{code}"),
            web.post("/api/check", json={"problem": code, "answers": {"z1": "0.1"}}),
            web.post("/api/reveal", json={"problem": code, "step": "z1"}),
            web.post(f"/p/{code}", data={"csrf": web.cookies["chainrule_csrf"],
                                         "ans-z1": "0.1", "action": "check"}),
            web.get(f"/open?code={code}", follow_redirects=False)]
    assert [r.status_code for r in seen] == [200, 200, 200, 200, 200, 303]
    for r in seen:
        assert full not in r.text and full not in r.headers.get("location", ""), r.url
    assert seen[2].json()["problem"] == code
    assert "New numbers" in seen[0].text
    new = web.get(f"/new/backprop?like={code}", follow_redirects=False).headers["location"]
    assert new.startswith("/p/bp-") and full[3:] not in new
    assert app.state.site.store.summary()["problems"][0]["problem"] == full  # the teacher's
    app.state.site.store.close()


def test_formula_answers_are_judged_and_an_asked_formula_is_never_shown_unearned(web):
    from chainrule.api import problem

    # a step asked as a number may be answered with a formula
    steps, _ = check(web, {"z1": "w11*x1 + w21*x2 + b1"})
    assert steps["z1"]["status"] == "correct"
    assert steps["z1"]["formula"]["read_as_tex"] == "w_{11} x_{1} + w_{21} x_{2} + b_{1}"
    # a derivation asks for formulas: delta1 = w13 delta3 sigma'(z1), as in the notes
    p = problem("derivation", seed=1)
    assert p.asked[:2] == ("delta3", "delta1")
    r = web.post("/api/check", json={"problem": p.id, "answers": {
        "delta3": "yhat - y", "delta1": "w13*delta3"}})
    steps = {s["name"]: s for s in r.json()["steps"]}
    assert steps["delta3"]["status"] == "correct"
    assert steps["delta3"]["formula"]["expected"] == "ŷ − y"  # earned: shown
    assert steps["delta1"]["status"] == "wrong"
    assert steps["delta1"]["mistake"] == "missing_activation_derivative"
    text = json.dumps(steps["delta1"], ensure_ascii=False)
    for answer in ("fprime1", "f′(z1)", "σ′(z1)", "σ'(z1)", "\\\\sigma'", "\\\\left(z_{1}"):
        assert answer not in text, answer
    assert steps["delta1"]["message"]  # the slip is still named in words
    page = web.get(f"/p/{p.id}").text
    assert "fprime1" not in page.replace('name="ans-fprime1"', "")
    assert "w_{13} \\delta_{3} \\sigma" not in page
