"""The web app on a real PostgreSQL server (``CHAINRULE_TEST_PG_URL``, set by .ci/run)."""

from __future__ import annotations

import os
import re
import threading

import pytest

from chainrule.serve.app import create_app
from chainrule.serve.store import open_store
from servekit import PROBLEM, client, hand_forward

URL = os.environ.get("CHAINRULE_TEST_PG_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason="no PostgreSQL server: set CHAINRULE_TEST_PG_URL (.ci/run starts one)")


@pytest.fixture
def url():
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(URL, autocommit=True) as conn:
        for table in ("attempt_steps", "attempts", "reveals", "chainrule_settings"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return URL


def test_attempts_reveals_and_teacher_page_on_postgresql(url):
    app = create_app(url, token="pg-token")
    web = client(app)
    web.get("/")
    web.post("/name", data={"csrf": web.cookies["chainrule_csrf"], "name": "Ada", "next": "/"})
    g = {k: float(v) for k, v in web.get(f"/api/problem/{PROBLEM}").json()["givens"].items()}
    hand = hand_forward(g)
    r = web.post("/api/check", json={"problem": PROBLEM,
                                     "answers": {"z1": hand["z1"], "a1": 0.9}})
    steps = {s["name"]: s for s in r.json()["steps"]}
    assert steps["z1"]["status"] == "correct" and steps["a1"]["status"] == "wrong"
    assert web.post("/api/reveal", json={"problem": PROBLEM, "step": "a1"}).status_code == 200
    r = web.post("/api/check", json={"problem": PROBLEM, "answers": {"z1": hand["z1"]}})
    steps = {s["name"]: s for s in r.json()["steps"]}
    assert steps["a1"]["revealed"] and steps["a1"]["expected"] == pytest.approx(hand["a1"])
    store = app.state.site.store
    assert store.count("attempts") == 2 and store.count("reveals") == 1
    summary = store.summary()
    assert summary["problems"][0]["students"] == 1 and summary["problems"][0]["attempts"] == 2
    assert summary["wrong_steps"] == [{"problem": PROBLEM, "step": "a1", "count": 1}]
    page = web.get("/teacher", headers={"authorization": "Bearer pg-token"}).text
    assert re.search(rf"{PROBLEM}</a></td><td>1</td><td>2</td>", page)
    csv_text = web.get("/teacher/attempts.csv",
                       headers={"authorization": "Bearer pg-token"}).text
    assert csv_text.splitlines()[0] == "id,problem,z1"
    assert csv_text.splitlines()[1] == f"Ada,{PROBLEM},{hand['z1']}"
    store.close()


def test_token_is_created_once_and_workers_write_concurrently(url):
    stores = [open_store(url) for _ in range(5)]
    first = stores[4].teacher_token()
    workers = stores[:4]
    assert workers[0].teacher_token() == first
    report = {"score": {"points": 1.0, "max": 2}, "first_error": "a1",
              "steps": [{"name": "z1", "status": "correct", "mistake": None},
                        {"name": "a1", "status": "wrong", "mistake": "missing_bias"}]}

    def work(store, n):
        for i in range(25):
            store.record_check(f"s{n}", PROBLEM, {"z1": str(i)}, report)

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert workers[0].count("attempts") == 100 and workers[0].count("attempt_steps") == 200
    assert workers[0].summary()["mistakes"] == [{"mistake": "missing_bias", "count": 100}]
    assert sorted(s for s, _, _ in workers[0].latest_sheets()) == ["s0", "s1", "s2", "s3"]
    for store in stores:
        store.close()
