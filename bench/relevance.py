"""Ranking quality of the catalogue search on the demo catalogue: nDCG@10 per kind of query, the queries
that score below a threshold with what they got and what they should have got, and, for comparison, a plain
SQLite FTS5 index over the same offerings.

Run from the project root with the project's virtual environment:

    .venv/bin/python bench/relevance.py [--below 0.85] [--kind typo ...] [--titles] [--no-fts5] [--keep DIR]

The portal runs in-process in a temporary folder of its own (or in DIR with --keep, kept afterwards): its
SQLite database, search index and uploads are set through DATABASE_URL, SEARCH_INDEX_DIR, UPLOAD_DIR,
SECRET_KEY and RATELIMIT_ENABLED=false, so the developer's own database and index are never touched. The
demo catalogue is loaded by the `demo` command (migrations, the data set, a full reindex), and every query
of tests/relevance/queries.jsonl is asked through the JSON API (GET /api/v1/search?q=...&per_page=10) with
Flask's test client. The measure and the queries are those of tests/test_search_relevance.py
(tests/relevance/ndcg.py).

The FTS5 baseline indexes each public offering's title, tags and description (tokenizer `unicode61
remove_diacritics 2`, "ł" folded to "l" on both sides) and ranks by bm25 with weights 6 / 4 / 1. Each query
word of more than four letters loses its last one or two letters and becomes a prefix query (light
stemming); a few Polish stop words are dropped. Two columns: the words ANDed, and the words ORed. It has
no CPV codes, places, synonyms or spelling correction, so it marks what plain full-text search gives.
Nothing is asserted: the figures are printed.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from workdir import work_folder

from tests.relevance import ndcg

# Variables of the developer's shell that must not reach the benchmark's portal.
DROPPED_ENV = ("REDIS_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER",
               "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE",
               "SERVER_NAME", "APP_ENV", "FLASK_ENV", "REGION_FILE", "SEARCH_ENABLED", "PROXY_COUNT", "FLASK_APP",
               "DATABASE_URL", "SEARCH_INDEX_DIR", "UPLOAD_DIR", "PORTAL_URL")
PREFIX = "off-demo-"


# -- the portal --------------------------------------------------------------------------------------------

def portal_environment(work: Path) -> None:
    for name in DROPPED_ENV:
        os.environ.pop(name, None)
    os.environ.update(DATABASE_URL=f"sqlite:///{work / 'portal.db'}", SEARCH_INDEX_DIR=str(work / "search-index"),
                      UPLOAD_DIR=str(work / "uploads"), SECRET_KEY="relevance-benchmark",
                      RATELIMIT_ENABLED="false", SEARCH_SYNC_BACKGROUND="false")


def load_portal(work: Path):
    """The portal with the demo catalogue loaded and indexed, and an open application context."""
    from app import create_app

    app = create_app({"MAIL_DIR": str(work / "mail")})
    context = app.app_context()
    context.push()
    result = app.test_cli_runner().invoke(args=["demo"])
    if result.exit_code != 0:
        raise SystemExit(f"`flask demo` failed (exit {result.exit_code}):\n{result.output}")
    loaded = next((line for line in result.output.splitlines() if line.startswith("Loaded")), "demo loaded")
    return app, context, loaded


def engine_search(client):
    def top_refs(q: str) -> list[str]:
        resp = client.get("/api/v1/search", query_string=ndcg.api_params(q))
        if resp.status_code != 200:
            raise SystemExit(f"search for {q!r} answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
        return [item["ref"] for item in resp.get_json()["items"]]

    return top_refs


# -- the FTS5 baseline -------------------------------------------------------------------------------------

WORD = re.compile(r"[^\W_]+", re.UNICODE)
FOLD = str.maketrans("łŁ", "lL")
STOP_WORDS = {"a", "i", "o", "u", "w", "z", "we", "ze", "na", "do", "od", "po", "dla", "nad", "pod", "przez",
              "bez", "oraz", "lub", "albo"}
WEIGHTS = (6.0, 4.0, 1.0)  # title, tags, description


def fold(text: str) -> str:
    return text.translate(FOLD)


class Fts5Baseline:
    def __init__(self, offerings: dict[str, dict]):
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute("CREATE VIRTUAL TABLE fts USING fts5(ref UNINDEXED, title, tags, description, "
                          "tokenize='unicode61 remove_diacritics 2')")
        self.conn.executemany("INSERT INTO fts VALUES (?, ?, ?, ?)", [
            (ref, fold(o["title"]), fold(", ".join(o.get("tags") or [])), fold(o.get("description") or ""))
            for ref, o in offerings.items()])

    @staticmethod
    def terms(q: str) -> list[str]:
        out = []
        for word in WORD.findall(fold(q.lower())):
            if word in STOP_WORDS:
                continue
            n = len(word)
            stem = word if n <= 4 else word[:-1] if n <= 6 else word[:-2]
            out.append(f'"{stem}"*')
        return out

    def search(self, q: str, operator: str) -> list[str]:
        terms = self.terms(q)
        if not terms:
            return []
        rows = self.conn.execute(
            "SELECT ref FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 0, ?, ?, ?) LIMIT ?",
            (f" {operator} ".join(terms), *WEIGHTS, ndcg.K)).fetchall()
        return [r[0] for r in rows]


# -- output ------------------------------------------------------------------------------------------------

def short(ref: str) -> str:
    return ref.removeprefix(PREFIX)


def graded(refs: list[str], judgments: dict[str, int]) -> str:
    return " ".join(f"{short(r)}:{judgments.get(r, 0)}" for r in refs) or "(nothing)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--below", type=float, default=0.85, help="list the queries scoring below this (0.85)")
    ap.add_argument("--kind", action="append", choices=ndcg.KINDS, help="only queries of this kind (repeatable)")
    ap.add_argument("--titles", action="store_true", help="show the titles of what each weak query got")
    ap.add_argument("--no-fts5", action="store_true", help="leave out the FTS5 baseline")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder, removed)")
    args = ap.parse_args()

    queries = ndcg.load_queries()
    wrong = ndcg.problems(queries)
    if wrong:
        raise SystemExit("the query file has problems:\n  " + "\n  ".join(wrong))
    if args.kind:
        queries = [q for q in queries if q["kind"] in args.kind]

    work = work_folder(ap, args.keep, "relevance-")
    context = None
    try:
        portal_environment(work)
        start = time.perf_counter()
        app, context, loaded = load_portal(work)
        where = f"kept in {work}" if args.keep else "in a temporary folder"
        print(f"{loaded} ({time.perf_counter() - start:.1f} s, {where})")
        public = ndcg.public_offerings()
        client = app.test_client()
        total = client.get("/api/v1/search", query_string={"per_page": 1}).get_json()["total"]
        if total != len(public):
            raise SystemExit(f"the index holds {total} public offerings, the demo data set {len(public)}")

        start = time.perf_counter()
        outcomes = ndcg.evaluate(queries, engine_search(client))
        seconds = time.perf_counter() - start
        columns = {"engine": ndcg.by_kind(outcomes)}
        fts_outcomes = {}
        if not args.no_fts5:
            fts = Fts5Baseline(public)
            for operator in ("AND", "OR"):
                fts_outcomes[operator] = ndcg.evaluate(queries, lambda q, op=operator: fts.search(q, op))
                columns[f"fts5 {operator.lower()}"] = ndcg.by_kind(fts_outcomes[operator])

        print()
        print(f"nDCG@{ndcg.K} on the demo catalogue ({len(public)} public offerings), {len(queries)} queries "
              f"({seconds * 1000 / max(len(queries), 1):.1f} ms per API request)")
        print(ndcg.format_table(columns, ndcg.kind_counts(queries)))

        weak = [o for o in outcomes if o.score < args.below]
        print()
        print(f"{len(weak)} queries below {args.below} (refs without '{PREFIX}', ':grade' after each):")
        for o in sorted(weak, key=lambda o: (ndcg.KINDS.index(o.kind) if o.kind in ndcg.KINDS else 99, o.score)):
            judgments = o.query["judgments"]
            extra = "".join(f"  fts5 {op.lower()} {fts_outcomes[op][outcomes.index(o)].score:.3f}"
                            for op in fts_outcomes)
            print(f"\n{o.query['id']:<24} {o.score:.3f}  q={o.query['q']!r}{extra}")
            print(f"  want: {o.query['note']}")
            print(f"  got:   {graded(o.refs, judgments)}")
            print(f"  ideal: {graded(ndcg.ideal_ranking(judgments), judgments)}")
            if args.titles:
                for rank, ref in enumerate(o.refs, start=1):
                    print(f"    {rank:>2}. {short(ref)}:{judgments.get(ref, 0)}  {public[ref]['title']}")
        return 0
    finally:
        if context is not None:
            from marketplace.extensions import db

            db.session.remove()
            db.engine.dispose()
            context.pop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
