"""The search page's reading of its address: the same parameters as GET /api/v1/search, read leniently.

The JSON API refuses a request with an unknown value so that a program's mistake shows at once; a person who
follows an old link (a category renamed, a powiat code mistyped) should still get results, so here unknown
values are dropped and the page names what it ignored. The state is kept as it came in the URL (both kinds
ticked stay ticked) and turned into the engine's SearchParams only to search.
"""
import re
from dataclasses import dataclass, replace

from flask_babel import gettext as _

from catalog import categories
from catalog.models import KINDS
from marketplace import region
from marketplace.api.params import (
    FALSE_VALUES,
    Q_MAX_LENGTH,
    SORTS,
    TRUE_VALUES,
    ApiError,
    SearchParams,
    check_search_text,
)
from marketplace.core.urls import MAX_PAGE
from marketplace.pes.models import LEGAL_FORMS

PER_PAGE = 24  # as on the category pages: a grid of 2, 3 or 4 cards a row
SHOWN_MAX = 40  # characters of an ignored value repeated on the page
CHECKED = ("on", "yes", "y")  # what a browser or an older link may send for a ticked box
LIST_FILTERS = ("kind", "category", "powiat", "legal_form")
FLAGS = ("quality_mark", "reserved_eligible")
_NUMBER = re.compile(r"\+?\d+")


@dataclass(frozen=True)
class SearchState:
    """Everything the page's address says, already checked; `sort` is None when the URL leaves it out."""

    q: str = ""
    kind: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    powiat: tuple[str, ...] = ()
    legal_form: tuple[str, ...] = ()
    quality_mark: bool = False
    reserved_eligible: bool = False
    sort: str | None = None
    page: int = 1
    exact: bool = False  # the words as typed, without spelling correction

    @property
    def effective_sort(self) -> str:
        """Relevance for a query, newest first without one (relevance has nothing to score then)."""
        if self.sort and (self.q or self.sort != "relevance"):
            return self.sort
        return "relevance" if self.q else "newest"

    @property
    def has_filters(self) -> bool:
        return any(getattr(self, name) for name in LIST_FILTERS + FLAGS)

    def params(self, per_page: int = PER_PAGE) -> SearchParams:
        """The engine's parameters: one kind filters, none or both do not; prices sort by the gross price that
        the cards show."""
        return SearchParams(q=self.q, kind=self.kind[0] if len(self.kind) == 1 else None,
                            categories=self.category, powiats=self.powiat, legal_forms=self.legal_form,
                            quality_mark=self.quality_mark, reserved_eligible=self.reserved_eligible,
                            sort=self.effective_sort, page=self.page, per_page=per_page, exact=self.exact,
                            price="gross")

    def args(self, keep_page: bool = False) -> dict:
        """The state as query arguments for url_for (repeated names as lists), the page only when asked."""
        out = {"q": self.q or None, "sort": self.sort, "exact": "1" if self.exact else None}
        for name in LIST_FILTERS:
            out[name] = list(getattr(self, name)) or None
        for name in FLAGS:
            out[name] = "1" if getattr(self, name) else None
        if keep_page and self.page > 1:
            out["page"] = self.page
        return {k: v for k, v in out.items() if v is not None}

    def hidden_fields(self, *leave_out: str) -> list[tuple[str, str]]:
        """(name, value) pairs for hidden inputs that carry the state through another form."""
        pairs = []
        for name, value in self.args().items():
            if name not in leave_out:
                pairs.extend((name, v) for v in (value if isinstance(value, list) else [value]))
        return pairs

    def without(self, name: str, value: str | None = None) -> "SearchState":
        """The state with one filter value (or a whole flag) taken away, back on the first page."""
        if name in FLAGS:
            return replace(self, **{name: False}, page=1)
        return replace(self, **{name: tuple(v for v in getattr(self, name) if v != value)}, page=1)

    def with_value(self, name: str, value) -> "SearchState":
        return replace(self, **{"page": 1, name: value})


def _values(args, name: str) -> list[str]:
    """The parameter's non-empty values, trimmed, in order, without repeats."""
    return list(dict.fromkeys(v.strip() for v in args.getlist(name) if v and v.strip()))


def _shown(values: list[str]) -> str:
    return ", ".join(f"„{v[:SHOWN_MAX]}”" for v in values[:5]) + (" …" if len(values) > 5 else "")


def _codes(args, name: str, known, label: str, notes: list[str]) -> tuple[str, ...]:
    values = _values(args, name)
    unknown = [v for v in values if v not in known]
    if unknown:
        notes.append(_("Pominięto nieznane wartości filtra „%(filter)s”: %(values)s.",
                       filter=label, values=_shown(unknown)))
    return tuple(v for v in values if v in known)


def _flag(args, name: str, label: str, notes: list[str]) -> bool:
    values = [v.lower() for v in _values(args, name)]
    unknown = [v for v in values if v not in TRUE_VALUES + FALSE_VALUES + CHECKED]
    if unknown:
        notes.append(_("Pominięto niezrozumiałą wartość pola „%(filter)s”: %(values)s.",
                       filter=label, values=_shown(unknown)))
    return any(v in TRUE_VALUES + CHECKED for v in values)


def _sort(args, notes: list[str]) -> str | None:
    values = _values(args, "sort")
    known = [v for v in values if v in SORTS]
    if len(known) < len(values):
        notes.append(_("Nieznany sposób sortowania %(values)s: wyniki są w domyślnej kolejności.",
                       values=_shown([v for v in values if v not in SORTS])))
        return None
    return known[0] if known else None


def _page(args, notes: list[str]) -> int:
    values = _values(args, "page")
    if not values:
        return 1
    if not _NUMBER.fullmatch(values[0]) or int(values[0]) < 1:
        notes.append(_("Numer strony %(value)s jest nieprawidłowy: pokazano pierwszą stronę.",
                       value=_shown(values[:1])))
        return 1
    return MAX_PAGE if len(values[0]) > 12 else min(int(values[0]), MAX_PAGE)


def labels() -> dict[str, str]:
    """The filters' names as the page shows them (legends, notes, the list of active filters)."""
    return {"kind": _("Rodzaj"), "category": _("Kategoria"), "powiat": _("Powiat"),
            "legal_form": _("Forma prawna"), "quality_mark": _("ze Znakiem Jakości"),
            "reserved_eligible": _("kwalifikuje się do zamówień zastrzeżonych")}


def parse_text(args) -> tuple[str, str | None]:
    """The search text and, when it cannot be searched, why (marketplace.api.params.check_search_text); the
    text is then kept, cut to the longest allowed, so that the person can correct it in the box."""
    try:
        return check_search_text(args.get("q")), None
    except ApiError as e:
        return " ".join((args.get("q") or "").split())[:Q_MAX_LENGTH], e.message


def parse(args) -> tuple[SearchState, list[str], str | None]:
    """The state the URL asks for, a note for each part of it that was ignored, and the reason why its text
    cannot be searched (None when it can)."""
    notes: list[str] = []
    names = labels()
    q, problem = parse_text(args)
    state = SearchState(
        q=q,
        kind=_codes(args, "kind", KINDS, names["kind"], notes),
        category=_codes(args, "category", set(categories.slugs()), names["category"], notes),
        powiat=_codes(args, "powiat", set(region.powiat_codes()), names["powiat"], notes),
        legal_form=_codes(args, "legal_form", LEGAL_FORMS, names["legal_form"], notes),
        quality_mark=_flag(args, "quality_mark", names["quality_mark"], notes),
        reserved_eligible=_flag(args, "reserved_eligible", names["reserved_eligible"], notes),
        sort=_sort(args, notes),
        page=_page(args, notes),
        exact=any(v.lower() in TRUE_VALUES + CHECKED for v in _values(args, "exact")),
    )
    return state, notes, problem
