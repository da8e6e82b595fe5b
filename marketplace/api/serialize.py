"""The JSON shapes of the API (CONTRACT section 4), one function per object, shared by every endpoint
(search included) so that an offering or a PES looks the same wherever a program meets it."""
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog import categories, markdown, pricing, seo
from catalog.mark.queries import marks_for
from catalog.models import Offering
from marketplace import region
from marketplace.extensions import db
from marketplace.pes.models import Pes

SNIPPET_LENGTH = 200


def _money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes, stored as UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def price(offering: Offering) -> dict | None:
    """Net and gross as decimal strings with grosze; None when the price is on request."""
    if offering.price_net is None:
        return None
    return {"net": _money(offering.price_net), "gross": _money(pricing.gross(offering.price_net, offering.vat_rate)),
            "vat_rate": offering.vat_rate, "currency": "PLN", "unit": offering.unit or None}


def quality_mark(mark) -> dict | None:
    """The mark as the API shows it; the caller passes only a mark valid today (else None)."""
    if mark is None:
        return None
    return {"number": mark.number, "valid_from": _day(mark.valid_from), "valid_until": _day(mark.valid_until)}


def pes_item(pes: Pes) -> dict:
    """A PES as every response names it (the `pes` of a search item)."""
    return {"id": pes.id, "ref": pes.ref, "name": pes.name, "legal_form": pes.legal_form,
            "powiat": pes.powiat, "reserved_eligible": pes.reserved_eligible}


def pes_listing(pes: Pes) -> dict:
    """A PES in the list of GET /api/v1/pes: the summary, where it is and serves, and its page."""
    return {**pes_item(pes), "city": pes.city or None, "service_area": pes.service_area,
            "url": url_for("pes.profile", pes_id=pes.id)}


def pes_detail(pes: Pes) -> dict:
    """A PES's public profile (GET /api/v1/pes/<id>): what its page on the portal shows."""
    return {**pes_listing(pes),
            "address": {"street": pes.street or None, "postal_code": pes.postal_code or None,
                        "city": pes.city or None},
            "krs": pes.krs or None, "nip": pes.nip or None, "regon": pes.regon or None,
            "email": pes.email or None, "phone": pes.phone or None, "website": pes.website or None,
            "description": pes.description or "", "mission": pes.mission or "",
            "social_enterprise_status": bool(pes.social_enterprise_status),
            "integration_mission": bool(pes.integration_mission),
            "disadvantaged_share": pes.disadvantaged_share,
            "offerings_url": url_for("catalog.pes_offerings", pes_id=pes.id)}


def offering_item(offering: Offering, mark, snippet: str | None = None) -> dict:
    """An offering as a search item; `mark` is its mark valid today or None; `snippet` replaces the start
    of the description (the search engine passes its highlighted passage)."""
    if snippet is None:
        snippet = markdown.plain(offering.description, SNIPPET_LENGTH)
    return {
        "id": offering.id, "ref": offering.ref, "kind": offering.kind, "title": offering.title,
        "snippet": snippet,
        "url": url_for("catalog.offering", offering_id=offering.id, slug=seo.slugify(offering.title)),
        "category": offering.category, "subcategory": offering.subcategory or None,
        "cpv": offering.cpv, "tags": list(offering.tags or []), "service_area": offering.service_area,
        "price": price(offering), "quality_mark": quality_mark(mark), "pes": pes_item(offering.pes),
        "published_at": _moment(offering.published_at),
    }


def load_offerings(ids) -> dict[int, Offering]:
    """Offerings by id with what their items show, loaded in a few queries (for a page of results)."""
    ids = list(ids)
    if not ids:
        return {}
    stmt = (select(Offering).where(Offering.id.in_(ids))
            .options(selectinload(Offering.pes).selectinload(Pes.areas),
                     selectinload(Offering.cpv_links), selectinload(Offering.areas)))
    return {o.id: o for o in db.session.scalars(stmt)}


def offering_items(hits) -> list[dict]:
    """Items for (offering id, snippet or None) pairs in the engine's order; an id that is no longer public
    (the index lags a moment behind the database) is left out rather than shown."""
    hits = list(hits)
    found = load_offerings(i for i, _ in hits)
    public = [found[i] for i, _ in hits if i in found and found[i].is_public]
    marks = marks_for(public)
    snippets = dict(hits)
    return [offering_item(o, marks.get(o.id), snippets.get(o.id)) for o in public]


def search_response(params, result, items: list[dict]) -> dict:
    """The body of GET /api/v1/search for the engine's result (search.service.SearchResult).

    Beside the contract's fields: `answered_query`, the query whose results these are (the spelling
    correction of `query` when that found nothing, see `corrected`); `partial`, true when no or few offerings
    have all the words and the items are those with most of them (`complete` have all); `places`, the powiats
    a query names, and `served_elsewhere`, when no item serves them, the powiats the items serve, nearest
    first."""
    return {"query": params.q, "total": result.total, "page": params.page, "per_page": params.per_page,
            "items": items, "facets": result.facets, "suggestion": result.suggestion,
            "answered_query": result.answered, "corrected": result.corrected, "partial": result.partial,
            "complete": result.complete if result.partial else result.total, "places": list(result.places),
            "served_elsewhere": list(result.elsewhere)}


def _names(item: dict, key: str = "name") -> dict:
    return {"pl": item[f"{key}_pl"], "en": item.get(f"{key}_en") or item[f"{key}_pl"]}


def category_item(cat: dict, counts: dict[tuple[str, str | None], int]) -> dict:
    """A top-level category with its subcategories and the number of public offerings in each."""
    subs = [{"slug": s["slug"], "name": _names(s), "count": counts.get((cat["slug"], s["slug"]), 0)}
            for s in cat["subcategories"]]
    total = sum(n for (slug, _sub), n in counts.items() if slug == cat["slug"])
    return {"slug": cat["slug"], "name": _names(cat), "description": _names(cat, "description"),
            "count": total, "subcategories": subs}


def category_items(counts: dict[tuple[str, str | None], int]) -> list[dict]:
    return [category_item(c, counts) for c in categories.all_categories()]


def powiat_item(code: str) -> dict:
    """One of the region's powiats: its TERYT code, its name, and its label in the request's language."""
    p = region.data()["by_code"][code]
    return {"code": code, "name": p["name"], "label": region.powiat_label(code),
            "kind": p.get("kind"), "seat": p.get("seat")}
