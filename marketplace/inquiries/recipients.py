"""Who an inquiry to many PES can go to: PES chosen by criteria (through the catalogue search, so that a
category, a CPV code, a place served, eligibility and a valid mark mean what they mean on the search page),
or named by the buyer (from search results or their favourites).
"""
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.pes.models import Pes

MAX_CANDIDATES = 200
SEARCH_PAGE = 1000  # offerings looked at to find the PES behind them


def verified_in_order(column, keys) -> list[Pes]:
    """The verified PES whose `column` (Pes.id or Pes.ref) is among `keys`, in the order of the keys, without
    repeats; keys of PES that cannot be asked (unknown, unverified) are dropped."""
    wanted = list(dict.fromkeys(k for k in keys if k))[:MAX_CANDIDATES]
    if not wanted:
        return []
    found = {getattr(p, column.key): p for p in db.session.scalars(
        select(Pes).where(column.in_(wanted), Pes.status == "verified"))}
    return [found[k] for k in wanted if k in found]


def by_refs(refs) -> list[Pes]:
    return verified_in_order(Pes.ref, refs)


def _codes(value) -> tuple[str, ...]:
    """One code or several (a search page's filters may hold more than one)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return tuple(dict.fromkeys(v for v in values if v))


def search_params(criteria: dict):
    """The catalogue search that answers these criteria (q and the CPV code together make its text)."""
    from marketplace.api.params import SearchParams

    text = " ".join(part for part in (criteria.get("q") or "", criteria.get("cpv") or "") if part).strip()
    return SearchParams(q=text, categories=_codes(criteria.get("category")), powiats=_codes(criteria.get("powiat")),
                        quality_mark=bool(criteria.get("mark")), reserved_eligible=bool(criteria.get("reserved")),
                        per_page=SEARCH_PAGE, exact=True)


def by_criteria(criteria: dict) -> list[Pes]:
    """The verified PES whose public offerings match, best match first, at most MAX_CANDIDATES."""
    from catalog.models import Offering
    from search import service

    result = service.search(search_params(criteria))
    offering_ids = [offering_id for offering_id, _snippet in result.hits]
    if not offering_ids:
        return []
    owner = dict(db.session.execute(select(Offering.id, Offering.pes_id).where(Offering.id.in_(offering_ids))).all())
    return verified_in_order(Pes.id, [owner[i] for i in offering_ids if i in owner])
