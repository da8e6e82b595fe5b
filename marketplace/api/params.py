"""Query parameters of the JSON API, checked strictly (CONTRACT section 4): a value the portal does not know
is a 400 naming the parameter, never silently dropped, so that a program's mistake shows at once."""
import re
from dataclasses import dataclass

from flask_babel import gettext as _

from catalog import categories
from catalog.models import KINDS
from marketplace import region
from marketplace.pes.models import LEGAL_FORMS

SORTS = ("relevance", "newest", "price_asc", "price_desc")
PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
Q_MAX_LENGTH = 200
TRUE_VALUES = ("1", "true")
FALSE_VALUES = ("0", "false")
_INTEGER = re.compile(r"[+-]?\d+")
HUGE = 10**12  # any larger number means the same: a page past the last, a per_page out of range


class ApiError(Exception):
    """A parameter the API cannot use; answered with 400 invalid_parameter naming the field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SearchParams:
    """What GET /api/v1/search (and the search page) asks of the search engine; hashable, so that it can key
    a cache. Lists of codes are OR filters, empty meaning no filter; `quality_mark` and `reserved_eligible`
    False mean no filter."""

    q: str = ""
    kind: str | None = None
    categories: tuple[str, ...] = ()
    powiats: tuple[str, ...] = ()
    legal_forms: tuple[str, ...] = ()
    quality_mark: bool = False
    reserved_eligible: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    exact: bool = False  # the words as typed: no spelling correction in place of a query that finds nothing
    price: str = "net"  # the price the price sorts use: "net" (the API, CONTRACT) or "gross" (the page's cards)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class PesParams:
    """The filters of GET /api/v1/pes."""

    q: str = ""
    powiats: tuple[str, ...] = ()
    legal_forms: tuple[str, ...] = ()
    reserved_eligible: bool = False
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


# One parameter each ---------------------------------------------------------------------------------

def _values(args, name: str) -> list[str]:
    """The parameter's non-empty values, in order, without repeats (an empty `category=` means no filter)."""
    return list(dict.fromkeys(v.strip() for v in args.getlist(name) if v and v.strip()))


def _single(args, name: str) -> str | None:
    values = _values(args, name)
    if len(values) > 1:
        raise ApiError(name, _("Parametr %(name)s może mieć tylko jedną wartość.", name=name))
    return values[0] if values else None


def _codes(args, name: str, known) -> tuple[str, ...]:
    values = _values(args, name)
    for value in values:
        if value not in known:
            raise ApiError(name, _("Nieznana wartość parametru %(name)s: %(value)s.", name=name, value=value[:40]))
    return tuple(values)


def parse_query(args) -> str:
    """The free text, trimmed; an over-long one is cut rather than refused."""
    return " ".join((args.get("q") or "").split())[:Q_MAX_LENGTH]


def check_search_text(raw: str | None) -> str:
    """The search text, trimmed; ApiError on `q` with a message for a person when it cannot be searched: too
    long, without a word or a number, nothing but stop words, or a CPV code with a wrong check digit."""
    from catalog.cpv import expected_digit
    from search.analysis import WORD_RE, analyse_query, cpv_codes

    text = " ".join((raw or "").split())
    if not text:
        return ""
    if len(text) > Q_MAX_LENGTH:
        raise ApiError("q", _("Zapytanie jest za długie (%(length)s znaków). Wpisz najwyżej %(max)s znaków: "
                              "kilka słów, które opisują, czego szukasz.", length=len(text), max=Q_MAX_LENGTH))
    if not WORD_RE.search(text):
        raise ApiError("q", _("Zapytanie nie zawiera żadnego słowa ani liczby. Wpisz, czego szukasz, "
                              "np. „catering” albo „sprzątanie biur”."))
    for digits, check in cpv_codes(text):
        right = expected_digit(digits)
        if check is not None and int(check) != right:
            raise ApiError("q", _("Kod CPV %(code)s ma błędną cyfrę kontrolną: ten kod to %(right)s.",
                                  code=f"{digits}-{check}", right=f"{digits}-{right}"))
    if not analyse_query(text):
        raise ApiError("q", _("Zapytanie składa się tylko ze słów zbyt pospolitych, by ich szukać (jak „i”, "
                              "„w”, „dla”). Dodaj słowo, które mówi, czego szukasz."))
    return text


def parse_bool(args, name: str) -> bool:
    """`1`/`true` is True; `0`/`false` or absent is False; anything else is an error."""
    value = _single(args, name)
    if value is None or value.lower() in FALSE_VALUES:
        return False
    if value.lower() in TRUE_VALUES:
        return True
    raise ApiError(name, _("Parametr %(name)s przyjmuje tylko wartości 1, true, 0 albo false.", name=name))


def _integer(args, name: str, default: int) -> int:
    value = _single(args, name)
    if value is None:
        return default
    if not _INTEGER.fullmatch(value):
        raise ApiError(name, _("Parametr %(name)s musi być liczbą całkowitą.", name=name))
    if len(value.lstrip("+-")) > 12:
        return -HUGE if value.startswith("-") else HUGE
    return int(value)


def parse_paging(args) -> tuple[int, int]:
    """`page` from 1 (past the last page is allowed and gives no items), `per_page` 1-100, default 20."""
    page = _integer(args, "page", 1)
    if page < 1:
        raise ApiError("page", _("Numer strony (page) zaczyna się od 1."))
    per_page = _integer(args, "per_page", PER_PAGE_DEFAULT)
    if not 1 <= per_page <= PER_PAGE_MAX:
        raise ApiError("per_page", _("Parametr per_page musi mieć wartość od 1 do %(max)s.", max=PER_PAGE_MAX))
    return page, per_page


def parse_kind(args) -> str | None:
    """`product` or `service`; both at once is the same as none."""
    kinds = _codes(args, "kind", KINDS)
    return kinds[0] if len(kinds) == 1 else None


def parse_sort(args) -> str:
    value = _single(args, "sort") or "relevance"
    if value not in SORTS:
        raise ApiError("sort", _("Nieznany sposób sortowania: %(value)s. Dozwolone: %(allowed)s.",
                                 value=value[:40], allowed=", ".join(SORTS)))
    return value


# The endpoints' parameter sets ----------------------------------------------------------------------

def parse_search_params(args) -> SearchParams:
    """Every parameter of GET /api/v1/search, checked; raises ApiError for the first invalid one."""
    page, per_page = parse_paging(args)
    return SearchParams(
        q=check_search_text(args.get("q")),
        kind=parse_kind(args),
        categories=_codes(args, "category", set(categories.slugs())),
        powiats=_codes(args, "powiat", set(region.powiat_codes())),
        legal_forms=_codes(args, "legal_form", LEGAL_FORMS),
        quality_mark=parse_bool(args, "quality_mark"),
        reserved_eligible=parse_bool(args, "reserved_eligible"),
        sort=parse_sort(args),
        page=page,
        per_page=per_page,
        exact=parse_bool(args, "exact"),
    )


def parse_pes_params(args) -> PesParams:
    """Every parameter of GET /api/v1/pes, checked; raises ApiError for the first invalid one."""
    page, per_page = parse_paging(args)
    return PesParams(
        q=parse_query(args),
        powiats=_codes(args, "powiat", set(region.powiat_codes())),
        legal_forms=_codes(args, "legal_form", LEGAL_FORMS),
        reserved_eligible=parse_bool(args, "reserved_eligible"),
        page=page,
        per_page=per_page,
    )
