"""CPU time per request of each target of pages_bench.py, in-process (Flask's test client, no server, no
network), beside the bare Flask + Jinja page of pages_bench.py: what each page costs the worker's Python, on the
demo catalogue on SQLite. CPU time (time.process_time) rather than wall time, so that other work on the machine
disturbs the figures less.

    .venv/bin/python bench/request_cpu.py [--requests 500] [--keep DIR]

Prints milliseconds of CPU per request for each target, after 50 warm-up requests, twice: served to visitors
without a session from the page cache ("kept", marketplace.core.page_cache), and made afresh by the view (an app
with PAGE_CACHE_BYTES=0, as for signed-in people and after every change). Nothing is checked.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from profile_pages import TARGETS, load_demo, offering_path

from bench.pages_bench import BARE_APP
from bench.workdir import work_folder


def per_request(client, path: str, n: int) -> float:
    for _ in range(50):
        assert client.get(path).status_code == 200, path
    start = time.process_time()
    for _ in range(n):
        client.get(path)
    return (time.process_time() - start) / n * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--keep")
    args = ap.parse_args()
    work = work_folder(ap, args.keep, "request-cpu-")
    try:
        env = load_demo(work)
        os.environ.update({k: env[k] for k in ("SECRET_KEY", "DATABASE_URL", "SEARCH_INDEX_DIR", "UPLOAD_DIR",
                                               "RATELIMIT_ENABLED")})
        from app import create_app

        bare_globals: dict = {"__name__": "bare"}
        exec(compile(BARE_APP, "bare.py", "exec"), bare_globals)  # noqa: S102 (the benchmark's own bare page)
        settings = {"SEARCH_SYNC_BACKGROUND": False, "MAIL_SEND_BACKGROUND": False}
        kept = create_app(settings).test_client(use_cookies=False)  # each request a new visitor
        made = create_app({**settings, "PAGE_CACHE_BYTES": 0}).test_client(use_cookies=False)
        bare = bare_globals["app"].test_client()
        with made.application.app_context():
            paths = {name: path or offering_path(made) for name, path in TARGETS.items()}
        for round_ in (1, 2):
            print(f"round {round_}: bare page {per_request(bare, '/', args.requests):.2f} ms CPU a request")
            print(f"  {'target':<18} {'kept':>6} {'made':>6}")
            for name, path in paths.items():
                print(f"  {name:<18} {per_request(kept, path, args.requests):6.2f} "
                      f"{per_request(made, path, args.requests):6.2f} ms  {path}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
