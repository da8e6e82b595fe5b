"""Benchmark of the statistics page (/statystyki), the clause builder with its live shortlist of PES and the
market survey report (CSV and PDF): their latency with 2 000 verified PES, 20 000 offerings and a few
thousand inquiries over the last 12 months, through Flask's test client (no HTTP server: the figures are
the page's own work, queries and template, which the 200 ms p95 budget is about).

Run from the project root with the project's virtual environment:

    .venv/bin/python bench/procurement_bench.py [--pes 2000] [--offerings 20000] [--inquiries 3000] [--requests 50]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--seed 7] [--keep DIR]

SQLite in the work folder always; with --pg (or PROCUREMENT_BENCH_PG) also PostgreSQL, in a database of the
benchmark's own created on that server and dropped at the end (and ANALYZEd after loading, as autovacuum
would). The catalogue is bench/corpus.py's generator (every PES verified), loaded with the portal's importer;
inquiries, threads, quotes and accepted quotes are inserted in bulk. Figures are printed, never checked.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import corpus as corpus_mod
from search_bench import percentile, say, section
from workdir import work_folder

# Variables of the developer's shell that must not reach the benchmark's portal.
for _var in ("DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "REGION_FILE", "SERVER_NAME", "APP_ENV", "FLASK_ENV"):
    os.environ.pop(_var, None)
os.environ["SECRET_KEY"] = "procurement-benchmark"


@dataclass(frozen=True)
class Target:
    """A page timed with the same data; to time another one (a supplier shortlist, say), add one entry."""

    name: str
    path: str


# A catering service in Toruń reserved under art. 94 (the shortlist of eligible PES), the same purchase with
# every matching PES, by category across the region, and the market survey report in both formats.
BUILDER = ("/zamowienia-publiczne/kreator?value=250000&start=2026-03-02&kind=services&purchaser=local"
           "&aims=employ&aims=social_economy&cpv=55520000-1&powiat=0463")
REGION = "/zamowienia-publiczne/kreator?value=400000&start=2026-03-02&kind=services&purchaser=local&category=sprzatanie"
TARGETS = [
    Target("statistics page", "/statystyki"),
    Target("statistics CSV (monthly inquiries)", "/statystyki/zapytania.csv"),
    Target("builder + shortlist (art. 94, Toruń)", BUILDER),
    Target("builder + shortlist (all PES, Toruń)", BUILDER + "&lista=all"),
    Target("builder + shortlist (category, region)", REGION + "&lista=all"),
    Target("market survey PDF (art. 94, Toruń)", BUILDER.replace("kreator?", "kreator/rozeznanie-rynku.pdf?")),
    Target("market survey CSV (region)", REGION.replace("kreator?", "kreator/rozeznanie-rynku.csv?") + "&lista=all"),
    Target("market survey PDF (region)", REGION.replace("kreator?", "kreator/rozeznanie-rynku.pdf?") + "&lista=all"),
]


def make_app(work: Path, db_url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SEARCH_ENABLED": False,
                       "SEARCH_INDEX_DIR": str(work / "index"), "UPLOAD_DIR": str(work / "uploads"),
                       "MAIL_DIR": str(work / "mail"), "MAIL_SEND_BACKGROUND": False,
                       "RATELIMIT_ENABLED": False})


def load_catalogue(corpus_file: Path) -> float:
    """The corpus through the portal's importer (search off: the page does not use the index)."""
    from catalog import cpv
    from marketplace.extensions import db
    from marketplace.transfer import import_lines

    db.create_all()
    start = time.perf_counter()
    cpv.ensure_loaded()  # as `flask import` does
    db.session.commit()
    with open(corpus_file, encoding="utf-8") as fh:
        result = import_lines(fh)
    if result.errors:
        raise SystemExit(f"import failed: {result.errors[:3]}")
    return time.perf_counter() - start


def seed_people() -> tuple[list[int], list[int]]:
    """60 buyers and 40 public purchasers, half of these tied to a verified institution."""
    from sqlalchemy import insert

    from accounts.models import Institution, User
    from marketplace.extensions import db

    db.session.execute(insert(Institution), [{"id": 1, "name": "Gmina Testowa", "nip": "8790176802",
                                              "kind": "gmina", "status": "verified"}])
    db.session.execute(insert(User), [
        {"id": i, "email": f"osoba{i}@example.org", "password_hash": "-", "role": "purchaser" if i > 60 else "buyer",
         "institution_id": 1 if i > 80 else None, "institution_status": "verified" if i > 80 else None}
        for i in range(1, 101)])
    return list(range(1, 61)), list(range(61, 101))


def _inquiry(rng: random.Random, i: int, now, buyers: list[int], purchasers: list[int]) -> dict:
    """One inquiry sent at a random moment of the last year; about one in twenty never confirmed."""
    sent = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
    sender = rng.choice(purchasers if rng.random() < 0.3 else buyers)
    confirmed = rng.random() > 0.05
    return {"id": i, "sender_id": sender, "institution_id": 1 if sender > 80 else None,
            "sender_name": "Osoba Testowa", "sender_email": f"osoba{sender}@example.org", "subject": "Zapytanie",
            "body": "Prosimy o ofertę.", "status": "sent" if confirmed else "unconfirmed", "created_at": sent,
            "sent_at": sent if confirmed else None}


def _threads(rng: random.Random, inquiry: dict, pes_ids: list[int], threads: list, quotes: list) -> None:
    """1 to 5 PES asked; about 60% answer within days, half of those with a quote."""
    for pes_id in rng.sample(pes_ids, k=rng.choice((1, 1, 1, 2, 3, 5))):
        tid, start = len(threads) + 1, inquiry["created_at"]
        answer = start + timedelta(hours=rng.uniform(1, 240)) if rng.random() < 0.6 else None
        threads.append({"id": tid, "inquiry_id": inquiry["id"], "pes_id": pes_id,
                        "status": "answered" if answer else "new", "created_at": start, "updated_at": start,
                        "first_answer_at": answer})
        if answer and rng.random() < 0.5:
            net = Decimal(rng.randrange(10_000, 500_000)) / 100
            quotes.append({"id": len(quotes) + 1, "thread_id": tid, "net": net, "vat_rate": "23",
                           "gross": (net * Decimal("1.23")).quantize(Decimal("0.01")), "status": "offered",
                           "valid_until": (answer + timedelta(days=14)).date(), "created_at": answer})


def seed_inquiries(n: int, seed: int) -> dict[str, int]:
    """n inquiries over the last 12 months with their threads and quotes; about a third of the inquiries that
    got a quote accepted one."""
    from sqlalchemy import insert, select, update

    from marketplace import clock
    from marketplace.extensions import db
    from marketplace.inquiries.models import Inquiry, InquiryThread, Quote
    from marketplace.pes.models import Pes

    rng, now = random.Random(seed), clock.now()
    pes_ids = list(db.session.scalars(select(Pes.id)))
    buyers, purchasers = seed_people()
    inquiries = [_inquiry(rng, i, now, buyers, purchasers) for i in range(1, n + 1)]
    threads, quotes = [], []
    for inquiry in inquiries:
        _threads(rng, inquiry, pes_ids, threads, quotes)
    inquiry_of = {t["id"]: t["inquiry_id"] for t in threads}
    chosen = {inquiry_of[q["thread_id"]]: q for q in quotes if rng.random() < 0.25}
    for quote in chosen.values():
        quote["status"] = "accepted"
    for model, rows in ((Inquiry, inquiries), (InquiryThread, threads), (Quote, quotes)):
        db.session.execute(insert(model), rows)
    if chosen:
        db.session.execute(update(Inquiry), [{"id": i, "accepted_quote_id": q["id"]} for i, q in chosen.items()])
    db.session.commit()
    return {"inquiries": len(inquiries), "threads": len(threads), "quotes": len(quotes), "accepted": len(chosen)}


def _statements(app, path: str) -> int:
    """How many SQL statements one request runs: a fixed number, whatever the size of the data."""
    from sqlalchemy import event

    from marketplace.extensions import db

    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        app.test_client().get(path)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


def time_target(app, target: Target, requests: int, warm_up: int = 5) -> dict:
    """Each request in a fresh request and app context, as a server runs it."""
    client = app.test_client()
    for _ in range(warm_up):
        response = client.get(target.path)
        if response.status_code != 200:
            raise SystemExit(f"{target.path}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(target.path)
        timings.append(time.perf_counter() - start)
    return {"target": target, "queries": _statements(app, target.path), "timings": timings}


class PgDatabase:
    """A database of the benchmark's own on a PostgreSQL server, dropped on leaving."""

    def __init__(self, server_url: str):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        from marketplace.config import normalise_db_url

        self.admin_url = make_url(normalise_db_url(server_url))
        self.name = f"stats_bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def __enter__(self) -> str:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.admin_url.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *_exc) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def run_backend(label: str, db_url: str, work: Path, corpus_file: Path, args) -> list[dict]:
    """Load the data into one database, then time every target on it."""
    from marketplace.extensions import db

    section(f"{label}: data")
    app = make_app(work, db_url)
    with app.app_context():
        import_s = load_catalogue(corpus_file)
        say(f"catalogue imported in {import_s:.1f} s")
        start = time.perf_counter()
        counts = seed_inquiries(args.inquiries, args.seed)
        say(f"{counts['inquiries']} inquiries, {counts['threads']} threads, {counts['quotes']} quotes "
            f"({counts['accepted']} accepted) inserted in {time.perf_counter() - start:.1f} s")
        say(", ".join(f"{name}: {n}" for name, n in table_counts().items()))
        if db.engine.dialect.name == "postgresql":
            analyse()
        db.session.remove()
    section(f"{label}: {args.requests} requests per target after 5 to warm up")
    results = [dict(time_target(app, target, args.requests), backend=label) for target in TARGETS]
    for result in results:
        say(line(result))
    with app.app_context():
        db.engine.dispose()
    return results


def analyse() -> None:
    """Planner statistics, as autovacuum gathers them soon after a bulk load: without them PostgreSQL
    guesses one row per table and joins offerings to PES by a nested loop (about 0.7 s for this page)."""
    from sqlalchemy import text

    from marketplace.extensions import db

    start = time.perf_counter()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    say(f"ANALYZE in {time.perf_counter() - start:.1f} s")


def table_counts() -> dict[str, int]:
    from sqlalchemy import func, select

    from catalog.mark.models import QualityMark
    from catalog.models import Offering
    from marketplace.extensions import db
    from marketplace.pes.models import Pes

    return {"verified PES": db.session.scalar(select(func.count()).where(Pes.status == "verified")),
            "offerings": db.session.scalar(select(func.count()).select_from(Offering)),
            "quality marks": db.session.scalar(select(func.count()).select_from(QualityMark))}


def line(result: dict) -> str:
    ms = [t * 1000 for t in result["timings"]]
    figures = f"p50 {percentile(ms, 50):7.1f}  p95 {percentile(ms, 95):7.1f}  max {max(ms):7.1f} ms"
    return f"{result['backend']:<10} {result['target'].name:<36} {figures}  (SQL statements: {result['queries']})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pes", type=int, default=2000, help="verified PES")
    ap.add_argument("--offerings", type=int, default=20000)
    ap.add_argument("--inquiries", type=int, default=3000, help="inquiries over the last 12 months")
    ap.add_argument("--requests", type=int, default=50, help="timed requests per target")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg", default=os.environ.get("PROCUREMENT_BENCH_PG"),
                    help="a PostgreSQL server URL (or PROCUREMENT_BENCH_PG): also run there, in a database of its own")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder, removed)")
    args = ap.parse_args()
    if min(args.pes, args.offerings, args.inquiries, args.requests) < 1:
        ap.error("--pes, --offerings, --inquiries and --requests must be positive")
    work = work_folder(ap, args.keep, "stats-bench-")
    try:
        return run(args, work)
    finally:
        if args.keep:
            say(f"\nfiles kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> int:
    say(f"statistics benchmark: {args.pes} PES, {args.offerings} offerings, {args.inquiries} inquiries, "
        f"{args.requests} requests per target; {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}")
    corpus_mod.OFFERINGS_PER_PES = args.offerings / args.pes  # the generator makes n / OFFERINGS_PER_PES PES
    corpus = corpus_mod.generate(args.offerings, args.seed)
    for pes in corpus.pes:
        pes["verified"] = True
    corpus_file = work / "corpus.jsonl"
    corpus.write(corpus_file)
    results = run_backend("SQLite", f"sqlite:///{work / 'stats.db'}", work, corpus_file, args)
    if args.pg:
        with PgDatabase(args.pg) as pg_url:
            results += run_backend("PostgreSQL", pg_url, work, corpus_file, args)
    section("summary (budget: p95 under 200 ms for the statistics page and the builder with its shortlist)")
    for result in results:
        say(line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
