"""The web app's views: each reads the request, calls the library, renders or answers JSON.

Pages work as plain forms (no JavaScript needed); the JSON endpoints serve the script that
checks as you type. Student-facing replies carry a step's values only once it is earned.
"""

from __future__ import annotations

import csv
import hmac
import io
import re
from typing import Any
from urllib.parse import quote, unquote

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)

from chainrule.api import Problem
from chainrule.errors import ChainruleError
from chainrule.serve import library
from chainrule.serve.html import bar_chart_svg, markdown, math_html, network_svg, question_html
from chainrule.serve.security import CSRF_COOKIE, check_csrf, new_csrf_token

STUDENT_COOKIE = "chainrule_student"
TEACHER_COOKIE = "chainrule_teacher"
_NAME = re.compile(r"^[\w][\w .'@-]{0,59}$")


# -- shared helpers -------------------------------------------------------------------------
def _site(request: Request) -> Any:
    return request.app.state.site


def student_of(request: Request) -> str | None:
    raw = unquote(request.cookies.get(STUDENT_COOKIE, ""))
    return raw if _NAME.match(raw) else None


def _page(request: Request, template: str, context: dict[str, Any],
          status: int = 200) -> HTMLResponse:
    from chainrule.render.environment import environment

    csrf = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    data = {"csrf": csrf, "student": student_of(request), "path": request.url.path,
            "sets": _site(request).sets, **context}
    body = environment("web", _site(request).templates_dir).get_template(
        f"web/{template}").render(**data)
    response = HTMLResponse(body, status_code=status)
    if CSRF_COOKIE not in request.cookies:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
    return response


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return _page(request, "error.html.j2", {"status": status, "message": message}, status)


async def _form(request: Request) -> Any:
    """The posted form, or None when its CSRF token is missing or wrong."""
    form = await request.form(max_files=0, max_fields=400, max_part_size=16 * 1024)
    return form if check_csrf(request.cookies, form) else None


async def _json(request: Request) -> dict[str, Any]:
    """The request's JSON object, read by the bounded JSON reader."""
    from chainrule.io.inputs import parse_json

    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ChainruleError("the body is not UTF-8 text") from None
    data = parse_json(text, "request body").data
    if not isinstance(data, dict):
        raise ChainruleError("expected a JSON object")
    return data


def _json_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _problem(request: Request, code: str) -> Problem:
    return library.problem(code, _site(request).sets)


# -- student pages --------------------------------------------------------------------------
async def index(request: Request) -> Response:
    sets = [{"title": s.title, "problems": [
        {"code": e.code, "title": e.title, "version": e.version} for e in s.problems]}
        for s in _site(request).sets]
    return _page(request, "index.html.j2", {"families": library.families(),
                                            "set_list": sets})


async def new_variant(request: Request) -> Response:
    like = request.query_params.get("like")
    try:
        model = _problem(request, like) if like else None
        problem_id = library.fresh_id(request.path_params["family"], model)
    except ChainruleError as exc:
        return _error_page(request, 404, str(exc))
    return RedirectResponse(f"/p/{quote(problem_id, safe=':~')}", status_code=303)


async def open_problem(request: Request) -> Response:
    code = request.query_params.get("code", "").strip()
    try:
        problem = _problem(request, code)
    except ChainruleError as exc:
        return _error_page(request, 404, str(exc))
    shown = library.shown_code(problem, _site(request).sets)
    return RedirectResponse(f"/p/{quote(shown, safe=':~')}", status_code=303)


async def set_name(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _error_page(request, 403, "The form expired: reload the page and try again.")
    name = str(form.get("name", "")).strip()
    if not _NAME.match(name):
        return _error_page(request, 400, "A name is 1 to 60 letters, digits, spaces or . _ - '"
                           " and starts with a letter or digit.")
    target = str(form.get("next", "/"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(STUDENT_COOKIE, quote(name), max_age=180 * 86400, httponly=True,
                        samesite="lax")
    return response


def _sheet_context(request: Request, problem: Problem, answers: dict[str, str],
                   report: dict[str, Any] | None, revealed: frozenset[str]) -> dict[str, Any]:
    from chainrule.render.problemset import problem_context

    site = _site(request)
    context = problem_context(problem.core)
    records = {s["name"]: s for s in context["steps"]}
    verdicts = {s["name"]: s for s in report["steps"]} if report else {}
    steps = []
    for name in problem.asked:
        record = records[name]
        shown = None
        if name in revealed:
            shown = Markup(math_html(library.worked_step(problem, name)["tex"], True))
        steps.append({
            "name": name,
            "label": Markup(math_html(record["lhs_tex"])),
            "description": record["description"],
            "value": answers.get(name, ""),
            "verdict": verdicts.get(name),
            "worked": shown,
        })
    network = context["context"].get("network")
    conventions = list(context.get("conventions") or [])  # as the question states them
    return {
        "problem": problem,
        "code": library.shown_code(problem, site.sets),
        "family": problem.family,
        "question": Markup(question_html(context)),
        "network": Markup(network_svg(network, context["givens"])) if network else None,
        "givens": [{"label": Markup(math_html(g["tex"])), "name": g["name"],
                    "value": g["value"]} for g in context["givens"]],
        "conventions": [Markup(markdown(c)) for c in conventions],
        "steps": steps,
        "report": report,
        "checked_one": None,
        "unreadable": None,
    }


async def problem_page(request: Request) -> Response:
    code = request.path_params["code"]
    try:
        problem = _problem(request, code)
    except ChainruleError as exc:
        return _error_page(request, 404, str(exc))
    student = student_of(request)
    revealed = _site(request).store.revealed(student, problem.id) if student else frozenset()
    return _page(request, "problem.html.j2", _sheet_context(request, problem, {}, None,
                                                            revealed))


async def problem_post(request: Request) -> Response:
    """The sheet posted as a form: check it (or one step), or show one worked step."""
    site = _site(request)
    code = request.path_params["code"]
    try:
        problem = _problem(request, code)
    except ChainruleError as exc:
        return _error_page(request, 404, str(exc))
    form = await _form(request)
    if form is None:
        return _error_page(request, 403, "The form expired: reload the page and try again.")
    student = student_of(request)
    if student is None:
        return _error_page(request, 400, "Type your name first (on the start page).")
    try:
        answers = library.read_answers({k[4:]: v for k, v in form.items()
                                        if k.startswith("ans-") and isinstance(v, str)})
    except ChainruleError as exc:
        return _error_page(request, 400, str(exc))
    action = str(form.get("action", "check"))
    only = None
    if action.startswith("reveal:"):
        step = action[7:]
        if step not in problem.asked:
            return _error_page(request, 400, f"no step '{step}' in this problem")
        site.store.record_reveal(student, problem.id, step)
    elif action.startswith("check:"):
        only = action[6:]
    try:
        report = library.check(problem, answers)
    except ChainruleError as exc:  # nothing on the sheet could be read
        revealed = site.store.revealed(student, problem.id)
        context = _sheet_context(request, problem, answers, None, revealed)
        context["unreadable"] = str(exc)
        return _page(request, "problem.html.j2", context, 400)
    if not action.startswith("reveal:"):
        site.store.record_check(student, problem.id, answers, report)
    revealed = site.store.revealed(student, problem.id)
    shown = library.redact(report, revealed, only, problem)
    context = _sheet_context(request, problem, answers, shown, revealed)
    context["checked_one"] = only
    return _page(request, "problem.html.j2", context)


# -- JSON API -------------------------------------------------------------------------------
def _api_student(request: Request, data: dict[str, Any]) -> str:
    raw = data.get("student")
    if isinstance(raw, str) and _NAME.match(raw.strip()):
        return raw.strip()
    return student_of(request) or "anonymous"


async def api_problem(request: Request) -> Response:
    try:
        problem = _problem(request, request.path_params["code"])
    except ChainruleError as exc:
        return _json_error(str(exc), 404)
    from chainrule.render.problemset import problem_context

    context = problem_context(problem.core)
    records = {s["name"]: s for s in context["steps"]}
    network = context["context"].get("network")
    return JSONResponse({
        "problem": library.shown_code(problem, _site(request).sets),
        "family": problem.family,
        "title": problem.title,
        "decimals": problem.decimals,
        "givens": {g["name"]: g["value"] for g in context["givens"]},
        "asked": [{"name": n, "tex": records[n]["lhs_tex"],
                   "description": records[n]["description"]} for n in problem.asked],
        "conventions": {"decimals": problem.decimals, "rounding": "as you go",
                        "log": "natural", **({"network": {k: network[k] for k in (
                            "spec", "hidden", "output", "loss", "loss_params")}}
                            if network else {})},
        "question_html": question_html(context),
    })


async def api_check(request: Request) -> Response:
    site = _site(request)
    try:
        data = await _json(request)
        problem = _problem(request, str(data.get("problem", "")))
        answers = library.read_answers(data.get("answers", {}))
        only = data.get("step")
        if only is not None and only not in problem.asked:
            raise ChainruleError(f"no step '{only}' in this problem")
        student = _api_student(request, data)
        report = library.check(problem, answers)
    except ChainruleError as exc:
        return _json_error(str(exc))
    if data.get("record", True) is not False:
        site.store.record_check(student, problem.id, answers, report)
    report["problem"] = library.shown_code(problem, site.sets)
    return JSONResponse(library.redact(report, site.store.revealed(student, problem.id), only,
                                        problem))


async def api_parse(request: Request) -> Response:
    try:
        data = await _json(request)
        code = data.get("problem")
        problem = _problem(request, code) if isinstance(code, str) else None
    except ChainruleError as exc:
        return _json_error(str(exc))
    text = data.get("text")
    if not isinstance(text, str):
        return _json_error("expected 'text'")
    reading = library.parse_text(text, problem)
    if "tex" in reading:
        reading["mathml"] = math_html(reading["tex"])
    return JSONResponse(reading)


async def api_reveal(request: Request) -> Response:
    site = _site(request)
    try:
        data = await _json(request)
        problem = _problem(request, str(data.get("problem", "")))
        step = data.get("step")
        if not isinstance(step, str) or step not in problem.asked:
            raise ChainruleError(f"no step '{step}' in this problem")
    except ChainruleError as exc:
        return _json_error(str(exc))
    site.store.record_reveal(_api_student(request, data), problem.id, step)
    worked = library.worked_step(problem, step)
    worked["mathml"] = math_html(worked["tex"], True)
    return JSONResponse(worked)


# -- teacher --------------------------------------------------------------------------------
def _is_teacher(request: Request) -> bool:
    token = _site(request).token
    sent = request.cookies.get(TEACHER_COOKIE, "")
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        sent = auth[7:].strip()
    return bool(sent) and hmac.compare_digest(sent.encode(), token.encode())


async def teacher(request: Request) -> Response:
    if not _is_teacher(request):
        return _page(request, "login.html.j2", {"failed": False}, 401)
    summary = _site(request).store.summary()
    chart = bar_chart_svg([(f"{r['step']} ({r['problem']})", r["count"])
                           for r in summary["wrong_steps"]], "Steps most often wrong")
    return _page(request, "teacher.html.j2", {"summary": summary, "chart": Markup(chart)})


async def teacher_login(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _error_page(request, 403, "The form expired: reload the page and try again.")
    sent = str(form.get("token", "")).strip()
    if not hmac.compare_digest(sent.encode(), _site(request).token.encode()):
        return _page(request, "login.html.j2", {"failed": True}, 403)
    response = RedirectResponse("/teacher", status_code=303)
    response.set_cookie(TEACHER_COOKIE, sent, httponly=True, samesite="strict")
    return response


async def teacher_csv(request: Request) -> Response:
    """Each student's last sheet of each problem: id, problem, then one column per step."""
    if not _is_teacher(request):
        return PlainTextResponse("The teacher token is needed.", status_code=401)
    rows = _site(request).store.latest_sheets()
    steps: list[str] = []
    for _, _, answers in rows:
        steps.extend(n for n in answers if n not in steps)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "problem", *steps])
    for student, problem, answers in rows:
        writer.writerow([_cell(student), problem, *(_cell(answers.get(n, "")) for n in steps)])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="attempts.csv"'})


def _cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "@", "\t", "\r") else text


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    kinds = {"app.css": "text/css", "app.js": "text/javascript"}
    if name not in kinds:
        return PlainTextResponse("Not found.", status_code=404)
    from chainrule.render.environment import builtin_templates

    folder = _site(request).templates_dir
    for base in ([folder] if folder else []) + [str(builtin_templates())]:
        from pathlib import Path

        path = Path(base) / "web" / "static" / name
        if path.is_file():
            return Response(path.read_bytes(), media_type=kinds[name],
                            headers={"cache-control": "max-age=300"})
    return PlainTextResponse("Not found.", status_code=404)
