"""The practice page in a real browser: Playwright driving Debian's chromium.

A student works the 2-2-1 backprop problem with the keyboard (typing, checking as they type,
a carried step, revealing a step, checking the sheet), on a desktop and on a phone-width
screen, and without JavaScript; then the teacher opens the class page. Screenshots go to
``CHAINRULE_SCREENSHOTS`` (a folder) when it is set.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import httpx
import pytest

from servekit import PROBLEM, hand_forward, r3, start_server, stop_server

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                       "(apt-get install chromium; .ci/run does)"),
]
TOKEN = "browser-test-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    proc, url = start_server(["--db", str(folder / "class.sqlite"), "--token", TOKEN],
                             folder / "server.log")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu",
                  "--disable-background-networking"])
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    folder = os.environ.get("CHAINRULE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def watch(page) -> list[str]:
    """Console errors and failed requests (a CSP violation shows up here)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    return problems


def the_numbers(url: str) -> dict[str, float]:
    givens = httpx.get(f"{url}/api/problem/{PROBLEM}").json()["givens"]
    hand = hand_forward({k: float(v) for k, v in givens.items()})
    hand["z3_slip"] = r3(hand["z3"] + 0.1)
    hand["yhat_carried"] = r3(1 / (1 + math.exp(-hand["z3_slip"])))
    return hand


@pytest.mark.parametrize(("width", "height", "who"), [(1280, 900, "Ada"), (390, 844, "Ben")])
def test_a_student_works_the_backprop_problem_with_the_keyboard(server, browser, width,
                                                                 height, who):
    hand = the_numbers(server)
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = watch(page)
    page.goto(server + "/")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.focus("#student-name")
    page.keyboard.type(who)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Working as {who}")
    page.focus("#code")
    page.keyboard.type(PROBLEM)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/p/{PROBLEM}")
    assert page.locator("math").count() > 20 and page.locator("svg.network").count() == 1
    typed = {"z1": hand["z1"], "a1": hand["a1"], "z2": hand["z2"], "a2": hand["a2"],
             "z3": hand["z3_slip"], "yhat": hand["yhat_carried"]}
    page.focus("#ans-z1")
    for name, value in typed.items():
        assert page.evaluate("document.activeElement.id") == f"ans-{name}"
        page.keyboard.type(f"{value:.3f}")
        page.wait_for_selector(f"#echo-{name} math")  # read back as typed
        tab_to_next_box(page)
    # checked as you type, no reload
    page.wait_for_selector("#step-yhat.carried")
    for name in ("z1", "a1", "z2", "a2"):
        assert "correct" in page.get_attribute(f"#step-{name}", "class")
    assert "wrong" in page.get_attribute("#step-z3", "class")
    assert f"{hand['z3']:.3f}" not in page.inner_text("#step-z3")
    # a formula is read back too
    page.fill("#ans-L", "-ln(yhat)")
    page.wait_for_selector("#echo-L math")
    assert "ln" in page.inner_text("#echo-L") or "log" in page.inner_text("#echo-L")
    page.fill("#ans-L", "")
    # reveal a step: the worked step appears and the step's value with it
    page.click("button[value='reveal:L']")
    page.wait_for_selector("#worked-L math")
    worked = page.inner_text("#worked-L")
    assert "0." in worked
    # check the whole sheet from the keyboard (Enter in a box)
    page.focus("#ans-z1")
    page.keyboard.press("Enter")
    from playwright.sync_api import expect

    expect(page.locator("#score")).to_contain_text("Score 5/30: 4 correct, 1 carried, 1 wrong")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    shot(page, f"student-{width}")
    assert errors == []
    page.close()


def tab_to_next_box(page) -> None:
    """Press Tab until the next answer box has the focus (past its step's two buttons)."""
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name || ''").startswith("ans-"):
            return
    pytest.fail("Tab does not reach the next answer box")


def test_the_sheet_works_without_javascript(server, browser):
    hand = the_numbers(server)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/p/{PROBLEM}")
    page.fill("#student-name", "Cy")
    page.click("form.name button")
    page.fill("#ans-z1", f"{hand['z1']:.3f}")
    page.fill("#ans-a1", "0.9")
    page.click("button.primary")
    page.wait_for_selector("#step-z1.correct")
    assert "wrong" in page.get_attribute("#step-a1", "class")
    page.click("button[value='reveal:a1']")
    page.wait_for_selector("#worked-a1 math")
    assert f"{hand['a1']:.3f}" in page.inner_text("#worked-a1")
    assert page.input_value("#ans-a1") == "0.9"  # nothing typed is lost
    shot(page, "student-no-js")
    context.close()


def test_the_teacher_page_shows_the_class(server, browser):
    httpx.post(f"{server}/api/check", json={"problem": PROBLEM, "student": "Dee",
                                            "answers": {"z1": "0.1", "z3": "0.2"}})
    exported = httpx.get(f"{server}/teacher/attempts.csv",
                         headers={"authorization": f"Bearer {TOKEN}"}).text
    students = {line.split(",")[0] for line in exported.splitlines()[1:]}
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(server + "/teacher")  # 401: the token form
    errors = watch(page)
    page.fill("#token", TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=How the class is doing")
    cells = page.locator("tbody tr", has_text=PROBLEM).first.locator("td").all_inner_texts()
    assert cells[:2] == [PROBLEM, str(len(students))]
    assert page.locator("svg.chart rect").count() >= 1
    assert "z3" in page.locator("svg.chart").text_content()
    with page.expect_download() as download:
        page.click("text=Download attempts (CSV)")
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0].startswith("id,problem,")
    shot(page, "teacher")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "teacher-390")
    assert errors == []
    page.close()
