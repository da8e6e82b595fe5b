"""Change visibility, run by search_bench.py in a process of its own with the benchmark's environment.

Through the portal's own code (catalog.services) it edits published offerings and publishes a draft, commits
each change, and asks the running server's search API for a word that the change brought in until the
offering is listed. Prints one JSON object.

Changes are committed in three ways:
- "request": inside a request context, as a web request commits (the portal may then leave the index update
  to a background thread: the commit time is what the request pays);
- "no search": the same with SEARCH_ENABLED off, the cost of such a commit without any search work, so that
  the difference is what the request pays for indexing;
- "script": outside any request, as commands and scripts commit (the index is updated within the commit).
The time spent in search.service.sync (the post-commit index update, in whichever thread) is measured too.

Usage: python bench/change_probe.py PORT WORKERS
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
warnings.simplefilter("ignore")

POLL_LIMIT = 10.0  # seconds
REPEAT = 5


def made_up_word(rng: random.Random) -> str:
    """A word no offering has: consonant-vowel syllables, e.g. "dorafimeko"."""
    return "".join(rng.choice("bdfgklmnprstwz") + rng.choice("aeiou") for _ in range(5))


def found(port: int, word: str, ref: str) -> bool:
    """Whether a search for the word lists the offering `ref` (on a new connection)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": word, "per_page": 10}))
        resp = conn.getresponse()
        body = resp.read()
        return resp.status == 200 and any(item.get("ref") == ref for item in json.loads(body).get("items", []))
    finally:
        conn.close()


def poll(port: int, word: str, ref: str, start: float, workers: int) -> dict:
    """Milliseconds from `start` until the search for the word lists `ref`, and until it did in 2 x WORKERS
    answers in a row, each on a new connection (so that, most likely, every worker has seen the change)."""
    first = stable = None
    streak = 0
    while time.perf_counter() - start < POLL_LIMIT:
        if found(port, word, ref):
            now = time.perf_counter()
            first = first if first is not None else now - start
            streak += 1
            if streak >= 2 * workers:
                stable = now - start
                break
        else:
            streak = 0
    return {"first_found_ms": None if first is None else first * 1000,
            "stable_ms": None if stable is None else stable * 1000}


def main() -> int:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    from sqlalchemy import select

    from app import create_app
    from catalog import services
    from catalog.models import Offering
    from marketplace.extensions import db
    from marketplace.pes.models import Pes
    from search import service
    from search import sync as search_sync

    sync_times: list[tuple[float, float]] = []  # (start, end) of each call
    times_lock = threading.Lock()
    original_sync = service.sync

    def timed_sync():
        start = time.perf_counter()
        try:
            return original_sync()
        finally:
            with times_lock:
                sync_times.append((start, time.perf_counter()))

    service.sync = timed_sync
    rng = random.Random(4242)
    app = create_app()
    applier = getattr(search_sync, "Applier", None)
    results = []
    with app.app_context():
        public = list(db.session.scalars(services.public_query().order_by(Offering.id).limit(200)))
        draft = db.session.scalar(select(Offering).join(Offering.pes).where(
            Offering.status == "draft", Pes.status == "verified").order_by(Offering.id))
        picks = iter(public[1:])

        def retitle(offering, word, status=None):
            title = offering.title.split(" · ")[0][:150]
            services.update_offering(None, offering, {"title": f"{title} · {word}"},
                                     kept=[(image, image.alt) for image in offering.images], status=status)

        def change(mode, label, offering, status=None):
            search_on = mode != "no search"
            word = made_up_word(rng)
            if search_on:
                # Another offering gets the word first (applied at once, outside any request), so that the
                # searches made while waiting find one offering: a search finding nothing would look for a
                # spelling suggestion, much slower than a search, and blur the timing.
                anchor = next(picks)
                retitle(anchor, word)
                db.session.commit()
                poll(port, word, anchor.ref, time.perf_counter(), workers)
            app.config["SEARCH_ENABLED"] = search_on
            in_request = app.test_request_context("/") if mode != "script" else contextlib.nullcontext()
            with in_request:
                retitle(offering, word, status)
                with times_lock:
                    del sync_times[:]
                start = time.perf_counter()
                db.session.commit()
                commit_s = time.perf_counter() - start
            app.config["SEARCH_ENABLED"] = True
            seen = (poll(port, word, offering.ref, start, workers) if search_on
                    else {"first_found_ms": None, "stable_ms": None})
            if applier is not None and search_on:
                applier.of(app).wait_idle(POLL_LIMIT)
            with times_lock:
                calls = list(sync_times)
            return {"mode": mode, "change": label, "ref": offering.ref, "word": word, "commit_ms": commit_s * 1000,
                    "index_ms": sum(e - s for s, e in calls) * 1000 if calls else None,
                    "index_start_ms": (calls[0][0] - start) * 1000 if calls else None,
                    "index_end_ms": (calls[-1][1] - start) * 1000 if calls else None, **seen}

        # The first commits open the index, start the background thread and warm the caches: not reported.
        change("request", "warm-up", public[0])
        change("script", "warm-up", public[0])
        for mode in ("no search", "request", "script"):
            for _ in range(REPEAT):
                results.append(change(mode, "edit title", next(picks)))
            if mode == "request" and draft is not None:
                results.append(change(mode, "publish draft", draft, status="published"))
    print(json.dumps({"results": results, "background": applier is not None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
