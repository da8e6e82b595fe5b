"""Running a catalogue search on one searcher: text match, filters, facets, order, page and snippets.

Whoosh's own matchers walk every matching document in Python, which is far too slow for facet counts over
large result sets. Here Whoosh keeps the index on disk and reads it; the search itself works on arrays
(numpy), one slot per document number:

* a term's postings are read block by block into two arrays (document numbers, term frequencies) and kept in
  a per-process cache (segments never change but for deletions, so the cache stays valid for a segment's life);
* a query word's score is the sum over the fields and terms it matches (surface form, stems, synonyms, each
  weighed, BM25's term-frequency saturation and inverse document frequency); the words must all match;
* what does not depend on the query is derived once per index change (a SearchView): the live documents, each
  filter field's value per document, the powiats served as (document, powiat) pairs, the sort keys. A filter is
  then a boolean mask, a facet's counts one `bincount` (over the pairs for the powiats), each facet over the
  documents matching the text and every filter but its own (CONTRACT section 4).
"""
from __future__ import annotations

import html
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from search import places
from search.analysis import WORD_RE, QueryWord, fold, stems
from search.schema import SURFACE_FIELDS, SYNONYM_FACTOR, TEXT_WEIGHTS, day_number

# Facet name (CONTRACT section 4) -> index field holding its values.
FACET_FIELDS = {"category": "category", "powiat": "powiats", "legal_form": "legal_form", "kind": "kind"}
CODED_FIELDS = ("category", "legal_form", "kind", "reserved_eligible")  # one value per document
SPELLING_FIELDS = SURFACE_FIELDS  # whose words a spelling suggestion may offer
COLUMNS = ("published_at", "sort_price_asc", "sort_price_desc", "sort_gross_asc", "sort_gross_desc", "mark_from",
           "mark_until", "mark_next_from", "mark_next_until")
NO_VALUE = 2**31 - 1  # what a numeric column gives for a document without the field
SNIPPET_LENGTH = 200
K1 = 1.2  # BM25's term-frequency saturation
PLACE_FACTOR = 3.0  # score factor of offerings whose PES serves a place named in the query
CPV_WEIGHT = 6.0  # a CPV code's match weighs as a title word's
KIND_FACTOR = 0.5  # score factor of offerings of the other kind than the query asks for (see query_kind)
KIND_MAJORITY = 2 / 3  # share of the title matches of one kind that makes it the kind a query asks for
# Words that ask for a service whatever the titles say ("usługi pralnicze"); folded, and their stems.
SERVICE_WORDS = frozenset(("usluga", "uslugi", "uslug", "serwis", "wynajem", "wynajecie", "organizacja"))
COVERAGE_WEIGHT = 5.0  # a partial match: coverage decides, the score orders those that cover as much
OWN_ELSEWHERE = 0.7  # a partial match's coverage: a word in the description or seller's name…
SYNONYM_ONLY = 0.5  # …and a word matched only through a synonym (in a title or keywords: 1)
HEADLINE_WEIGHTS = {f: TEXT_WEIGHTS[f] for f in ("title", "title_stem", "keywords", "keywords_stem")}
SPELL_MIN = 3  # shorter words are not offered as corrections
CACHED_POSTINGS = 6_000_000  # postings kept decoded per process (about 8 bytes each)

_NO_POSTINGS = (np.zeros(0, np.int64), np.zeros(0, np.float32))
_MISSING = object()
WORD_CACHE = 32  # a word's scores kept per view (4 bytes a document each)
TERM_STATS = 100_000  # terms whose document frequency a view remembers


# -- postings ------------------------------------------------------------------------------------------------


def read_postings(reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Every posting of a term in one segment: (document numbers, term frequencies), deleted ones included.

    Whoosh's on-disk postings come in blocks of up to 128; a block's document numbers are stored as gaps
    and turned into numbers with one cumulative sum. Other matchers (short posting lists kept inline in the
    term's record) are read one posting at a time."""
    try:
        matcher = reader.postings(field, text)
    except TermNotFound:
        return _NO_POSTINGS
    if isinstance(matcher, FilterMatcher):  # a segment with deletions: they are masked by SearchView.live
        matcher = matcher.child
    ids, weights = [], []
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            gaps, found, count = matcher._data[0], matcher._data[1], matcher._blocklength
            ids.append(np.cumsum(np.asarray(gaps, dtype=np.int64)))
            if found is None or isinstance(found, float):
                weights.append(np.full(count, 1.0 if found is None else found, dtype=np.float32))
            else:
                weights.append(np.asarray(found, dtype=np.float32))
            matcher._next_block()
        if not ids:
            return _NO_POSTINGS
        return np.concatenate(ids), np.concatenate(weights)
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)


class PostingsCache:
    """Decoded postings by (segment, field, term), the least recently used dropped beyond a size."""

    def __init__(self, limit: int = CACHED_POSTINGS):
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, segment_key: str, reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (segment_key, field, text)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = read_postings(reader, field, text)
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self.size += len(found[0])
                while self.size > self.limit and len(self._items) > 1:
                    _key, (old, _w) = self._items.popitem(last=False)
                    self.size -= len(old)
        return found

    def forget(self, keep_segments: set[str]) -> None:
        """Drop the postings of segments no longer in the index (merged away, or another build)."""
        with self._lock:
            for key in [k for k in self._items if k[0] not in keep_segments]:
                self.size -= len(self._items.pop(key)[0])


POSTINGS = PostingsCache()


# -- what queries need from the index, derived once per change --------------------------------------------


class SegmentData:
    """What queries need from one segment, read once: Whoosh segments never change but for deletions."""

    def __init__(self, key: str, reader):
        self.size = reader.doc_count_all()
        self.values: dict[str, dict[str, np.ndarray]] = {}
        for field in (*CODED_FIELDS, "powiats"):
            terms = list(reader.field_terms(field)) if field in reader.indexed_field_names() else []
            self.values[field] = {value: POSTINGS.get(key, reader, field, value)[0] for value in terms}
        self.columns = {name: np.fromiter(reader.column_reader(name), dtype=np.int64, count=self.size)
                        if self.size else np.zeros(0, np.int64) for name in COLUMNS}
        self._speller: Speller | None = None
        self._speller_lock = threading.Lock()

    def speller(self, reader) -> Speller:
        """The segment's words for spelling suggestions (see Speller), built on first use. The words: those
        of titles, keywords and sellers (descriptions are indexed by stems only)."""
        with self._speller_lock:  # one build per segment, however many requests ask at once
            if self._speller is None:
                self._speller = self._build_speller(reader)
        return self._speller

    def _build_speller(self, reader) -> Speller:
        vocabulary: set[str] = set()
        for field in SPELLING_FIELDS:
            if field not in reader.indexed_field_names():
                continue
            for text, _info in reader.iter_field(field):
                text = text.decode("utf-8") if isinstance(text, bytes) else text
                if len(text) >= SPELL_MIN and text.isalpha():
                    vocabulary.add(text)
        return Speller(sorted(vocabulary))


def deletions(word: str, times: int = 1) -> set[str]:
    """The word and every form of it with up to `times` letters left out."""
    found = {word}
    for _ in range(times):
        found |= {w[:i] + w[i + 1:] for w in found for i in range(len(w))}
    return found


def deletions_allowed(word: str) -> int:
    """How many letters a word's spelling index and its lookups leave out: two for words of five letters or
    more (a typo in two letters is fixed there), one for shorter ones."""
    return 2 if len(word) > 4 else 1


class Speller:
    """Words by the forms they take with letters left out (the symmetric deletion method): two words within
    two edits (typos in two letters: wrong, missing, extra or swapped) share such a form, so the candidates
    for a misspelt word come from a few lookups instead of distances to the whole vocabulary.

    The forms are kept as sorted hashes beside the index of their word (numpy arrays, about 12 bytes a form)
    rather than as a dictionary of strings; Python's string hash is fixed for a process's life, which is this
    object's life. A hash shared by chance only adds a candidate, which the caller checks by its distance."""

    def __init__(self, vocabulary: list[str]):
        self.words = vocabulary
        hashes, owners = [], []
        for number, word in enumerate(vocabulary):
            forms = deletions(word, deletions_allowed(word))
            hashes.extend(hash(f) for f in forms)
            owners.extend([number] * len(forms))
        order_ = np.argsort(np.asarray(hashes, dtype=np.int64), kind="stable")
        self.hashes = np.asarray(hashes, dtype=np.int64)[order_]
        self.owners = np.asarray(owners, dtype=np.int32)[order_]

    def near(self, term: str) -> set[str]:
        """Words that may be within two edits of the term (one for a term of four letters or fewer)."""
        if not len(self.hashes):
            return set()
        keys = np.asarray([hash(f) for f in deletions(term, deletions_allowed(term))], dtype=np.int64)
        left = np.searchsorted(self.hashes, keys, side="left")
        right = np.searchsorted(self.hashes, keys, side="right")
        found: set[str] = set()
        for a, b in zip(left, right, strict=True):
            found.update(self.words[i] for i in self.owners[a:b])
        return found


class SearchView:
    """One searcher with the per-document data derived from it (see the module's docstring)."""

    def __init__(self, searcher, previous: SearchView | None = None):
        self.searcher = searcher
        self.reader = searcher.reader()
        cache = previous.segment_cache if previous else {}
        self.segment_cache: dict[str, SegmentData] = {}
        self.segments: list[tuple[str, object, int]] = []  # (segment key, leaf reader, first doc number)
        for reader, offset in self.reader.leaf_readers():
            if reader.segment() is None:  # an index without segments yet
                continue
            key = reader.segment().segment_id()
            self.segment_cache[key] = cache.get(key) or SegmentData(key, reader)
            self.segments.append((key, reader, offset))
        POSTINGS.forget(set(self.segment_cache) | (set(previous.segment_cache) if previous else set()))
        self.size = self.reader.doc_count_all()
        self.live = np.zeros(self.size, dtype=bool)
        for key, reader, offset in self.segments:
            size = self.segment_cache[key].size
            self.live[offset:offset + size] = True
            if reader.has_deletions():
                self.live[offset + np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
        self.vocab: dict[str, list[str]] = {}
        self.codes: dict[str, np.ndarray] = {}
        for field in CODED_FIELDS:
            self.vocab[field], self.codes[field] = self._coded(field)
        self.vocab["powiats"] = sorted({v for key, _r, _o in self.segments
                                        for v in self.segment_cache[key].values["powiats"]})
        # Documents serve several powiats: one (document, powiat code) pair each. Counting uses bincount
        # rather than a matrix product: BLAS threads busy-waiting in every worker cost more than they save.
        self.powiat_index = {code: row for row, code in enumerate(self.vocab["powiats"])}
        pair_docs, pair_codes = [], []
        for key, _reader, offset in self.segments:
            for value, docs in self.segment_cache[key].values["powiats"].items():
                pair_docs.append(offset + docs)
                pair_codes.append(np.full(len(docs), self.powiat_index[value], dtype=np.int32))
        self.pair_docs = np.concatenate(pair_docs) if pair_docs else np.zeros(0, np.int64)
        self.pair_codes = np.concatenate(pair_codes) if pair_codes else np.zeros(0, np.int32)
        self.columns = {name: self._concat(lambda data, n=name: data.columns[n], np.int64) for name in COLUMNS}
        self._marks: tuple[date, np.ndarray] | None = None
        self._word_cache: dict[tuple, np.ndarray | None] = {}  # see word_scores
        self._term_stats: dict[tuple[str, str], int] = {}  # see doc_frequency

    def _concat(self, part, dtype) -> np.ndarray:
        parts = [part(self.segment_cache[key]) for key, _r, _o in self.segments]
        return np.concatenate(parts) if parts else np.zeros(0, dtype)

    def _coded(self, field: str) -> tuple[list[str], np.ndarray]:
        vocab = sorted({v for key, _r, _o in self.segments for v in self.segment_cache[key].values[field]})
        index = {value: code for code, value in enumerate(vocab)}
        codes = np.full(self.size, -1, dtype=np.int32)
        for key, _reader, offset in self.segments:
            for value, docs in self.segment_cache[key].values[field].items():
                codes[offset + docs] = index[value]
        return vocab, codes

    # -- filters ---------------------------------------------------------------------------------------

    def docs(self, field: str, values: Iterable[str]) -> np.ndarray:
        """Documents holding any of the values in a field (the union of an OR filter), as a mask."""
        if field == "powiats":
            wanted = np.zeros(len(self.powiat_index), dtype=bool)
            for value in values:
                if value in self.powiat_index:
                    wanted[self.powiat_index[value]] = True
            mask = np.zeros(self.size, dtype=bool)
            mask[self.pair_docs[wanted[self.pair_codes]]] = True
            return mask
        vocab = self.vocab[field]
        wanted = np.zeros(len(vocab) + 1, dtype=bool)  # the last slot stands for "no value" (-1)
        index = {value: code for code, value in enumerate(vocab)}
        for value in values:
            if value in index:
                wanted[index[value]] = True
        return wanted[self.codes[field]]

    def marks_valid_on(self, day: date) -> np.ndarray:
        """Documents whose quality mark is valid on the day (both ends of its period included)."""
        if self._marks is None or self._marks[0] != day:
            n = day_number(day)
            cols = self.columns
            valid = (cols["mark_from"] <= n) & (n <= cols["mark_until"]) & (cols["mark_from"] != NO_VALUE)
            valid |= ((cols["mark_next_from"] <= n) & (n <= cols["mark_next_until"])
                      & (cols["mark_next_from"] != NO_VALUE))
            self._marks = (day, valid)
        return self._marks[1]

    # -- text ------------------------------------------------------------------------------------------

    def postings(self, field: str, text: str):
        """(first document number of its segment, document numbers, term frequencies) for each segment."""
        for key, reader, offset in self.segments:
            ids, freqs = POSTINGS.get(key, reader, field, text)
            if len(ids):
                yield offset, ids, freqs

    def doc_frequency(self, field: str, text: str) -> int:
        """Documents holding a term (deleted ones included, as Whoosh counts them; 0 for an unknown term),
        remembered for the view's life: a query word with its stems and synonyms asks for dozens of terms in
        several fields, each a look-up in the index files."""
        key = (field, text)
        found = self._term_stats.get(key)
        if found is None:
            found = self.reader.doc_frequency(field, text) if key in self.reader else 0
            if len(self._term_stats) >= TERM_STATS:
                self._term_stats.clear()
            self._term_stats[key] = found
        return found

    def has_term(self, field: str, text: str) -> bool:
        return self.doc_frequency(field, text) > 0

    def word_scores(self, word: QueryWord, weights: Mapping[str, float] = TEXT_WEIGHTS,
                    synonyms: bool = True) -> np.ndarray | None:
        """Each document's score for one query word (0 where it does not match), or None if none matches.

        A match in a field weighs the field's weight (a synonym's, SYNONYM_FACTOR of it) times the term's
        inverse document frequency times its saturated frequency in the document. One answer asks for the
        same word several times (its match, the kind it asks for, a partial match's coverage), so the last
        WORD_CACHE results are kept on the view, read-only."""
        key = (word, tuple(weights.items()), synonyms)
        found = self._word_cache.get(key, _MISSING)
        if found is _MISSING:
            found = self._word_scores(word, weights, synonyms)
            if found is not None:
                found.flags.writeable = False
            if len(self._word_cache) >= WORD_CACHE:
                self._word_cache.clear()
            self._word_cache[key] = found
        return found

    def _word_scores(self, word: QueryWord, weights: Mapping[str, float], synonyms: bool) -> np.ndarray | None:
        acc = None
        total = max(self.size, 1)
        if word.cpv:
            return self._term_scores("cpv_tree", word.cpv, CPV_WEIGHT) if "title" in weights else None
        for field, weight in weights.items():
            stemmed = field.endswith("_stem")
            own = word.stems if stemmed else word.surface
            others = ((word.synonym_stems if stemmed else word.synonym_surface) - own) if synonyms else set()
            for terms, boost in ((own, weight), (others, weight * SYNONYM_FACTOR)):
                for text in sorted(terms):
                    df = self.doc_frequency(field, text)
                    if not df:
                        continue
                    factor = boost * math.log(1.0 + (total - df + 0.5) / (df + 0.5))
                    for offset, ids, freqs in self.postings(field, text):
                        if acc is None:
                            acc = np.zeros(self.size, dtype=np.float32)
                        acc[offset + ids] += factor * freqs * (K1 + 1.0) / (freqs + K1)
        return acc

    def _term_scores(self, field: str, text: str, weight: float) -> np.ndarray | None:
        """Each document's score for one term of a field (as in word_scores), or None if no document has it."""
        df = self.doc_frequency(field, text)
        if not df:
            return None
        factor = weight * math.log(1.0 + (max(self.size, 1) - df + 0.5) / (df + 0.5))
        acc = np.zeros(self.size, dtype=np.float32)
        for offset, ids, _freqs in self.postings(field, text):
            acc[offset + ids] += factor
        return acc

    def match(self, words: list[QueryWord], optional: Iterable[QueryWord] = (),
              favoured: np.ndarray | None = None,
              weights: Mapping[str, float] = TEXT_WEIGHTS, at_least: int | None = None,
              lowered: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(mask of live documents matching every word, their scores).

        With `at_least`, a document needs only that many of the words, and the more of the query it covers,
        the higher it ranks: every document with all the words comes first; then a word counts by how rare it
        is (log(1 + N / documents with it)) and by where the document has it (_strength), and the score orders
        those that cover as much. Optional words add to the score of the documents they match without being
        required; documents in `favoured` have their score raised by PLACE_FACTOR, those in `lowered`
        (offerings of another kind than the query asks for) lowered by KIND_FACTOR."""
        mask = self.live.copy()
        scores = np.zeros(self.size, dtype=np.float32)
        matched = np.zeros(self.size, dtype=np.int32)
        covered = np.zeros(self.size, dtype=np.float32)
        rarity_total = 0.0
        for word in words:
            acc = self.word_scores(word, weights)
            if acc is None:
                if at_least is None:
                    return np.zeros(self.size, dtype=bool), scores
                rarity_total += math.log(1.0 + self.size)
                continue
            has = acc > 0
            rarity = math.log(1.0 + self.size / max(int(np.count_nonzero(has & self.live)), 1))
            rarity_total += rarity
            matched += has
            if at_least is not None:
                covered += self._strength(word, has) * rarity
            scores += acc
        if at_least is None:
            mask &= matched == len(words)
        else:
            mask &= matched >= at_least
        for word in optional:
            acc = self.word_scores(word, weights)
            if acc is not None:
                scores += acc
        if favoured is not None:
            scores[favoured] *= PLACE_FACTOR
        if lowered is not None:
            scores[lowered] *= KIND_FACTOR
        if at_least is not None and words:
            coverage = np.where(matched == len(words), 1.0 + 1e-3, covered / max(rarity_total, 1e-9))
            scores += coverage.astype(np.float32) * (float(scores.max(initial=0.0)) + 1.0) * COVERAGE_WEIGHT
        return mask, scores

    def _strength(self, word: QueryWord, has: np.ndarray) -> np.ndarray:
        """How well each document holds a word, for the coverage of a partial match: the word itself in its
        title or keywords 1, elsewhere OWN_ELSEWHERE, only through a synonym SYNONYM_ONLY."""
        strength = has * SYNONYM_ONLY
        own = self.word_scores(word, synonyms=False)
        if own is not None:
            strength = np.where(own > 0, OWN_ELSEWHERE, strength)
            headline = self.word_scores(word, HEADLINE_WEIGHTS, synonyms=False)
            if headline is not None:
                strength = np.where(headline > 0, 1.0, strength)
        return strength.astype(np.float32)

    def near_terms(self, term: str) -> set[str]:
        """Index words that may be within two edits of a folded term (one for short terms; see Speller)."""
        found: set[str] = set()
        for key, reader, _offset in self.segments:
            found |= self.segment_cache[key].speller(reader).near(term)
        return found

    def first_doc(self, field: str, text: str) -> int | None:
        """The first live document holding a term in a field."""
        for offset, ids, _freqs in self.postings(field, text):
            live = ids[self.live[offset + ids]]
            if len(live):
                return int(offset + live[0])
        return None


@dataclass(frozen=True)
class QueryPlan:
    """A query's words sorted out: those an offering must have, the places named (optional words that favour
    offerings whose PES serves them) and the codes of those places."""

    required: list[QueryWord]
    optional: list[QueryWord]
    places: frozenset[str]


def plan_query(qwords: list[QueryWord]) -> QueryPlan:
    """Words naming a place of the region (search.places) are not required but favour offerings whose PES
    serves it; "powiat", "gmina" beside a place name it too."""
    named = {w: places.powiats_named(w) if not w.cpv else frozenset() for w in qwords}
    for whole in [w for w in qwords if "-" in w.text and named[w]]:  # "golub-dobrzyń" and its parts
        parts = whole.text.split("-")
        named.update({w: named[whole] for w in qwords if w.text in parts})
    codes = frozenset().union(*named.values()) if qwords else frozenset()
    if codes:
        named.update({w: codes for w in qwords if places.is_context(w)})
    texts = {w.text for w in qwords}
    # A hyphenated word comes with its parts ("świece-sojowe": świece, sojowe): the parts are required, the whole
    # only raises the offerings that write it so.
    compound = {w for w in qwords if "-" in w.text and set(w.text.split("-")) <= texts}
    return QueryPlan([w for w in qwords if not named[w] and w not in compound],
                     [w for w in qwords if named[w] or w in compound], codes)


def match_query(view: SearchView, qwords: list[QueryWord], at_least: int | None = None,
                plan: QueryPlan | None = None, lowered: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(mask, scores) of a query's words (see plan_query). A query that names nothing but places finds the
    offerings of PES serving them, or naming them. `at_least`: how many of the required words an offering
    needs (see SearchView.match); all of them when None."""
    plan = plan or plan_query(qwords)
    serving = view.docs("powiats", plan.places) if plan.places else None
    if not plan.required:
        mask, scores = view.match([], qwords)
        return mask & ((scores > 0) | serving), scores + serving * max(float(scores.max(initial=0.0)), 1.0)
    return view.match(plan.required, plan.optional, serving, at_least=at_least, lowered=lowered)


def query_kind(view: SearchView, plan: QueryPlan, found: np.ndarray) -> str | None:
    """The kind of offering ("product" or "service") a query asks for, or None when it does not tell.

    A word such as "usługi" asks for services. Otherwise the titles decide: when at least KIND_MAJORITY of
    the offerings found with all the words (`found`) whose title holds a query word are of one kind, the
    query names a thing of that kind ("świece" are candles for sale, whatever workshop mentions them)."""
    if any(w.has_any(SERVICE_WORDS) for w in plan.required):
        return "service"
    titled = np.zeros(view.size, dtype=bool)
    weights = {"title": TEXT_WEIGHTS["title"], "title_stem": TEXT_WEIGHTS["title_stem"]}
    for word in plan.required:
        acc = view.word_scores(word, weights)
        if acc is not None:
            titled |= acc > 0
    titled &= found
    codes = view.codes["kind"][titled]
    codes = codes[codes >= 0]
    if len(codes) < 2:
        return None
    counts = np.bincount(codes, minlength=len(view.vocab["kind"]))
    best = int(counts.argmax())
    return view.vocab["kind"][best] if counts[best] >= KIND_MAJORITY * len(codes) else None


def other_kind(view: SearchView, kind: str | None) -> np.ndarray | None:
    """The documents of another kind than `kind` (None when the query asks for no kind)."""
    if kind is None or kind not in view.vocab["kind"]:
        return None
    return view.codes["kind"] != view.vocab["kind"].index(kind)


# -- filters and facets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The active filters of a search, each as the mask of documents it lets through."""

    sets: dict[str, np.ndarray]

    def except_(self, name: str | None) -> list[np.ndarray]:
        return [docs for key, docs in self.sets.items() if key != name]


def filters_for(view: SearchView, params, today: date) -> Filters:
    sets: dict[str, np.ndarray] = {}
    if params.kind:
        sets["kind"] = view.docs("kind", [params.kind])
    if params.categories:
        sets["category"] = view.docs("category", params.categories)
    if params.powiats:
        sets["powiat"] = view.docs("powiats", params.powiats)
    if params.legal_forms:
        sets["legal_form"] = view.docs("legal_form", params.legal_forms)
    if params.quality_mark:
        sets["quality_mark"] = view.marks_valid_on(today)
    if params.reserved_eligible:
        sets["reserved_eligible"] = view.docs("reserved_eligible", ["1"])
    return Filters(sets)


def intersect(base: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """The documents in base and in every other mask."""
    if not others:
        return base
    out = base & others[0]
    for other in others[1:]:
        out &= other
    return out


def facet_counts(view: SearchView, matched: np.ndarray, filters: Filters, params, today: date) -> dict:
    """Counts per value of each facet over the whole result set, each facet without its own filter.

    Values with no document are left out unless selected; `quality_mark` always has its one key "1"."""
    selected = {"category": params.categories, "powiat": params.powiats, "legal_form": params.legal_forms,
                "kind": (params.kind,) if params.kind else ()}
    out = {}
    for name, field in FACET_FIELDS.items():
        base = intersect(matched, filters.except_(name))
        vocab = view.vocab[field]
        if field == "powiats":
            found = np.bincount(view.pair_codes[base[view.pair_docs]], minlength=len(vocab))
        else:
            codes = view.codes[field][base]
            found = np.bincount(codes[codes >= 0], minlength=len(vocab))
        counts = {value: int(n) for value, n in zip(vocab, found, strict=True) if n}
        for value in selected[name]:
            counts.setdefault(value, 0)
        out[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    base = intersect(matched, filters.except_("quality_mark"))
    out["quality_mark"] = {"1": int(np.count_nonzero(base & view.marks_valid_on(today)))}
    return out


def order(view: SearchView, found: np.ndarray, sort: str, scores: np.ndarray | None, limit: int,
          price: str = "net") -> list[int]:
    """The first `limit` found documents in the requested order; ties go to the newest, then the last indexed.

    Relevance without a query text (nothing to score) is newest first. Price orders sort by the net or the
    gross price (`price`), with keys that put "price on request" last in both directions
    (search.schema.PRICE_ON_REQUEST)."""
    docs = np.flatnonzero(found)
    if not len(docs) or limit <= 0:
        return []
    newest = view.columns["published_at"][docs]
    if sort == "relevance" and scores is not None:
        first = -scores[docs].astype(np.float64)
    elif sort in ("price_asc", "price_desc"):
        column = ("sort_price_" if price == "net" else "sort_gross_") + sort.removeprefix("price_")
        first = view.columns[column][docs]
    else:
        first = -newest
    if limit < len(docs):  # keep the documents that can be among the first `limit`, ties included
        kth = np.partition(first, limit - 1)[limit - 1]
        keep = first <= kth
        docs, newest, first = docs[keep], newest[keep], first[keep]
    ranked = np.lexsort((-docs, -newest, first))[:limit]
    return [int(d) for d in docs[ranked]]


# -- snippets --------------------------------------------------------------------------------------------


class _Marker:
    """Which words of a text a query matches (as written, by stem, or through a synonym), remembered per word."""

    def __init__(self, words: list[QueryWord]):
        self.surface = set().union(*(w.surface | w.synonym_surface for w in words)) if words else set()
        self.stems = set().union(*(w.stems | w.synonym_stems for w in words)) if words else set()
        self.seen: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        lower = word.lower()
        found = self.seen.get(lower)
        if found is None:
            surface = fold(lower)
            found = surface in self.surface or (surface.isalpha() and not self.stems.isdisjoint(stems(lower)))
            self.seen[lower] = found
        return found


def marker(words: list[QueryWord]) -> _Marker | None:
    """What snippets use to find a query's words: make one per query and pass it to each of its snippets, so
    that a word the descriptions share is looked at once."""
    return _Marker(words) if words else None


def snippet(text: str, words: list[QueryWord], length: int = SNIPPET_LENGTH,
            marks: _Marker | None = _MISSING) -> str:
    """A passage of the description as HTML: the text escaped, the query's words in <mark>.

    The passage starts a little before the first matching word (the description's start when none
    matches or the query is empty) and is cut at a word boundary, with an ellipsis where text was cut."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    if marks is _MISSING:
        marks = marker(words)
    spans = [(m.start(), m.end()) for m in WORD_RE.finditer(text) if marks(m.group(0))] if marks else []
    start = 0
    if spans and spans[0][1] > length * 3 // 4:
        start = text.rfind(" ", 0, max(0, spans[0][0] - length // 4)) + 1
    end = len(text)
    if end - start > length:
        cut = text.rfind(" ", start, start + length)
        end = cut if cut > start else start + length
    out, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(text[pos:end]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")


def replace_words(text: str, corrections: Mapping[str, str]) -> str:
    """The text with some of its words replaced (matched case-insensitively), the rest left as typed."""
    return re.sub(WORD_RE, lambda m: corrections.get(m.group(0).lower(), m.group(0)), text)
