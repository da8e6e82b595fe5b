"""nDCG@10 of the catalogue search over the demo catalogue, on the graded queries of queries.jsonl.

Each query has a kind, the text a buyer types and judgments: offering ref -> grade, 3 = exactly what was
asked, 2 = clearly relevant, 1 = marginally relevant; an offering not listed has grade 0. The gain of an
offering is 2^grade - 1, discounted by log2(rank + 1) (rank from 1); the ideal DCG orders all of the
query's judgments best first, so an offering the engine never returns still counts against it.

Used by tests/test_search_relevance.py (with the Flask test client) and bench/relevance.py (a portal of its
own in a temporary folder). Both ask the JSON API what a buyer's program would ask:
GET /api/v1/search?q=...&per_page=10.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
QUERIES_FILE = HERE / "queries.jsonl"
DEMO_DIR = ROOT / "marketplace" / "data" / "demo"
K = 10
KINDS = ("typo", "synonym", "product_vs_service", "no_diacritics", "inflection", "multi_word", "cpv", "place")
GRADES = (1, 2, 3)
MIN_QUERIES = 100
MIN_PER_KIND = 12


# -- the measure ------------------------------------------------------------------------------------------

def gain(grade: int) -> float:
    return float(2 ** grade - 1)


def dcg(grades: Iterable[int], k: int = K) -> float:
    return sum(gain(g) / math.log2(rank + 1) for rank, g in enumerate(list(grades)[:k], start=1))


def ndcg(ranked_refs: Sequence[str], judgments: dict[str, int], k: int = K) -> float:
    """nDCG@k of one ranking; a ref listed again keeps its rank but gains nothing there."""
    ideal = dcg(sorted(judgments.values(), reverse=True), k)
    if ideal <= 0:
        return 0.0
    seen: set[str] = set()
    grades = []
    for ref in ranked_refs:
        grades.append(0 if ref in seen else judgments.get(ref, 0))
        seen.add(ref)
    return dcg(grades, k) / ideal


def ideal_ranking(judgments: dict[str, int], k: int = K) -> list[str]:
    return [ref for ref, _g in sorted(judgments.items(), key=lambda kv: (-kv[1], kv[0]))][:k]


# -- the queries and the catalogue ------------------------------------------------------------------------

def load_queries(path: Path = QUERIES_FILE) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def demo_lines() -> list[str]:
    """The demo data set's JSON lines, PES first (as `flask demo` reads them)."""
    return [line for name in ("pes.jsonl", "offerings.jsonl")
            for line in (DEMO_DIR / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def demo_records() -> list[dict]:
    return [json.loads(line) for line in demo_lines()]


def public_offerings() -> dict[str, dict]:
    """The demo offerings the public sees: published, of a verified PES."""
    records = demo_records()
    verified = {r["ref"] for r in records if r["type"] == "pes" and r.get("verified")}
    return {r["ref"]: r for r in records if r["type"] == "offering"
            and r.get("status", "published") == "published" and r["pes_ref"] in verified}


def problems(queries: list[dict]) -> list[str]:
    """What is wrong with the query file (empty when nothing is)."""
    found = []
    public = public_offerings()
    every = {r["ref"] for r in demo_records() if r["type"] == "offering"}
    if len(queries) < MIN_QUERIES:
        found.append(f"{len(queries)} queries, fewer than {MIN_QUERIES}")
    ids = [q.get("id") for q in queries]
    for dup in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        found.append(f"id {dup!r} is used more than once")
    for kind in KINDS:
        n = sum(1 for q in queries if q.get("kind") == kind)
        if n < MIN_PER_KIND:
            found.append(f"kind {kind}: {n} queries, fewer than {MIN_PER_KIND}")
    for q in queries:
        label = q.get("id", "?")
        if set(q) != {"id", "kind", "q", "judgments", "note"}:
            found.append(f"{label}: keys {sorted(q)}")
            continue
        if q["kind"] not in KINDS:
            found.append(f"{label}: unknown kind {q['kind']!r}")
        if not isinstance(q["q"], str) or not q["q"].strip():
            found.append(f"{label}: empty query text")
        if not isinstance(q["note"], str) or not q["note"].strip():
            found.append(f"{label}: no note")
        judgments = q["judgments"]
        if not isinstance(judgments, dict) or not judgments:
            found.append(f"{label}: no judgments")
            continue
        if max(judgments.values()) < 2:
            found.append(f"{label}: nothing graded 2 or 3")
        for ref, grade in judgments.items():
            if grade not in GRADES or isinstance(grade, bool):
                found.append(f"{label}: {ref} has grade {grade!r}")
            if ref not in every:
                found.append(f"{label}: {ref} is not in the demo catalogue")
            elif ref not in public:
                found.append(f"{label}: {ref} is not published")
    return found


# -- running the queries ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    query: dict
    refs: list[str]  # the top K the engine returned, in order
    score: float

    @property
    def kind(self) -> str:
        return self.query["kind"]


def api_params(q: str) -> dict:
    return {"q": q, "per_page": K}


def evaluate(queries: list[dict], top_refs: Callable[[str], list[str]]) -> list[Outcome]:
    """Run every query through `top_refs` (query text -> refs of the first page) and score it."""
    outcomes = []
    for query in queries:
        refs = list(top_refs(query["q"]))[:K]
        outcomes.append(Outcome(query, refs, ndcg(refs, query["judgments"])))
    return outcomes


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def by_kind(outcomes: list[Outcome]) -> dict[str, float]:
    """Mean nDCG@K per kind (in KINDS order, then any other kind) and `overall` (the mean over queries)."""
    kinds = [k for k in KINDS if any(o.kind == k for o in outcomes)]
    kinds += sorted({o.kind for o in outcomes} - set(kinds))
    table = {kind: mean([o.score for o in outcomes if o.kind == kind]) for kind in kinds}
    table["overall"] = mean([o.score for o in outcomes])
    return table


def format_table(columns: dict[str, dict[str, float]], counts: dict[str, int] | None = None) -> str:
    """A text table: one row per kind, one column per engine (name -> by_kind table)."""
    names = list(columns)
    rows = list(next(iter(columns.values())))
    width = max(len(r) for r in rows + ["kind"])
    head = f"{'kind':<{width}}  {'n':>4}  " + "  ".join(f"{n:>10}" for n in names)
    lines = [head, "-" * len(head)]
    for row in rows:
        n = "" if counts is None else str(counts.get(row, ""))
        cells = "  ".join(f"{columns[name].get(row, float('nan')):>10.3f}" for name in names)
        lines.append(f"{row:<{width}}  {n:>4}  {cells}")
    return "\n".join(lines)


def kind_counts(queries: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in queries:
        counts[q["kind"]] = counts.get(q["kind"], 0) + 1
    counts["overall"] = len(queries)
    return counts


def shifted_demo_lines(today: date) -> list[str]:
    """The demo lines with the quality marks' dates moved to today, as `flask demo` loads them."""
    from marketplace.demo import shift_mark_dates

    return shift_mark_dates(demo_lines(), today)
