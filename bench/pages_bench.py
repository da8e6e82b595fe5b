"""Throughput of the portal's pages and search API beside a bare Flask + Jinja page, as a new user runs it:
gunicorn with 2 sync workers, started without the project's config (`gunicorn -w 2 'app:create_app()'`) and
with it, on SQLite with the demo catalogue, 16 connections, each target and the bare page in the same run.

    .venv/bin/python bench/pages_bench.py [--seconds 8] [--connections 16] [--offerings N]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--page-cache-bytes N] [--keep DIR]

Prints req/s, the ratio to the bare page, p50/p99 latency, errors and each worker's resident memory (RSS and
the part not shared with other processes). The catalogue is the demo set (`flask demo`), or with --offerings N
bench/corpus.py's generated catalogue of N offerings loaded with `flask import`. SQLite in the work folder, or
with --database-url a PostgreSQL database of the benchmark's own on that server, dropped at the end. Figures
are printed, never checked.

The load comes from clients that keep no cookies, so every request is a new visitor without a session: the
portal answers them from its page cache (marketplace.core.page_cache), and the "cache" column shows the
X-Page-Cache header of the target's answer. `--page-cache-bytes 0` turns the cache off, to measure the pages as
the views make them (as signed-in people get them, and everyone right after a change).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from bench.workdir import work_folder

# The bare page: a Jinja template from a loader (compiled once and cached, as Flask does with template files)
# that lists 20 offerings.
BARE_APP = '''
from flask import Flask, render_template
from jinja2 import DictLoader
app = Flask(__name__)
app.jinja_loader = DictLoader({"offers.html": """<!doctype html><html lang="pl"><head><title>Oferty</title></head>
<body><main><h1>Oferty</h1><ul>
{% for r in rows %}<li><a href="/o/{{ loop.index }}">{{ r.title }}</a> – {{ r.pes }}, {{ r.price }}</li>{% endfor %}
</ul></main></body></html>"""})
ROWS = [{"title": f"Oferta numer {i}", "pes": f"Spółdzielnia {i}", "price": f"{i * 3},50 zł"} for i in range(20)]
@app.get("/")
def index():
    return render_template("offers.html", rows=ROWS)
'''


# The goal, printed beside the figures (never asserted).
GOAL_RATIO, GOAL_P99_MS, GOAL_RSS_MIB = 0.40, 50.0, 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict, cwd: Path, log: Path, port: int) -> subprocess.Popen:
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not answer in 90 s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def workers_memory(pid: int) -> list[tuple[int, int]]:
    """(RSS, private) in bytes of each child process of the gunicorn master."""
    out = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        rss = private = 0
        for line in Path(f"/proc/{child}/smaps_rollup").read_text().splitlines():
            key, _sep, rest = line.partition(":")
            if key == "Rss":
                rss = int(rest.split()[0]) * 1024
            elif key in ("Private_Clean", "Private_Dirty"):
                private += int(rest.split()[0]) * 1024
        out.append((rss, private))
    return out


async def _one(port: int, path: str) -> tuple[float, bool]:
    began = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    ok = data.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
    return time.perf_counter() - began, ok


async def _load(port: int, path: str, seconds: float, connections: int) -> tuple[list[float], int, float]:
    times: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def worker():
        nonlocal errors
        while time.perf_counter() < end:
            try:
                took, ok = await _one(port, path)
            except OSError:
                took, ok = 0.0, False
            times.append(took)
            errors += not ok

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return times, errors, time.perf_counter() - began


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure_wrk(port: int, path: str, seconds: float, connections: int) -> dict:
    """The load of wrk (one thread, `connections` connections), its latency distribution and errors."""
    url = f"http://127.0.0.1:{port}{path}"
    subprocess.run(["wrk", "-t1", f"-c{connections}", "-d1s", url], check=True, capture_output=True)  # warm up
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url], check=True,
                         capture_output=True, text=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": _wrk_ms(latency["50"]),
            "p99": _wrk_ms(latency["99"]), "errors": errors,
            "n": int(re.search(r"(\d+) requests in", out).group(1))}


def measure(port: int, path: str, seconds: float, connections: int) -> dict:
    """wrk when it is installed (a C client: the load generator is not what limits the figures), else the
    script's own asyncio client, which itself caps at about 1 000 requests a second on two cores."""
    if shutil.which("wrk"):
        return measure_wrk(port, path, seconds, connections)
    asyncio.run(_load(port, path, 1.0, connections))  # warm up
    times, errors, wall = asyncio.run(_load(port, path, seconds, connections))
    times.sort()
    pick = lambda p: times[min(len(times) - 1, int(p * len(times)))] * 1000
    return {"rps": len(times) / wall, "p50": pick(0.50), "p99": pick(0.99), "errors": errors, "n": len(times)}


def targets(port: int) -> list[tuple[str, str]]:
    """The issue's targets; an offering and a PES page are taken from the running portal."""
    import urllib.request

    html = urllib.request.urlopen(f"http://127.0.0.1:{port}/kategoria/catering").read().decode()
    offering = re.search(r'href="(/oferta/\d+[^"?#]*)"', html).group(1)
    api_search = "/api/v1/search?q=sprzatanie&category=sprzatanie&powiat=0463"
    return [("/", "/"), ("/pes/20", "/pes/20"), ("an offering page", offering),
            ("/api/v1/search?q=catering", "/api/v1/search?q=catering"),
            ("/api/v1/search (facets only)", "/api/v1/search"), ("/api/v1/search?q=sprzatanie&…", api_search)]


def cache_state(port: int, path: str) -> str:
    """The X-Page-Cache header of one more request for the target ("off" without it)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as resp:
        return resp.headers.get("X-Page-Cache", "off")


def load_catalogue(args, work: Path, env: dict) -> None:
    """The demo set, or the generated catalogue of --offerings through the portal's importer."""
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    if not args.offerings:
        subprocess.run([*flask, "demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        return
    sys.path.insert(0, str(HERE))
    import corpus

    corpus.generate(args.offerings, 7).write(work / "corpus.jsonl")
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "import", str(work / "corpus.jsonl")], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def own_database(server_url: str | None, work: Path) -> tuple[str, callable]:
    """The database URL to use and how to drop it afterwards (SQLite: nothing to drop)."""
    if not server_url:
        return f"sqlite:///{work / 'portal.db'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from marketplace.config import normalise_db_url

    admin_url = make_url(normalise_db_url(server_url))
    name = f"pages_bench_{os.getpid()}_{int(time.time())}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def run(args, work: Path) -> int:
    db_url, drop = own_database(args.database_url, work)
    env = dict(os.environ, DATABASE_URL=db_url, SECRET_KEY="pages-benchmark",
               SEARCH_INDEX_DIR=str(work / "index"), UPLOAD_DIR=str(work / "uploads"), MAIL_DIR=str(work / "mail"),
               RATELIMIT_ENABLED="false", MAIL_SEND_BACKGROUND="false")
    if args.page_cache_bytes is not None:
        env["PAGE_CACHE_BYTES"] = str(args.page_cache_bytes)
    try:
        load_catalogue(args, work, env)
        print(f"catalogue: {'demo set' if not args.offerings else f'{args.offerings} generated offerings'}; "
              f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; load: "
              f"{'wrk' if shutil.which('wrk') else 'the asyncio client (wrk not installed)'}, "
              f"{args.connections} connections, {args.seconds:g} s per target")
        return serve_and_measure(args, work, env)
    finally:
        drop()


def serve_and_measure(args, work: Path, env: dict) -> int:
    (work / "bare.py").write_text(BARE_APP, encoding="utf-8")
    bare_port = free_port()
    bare = start([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{bare_port}", "bare:app"],
                 env, work, work / "bare.log", bare_port)
    try:
        for label, config in (("without the project's config", ["-c", "/dev/null"]), ("with gunicorn.conf.py", [])):
            port = free_port()
            began = time.time()
            portal = start([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", *config,
                            "app:create_app()"], env, ROOT, work / "portal.log", port)
            try:
                asyncio.run(_one(port, "/"))  # the first answer: a worker has started
                report(label, port, bare_port, portal, time.time() - began, args)
            finally:
                stop(portal)
    finally:
        stop(bare)
    return 0


def report(label: str, port: int, bare_port: int, portal, start_s: float, args) -> None:
    print(f"\n== gunicorn -w 2, {label} (answering {start_s:.1f} s after start) ==")
    print(f"{'target':34} {'req/s':>7} {'bare':>7} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} cache")
    short = []
    for name, path in targets(port):
        got = measure(port, path, args.seconds, args.connections)
        base = measure(bare_port, "/", args.seconds, args.connections)
        ratio = got["rps"] / base["rps"]
        print(f"{name:34} {got['rps']:7.0f} {base['rps']:7.0f} {ratio:6.2f} "
              f"{got['p50']:7.1f} {got['p99']:7.1f} {got['errors']:6d} {cache_state(port, path)}")
        if ratio < GOAL_RATIO or got["p99"] > GOAL_P99_MS or got["errors"]:
            short.append(name)
    for i, (rss, private) in enumerate(workers_memory(portal.pid), start=1):
        print(f"worker {i}: RSS {rss / 2**20:.0f} MiB, of it private {private / 2**20:.0f} MiB")
        if rss > GOAL_RSS_MIB * 2**20:
            short.append(f"worker {i} RSS")
    print(f"goal (ratio >= {GOAL_RATIO}, p99 <= {GOAL_P99_MS} ms, no errors, RSS <= {GOAL_RSS_MIB} MiB): "
          + ("met" if not short else "not met by " + ", ".join(short)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0, help="seconds of load per target")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--offerings", type=int, default=0, help="a generated catalogue of this size (0: the demo set)")
    ap.add_argument("--database-url", help="a PostgreSQL server URL: the benchmark's own database is made there")
    ap.add_argument("--page-cache-bytes", type=int, help="the portal's PAGE_CACHE_BYTES (0: no page cache)")
    ap.add_argument("--keep", help="work in this folder and keep it")
    args = ap.parse_args()
    work = work_folder(ap, args.keep, "pages-bench-")
    try:
        return run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
