"""Running a catalogue search on one searcher: text match, filters, facets, order, page and snippets.

Whoosh walks matching documents in Python, so everything that does not depend on the query text is derived
once per index change (a SearchView): for each filter field the set of documents holding each value, and the
sort keys as plain lists. A search then matches the text once (document numbers with their scores) and does
the rest with set operations: each facet counts, over the whole result set, the documents matching the text
and every filter except its own (CONTRACT section 4).
"""
from __future__ import annotations

import heapq
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from whoosh import query as wq

from search.analysis import WORD_RE, QueryWord, fold, stems
from search.schema import day_number

# Facet name (CONTRACT section 4) -> index field holding its values.
FACET_FIELDS = {"category": "category", "powiat": "powiats", "legal_form": "legal_form", "kind": "kind"}
VALUE_FIELDS = (*FACET_FIELDS.values(), "reserved_eligible")
COLUMNS = ("published_at", "sort_price_asc", "sort_price_desc", "mark_from", "mark_until")
NO_VALUE = 2**31 - 1  # what a numeric column gives for a document without the field
SNIPPET_LENGTH = 200


class SegmentData:
    """What queries need from one segment, read once: Whoosh segments never change but for deletions."""

    def __init__(self, reader):
        self.size = reader.doc_count_all()
        self.values = {field: {value: frozenset(reader.postings(field, value).all_ids())
                               for value in reader.field_terms(field)} for field in VALUE_FIELDS}
        self.columns = {name: list(reader.column_reader(name)) if self.size else [] for name in COLUMNS}


class SearchView:
    """One searcher with the per-document data derived from it (see the module's docstring)."""

    def __init__(self, searcher, previous: SearchView | None = None):
        self.searcher = searcher
        cache = previous.segment_cache if previous else {}
        self.segment_cache: dict[str, SegmentData] = {}
        self.live: set[int] = set()
        values: dict[str, dict[str, frozenset]] = {f: {} for f in VALUE_FIELDS}
        self.columns: dict[str, list[int]] = {name: [] for name in COLUMNS}
        for reader, offset in searcher.reader().leaf_readers():
            if reader.segment() is None:  # an index without segments yet
                continue
            key = reader.segment().segment_id()
            data = cache.get(key) or SegmentData(reader)
            self.segment_cache[key] = data
            deleted = reader.deleted_docs_set if reader.has_deletions() else ()
            self.live.update(offset + d for d in range(data.size) if d not in deleted)
            for field, by_value in data.values.items():
                for value, docs in by_value.items():
                    shifted = docs if offset == 0 else frozenset(offset + d for d in docs)
                    have = values[field].get(value)
                    values[field][value] = shifted if have is None else have | shifted
            for name in COLUMNS:
                self.columns[name] += data.columns[name]
        self.values = values
        self._marks: dict[date, frozenset] = {}
        self._marked = [d for d, f in enumerate(self.columns["mark_from"]) if f != NO_VALUE]

    def docs(self, field: str, values: Iterable[str]) -> frozenset:
        """Documents holding any of the values in a field (the union of an OR filter)."""
        sets = [self.values[field].get(v, frozenset()) for v in values]
        return sets[0] if len(sets) == 1 else frozenset().union(*sets)

    def marks_valid_on(self, day: date) -> frozenset:
        """Documents whose quality mark is valid on the day (both ends of its period included)."""
        if day not in self._marks:
            n, froms, untils = day_number(day), self.columns["mark_from"], self.columns["mark_until"]
            self._marks = {day: frozenset(d for d in self._marked if froms[d] <= n <= untils[d])}
        return self._marks[day]

    def match(self, q: wq.Query) -> dict[int, float]:
        """Every live document matching a query, with its score."""
        scores: dict[int, float] = {}
        context = self.searcher.context(needs_current=True)
        for sub, offset in self.searcher.leaf_searchers():
            matcher = q.matcher(sub, context)
            while matcher.is_active():
                scores[offset + matcher.id()] = matcher.score()
                matcher.next()
        return scores


@dataclass(frozen=True)
class Filters:
    """The active filters of a search, each as the set of documents it lets through."""

    sets: dict[str, frozenset]

    def except_(self, name: str | None) -> list[frozenset]:
        return [docs for key, docs in self.sets.items() if key != name]


def filters_for(view: SearchView, params, today: date) -> Filters:
    sets: dict[str, frozenset] = {}
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


def intersect(base, others: list[frozenset]):
    """The documents in base and in every other set (smallest set first: set.intersection walks it)."""
    if not others:
        return base
    first, *rest = sorted([base, *others], key=len)
    return first.intersection(*rest) if rest else first


def facet_counts(view: SearchView, matched, filters: Filters, params, today: date) -> dict:
    """Counts per value of each facet over the whole result set, each facet without its own filter.

    Values with no document are left out unless selected; `quality_mark` always has its one key "1"."""
    selected = {"category": params.categories, "powiat": params.powiats, "legal_form": params.legal_forms,
                "kind": (params.kind,) if params.kind else ()}
    out = {}
    for name, field in FACET_FIELDS.items():
        base = intersect(matched, filters.except_(name))
        counts = {}
        for value, docs in view.values[field].items():
            n = len(base & docs)
            if n or value in selected[name]:
                counts[value] = n
        out[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    base = intersect(matched, filters.except_("quality_mark"))
    out["quality_mark"] = {"1": len(base & view.marks_valid_on(today))}
    return out


def order(view: SearchView, docs, sort: str, scores: Mapping[int, float] | None, limit: int) -> list[int]:
    """The first `limit` documents in the requested order; ties go to the newest, then the last indexed.

    Relevance without a query text (nothing to score) is newest first. Price orders use keys that put
    "price on request" last in both directions (search.schema.PRICE_ON_REQUEST)."""
    newest = view.columns["published_at"]
    if sort == "relevance" and scores:
        key = lambda d: (-scores[d], -newest[d], -d)
    elif sort in ("price_asc", "price_desc"):
        price = view.columns["sort_" + sort]
        key = lambda d: (price[d], -newest[d], -d)
    else:
        key = lambda d: (-newest[d], -d)
    return heapq.nsmallest(limit, docs, key=key)


# -- snippets --------------------------------------------------------------------------------------------


def _matches(word: str, words: list[QueryWord]) -> bool:
    surface = fold(word.lower())
    if any(surface in w.surface or surface in w.synonym_surface for w in words):
        return True
    if not surface.isalpha():
        return False
    found = stems(word)
    return any(found & (w.stems | w.synonym_stems) for w in words)


def snippet(text: str, words: list[QueryWord], length: int = SNIPPET_LENGTH) -> str:
    """A passage of the description as HTML: the text escaped, the query's words in <mark>.

    The passage starts a little before the first matching word (the description's start when none
    matches or the query is empty) and is cut at a word boundary, with an ellipsis where text was cut."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    spans = [(m.start(), m.end()) for m in WORD_RE.finditer(text)
             if words and _matches(m.group(0), words)] if words else []
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
