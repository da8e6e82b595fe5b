"""The JSON shapes of the API (CONTRACT section 4), one function per object, shared by every endpoint
(search included) so that an offering or a PES looks the same wherever a program meets it."""
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import url_for
from sqlalchemy import bindparam, literal, select, text, union_all

from catalog import categories, markdown, pricing, seo
from catalog.mark.queries import marks_for
from catalog.models import Offering, OfferingArea, OfferingCpv
from marketplace import region
from marketplace.extensions import db
from marketplace.pes.models import Pes, PesServiceArea, reserved_eligible

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


def price(net: Decimal | None, vat_rate: str, unit: str | None) -> dict | None:
    """Net and gross as decimal strings with grosze; None when the price is on request."""
    if net is None:
        return None
    return {"net": _money(net), "gross": _money(pricing.gross(net, vat_rate)), "vat_rate": vat_rate,
            "currency": "PLN", "unit": unit or None}


def quality_mark(mark) -> dict | None:
    """The mark as the API shows it; the caller passes only a mark valid today (else None)."""
    if mark is None:
        return None
    return {"number": mark.number, "valid_from": _day(mark.valid_from), "valid_until": _day(mark.valid_until)}


def pes_item(pes, prefix: str = "") -> dict:
    """A PES as every response names it (the `pes` of a search item); `prefix` reads the fields from a row
    that labels them so ("pes_id", "pes_ref", ...)."""
    def get(name):
        return getattr(pes, prefix + name)

    return {"id": get("id"), "ref": get("ref"), "name": get("name"), "legal_form": get("legal_form"),
            "powiat": get("powiat"),
            "reserved_eligible": reserved_eligible(get("integration_mission"), get("disadvantaged_share"))}


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


# Search items are read with plain queries (no ORM objects), built once with expanding parameters: the page's
# public offerings joined with their PES; the powiats of those offerings and of their PES and the offerings'
# CPV codes, in one query; their valid marks.
_ROWS = (select(Offering.id, Offering.ref, Offering.kind, Offering.title, Offering.description,
                Offering.category, Offering.subcategory, Offering.tags, Offering.price_net, Offering.vat_rate,
                Offering.unit, Offering.published_at, Offering.pes_id, Pes.ref.label("pes_ref"),
                Pes.name.label("pes_name"), Pes.legal_form.label("pes_legal_form"), Pes.powiat.label("pes_powiat"),
                Pes.integration_mission.label("pes_integration_mission"),
                Pes.disadvantaged_share.label("pes_disadvantaged_share"), Offering.status, Offering.blocked_at,
                Pes.status.label("pes_status"))
         .join(Pes, Pes.id == Offering.pes_id)
         .where(Offering.id.in_(bindparam("ids", expanding=True))))


def _public(row) -> bool:
    """Offering.is_public for a row. Checked here rather than in the query's WHERE: by its key alone the
    database reads the few rows at once, whereas with the status conditions PostgreSQL may plan a walk over
    every verified PES when its statistics lag behind a large import."""
    return row.status == "published" and row.blocked_at is None and row.pes_status == "verified"
_LISTS = union_all(
    select(literal("area"), OfferingArea.offering_id, OfferingArea.powiat, literal(0))
    .where(OfferingArea.offering_id.in_(bindparam("ids", expanding=True))),
    select(literal("pes_area"), PesServiceArea.pes_id, PesServiceArea.powiat, literal(0))
    .where(PesServiceArea.pes_id.in_(bindparam("pes_ids", expanding=True))),
    select(literal("cpv"), OfferingCpv.offering_id, OfferingCpv.code, OfferingCpv.position)
    .where(OfferingCpv.offering_id.in_(bindparam("ids", expanding=True))),
).order_by(text("1, 2, 4, 3"))


def public_items(hits) -> list[dict]:
    """Search items (the API's Offering) for (offering id, snippet or None) pairs, in their order, of the
    offerings that are public now: the index lags a moment behind the database, so one no longer public is
    left out rather than shown. A snippet of None is the start of the description; the search engine passes
    its highlighted passage."""
    hits = list(hits)
    if not hits:
        return []
    rows = {r.id: r for r in db.session.execute(_ROWS, {"ids": [i for i, _ in hits]}) if _public(r)}
    if not rows:
        return []
    found = list(rows)
    lists: dict[tuple[str, int], list[str]] = {}
    for kind, owner, value, _position in db.session.execute(
            _LISTS, {"ids": found, "pes_ids": sorted({r.pes_id for r in rows.values()})}):
        lists.setdefault((kind, owner), []).append(value)
    marks = marks_for(found)
    items = []
    for offering_id, snippet in hits:
        row = rows.get(offering_id)
        if row is None:
            continue
        items.append({
            "id": row.id, "ref": row.ref, "kind": row.kind, "title": row.title,
            "snippet": markdown.plain(row.description, SNIPPET_LENGTH) if snippet is None else snippet,
            "url": url_for("catalog.offering", offering_id=row.id, slug=seo.slugify(row.title)),
            "category": row.category, "subcategory": row.subcategory or None,
            "cpv": lists.get(("cpv", row.id), []), "tags": list(row.tags or []),
            "service_area": lists.get(("area", row.id)) or lists.get(("pes_area", row.pes_id), []),
            "price": price(row.price_net, row.vat_rate, row.unit), "quality_mark": quality_mark(marks.get(row.id)),
            "pes": pes_item(row, "pes_"),
            "published_at": _moment(row.published_at),
        })
    return items


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
