"""Benchmark of the catalogue search: import, full reindex, latency of /api/v1/search over HTTP against
gunicorn, worker memory, how soon a change is searchable, and SQLite FTS5 on the same corpus as a baseline.

Run from the project root with the project's virtual environment:

    .venv/bin/python bench/search_bench.py --n 20000 [--seed 7] [--workers 2] [--requests 2000] [--keep DIR]

Everything (database, index, uploads, the corpus file, the FTS5 database, gunicorn's log) lives in a
temporary folder, or in DIR with --keep (kept afterwards). The developer's instance data is never used.
Figures are printed, never checked: see bench/README.md for what they mean.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus as corpus_mod
import vocabulary as voc
from fts5_baseline import Fts5Baseline
from workdir import work_folder

PERCENTILES = (50, 95, 99)
FLOOR_PATH = "/api/v1/powiats"
BUDGETS = [
    "20 000 offerings: p95 <= 20 ms with facets",
    ("100 000 offerings: p95 <= 50 ms; full reindex <= 90 s; a change searchable <= 1 s after commit; "
     "the request that made it pays <= 5 ms for indexing"),
]
# Variables of the developer's shell that must not reach the benchmark's portal.
DROPPED_ENV = ("REDIS_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER",
               "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE",
               "SERVER_NAME", "APP_ENV", "FLASK_ENV", "REGION_FILE", "SEARCH_ENABLED", "PROXY_COUNT", "FLASK_APP")


# -- small helpers ---------------------------------------------------------------------------------------

def say(text: str = "") -> None:
    print(text, flush=True)


def section(title: str) -> None:
    say()
    say(f"== {title} " + "=" * max(0, 100 - len(title)))


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between the closest ranks (as numpy's default)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def pcts_ms(seconds: list[float]) -> list[float]:
    return [percentile(seconds, p) * 1000 for p in PERCENTILES]


def fmt_ms(values) -> str:
    return "  ".join(f"{v:8.2f}" for v in values)


def mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"


def dir_size(path: Path) -> tuple[int, int]:
    """(apparent size, disk usage as du counts it) of a folder, in bytes."""
    apparent = used = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            apparent += st.st_size
            used += st.st_blocks * 512
    return apparent, used


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def label(params: dict) -> str:
    parts = [f"q={params['q']!r}"] if params.get("q") else ["q=''"]
    for key, value in params.items():
        if key != "q":
            parts.append(f"{key}={','.join(value) if isinstance(value, list) else value}")
    return " ".join(parts)


def search_path(params: dict) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode(params, doseq=True)


def proc_status(pid: int, key: str) -> int:
    """A kB figure of /proc/PID/status (VmRSS, VmHWM), in bytes; 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def memory(pid: int) -> dict[str, int]:
    """RSS, PSS (shared pages divided among the processes sharing them) and private memory, in bytes."""
    out = {"rss": proc_status(pid, "VmRSS"), "peak": proc_status(pid, "VmHWM"), "pss": 0, "private": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key == "Pss":
                    out["pss"] = int(rest.split()[0]) * 1024
                elif key in ("Private_Clean", "Private_Dirty"):
                    out["private"] += int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return sorted(int(p) for p in fh.read().split())
    except OSError:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                        if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                            found.append(int(entry))
                except OSError:
                    continue
        return sorted(found)


# -- the portal's processes ------------------------------------------------------------------------------

class Portal:
    """The portal in a folder of its own: flask commands and a gunicorn server with the same environment."""

    def __init__(self, work: Path):
        self.work = work
        self.index_dir = work / "search-index"
        env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
        env.update(DATABASE_URL=f"sqlite:///{work / 'portal.db'}", SECRET_KEY="search-benchmark",
                   SEARCH_INDEX_DIR=str(self.index_dir), UPLOAD_DIR=str(work / "uploads"),
                   RATELIMIT_ENABLED="false", FLASK_DEBUG="0", PYTHONUNBUFFERED="1",
                   # The query mix repeats: without this, kept answers (marketplace.core.page_cache) would be
                   # timed instead of the search engine whose budgets this measures.
                   PAGE_CACHE_BYTES="0")
        self.env = env
        self.server: subprocess.Popen | None = None
        self.port = 0

    def flask(self, *args: str) -> tuple[subprocess.CompletedProcess, float]:
        cmd = [sys.executable, "-m", "flask", "--app", "app", *args]
        start = time.perf_counter()
        done = subprocess.run(cmd, check=False, cwd=ROOT, env=self.env, capture_output=True, text=True)
        return done, time.perf_counter() - start

    def start(self, workers: int, worker_class: str) -> None:
        self.port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", "--preload", "-w", str(workers), "-k", worker_class,
               "-b", f"127.0.0.1:{self.port}", "--timeout", "120"]
        if "--no-control-socket" in subprocess.run([sys.executable, "-m", "gunicorn", "--help"], check=False,
                                                   capture_output=True, text=True).stdout:
            cmd.append("--no-control-socket")  # newer gunicorns open one in the home folder, shared by all
        cmd.append("app:create_app()")
        with open(self.work / "gunicorn.log", "w", encoding="utf-8") as log:  # the server keeps its own copy
            self.server = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError("gunicorn exited at start:\n" + self.log_tail())
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", FLOOR_PATH)
                if conn.getresponse().status == 200:
                    conn.close()
                    if len(self.workers()) >= workers:
                        return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 90 s:\n" + self.log_tail())

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return (self.work / "gunicorn.log").read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def workers(self) -> list[int]:
        return children(self.server.pid) if self.server else []

    def stop(self) -> None:
        """Stop gunicorn and its workers (its own process group, started by us)."""
        if self.server is None:
            return
        if self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(10)
            except ProcessLookupError:
                pass
        self.server = None


class Client:
    """One HTTP/1.1 connection, requests sent one after another. gunicorn's sync workers close the connection
    after each response; http.client then opens a new one for the next request (inside the timing)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[int, bytes, float]:
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                self.conn.request("GET", path, headers={"Connection": "keep-alive", "Accept": "application/json"})
                resp = self.conn.getresponse()
                body = resp.read()
                elapsed = time.perf_counter() - start
                if resp.will_close:
                    self.conn.close()
                return resp.status, body, elapsed
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # a kept-alive connection the server had closed: reconnect once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


# -- the steps -------------------------------------------------------------------------------------------

def run_cli(portal: Portal, what: str, *args: str, quiet: bool = False) -> tuple[subprocess.CompletedProcess, float]:
    done, seconds = portal.flask(*args)
    out = (done.stdout + done.stderr).strip()
    shown = "\n".join(line for line in out.splitlines() if "SECRET_KEY" not in line and "warnings.warn" not in line)
    say(f"{what}: exit {done.returncode} in {seconds:.2f} s")
    if shown and not (quiet and done.returncode == 0):
        say("  " + "\n  ".join(shown.splitlines()[-12:]))
    if done.returncode != 0:
        raise SystemExit(f"`flask --app app {' '.join(args)}` failed (exit {done.returncode}); see above")
    return done, seconds


def warm_up(port: int, portal: Portal, mix: list, workers: int) -> list[str]:
    """Run the whole mix from WORKERS clients at once, twice, so that every worker serves searches (each opens
    the index and derives its per-segment data on its first one); then again until each has used some CPU."""
    errors: list[str] = []

    def one_client():
        client = Client(port)
        try:
            for _ in range(2):
                for _group, params in mix:
                    status, body, _s = client.get(search_path(params))
                    if status != 200:
                        errors.append(f"{status} for {label(params)}: {body[:300]!r}")
                client.get(FLOOR_PATH)
        finally:
            client.close()

    start_cpu = {pid: cpu_seconds(pid) for pid in portal.workers()}
    for _round in range(5):
        threads = [threading.Thread(target=one_client) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        used = {pid: cpu_seconds(pid) - start_cpu.get(pid, 0.0) for pid in portal.workers()}
        if len(used) >= workers and all(v >= 0.5 for v in used.values()):
            break
    return errors


def run_mix(client: Client, mix: list, requests: int) -> tuple[dict, dict, list]:
    """The measured run: the mix cycled `requests` times. Returns timings by group, by query index, errors."""
    by_group: dict[str, list[float]] = {"all": []}
    by_query: dict[int, list[float]] = {}
    totals: dict[int, dict] = {}
    errors = []
    for i in range(requests):
        qi = i % len(mix)
        group, params = mix[qi]
        status, body, seconds = client.get(search_path(params))
        if status != 200:
            errors.append(f"{status} for {label(params)}: {body[:300]!r}")
            continue
        by_group["all"].append(seconds)
        by_group.setdefault(group, []).append(seconds)
        by_query.setdefault(qi, []).append(seconds)
        if qi not in totals:
            data = json.loads(body)
            totals[qi] = {"total": data.get("total"), "suggestion": data.get("suggestion"),
                          "facets": sum(len(v) for v in (data.get("facets") or {}).values())}
    return {"by_group": by_group, "by_query": by_query}, totals, errors


def median(values: list[float]) -> float:
    return percentile(values, 50)


def summarise_changes(data: dict, workers: int) -> dict | None:
    """Print each measured change and return the figures of the summary."""
    results = data["results"]
    for r in results:
        index_ms = "-" if r["index_ms"] is None else (
            f"{r['index_ms']:.1f} ms (from {r['index_start_ms']:.0f} to {r['index_end_ms']:.0f} ms)")
        if r["mode"] == "no search":
            seen = "(not searched for)"
        elif r["first_found_ms"] is None:
            seen = "NOT FOUND within 10 s"
        else:
            stable = "-" if r["stable_ms"] is None else f"{r['stable_ms']:.0f} ms"
            seen = f"found after {r['first_found_ms']:.0f} ms ({2 * workers} answers in a row: {stable})"
        say(f"{r['mode']:<10} {r['change']:<14} {r['ref']:<12} commit {r['commit_ms']:7.2f} ms; index update "
            f"{index_ms:>28}; {seen}")
    by_mode: dict[str, list[dict]] = {}
    for r in results:
        by_mode.setdefault(r["mode"], []).append(r)
    if not all(by_mode.get(m) for m in ("request", "no search", "script")):
        return None
    request = [r["commit_ms"] for r in by_mode["request"]]
    plain = [r["commit_ms"] for r in by_mode["no search"]]
    searched = by_mode["request"] + by_mode["script"]
    seen = [r["first_found_ms"] for r in searched]
    script_index = [r["index_ms"] for r in by_mode["script"] if r["index_ms"] is not None]
    out = {"request_ms": median(request), "plain_ms": median(plain), "pays": median(request) - median(plain),
           "request_max_ms": max(request), "script_ms": median([r["commit_ms"] for r in by_mode["script"]]),
           "script_index_ms": f"{median(script_index):.1f} ms" if script_index else "not seen",
           "seen": "NOT FOUND" if any(s is None for s in seen) else f"{max(seen):.0f} ms"}
    say(f"a web request's commit: median {out['request_ms']:.2f} ms with search, {out['plain_ms']:.2f} ms with "
        f"SEARCH_ENABLED off: it pays {out['pays']:+.2f} ms for indexing"
        + (" (the index is updated by a background thread of the process)" if data.get("background") else ""))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, required=True, help="number of offerings to generate")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--requests", type=int, default=2000, help="search requests in the measured run")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder, removed)")
    ap.add_argument("--worker-class", default="sync", help="gunicorn worker class (default: sync, as deployed)")
    args = ap.parse_args()
    if args.n < 1 or args.requests < 1 or args.workers < 1:
        ap.error("--n, --requests and --workers must be positive")

    work = work_folder(ap, args.keep, "search-bench-")
    portal = Portal(work)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args, work, portal)
    except KeyboardInterrupt:
        say("\ninterrupted")
        return 130
    finally:
        portal.stop()
        if args.keep:
            say(f"\nfiles kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path, portal: Portal) -> int:
    summary: list[str] = []
    mix = voc.QUERY_MIX
    say(f"search benchmark: n={args.n} seed={args.seed} workers={args.workers} ({args.worker_class}) "
        f"requests={args.requests}")
    say(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}; work folder {work}")

    section("corpus")
    start = time.perf_counter()
    corpus = corpus_mod.generate(args.n, args.seed)
    corpus_file = work / "corpus.jsonl"
    corpus.write(corpus_file)
    public = corpus.public_offerings()
    n_marks = sum(1 for o in corpus.offerings if o.get("quality_mark"))
    n_on_request = sum(1 for o in corpus.offerings if o.get("price_net") is None)
    say(f"{len(corpus.pes)} PES, {len(corpus.offerings)} offerings ({len(public)} public: published, of a verified "
        f"PES), {n_marks} with a quality mark, {n_on_request} with price on request; "
        f"{corpus_file.stat().st_size / 2**20:.1f} MiB of JSON Lines, generated in {time.perf_counter() - start:.1f} s")

    section("import and index build")
    run_cli(portal, "CLI start-up (flask --app app search --help, for reference)", "search", "--help", quiet=True)
    run_cli(portal, "db upgrade", "db", "upgrade")
    _done, import_s = run_cli(portal, "import", "import", str(corpus_file))
    rate = len(corpus.records) / import_s
    import_estimate = import_s * 100_000 / args.n
    say(f"import: {import_s:.1f} s for {len(corpus.records)} records ({rate:.0f} records/s); the index is up to date "
        f"when it returns (CONTRACT section 2), so this includes indexing every offering once")
    say(f"linear estimate for 100 000 offerings: {import_estimate:.0f} s ({import_estimate / 60:.1f} min; an upper "
        f"bound: fixed costs such as start-up and loading the stemmer are scaled too)")
    done, reindex_s = run_cli(portal, "search reindex", "search", "reindex")
    own = re.search(r"(\d+) offering\(s\) indexed in ([\d.]+) s", done.stdout)
    indexed, reindex_own = (int(own.group(1)), float(own.group(2))) if own else (None, None)
    apparent, used = dir_size(portal.index_dir)
    reindex_estimate = reindex_s * 100_000 / args.n
    say(f"full reindex: {reindex_s:.1f} s wall (the command's own figure: "
        f"{'?' if reindex_own is None else f'{reindex_own:.1f} s'}), {indexed} documents "
        f"(expected {len(public)}); index size {mib(used)} on disk ({mib(apparent)} apparent); linear estimate "
        f"for 100 000 offerings: {reindex_estimate:.0f} s")
    summary += [(f"import          {import_s:8.1f} s  ({rate:.0f} records/s; linear estimate for 100 000: "
                 f"{import_estimate:.0f} s)"),
                (f"full reindex    {reindex_s:8.1f} s wall, {reindex_own if reindex_own is not None else '?'} s in "
                 f"the command  ({indexed} documents; linear estimate for 100 000: {reindex_estimate:.0f} s)"),
                f"index size      {mib(used)} on disk ({mib(apparent)} apparent)"]

    section("FTS5 baseline build (in-process)")
    fts_path = work / "fts5.db"
    fts = Fts5Baseline(str(fts_path))
    start = time.perf_counter()
    today = datetime.now(ZoneInfo("Europe/Warsaw")).date()
    fts_docs = fts.build(corpus, today)
    fts_build_s = time.perf_counter() - start
    say(f"FTS5: {fts_docs} documents in {fts_build_s:.1f} s, {mib(fts_path.stat().st_size)}")

    section(f"HTTP: gunicorn --preload -w {args.workers} -k {args.worker_class}")
    portal.start(args.workers, args.worker_class)
    workers = portal.workers()
    if (ROOT / "gunicorn.conf.py").exists():
        say("gunicorn reads the project's gunicorn.conf.py (it is started in the project root, as deployed); "
            "the options above take precedence over it")
    say(f"gunicorn {portal.server.pid} on 127.0.0.1:{portal.port}, workers {workers}")
    client = Client(portal.port)
    start = time.perf_counter()
    errors = warm_up(portal.port, portal, mix, args.workers)
    say(f"warm-up: {time.perf_counter() - start:.1f} s; worker CPU seconds so far: "
        + ", ".join(f"{pid}: {cpu_seconds(pid):.1f}" for pid in workers))
    if errors:
        say(f"warm-up errors ({len(errors)}), first: {errors[0]}")
        if len(errors) >= len(mix):
            say("the search API answers errors: stopping (if search/ is being changed, try again later)")
            say(portal.log_tail())
            return 1
    floor = []
    for _ in range(max(200, min(1000, args.requests // 4))):
        status, _body, seconds = client.get(FLOOR_PATH)
        if status == 200:
            floor.append(seconds)
    say(f"HTTP + Flask floor ({FLOOR_PATH}, {len(floor)} requests): p50/p95/p99 {fmt_ms(pcts_ms(floor))} ms")

    cpu_before = {pid: cpu_seconds(pid) for pid in workers}
    start = time.perf_counter()
    timings, totals, errors = run_mix(client, mix, args.requests)
    run_s = time.perf_counter() - start
    client.close()
    cpu_used = {pid: cpu_seconds(pid) - cpu_before.get(pid, 0.0) for pid in workers}
    say(f"measured run: {args.requests} requests in {run_s:.1f} s ({args.requests / run_s:.0f} requests/s, "
        f"sequential); worker CPU seconds used: " + ", ".join(f"{pid}: {s:.1f}" for pid, s in cpu_used.items()))
    if errors:
        say(f"errors: {len(errors)} (left out of the figures); first: {errors[0]}")
    mem = {pid: memory(pid) for pid in workers}
    master_mem = memory(portal.server.pid)
    rss_total = sum(m["rss"] for m in mem.values())
    say(f"worker RSS after the run: {mib(rss_total)} in all; "
        + ", ".join(f"{pid}: {mib(m['rss'])} (peak {mib(m['peak'])}, PSS {mib(m['pss'])}, private "
                    f"{mib(m['private'])})" for pid, m in mem.items())
        + f"; master RSS {mib(master_mem['rss'])} (PSS {mib(master_mem['pss'])})")
    say("(RSS counts pages shared with the master once in every process; PSS divides them among the sharers; "
        "private is what a worker holds alone)")
    empty = next((totals[i] for i, (_g, p) in enumerate(mix) if not p and i in totals), None)
    if empty and empty["total"] != len(public):
        say(f"NOTE: the API counts {empty['total']} public offerings, the corpus has {len(public)}")

    section("change visibility (a separate process commits through the portal's code, modes: see change_probe.py)")
    done = subprocess.run([sys.executable, str(HERE / "change_probe.py"), str(portal.port), str(args.workers)],
                          check=False, cwd=ROOT, env=portal.env, capture_output=True, text=True, timeout=600)
    change = None
    if done.returncode == 0 and done.stdout.strip():
        change = summarise_changes(json.loads(done.stdout.strip().splitlines()[-1]), args.workers)
    else:
        say(f"change probe failed (exit {done.returncode}):\n{done.stderr[-3000:]}")

    section("FTS5 run (in-process, no HTTP): the same requests in the same order")
    fts_group: dict[str, list[float]] = {"all": []}
    fts_query: dict[int, list[float]] = {}
    fts_totals: dict[int, int] = {}
    for _ in range(2):  # warm the page cache and SQLite's statement cache
        for _group, params in mix:
            fts.timed(params)
    start = time.perf_counter()
    for i in range(args.requests):
        qi = i % len(mix)
        group, params = mix[qi]
        seconds, total = fts.timed(params)
        fts_group["all"].append(seconds)
        fts_group.setdefault(group, []).append(seconds)
        fts_query.setdefault(qi, []).append(seconds)
        fts_totals[qi] = total
    say(f"{args.requests} queries in {time.perf_counter() - start:.1f} s")
    fts.close()

    section("per query (median ms; totals: what each engine matched)")
    say(f"{'group':<8} {'query':<74} {'whoosh':>7} {'fts5':>7} {'w ms':>7} {'f ms':>7}")
    for qi, (group, params) in enumerate(mix):
        t = totals.get(qi, {})
        w_ms = percentile(timings["by_query"].get(qi, []), 50) * 1000
        f_ms = percentile(fts_query.get(qi, []), 50) * 1000
        extra = f"  suggestion: {t['suggestion']!r}" if t.get("suggestion") else ""
        say(f"{group:<8} {label(params)[:74]:<74} {t.get('total', '-')!s:>7} {fts_totals.get(qi, 0):>7} "
            f"{w_ms:7.2f} {f_ms:7.2f}{extra}")

    section("latency, ms")
    say(f"{'':<44}{'p50':>8}  {'p95':>8}  {'p99':>8}  {'n':>6}")
    rows = [("all", "all")] + [(g, voc.GROUP_LABELS[g]) for g in ("text", "filters", "empty")]
    for key, name in rows:
        w = timings["by_group"].get(key, [])
        say(f"{'Whoosh over HTTP: ' + name:<44}{fmt_ms(pcts_ms(w))}  {len(w):>6}")
    for key, name in rows:
        f = fts_group.get(key, [])
        say(f"{'FTS5 in-process: ' + name:<44}{fmt_ms(pcts_ms(f))}  {len(f):>6}")
    say(f"{'HTTP + Flask floor: ' + FLOOR_PATH:<44}{fmt_ms(pcts_ms(floor))}  {len(floor):>6}")
    say("ratio Whoosh-over-HTTP / FTS5-in-process (the Whoosh figure includes HTTP, Flask and the JSON of 20 "
        "items; FTS5 has none of it):")
    ratios = {}
    for key, name in rows:
        w, f = pcts_ms(timings["by_group"].get(key, [])), pcts_ms(fts_group.get(key, []))
        ratios[key] = [a / b if b else float("nan") for a, b in zip(w, f)]
        say(f"  {name:<36}" + "  ".join(f"{r:7.1f}x" for r in ratios[key]))

    w_all, f_all = pcts_ms(timings["by_group"]["all"]), pcts_ms(fts_group["all"])
    section(f"SUMMARY  n={args.n} seed={args.seed} workers={args.workers} requests={args.requests}")
    say(f"corpus          {len(corpus.pes)} PES, {len(corpus.offerings)} offerings, {len(public)} public, "
        f"{n_marks} with a quality mark")
    for line in summary:
        say(line)
    say(f"worker RSS      {mib(rss_total)} in all: " + ", ".join(mib(m["rss"]) for m in mem.values())
        + f"; PSS {mib(sum(m['pss'] for m in mem.values()))}, private "
        + ", ".join(mib(m["private"]) for m in mem.values()) + f" (master RSS {mib(master_mem['rss'])})")
    say(f"{'':<44}{'p50':>8}  {'p95':>8}  {'p99':>8}")
    for key, name in rows:
        say(f"{'Whoosh/HTTP ' + name:<44}{fmt_ms(pcts_ms(timings['by_group'].get(key, [])))}")
    say(f"{'FTS5 in-process, all':<44}{fmt_ms(f_all)}")
    say(f"{'HTTP + Flask floor':<44}{fmt_ms(pcts_ms(floor))}")
    say(f"{'ratio Whoosh/FTS5, all':<44}" + "  ".join(f"{r:7.1f}x" for r in ratios["all"]))
    if change:
        say(f"change          a web request's commit pays {change['pays']:+.1f} ms for indexing (median commit "
            f"{change['request_ms']:.1f} ms with search, {change['plain_ms']:.1f} ms without; worst "
            f"{change['request_max_ms']:.1f} ms); searchable after {change['seen']} (worst, from the commit's start)")
        say(f"                a script's commit (index updated within it) takes {change['script_ms']:.1f} ms "
            f"(median), of which the index update {change['script_index_ms']}")
    else:
        say("change          not measured (see above)")
    say(f"errors          {len(errors)} non-200 answers in the measured run")
    say("budgets (for comparison only, not checked here):")
    for budget in BUDGETS:
        say(f"  {budget}")
    say(f"Whoosh p95 over HTTP here: {w_all[1]:.1f} ms; FTS5 p95 in-process: {f_all[1]:.1f} ms; "
        f"load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
