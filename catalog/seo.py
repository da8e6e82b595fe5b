"""What search engines read: canonical slugs, schema.org JSON-LD of an offering, the sitemap and robots.txt."""
import json
import re
import unicodedata

from flask import Response, render_template
from markupsafe import Markup
from sqlalchemy import select

from catalog import categories, markdown, pricing
from catalog.models import Offering
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.pes.models import Pes

# Letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D"})
SITEMAP_LIMIT = 45_000  # a sitemap holds at most 50 000 addresses


def slugify(text: str, max_length: int = 80) -> str:
    """"Catering dla szkół – obiady" -> "catering-dla-szkol-obiady"."""
    ascii_text = unicodedata.normalize("NFKD", (text or "").translate(_LETTERS))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-") or "oferta"


def offering_ld(offering: Offering, image_urls: list[str]) -> dict:
    """schema.org Product (kind product) or Service (kind service) with an Offer sold by the PES."""
    pes = offering.pes
    seller = {"@type": "Organization", "name": pes.name, "url": external_url("pes.profile", pes_id=pes.id)}
    url = external_url("catalog.offering", offering_id=offering.id, slug=slugify(offering.title))
    offer = {"@type": "Offer", "url": url, "seller": seller, "availability": "https://schema.org/InStock"}
    gross = pricing.gross(offering.price_net, offering.vat_rate)
    if gross is not None:
        offer.update(price=str(gross), priceCurrency="PLN", priceSpecification={
            "@type": "UnitPriceSpecification", "price": str(gross), "priceCurrency": "PLN",
            "valueAddedTaxIncluded": True, **({"unitText": offering.unit} if offering.unit else {})})
    data = {"@context": "https://schema.org", "@type": "Product" if offering.kind == "product" else "Service",
            "name": offering.title, "description": markdown.plain(offering.description, 500), "url": url,
            "identifier": offering.ref, "category": categories.name(offering.category), "offers": offer}
    if offering.kind == "service":
        data["provider"] = seller
        data["areaServed"] = [{"@type": "AdministrativeArea", "name": name} for name in _area_names(offering)]
    else:
        data["brand"] = {"@type": "Brand", "name": pes.name}
    if image_urls:
        data["image"] = image_urls
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
    return value.date().isoformat() if value else None


def sitemap_entries(public_query) -> list[tuple[str, str | None]]:
    """(absolute address, lastmod) of every public page worth indexing."""
    entries = [(external_url("core.home"), None), (external_url("pes.directory"), None),
               (external_url("catalog.index"), None)]
    entries += [(external_url("catalog.category", slug=slug), None) for slug in categories.slugs()]
    profiles = db.session.execute(select(Pes.id, Pes.updated_at).where(Pes.status == "verified")
                                  .order_by(Pes.id).limit(SITEMAP_LIMIT)).all()
    entries += [(external_url("pes.profile", pes_id=pid), _day(updated)) for pid, updated in profiles]
    offers = db.session.execute(public_query.with_only_columns(Offering.id, Offering.title, Offering.updated_at)
                                .order_by(Offering.id).limit(SITEMAP_LIMIT)).all()
    entries += [(external_url("catalog.offering", offering_id=oid, slug=slugify(title)), _day(updated))
                for oid, title, updated in offers]
    return entries


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
