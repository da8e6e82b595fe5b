"""What search engines read: canonical slugs, schema.org JSON-LD of an offering (with its quality mark), the
sitemap and robots.txt."""
import json
import re
import unicodedata
from datetime import UTC

from flask import Response, current_app, render_template
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from catalog import categories, markdown, pricing
from catalog.mark.models import QualityMark
from catalog.models import Offering
from marketplace import clock
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.pes.models import Pes

# Letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D"})
# A sitemap file holds at most 50 000 addresses: all its parts share them (config SITEMAP_LIMIT may lower it).
SITEMAP_LIMIT = 50_000


def slugify(text: str, max_length: int = 80) -> str:
    """"Catering dla szkół – obiady" -> "catering-dla-szkol-obiady"."""
    ascii_text = unicodedata.normalize("NFKD", (text or "").translate(_LETTERS))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-") or "oferta"


def _offer(offering: Offering, url: str, seller: dict) -> dict:
    """The Offer: always its page and seller; a price (gross, in PLN) and availability only when there is a
    price, so that a price on request is never read as "free"."""
    offer = {"@type": "Offer", "url": url, "seller": seller}
    gross = pricing.gross(offering.price_net, offering.vat_rate)
    if gross is None:
        offer["description"] = _("cena do uzgodnienia")
        return offer
    offer.update(price=str(gross), priceCurrency="PLN", availability="https://schema.org/InStock",
                 priceSpecification={
                     "@type": "UnitPriceSpecification", "price": str(gross), "priceCurrency": "PLN",
                     "valueAddedTaxIncluded": True, **({"unitText": offering.unit} if offering.unit else {})})
    return offer


def _mark_ld(mark) -> dict:
    """The quality mark valid today, as an award and a certification whose page verifies it."""
    return {
        "award": _("Regionalny znak jakości %(number)s, ważny do %(date)s", number=mark.number,
                   date=format_date(mark.valid_until, "long")),
        "hasCertification": {
            "@type": "Certification", "name": _("Regionalny znak jakości"),
            "certificationIdentification": mark.number,
            "certificationStatus": "https://schema.org/CertificationActive",
            "validFrom": mark.valid_from.isoformat(), "expires": mark.valid_until.isoformat(),
            "url": external_url("mark.verify", number=mark.number)},
    }


def offering_ld(offering: Offering, image_urls: list[str], mark=None) -> dict:
    """schema.org Product (kind product) or Service (kind service) with an Offer sold by the PES, and the
    offering's quality mark when one is valid today (`mark`, from catalog.mark.queries.current_mark)."""
    pes = offering.pes
    seller = {"@type": "Organization", "name": pes.name, "url": external_url("pes.profile", pes_id=pes.id)}
    url = external_url("catalog.offering", offering_id=offering.id, slug=slugify(offering.title))
    data = {"@context": "https://schema.org", "@type": "Product" if offering.kind == "product" else "Service",
            "name": offering.title, "description": markdown.plain(offering.description, 500), "url": url,
            "identifier": offering.ref, "category": categories.name(offering.category),
            "offers": _offer(offering, url, seller)}
    if offering.kind == "service":
        data["provider"] = seller
        data["areaServed"] = [{"@type": "AdministrativeArea", "name": name} for name in _area_names(offering)]
    else:
        data["brand"] = {"@type": "Brand", "name": pes.name}
    if image_urls:
        data["image"] = image_urls
    if mark is not None and mark.is_valid_on(clock.today()):
        data.update(_mark_ld(mark))
    return data


def _area_names(offering: Offering) -> list[str]:
    from marketplace.region import powiat_label

    return [powiat_label(code) for code in offering.service_area]


def json_ld_script(data: dict) -> Markup:
    """A <script type="application/ld+json"> data block; "<", ">" and "&" are escaped so no text can end it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup('<script type="application/ld+json">') + Markup(text) + Markup("</script>")


def _day(value) -> str | None:
    """The date in Warsaw of a stored time (SQLite returns it naive, in UTC), as sitemaps want it."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(clock.WARSAW).date().isoformat()


def _fixed_pages() -> list[tuple[str, str | None]]:
    entries = [(external_url(endpoint), None) for endpoint in
               ("core.home", "pes.directory", "catalog.index", "mark.register")]
    for slug in categories.slugs():
        entries.append((external_url("catalog.category", slug=slug), None))
        entries += [(external_url("catalog.category", slug=slug, sub=sub), None)
                    for sub, _name in categories.subcategory_choices(slug)]
    return entries


def _offering_pages(public_query, room: int):
    rows = db.session.execute(public_query.with_only_columns(Offering.id, Offering.title, Offering.updated_at)
                              .order_by(Offering.id).limit(room)).all()
    return [(external_url("catalog.offering", offering_id=oid, slug=slugify(title)), _day(updated))
            for oid, title, updated in rows]


def _profile_pages(_public_query, room: int):
    rows = db.session.execute(select(Pes.id, Pes.updated_at).where(Pes.status == "verified")
                              .order_by(Pes.id).limit(room)).all()
    return [(external_url("pes.profile", pes_id=pid), _day(updated)) for pid, updated in rows]


def _pes_offering_pages(public_query, room: int):
    """/pes/<id>/oferty of every PES with public offerings, changed when the latest of them changed."""
    rows = db.session.execute(public_query.with_only_columns(Offering.pes_id, func.max(Offering.updated_at))
                              .group_by(Offering.pes_id).order_by(Offering.pes_id).limit(room)).all()
    return [(external_url("catalog.pes_offerings", pes_id=pid), _day(updated)) for pid, updated in rows]


def _mark_pages(_public_query, room: int):
    """The verification pages of the quality marks valid today."""
    today = clock.today()
    rows = db.session.execute(select(QualityMark.number, QualityMark.valid_from).where(
        QualityMark.status == "active", QualityMark.valid_from <= today, QualityMark.valid_until >= today)
        .order_by(QualityMark.id).limit(room)).all()
    return [(external_url("mark.verify", number=number), start.isoformat()) for number, start in rows]


def sitemap_entries(public_query) -> list[tuple[str, str | None]]:
    """(absolute address, lastmod) of every public page worth indexing, at most SITEMAP_LIMIT in all: the
    fixed pages (categories and subcategories, the mark register) first, then offerings, PES profiles, the
    PES's offering lists and the verification pages of valid marks, as long as there is room."""
    limit = current_app.config.get("SITEMAP_LIMIT", SITEMAP_LIMIT)
    entries = _fixed_pages()
    for part in (_offering_pages, _profile_pages, _pes_offering_pages, _mark_pages):
        room = limit - len(entries)
        if room <= 0:
            break
        entries += part(public_query, room)
    return entries[:limit]


def add_routes(bp, public_query) -> None:
    """/sitemap.xml and /robots.txt on the catalogue's blueprint."""

    @bp.get("/sitemap.xml")
    def sitemap():
        """The public pages for search engines, with the date each offering or profile last changed."""
        body = render_template("catalog/sitemap.xml", entries=sitemap_entries(public_query()))
        return Response(body, mimetype="application/xml")

    @bp.get("/robots.txt")
    def robots():
        """Crawlers may read the public pages, not the panels, and find the sitemap."""
        lines = ["User-agent: *", "Disallow: /panel/", "Disallow: /moderacja/", "Disallow: /konto/",
                 "Allow: /", f"Sitemap: {external_url('catalog.sitemap')}", ""]
        return Response("\n".join(lines), mimetype="text/plain")
