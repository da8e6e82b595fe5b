"""Where the time of the pages in bench/pages_bench.py goes: each target requested in-process (Flask's test
client) on the demo catalogue, SQLite, under cProfile, after warm-up requests.

    .venv/bin/python bench/profile_pages.py [--requests 200] [--out bench/profiles] [--keep DIR] [--flame]

Prints the mean time per request of each target and writes bench/profiles/<target>.txt: the functions with
the most cumulative and the most own time. A profile, not a benchmark: cProfile slows the run down about
twofold, so compare the shares, not the milliseconds, with pages_bench.py. With --flame (py-spy installed:
`pip install -e '.[bench]'`), also bench/profiles/<target>.svg: a flame graph of the same requests sampled by
py-spy without cProfile. Nothing is checked.
"""
from __future__ import annotations

import argparse
import cProfile
import html
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from bench.workdir import work_folder

TARGETS = {
    "home": "/",
    "pes_profile": "/pes/20",
    "offering": None,  # the first published offering's page, found after the demo is loaded
    "search_catering": "/api/v1/search?q=catering",
    "search_facets": "/api/v1/search",
    "search_filtered": "/api/v1/search?q=sprzatanie&category=sprzatanie&powiat=0463",
}


def load_demo(work: Path) -> dict:
    """A demo database and search index of the benchmark's own, made by `flask demo`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "MAIL_", "DATABASE_"))}
    env.update(SECRET_KEY="profile-pages", DATABASE_URL=f"sqlite:///{work / 'portal.db'}",
               SEARCH_INDEX_DIR=str(work / "index"), UPLOAD_DIR=str(work / "uploads"), RATELIMIT_ENABLED="false")
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return env


def offering_path(client) -> str:
    from catalog.models import Offering
    from marketplace.extensions import db

    first = db.session.scalars(db.select(Offering.id).where(Offering.status == "published").order_by(Offering.id)
                               .limit(1)).one()
    resp = client.get(f"/oferta/{first}")
    return resp.location if resp.status_code in (301, 302, 308) else f"/oferta/{first}"


def profile(client, path: str, n: int) -> tuple[float, pstats.Stats]:
    for _ in range(20):  # warm-up: templates compiled, caches filled, as in a running worker
        assert client.get(path).status_code == 200, path
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    for _ in range(n):
        client.get(path)
    prof.disable()
    return (time.perf_counter() - start) / n * 1000, pstats.Stats(prof)


def py_spy() -> str | None:
    """py-spy on the PATH or beside this Python (a virtual environment's bin folder)."""
    return shutil.which("py-spy") or shutil.which("py-spy", path=os.path.dirname(sys.executable))


def flame(client, path: str, svg: Path, seconds: float) -> None:
    """py-spy samples this process while it requests `path` for `seconds`, and draws the flame graph."""
    spy = subprocess.Popen([py_spy(), "record", "--pid", str(os.getpid()), "--rate", "400",
                            "--duration", str(int(seconds)), "--output", str(svg), "--format", "flamegraph"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # py-spy attaches
    end = time.perf_counter() + seconds + 1.0
    while spy.poll() is None and time.perf_counter() < end + 5:
        client.get(path)
    if spy.wait(timeout=30) != 0:
        raise RuntimeError(f"py-spy failed: {spy.stderr.read().decode()[-500:]}")
    # The graph's title is py-spy's command line, with this machine's folders in it: name the page instead.
    title = f"GET {path}: py-spy record --rate 400, {seconds:g} s of requests through Flask's test client"
    drawing = re.sub(r'(<text id="title"[^>]*>)[^<]*(</text>)', lambda m: m[1] + html.escape(title) + m[2],
                     svg.read_text(encoding="utf-8"), count=1)
    # py-spy embeds its own script for zooming and searching; the project keeps only the drawing (each frame
    # still names its function, file and share in its <title>).
    svg.write_text(re.sub(r"<script.*?</script>", "", drawing, flags=re.DOTALL), encoding="utf-8")


def report(stats: pstats.Stats, name: str, path: str, ms: float, n: int) -> str:
    out = io.StringIO()
    out.write(f"{name}: {path}\n{n} requests under cProfile, {ms:.2f} ms each (profiled)\n\n")
    for key, title in (("cumulative", "by cumulative time"), ("tottime", "by own time")):
        out.write(f"== {title} ==\n")
        stats.stream = out
        stats.strip_dirs().sort_stats(key).print_stats(30)
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--out", default=str(HERE / "profiles"))
    ap.add_argument("--keep")
    ap.add_argument("--flame", action="store_true", help="also a py-spy flame graph of each target")
    ap.add_argument("--flame-seconds", type=float, default=6.0)
    args = ap.parse_args()
    if args.flame and not py_spy():
        ap.error("--flame needs py-spy: pip install -e '.[bench]'")
    work = work_folder(ap, args.keep, "profile-pages-")
    env = load_demo(work)
    os.environ.update({k: env[k] for k in ("SECRET_KEY", "DATABASE_URL", "SEARCH_INDEX_DIR", "UPLOAD_DIR",
                                           "RATELIMIT_ENABLED")})
    from app import create_app

    # Without the page cache: the profiles show the work of making each page (what a kept copy saves).
    app = create_app({"SEARCH_SYNC_BACKGROUND": False, "MAIL_SEND_BACKGROUND": False, "PAGE_CACHE_BYTES": 0})
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        client = app.test_client()
        for name, path in TARGETS.items():
            path = path or offering_path(client)
            ms, stats = profile(client, path, args.requests)
            (out_dir / f"{name}.txt").write_text(report(stats, name, path, ms, args.requests), encoding="utf-8")
            print(f"{name:<18} {ms:7.2f} ms per request (profiled)  {path}")
            if args.flame:
                flame(client, path, out_dir / f"{name}.svg", args.flame_seconds)
    print(f"profiles written to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
