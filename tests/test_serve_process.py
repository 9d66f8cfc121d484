"""``chainrule serve`` as a real server: workers share one database, a kill loses nothing."""

from __future__ import annotations

import httpx
import pytest

from chainrule.serve.store import open_store
from servekit import PROBLEM, start_server, stop_server


@pytest.mark.slow
def test_two_workers_share_the_database_and_a_killed_server_keeps_every_attempt(tmp_path):
    db = tmp_path / "class.sqlite"
    log = tmp_path / "server.log"
    proc, url = start_server(["--db", str(db), "--workers", "2"], log)
    try:
        with httpx.Client(base_url=url) as web:
            for i in range(12):
                r = web.post("/api/check", json={"problem": PROBLEM, "student": f"s{i}",
                                                 "answers": {"z1": "0.78", "a1": "0.5"}})
                assert r.status_code == 200
            assert web.post("/api/reveal", json={"problem": PROBLEM, "step": "a1",
                                                 "student": "s1"}).status_code == 200
    finally:
        stop_server(proc)  # no shutdown, no flush
    printed = log.read_text()
    store = open_store(str(db))
    try:
        assert store.count("attempts") == 12 and store.count("reveals") == 1
        assert store.count("attempt_steps") == 24
        assert f"token: {store.teacher_token()}" in printed
    finally:
        store.close()
    assert "http://localhost:" in printed
