"""The search engine's interface for the rest of the portal: search, suggest, index, remove, rebuild, sync.

Snippets are HTML: the description's text escaped, the query's words wrapped in <mark> (see
search.query.snippet); show them without escaping again. Everything else is plain data.
"""
from __future__ import annotations

import itertools
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy.orm import Session

from marketplace import clock, region
from marketplace.extensions import db
from search import analysis, documents, places
from search import sync as outbox
from search.analysis import QueryWord, analyse_query, fold, words
from search.index import IndexStore, LiveSearcher, live_writer
from search.query import (
    KIND_FACTOR,
    SERVICE_WORDS,
    Filters,
    QueryPlan,
    SearchView,
    facet_counts,
    filters_for,
    intersect,
    marker,
    match_query,
    order,
    other_kind,
    plan_query,
    query_kind,
    replace_words,
    snippet,
)
from search.schema import DISPLAY_FIELDS, SNIPPET_FIELD, SURFACE_FIELDS, TEXT_FIELDS, TEXT_WEIGHTS
from search.synonyms import current_synonyms

SUGGEST_BELOW = 3  # a query finding fewer results than this gets a spelling suggestion
PARTIAL_BELOW = 10  # …and, when it has several words, the offerings that have most of them
# Words that say what kind of thing is wanted, not which (folded, with their stems): see match_partly.
GENERIC_WORDS = SERVICE_WORDS | frozenset(("produkt", "produkty", "oferta", "oferty", "sprzedaz", "zakup"))
NEARBY_MAX = 5  # powiats named when no result serves the place a query names
RARE_FACTOR = 10  # a known word is taken as a typo when a near word is this many times as frequent…
RARE_MIN = 3  # …and held by at least this many offerings
SHARED_START = 5  # letters an unknown word shares with an index word to be taken as its other form
PREFIX_TERMS = 200  # index words tried for the last, unfinished word of search-as-you-type
PREFIX_SCAN = 5000  # title words read to choose them


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[tuple[int, str]]  # (offering id, snippet HTML) for the requested page, in order
    facets: dict[str, dict[str, int]]
    suggestion: str | None
    # The query whose results these are: the one asked, or its spelling correction (`corrected`, see answer()).
    answered: str = ""
    corrected: bool = False
    # When the words all together find fewer than PARTIAL_BELOW offerings, the results are those with most
    # of the words, best first; `complete` of them have all the words.
    partial: bool = False
    complete: int = 0
    # Places named in the query (powiat codes); when no result's PES serves any of them, `elsewhere` lists
    # the powiats that the results serve, nearest to the place first (else it is empty).
    places: tuple[str, ...] = ()
    elsewhere: tuple[str, ...] = ()


class SearchEngine:
    """One app's index: where it lives, the process's searcher on it and how long writers wait."""

    def __init__(self, app):
        self.store = IndexStore(app.config["SEARCH_INDEX_DIR"])
        analysis.use_table_dir(app.config["SEARCH_INDEX_DIR"])  # the stemmer's table lives beside the index
        self.lock_timeout = float(app.config.get("SEARCH_LOCK_TIMEOUT", 0.5))
        self.reindex_wait = float(app.config.get("SEARCH_REINDEX_WAIT", 60))
        self.live = LiveSearcher(self.store, SearchView, lambda: outbox.ensure_live(self, searching=True))
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
    return current_synonyms()


# -- search ----------------------------------------------------------------------------------------------


@dataclass
class _Answer:
    """What a query finds on one searcher, before the page is cut: see answer()."""

    qwords: list[QueryWord]
    plan: QueryPlan
    filters: Filters
    matched: np.ndarray  # the text's matches (facets count these under every filter but their own)
    found: np.ndarray  # …and the filters'
    scores: np.ndarray | None
    total: int
    suggestion: str | None = None
    answered: str = ""
    corrected: bool = False
    partial: bool = False
    complete: int = 0


def answer(view: SearchView, params, today, synonyms) -> _Answer:
    """What a query finds: its words, or their spelling correction when the words as typed find nothing, or
    when some word is in no title, keywords or seller and the correction finds more (unless `params.exact`);
    for a query of several words that finds fewer than PARTIAL_BELOW offerings, also the offerings with at
    least half of its words (match_partly). Relevance is the text's score with the kind of offering the
    query asks for first (query_kind)."""
    qwords = analyse_query(params.q, synonyms)
    filters = filters_for(view, params, today)
    plan = plan_query(qwords)
    if not qwords:
        found = intersect(view.live, filters.except_(None))
        return _Answer(qwords, plan, filters, view.live, found, None, int(found.sum()), answered=params.q)
    matched, scores = match_query(view, qwords, plan=plan)
    found = intersect(matched, filters.except_(None))
    out = _Answer(qwords, plan, filters, matched, found, scores, int(found.sum()), answered=params.q)
    if out.total < SUGGEST_BELOW:
        fix = _correction(view, params.q, qwords, synonyms, filters, out.total)
        out.suggestion = fix.text if fix else None
        if fix and (fix.unknown or not out.total) and not params.exact:
            out.answered, out.corrected = fix.text, True
            out.qwords, out.plan, out.matched, out.scores = fix.qwords, fix.plan, fix.matched, fix.scores
            out.found = intersect(fix.matched, filters.except_(None))
            out.total = int(out.found.sum())
    lowered = other_kind(view, query_kind(view, out.plan, out.found)) if params.sort == "relevance" else None
    if lowered is not None:
        out.scores = out.scores.copy()
        out.scores[lowered] *= KIND_FACTOR
    if out.total < PARTIAL_BELOW and len(out.plan.required) > 1:
        wide, wide_scores = match_partly(view, out.qwords, out.plan, lowered)
        wide_found = intersect(wide, filters.except_(None))
        if int(wide_found.sum()) > out.total:
            out.partial, out.complete = True, out.total
            out.matched, out.scores, out.found, out.total = wide, wide_scores, wide_found, int(wide_found.sum())
    return out


def search(params) -> SearchResult:
    """The catalogue search of CONTRACT section 4 for checked parameters (marketplace.api.params); what it
    finds is answer()'s."""
    today, synonyms = clock.today(), _synonyms()
    with engine().live.current() as view:
        found = answer(view, params, today, synonyms)
        page = []
        if params.offset < found.total:
            page = order(view, found.found, params.sort, found.scores, params.offset + params.per_page,
                         price=params.price)[params.offset:]
        hits, marks = [], marker(found.qwords)
        for docnum in page:
            stored = view.searcher.stored_fields(docnum)
            hits.append((int(stored["id"]), snippet(stored.get(SNIPPET_FIELD, ""), found.qwords, marks=marks)))
        facets = facet_counts(view, found.matched, found.filters, params, today)
        elsewhere = _served_elsewhere(view, found)
    return SearchResult(found.total, hits, facets, found.suggestion, found.answered, found.corrected,
                        found.partial, found.complete, tuple(sorted(found.plan.places)), elsewhere)


def count(params) -> int:
    """How many offerings a search finds (as search() would, without facets, page or snippets)."""
    with engine().live.current() as view:
        return answer(view, params, clock.today(), _synonyms()).total


def match_partly(view: SearchView, qwords: list[QueryWord], plan: QueryPlan,
                 lowered: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(mask, scores) of the offerings with at least half of a query's words (those with more first). Words
    that only say what kind of thing is wanted ("usługi", "produkty") rank but do not count: an offering
    with nothing but "usługi" in common with the query is not a partial answer to it."""
    telling = [w for w in plan.required if not w.has_any(GENERIC_WORDS)] or plan.required
    narrowed = QueryPlan(telling, plan.optional + [w for w in plan.required if w not in telling], plan.places)
    return match_query(view, qwords, at_least=(len(telling) + 1) // 2, plan=narrowed, lowered=lowered)




def _served_elsewhere(view: SearchView, found: _Answer) -> tuple[str, ...]:
    """When a query names places and no offering found serves any of them: the powiats that the offerings
    found serve (for a query of nothing but places, that all offerings under the filters serve), nearest to
    one of the named places first."""
    places_named = found.plan.places
    base = found.found
    if places_named and not found.plan.required and not base.any():
        base = intersect(view.live, found.filters.except_(None))
    if not places_named or not base.any():
        return ()
    served = view.value_counts("powiats", base) > 0
    codes = [code for code, row in view.powiat_index.items() if served[row]]
    if not codes or set(codes) & places_named:
        return ()
    rank: dict[str, int] = {}
    for place in sorted(places_named):
        for position, code in enumerate(region.nearest(place, codes)):
            rank[code] = min(rank.get(code, position), position)
    return tuple(sorted(codes, key=lambda c: (rank.get(c, len(codes)), c))[:NEARBY_MAX])


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


def _known(view: SearchView, word: QueryWord) -> bool:
    """Whether the index has the word itself, one of its stems, or one of its synonyms in any text field: a
    word of the synonym list is a word buyers use, never a typo ("pralnicze" is not "rolnicze")."""
    return (any(view.has_term(f, t) for f in SURFACE_FIELDS for t in word.surface | word.synonym_surface)
            or any(view.has_term(f + "_stem", t) for f in TEXT_FIELDS for t in word.stems | word.synonym_stems))


def _candidates(view: SearchView, term: str) -> dict[str, int]:
    """Index words close to a folded term, with the number of documents holding each."""
    found: dict[str, int] = {}
    for text in view.near_terms(term) - {term}:
        found[text] = _frequency(view, text)
    return found


def _closest(view: SearchView, term: str, at_least: int = 1) -> str | None:
    """The index word nearest to a folded term (fewest edits, then most offerings), held by at least
    `at_least` offerings; None when none is within reach."""
    if len(term) < 3 or not term.isalpha():
        return None
    found = {t: n for t, n in _candidates(view, term).items() if n >= at_least}
    ranked = sorted(found, key=lambda t: (_osa_distance(term, t), -found[t], t))
    return ranked[0] if ranked and _osa_distance(term, ranked[0]) <= (1 if len(term) <= 4 else 2) else None


def _frequency(view: SearchView, term: str) -> int:
    """Offerings holding a folded word in any surface field (counted once per field)."""
    return sum(view.doc_frequency(f, term) for f in SURFACE_FIELDS)


def _as_written(view: SearchView, term: str) -> str:
    """The folded index word as a document writes it, lowercased ("sprzatanie" -> "sprzątanie")."""
    for field, stored_as in DISPLAY_FIELDS.items():
        docnum = view.first_doc(field, term)
        if docnum is None:
            continue
        for word in words(view.searcher.stored_fields(docnum).get(stored_as) or ""):
            if fold(word) == term:
                return word
    return term


@dataclass(frozen=True)
class Correction:
    text: str  # the query with its misspelt words replaced
    unknown: bool  # whether a word it replaces is in no title, keywords or seller (else only rare words were)
    qwords: list[QueryWord]  # its words, their plan and matches, to answer with it
    plan: QueryPlan
    matched: np.ndarray
    scores: np.ndarray


def _correction(view, q: str, qwords, synonyms, filters, total: int) -> Correction | None:
    """The query with its misspelt words replaced by the closest index words, if that finds more.

    A word is taken as misspelt when the index does not know it, or, when the query found little, when it
    is in no title, keywords or seller but some stem matches ("swiecee"), or when few offerings have it and a
    word one or two letters away is held by many (RARE_FACTOR times as many): a typo that some offering
    shares ("pierogii"). An unknown word two letters away from its nearest index word but starting as some
    index word does is taken as another form of that word, not as a typo ("pralnicze" is not "rolnicze")."""
    corrections, unknown = {}, False
    for word in qwords:
        if word.cpv or places.powiats_named(word):
            continue
        folded = fold(word.text)
        if not _known(view, word):
            best = _closest(view, folded)
            if best and _osa_distance(folded, best) > 1 and _shares_start(view, folded):
                best = None
        elif not _frequency(view, folded):  # known by a stem only ("swiecee")
            best = _closest(view, folded)
        elif total:  # rare beside a frequent near word ("pierogii")
            best = _closest(view, folded, at_least=max(RARE_MIN, RARE_FACTOR * _frequency(view, folded)))
        else:
            best = None
        if best:
            corrections[word.text] = _as_written(view, best)
            unknown |= not any(view.has_term(f, t) for f in SURFACE_FIELDS for t in word.surface)
    if not corrections:
        return None
    corrected = replace_words(q, corrections)
    cwords = analyse_query(corrected, synonyms)
    if not cwords:
        return None
    plan = plan_query(cwords)
    matched, scores = match_query(view, cwords, plan=plan)
    found = int(intersect(matched, filters.except_(None)).sum())
    return Correction(corrected, unknown, cwords, plan, matched, scores) if found > total else None


def _shares_start(view: SearchView, term: str) -> bool:
    """Whether some index word of a surface field starts with the term's first SHARED_START letters."""
    if len(term) < SHARED_START + 2:
        return False
    prefix = term[:SHARED_START]
    return any(next(iter(view.reader.expand_prefix(f, prefix)), None) is not None for f in SURFACE_FIELDS)


# -- search as you type ------------------------------------------------------------------------------------


def _frequent_prefixed(view: SearchView, prefix: str) -> list[str]:
    """The title words starting with a prefix that most offerings have (at most PREFIX_TERMS of them)."""
    found = list(itertools.islice(view.reader.expand_prefix("title", prefix), PREFIX_SCAN))
    if len(found) > PREFIX_TERMS:
        found = sorted(found, key=lambda t: -view.reader.doc_frequency("title", t))[:PREFIX_TERMS]
    return found


def suggest(prefix: str, limit: int = 8) -> list[str]:
    """Titles of offerings for a search box: those starting with the typed text first (case and diacritics
    aside), then others whose title has the typed words, the last one as a prefix."""
    folded = [fold(w) for w in words(prefix or "")]
    if not folded:
        return []
    start = fold(" ".join(prefix.lower().split()))
    weights = {"title": TEXT_WEIGHTS["title"]}
    with engine().live.current() as view:
        complete = folded if prefix[-1:].isspace() else folded[:-1]
        qwords = [QueryWord(w, frozenset({w}), frozenset(), frozenset(), frozenset()) for w in complete]
        if len(complete) < len(folded):
            expanded = frozenset(_frequent_prefixed(view, folded[-1]))
            qwords.append(QueryWord(folded[-1], expanded, frozenset(), frozenset(), frozenset()))
        mask, scores = view.match(qwords, weights=weights)
        top = order(view, mask, "relevance", scores, 50)
        titles = [view.searcher.stored_fields(d)["title_text"] for d in top]
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


def rebuild(procs: int = 1) -> int:
    """Rebuild the whole index from the database beside the live one and swap it in; returns its size.
    `procs` processes turn the documents into postings (see search.sync._build)."""
    eng = engine()
    analysis.ensure_table()  # the stemmer's table, built now if it is missing (in a process of its own)
    return outbox.rebuild(eng, procs)


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
        for docnum in np.flatnonzero(view.live):
            stored = view.searcher.stored_fields(docnum)
            offering_id = int(stored["id"])
            if offering_id in indexed or offering_id not in stamps:
                extra.append(offering_id)
            indexed[offering_id] = stored.get("stamp")
    return {"missing": sorted(set(stamps) - set(indexed)),
            "stale": sorted(i for i, stamp in indexed.items() if i in stamps and stamps[i] != stamp),
            "extra": sorted(set(extra))}
