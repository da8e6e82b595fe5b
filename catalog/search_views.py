"""The catalogue's search page (/szukaj) and the suggestions of its search-as-you-type box.

The page reads the same parameters as GET /api/v1/search, leniently (catalog.search_params), asks the search
engine, and shows the results as cards with facets as checkbox groups. Everything the page shows comes from
its URL, so a search can be shared and the back button works. Registered on the catalogue's blueprint when
catalog.views imports this module.
"""
import math
from dataclasses import dataclass, replace

from flask import jsonify, render_template, request, url_for

from catalog import categories, services
from catalog.mark.queries import marks_for
from catalog.models import KINDS, Offering, fold
from catalog.search_params import FLAGS, PER_PAGE, SearchState, labels, parse
from catalog.views import bp
from marketplace import region
from marketplace.extensions import db, limiter
from marketplace.pes.labels import legal_form_choices

SUGGEST_MAX_LENGTH = 100  # characters of the typed text sent to the engine
SUGGEST_LIMIT = 8
REQUEST_LIMIT = "300 per minute"  # per address, like the JSON API: typing is debounced well below it
RETRY_AFTER = "120"  # seconds, on the 503 page while the index cannot be used
ALTERNATIVES_MAX = 6  # active filters whose removal is tried on a page without results
RELATED_MAX = 6


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    count: int
    checked: bool


@dataclass(frozen=True)
class FacetGroup:
    name: str
    legend: str
    options: list[Option]


@dataclass(frozen=True)
class ActiveFilter:
    label: str
    remove_url: str
    count: int | None  # results without it, computed only when the search found nothing


class ResultPages:
    """What the pagination macro asks of a page of results (as flask-sqlalchemy's Pagination offers it)."""

    def __init__(self, page: int, per_page: int, total: int):
        self.page, self.per_page, self.total = page, per_page, total
        self.pages = math.ceil(total / per_page) if total else 0
        self.has_prev, self.prev_num = page > 1, page - 1
        self.has_next, self.next_num = page < self.pages, page + 1

    def iter_pages(self, left_edge=2, left_current=2, right_current=4, right_edge=2):
        """Page numbers to link, None where a run of them is left out: both ends and those near this page."""
        shown = set(range(1, min(left_edge, self.pages) + 1))
        shown |= set(range(max(1, self.page - left_current), min(self.pages, self.page + right_current) + 1))
        shown |= set(range(max(1, self.pages - right_edge + 1), self.pages + 1))
        previous = 0
        for number in sorted(shown):
            if number > previous + 1:
                yield None
            yield number
            previous = number


def search_url(state: SearchState, keep_page: bool = False) -> str:
    return url_for("catalog.search", **state.args(keep_page=keep_page))


# The page's parts -----------------------------------------------------------------------------------

def _results(hits) -> list[tuple[Offering, str]]:
    """(offering, snippet) in the engine's order; an offering no longer public (the index may lag a moment
    behind the database) is left out rather than shown."""
    ids = [offering_id for offering_id, _snippet in hits]
    if not ids:
        return []
    stmt = services.listing(services.public_query().where(Offering.id.in_(ids)))
    found = {o.id: o for o in db.session.scalars(stmt)}
    return [(found[i], snippet) for i, snippet in hits if i in found]


def _choices() -> dict[str, list[tuple[str, str]]]:
    return {"kind": [(k, services.kind_label(k)) for k in KINDS], "category": categories.choices(),
            "powiat": region.powiat_choices(), "legal_form": legal_form_choices()}


def _facet_groups(state: SearchState, facets: dict, choices_by_facet: dict, names: dict) -> list[FacetGroup]:
    """A group of checkboxes per facet: values found in the results, and the chosen ones even at 0."""
    groups = []
    for name, choices in choices_by_facet.items():
        counts, chosen = facets.get(name, {}), getattr(state, name)
        options = [Option(value, str(label), counts.get(value, 0), value in chosen)
                   for value, label in choices if counts.get(value, 0) or value in chosen]
        if options:
            groups.append(FacetGroup(name, names[name], options))
    return groups


def _active_filters(state: SearchState, count_without: bool, choices_by_facet: dict,
                    names: dict) -> list[ActiveFilter]:
    """Each chosen filter with a link to the same search without it (and, when asked, how many it finds)."""
    from search import service

    values = {name: dict(choices) for name, choices in choices_by_facet.items()}
    active = [(name, value, f"{names[name]}: {values[name].get(value, value)}")
              for name in values for value in getattr(state, name)]
    active += [(name, None, names[name]) for name in FLAGS if getattr(state, name)]
    out = []
    for n, (name, value, label) in enumerate(active):
        without = state.without(name, value)
        count = None
        if count_without and n < ALTERNATIVES_MAX:
            count = service.count(without.params())
        out.append(ActiveFilter(label, search_url(without), count))
    return out


def _words(text: str) -> set[str]:
    """Words of four letters or more, lowercased and without diacritics (short ones are mostly "i", "dla")."""
    return {w for w in "".join(ch if ch.isalnum() else " " for ch in fold(text)).split() if len(w) >= 4}


def _related(query_words: set[str], names: list[str]) -> bool:
    """Whether a query word and a name's word look like forms of one word (same first five letters)."""
    return any(a[:5] == b[:5] for name in names for a in _words(name) for b in query_words)


def _related_categories(q: str) -> tuple[bool, list[tuple[str, str, int]]]:
    """Categories whose names (or their subcategories') share a word with the query; else the largest ones.
    Only categories with public offerings, as (slug, name, count); the flag says which list it is."""
    counts, query_words = services.category_counts(), _words(q)
    cats = [(slug, name, counts.get(slug, 0)) for slug, name in categories.choices() if counts.get(slug)]
    matching = [c for c in cats if query_words and _related(
        query_words, [c[1]] + [sub for _code, sub in categories.subcategory_choices(c[0])])]
    if matching:
        return True, matching[:RELATED_MAX]
    return False, sorted(cats, key=lambda c: -c[2])[:RELATED_MAX]


# Views ----------------------------------------------------------------------------------------------

@bp.get("/szukaj")
@limiter.limit(REQUEST_LIMIT)
def search():
    """The catalogue search for people: a query, facets as checkboxes, sorting and pages, all in the URL."""
    from search import service
    from search.index import IndexUnavailable

    state, notes, problem = parse(request.args)
    choices, names = _choices(), labels()
    if problem:  # nothing to search for: say why, keep the text in the box to correct
        return render_template(
            "search/search.html", state=state, notes=notes, problem=problem, total=0, results=[], marks={},
            groups=[], quality_mark_count=0, active=[], result=None, related=(False, []),
            pages=ResultPages(1, PER_PAGE, 0), args=state.args(), clear_url=search_url(SearchState()),
            search_url=search_url, flag_labels=names), 400
    try:
        result = service.search(state.params())
        results = _results(result.hits)
        active = _active_filters(state, result.total == 0, choices, names)
    except IndexUnavailable:
        return (render_template("search/unavailable.html", state=state), 503,
                {"Retry-After": RETRY_AFTER, "Cache-Control": "no-store"})
    related = _related_categories(state.q) if result.total == 0 else (False, [])
    suggestion_url = (search_url(replace(state, q=result.suggestion, exact=False, page=1))
                      if result.suggestion else None)
    return render_template(
        "search/search.html", state=state, notes=notes, problem=None, total=result.total, results=results,
        marks=marks_for([o for o, _snippet in results]), groups=_facet_groups(state, result.facets, choices, names),
        quality_mark_count=result.facets.get("quality_mark", {}).get("1", 0), active=active, result=result,
        suggestion=None if result.corrected else result.suggestion, suggestion_url=suggestion_url,
        as_typed_url=search_url(replace(state, exact=True, page=1)) if result.corrected else None,
        places=_place_links(state, result), related=related,
        pages=ResultPages(state.page, PER_PAGE, result.total), args=state.args(),
        clear_url=search_url(SearchState(q=state.q, sort=state.sort)), search_url=search_url,
        flag_labels=names)


def _place_links(state: SearchState, result) -> dict | None:
    """What the page says when the query names a place that no result serves: the places named and the
    powiats the results serve (nearest first), each a link to the same search within that powiat."""
    if not result.elsewhere:
        return None
    labels_by_code = dict(region.powiat_choices())
    return {"named": [labels_by_code.get(c, c) for c in result.places],
            "served": [(labels_by_code.get(c, c), search_url(state.with_value("powiat", (c,))))
                       for c in result.elsewhere]}


@bp.get("/szukaj/podpowiedzi")
@limiter.limit(REQUEST_LIMIT)
def search_suggestions():
    """Offering titles for the search box as a JSON list of strings; empty for an empty text. A trailing
    space is kept: it tells the engine that the last word is whole."""
    from search import service
    from search.index import IndexUnavailable

    typed = (request.args.get("q") or "")[:SUGGEST_MAX_LENGTH]
    text = " ".join(typed.split())
    if not text:
        return jsonify([])
    if typed[-1:].isspace():
        text += " "
    try:
        titles = service.suggest(text, limit=SUGGEST_LIMIT)
    except IndexUnavailable:
        return jsonify([]), 503, {"Retry-After": RETRY_AFTER}
    resp = jsonify(titles)
    resp.cache_control.private = True  # the browser may reuse it while one types and deletes
    resp.cache_control.max_age = 60
    return resp
