"""The search engine's interface for the rest of the portal: search, suggest, index, remove, rebuild, sync.

Snippets are HTML: the description's text escaped, the query's words wrapped in <mark> (see
search.query.snippet); show them without escaping again. Everything else is plain data.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session
from whoosh import query as wq

from marketplace import clock
from marketplace.extensions import db
from search import analysis, documents
from search import sync as outbox
from search.analysis import analyse_query, fold, words
from search.index import IndexStore, LiveSearcher, live_writer
from search.query import SearchView, facet_counts, filters_for, intersect, order, replace_words, snippet
from search.schema import TEXT_FIELDS, text_query

SUGGEST_BELOW = 1  # a query finding fewer results than this gets a spelling suggestion
DISPLAY_FIELDS = ("title", "pes_name", "description")  # stored fields that show a word as it is written


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[tuple[int, str]]  # (offering id, snippet HTML) for the requested page, in order
    facets: dict[str, dict[str, int]]
    suggestion: str | None


class SearchEngine:
    """One app's index: where it lives, the process's searcher on it and how long writers wait."""

    def __init__(self, app):
        self.store = IndexStore(app.config["SEARCH_INDEX_DIR"])
        self.lock_timeout = float(app.config.get("SEARCH_LOCK_TIMEOUT", 0.5))
        self.reindex_wait = float(app.config.get("SEARCH_REINDEX_WAIT", 60))
        self.live = LiveSearcher(self.store, SearchView, lambda: outbox.ensure_live(self))
        weakref.finalize(app, self.live.close)  # close its files rather than leave them to the collector


_engines_lock = threading.Lock()


def engine() -> SearchEngine:
    """The current app's engine, created on first use (after a server forks its workers)."""
    app = current_app._get_current_object()
    found = app.extensions.get("search_engine")
    if found is None:
        with _engines_lock:
            found = app.extensions.setdefault("search_engine", SearchEngine(app))
    return found


def _synonyms():
    return analysis.load_synonyms(current_app.config.get("SEARCH_SYNONYMS_FILE"))


# -- search ----------------------------------------------------------------------------------------------


def search(params) -> SearchResult:
    """The catalogue search of CONTRACT section 4 for checked parameters (marketplace.api.params)."""
    today, synonyms = clock.today(), _synonyms()
    qwords = analyse_query(params.q, synonyms)
    with engine().live.current() as view:
        scores = view.match(text_query(params.q, synonyms, reader=view.searcher.reader())) if qwords else None
        matched = view.live if scores is None else scores.keys()
        matched = matched if isinstance(matched, (set, frozenset)) else set(matched)
        filters = filters_for(view, params, today)
        found = intersect(matched, filters.except_(None))
        total = len(found)
        page = []
        if params.offset < total:
            page = order(view, found, params.sort, scores, params.offset + params.per_page)[params.offset:]
        hits = []
        for docnum in page:
            stored = view.searcher.stored_fields(docnum)
            hits.append((int(stored["id"]), snippet(stored.get("description", ""), qwords)))
        facets = facet_counts(view, matched, filters, params, today)
        suggestion = None
        if qwords and total < SUGGEST_BELOW:
            suggestion = _suggestion(view, params, qwords, synonyms, today)
    return SearchResult(total, hits, facets, suggestion)


# -- spelling --------------------------------------------------------------------------------------------


def _osa_distance(a: str, b: str) -> int:
    """Edit distance where swapping two adjacent letters counts as one edit (as a typo on a phone does)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _known(reader, word) -> bool:
    """Whether the index has the word itself or one of its stems in any text field."""
    return (any((f, t) in reader for f in TEXT_FIELDS for t in word.surface)
            or any((f + "_stem", t) in reader for f in TEXT_FIELDS for t in word.stems))


def _candidates(reader, term: str) -> dict[str, int]:
    """Index words close to a folded term, with the number of documents holding each."""
    maxdist = 1 if len(term) <= 4 else 2
    swaps = {term[:i] + term[i + 1] + term[i] + term[i + 2:] for i in range(len(term) - 1)} - {term}
    found: dict[str, int] = {}
    for field in TEXT_FIELDS:
        near = set(swaps)
        for leaf, _offset in reader.leaf_readers():
            if leaf.segment() is not None:
                near.update(leaf.terms_within(field, term, maxdist))
        for text in near:
            if (field, text) in reader:
                found[text] = found.get(text, 0) + reader.doc_frequency(field, text)
    return found


def _closest(reader, term: str) -> str | None:
    if len(term) < 3 or not term.isalpha():
        return None
    found = _candidates(reader, term)
    ranked = sorted(found, key=lambda t: (_osa_distance(term, t), -found[t], t))
    return ranked[0] if ranked and _osa_distance(term, ranked[0]) <= (1 if len(term) <= 4 else 2) else None


def _as_written(view, term: str) -> str:
    """The folded index word as a document writes it, lowercased ("sprzatanie" -> "sprzątanie")."""
    for field in DISPLAY_FIELDS:
        for docnum in view.searcher.docs_for_query(wq.Term(field, term)):
            text = view.searcher.stored_fields(docnum).get(field) or ""
            for word in words(text):
                if fold(word) == term:
                    return word
            break
    return term


def _suggestion(view, params, qwords, synonyms, today) -> str | None:
    """The query with its unknown words replaced by the closest index words, if that finds something."""
    reader = view.searcher.reader()
    corrections = {}
    for word in qwords:
        if not _known(reader, word):
            best = _closest(reader, fold(word.text))
            if best:
                corrections[word.text] = _as_written(view, best)
    if not corrections:
        return None
    corrected = replace_words(params.q, corrections)
    q = text_query(corrected, synonyms, reader=reader)
    if q is wq.NullQuery:
        return None
    matched = set(view.match(q))
    return corrected if intersect(matched, filters_for(view, params, today).except_(None)) else None


# -- search as you type ------------------------------------------------------------------------------------


def suggest(prefix: str, limit: int = 8) -> list[str]:
    """Titles of offerings for a search box: those starting with the typed text first (case and diacritics
    aside), then others whose title has the typed words, the last one as a prefix."""
    folded = [fold(w) for w in words(prefix or "")]
    if not folded:
        return []
    last = wq.Term("title", folded[-1]) if prefix[-1:].isspace() else wq.Prefix("title", folded[-1])
    parts = [wq.Term("title", w) for w in folded[:-1]] + [last]
    start = fold(" ".join(prefix.lower().split()))
    with engine().live.current() as view:
        titles = [hit["title"] for hit in view.searcher.search(wq.And(parts), limit=50)]
    titles.sort(key=lambda t: not fold(t.lower()).startswith(start))  # stable: keeps the score order
    seen, out = set(), []
    for title in titles:
        key = fold(title.lower())
        if key not in seen:
            seen.add(key)
            out.append(title)
    return out[:limit]


# -- indexing --------------------------------------------------------------------------------------------


def index_offerings(ids) -> int:
    """Write the given offerings to the index now (those no longer public are removed)."""
    eng = engine()
    outbox.ensure_live(eng)
    with Session(db.engine) as session, live_writer(eng.store, eng.lock_timeout) as writer:
        return outbox.write(writer, session, offering_ids=ids)


def remove(ids) -> None:
    """Remove offerings from the index (the database decides again at the next change or reindex)."""
    eng = engine()
    outbox.ensure_live(eng)
    with live_writer(eng.store, eng.lock_timeout) as writer:
        for offering_id in ids:
            writer.delete_by_term("id", str(offering_id))


def rebuild() -> int:
    """Rebuild the whole index from the database beside the live one and swap it in; returns its size."""
    return outbox.rebuild(engine())


def sync() -> int:
    """Apply the outbox to the index; raises search.index.IndexBusy when the index stays locked."""
    return outbox.apply_pending(engine())


def pending() -> int:
    """Changes recorded in the outbox and not yet applied to the index."""
    return outbox.pending_count()


def check() -> dict[str, list[int]]:
    """Offering ids `missing` from the index, `stale` in it (its stamp differs from the database's), and
    `extra` (in the index but not public, or indexed twice)."""
    with Session(db.engine) as session:
        stamps = {int(doc["id"]): doc["stamp"] for doc in documents.iter_documents(session, clock.today())}
    indexed: dict[int, str] = {}
    extra: list[int] = []
    with engine().live.current() as view:
        for docnum in sorted(view.live):
            stored = view.searcher.stored_fields(docnum)
            offering_id = int(stored["id"])
            if offering_id in indexed or offering_id not in stamps:
                extra.append(offering_id)
            indexed[offering_id] = stored.get("stamp")
    return {"missing": sorted(set(stamps) - set(indexed)),
            "stale": sorted(i for i, stamp in indexed.items() if i in stamps and stamps[i] != stamp),
            "extra": sorted(set(extra))}
