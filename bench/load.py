"""Load test of ``chainrule serve`` on the loopback address (bounded in time and requests).

Starts ``chainrule serve`` (SQLite in a temporary folder) and drives it from this process with
a small keep-alive HTTP/1.1 client on asyncio, so the load generator costs little CPU; both
share this machine. Scenarios:

1. numeric sheets, 20 clients, 0.5 s think time between checks (a class at work);
   target: p95 of ``POST /api/check`` under 50 ms;
2. numeric sheets, 20 clients, no think time (the saturation throughput);
3. formula sheets: ``POST /api/check`` with formula answers, 20 clients, no think time;
4. formulas typed: ``POST /api/parse`` of formulas (the echo while typing), no think time;

beside the floor of the stack: ``POST /api/parse`` of a plain number (JSON in, JSON out,
no problem, no database), so a scenario's cost reads as a ratio to it.

Each client works its own backprop problem (2-2-1, its own seed): a sheet of 30 steps with a
slip at z3, every check recorded in the database as in class. Reported: requests/s, latency
p50/p95/max (ms), errors, and the server's peak memory (RSS summed over its processes).

    python3 bench/load.py                 # 1 worker
    python3 bench/load.py --workers 2     # two worker processes on one SQLite file
    python3 bench/load.py --quick         # 5 s per scenario
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAX_REQUESTS = 200_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children (KiB)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class Connection:
    """One keep-alive HTTP/1.1 connection: POST JSON, read the whole response."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def sheets(clients: int, formulas: bool) -> list[bytes]:
    """One check request per client: its own problem, a 30-step sheet with a slip at z3."""
    from chainrule.problems.base import make_problem

    bodies = []
    for n in range(clients):
        p = make_problem("backprop", 1000 + n)
        answers = {}
        for name in p.asked:
            value = p.rounded[name] + (0.1 if name == "z3" else 0.0)
            answers[name] = f"{value:.3f}"
        if formulas:
            answers.update({"z1": "w11*x1 + w21*x2 + b1", "a1": "sigma(z1)",
                            "delta3": "yhat - y", "fprime1": "a1*(1 - a1)",
                            "delta1": "w13 delta3 a1 (1 - a1)", "dL_dw13": "delta3*a1"})
        bodies.append(json.dumps({"problem": p.id, "student": f"load{n}",
                                  "answers": answers}).encode())
    return bodies


def parse_bodies(clients: int) -> list[bytes]:
    from chainrule.problems.base import make_problem

    texts = ["w13*a1 + w23*a2 + b3", "\\sigma(z_1)", "-(y ln(yhat) + (1-y) ln(1-yhat))",
             "w13 δ3 a1 (1 − a1)", "\\frac{1}{1+e^{-z_3}}"]
    return [json.dumps({"problem": make_problem("backprop", 1000 + n).id,
                        "text": texts[n % len(texts)]}).encode() for n in range(clients)]


async def scenario(port: int, path: str, bodies: list[bytes], think: float, seconds: float,
                   server_pid: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    peak = 0

    async def client(body: bytes) -> None:
        nonlocal errors
        conn = Connection(port)
        await asyncio.sleep(random.random() * (think or 0.05))
        try:
            while time.perf_counter() < stop and len(latencies) < MAX_REQUESTS:
                start = time.perf_counter()
                status, _ = await conn.post(path, body)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors += 1
                if think:
                    await asyncio.sleep(think)
        finally:
            conn.close()

    async def memory() -> None:
        nonlocal peak
        while time.perf_counter() < stop:
            peak = max(peak, rss_kib(server_pid))
            await asyncio.sleep(0.5)

    began = time.perf_counter()
    await asyncio.gather(memory(), *(client(b) for b in bodies))
    elapsed = time.perf_counter() - began
    ms = sorted(x * 1000 for x in latencies)
    return {
        "requests": len(ms),
        "rps": len(ms) / elapsed,
        "p50": statistics.median(ms),
        "p95": ms[int(0.95 * (len(ms) - 1))],
        "max": ms[-1],
        "errors": errors,
        "rss_mib": peak / 1024,
    }


def start_server(workers: int, folder: str) -> tuple[subprocess.Popen[bytes], int]:
    import urllib.request

    port = free_port()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chainrule", "serve", "--port", str(port), "--workers",
         str(workers), "--db", str(Path(folder) / "load.sqlite"), "--token", "bench"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="5 s per scenario")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    random.seed(0)
    numeric, formula = sheets(args.clients, False), sheets(args.clients, True)
    parses = parse_bodies(args.clients)
    with tempfile.TemporaryDirectory() as folder:
        proc, port = start_server(args.workers, folder)
        try:
            # warm up: every problem regenerated and every code path compiled once
            asyncio.run(scenario(port, "/api/check", numeric + formula, 0.0, 2.0, proc.pid))
            asyncio.run(scenario(port, "/api/parse", parses, 0.0, 1.0, proc.pid))
            floor = [json.dumps({"text": "0.5"}).encode()] * args.clients
            runs = [
                ("floor: /api/parse of a number", "/api/parse", floor, 0.0),
                ("numeric, 0.5 s think", "/api/check", numeric, 0.5),
                ("numeric, no think", "/api/check", numeric, 0.0),
                ("formula sheets, no think", "/api/check", formula, 0.0),
                ("formulas typed (/api/parse)", "/api/parse", parses, 0.0),
            ]
            print(f"chainrule serve --workers {args.workers} on 127.0.0.1, {args.clients} "
                  f"clients, {seconds:.0f} s per scenario, {os.cpu_count()} CPUs "
                  "(load generator on the same machine), load average "
                  + " ".join(f"{x:.1f}" for x in os.getloadavg()))
            print(f"{'scenario':<30} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
                  f"{'max ms':>7} {'errors':>6} {'RSS MiB':>8}")
            results = {}
            for title, path, bodies, think in runs:
                r = asyncio.run(scenario(port, path, bodies, think, seconds, proc.pid))
                results[title] = r
                print(f"{title:<30} {r['requests']:>8.0f} {r['rps']:>7.1f} {r['p50']:>7.1f} "
                      f"{r['p95']:>7.1f} {r['max']:>7.1f} {r['errors']:>6.0f} "
                      f"{r['rss_mib']:>8.1f}", flush=True)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    base = results["floor: /api/parse of a number"]["rps"]
    for title, r in results.items():
        if "think" not in title or "no think" in title:
            print(f"{title:<30} throughput {r['rps'] / base:5.2f} x the floor")
    p95 = results["numeric, 0.5 s think"]["p95"]
    print(f"target: p95 of /api/check with 0.5 s think time under 50 ms: {p95:.1f} ms "
          f"({'met' if p95 < 50 else 'NOT met'})")


if __name__ == "__main__":
    main()
