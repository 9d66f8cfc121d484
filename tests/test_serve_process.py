"""``chainrule serve`` as a real server: workers share one database, a kill loses nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chainrule.serve.store import open_store
from servekit import PROBLEM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chainrule", "serve", "--port", str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    pytest.fail("the server did not start: " + log.read_text())


@pytest.mark.slow
def test_two_workers_share_the_database_and_a_killed_server_keeps_every_attempt(tmp_path):
    db = tmp_path / "class.sqlite"
    log = tmp_path / "server.log"
    proc, url = start(["--db", str(db), "--workers", "2"], log)
    try:
        with httpx.Client(base_url=url) as web:
            for i in range(12):
                r = web.post("/api/check", json={"problem": PROBLEM, "student": f"s{i}",
                                                 "answers": {"z1": "0.78", "a1": "0.5"}})
                assert r.status_code == 200
            assert web.post("/api/reveal", json={"problem": PROBLEM, "step": "a1",
                                                 "student": "s1"}).status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # no shutdown, no flush
        proc.wait(timeout=30)
    printed = log.read_text()
    store = open_store(str(db))
    try:
        assert store.count("attempts") == 12 and store.count("reveals") == 1
        assert store.count("attempt_steps") == 24
        assert f"token: {store.teacher_token()}" in printed
    finally:
        store.close()
    assert "http://localhost:" in printed
