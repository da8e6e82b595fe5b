"""What search engines read: the offering's structured data (quality mark, price on request) and the sitemap
(every kind of public page, dates in Warsaw, one limit for all addresses)."""
from datetime import UTC, datetime

import pytest

from catalog import categories
from marketplace.extensions import db
from tests.factories import make_pes
from tests.test_catalog_offerings import make_offering
from tests.test_catalog_pages import _json_ld, _mark, _page


def test_json_ld_names_the_valid_quality_mark_and_where_to_verify_it(client):
    offering = make_offering(make_pes())
    mark = _mark(offering, number="ZJ/2025/007", days_left=30)
    expired = make_offering(make_pes(), title="Po terminie")
    _mark(expired, number="ZJ/2024/001", days_left=-1)
    db.session.commit()
    data = _json_ld(_page(client, offering))
    day = mark.valid_until
    assert data["award"].startswith("Regionalny znak jakości ZJ/2025/007, ważny do ")
    assert str(day.year) in data["award"]
    cert = data["hasCertification"]
    assert cert["@type"] == "Certification" and cert["certificationIdentification"] == "ZJ/2025/007"
    assert cert["url"] == "http://localhost/znak-jakosci/ZJ/2025/007" and cert["expires"] == day.isoformat()
    other = _json_ld(_page(client, expired))
    assert "award" not in other and "hasCertification" not in other


def test_json_ld_of_a_price_on_request_keeps_a_meaningful_offer_without_price(client):
    pes = make_pes(name="Przystań")
    offering = make_offering(pes, price_net=None)
    db.session.commit()
    offer = _json_ld(_page(client, offering))["offers"]
    assert offer["url"] == f"http://localhost/oferta/{offering.id}-obiady-z-dowozem"
    assert offer["seller"]["name"] == "Przystań" and offer["description"] == "cena do uzgodnienia"
    assert not {"price", "priceCurrency", "priceSpecification", "availability"} & offer.keys()


def test_json_ld_images_point_at_the_served_photos(app, client):
    from tests.test_catalog_images import _offering_with_photos, _url

    offering = _offering_with_photos(app, make_pes(), 1)
    offering.status = "published"
    db.session.commit()
    data = _json_ld(_page(client, offering))
    assert data["image"] == ["http://localhost" + _url(offering.images[0].path)]


def test_sitemap_lists_every_kind_of_public_page_with_warsaw_dates(client):
    pes, quiet = make_pes(), make_pes()
    late_evening = datetime(2025, 6, 30, 22, 30, tzinfo=UTC)  # already 1 July in Warsaw
    offering = make_offering(pes, title="Publiczna", updated_at=late_evening)
    make_offering(quiet, title="Tylko szkic", status="draft")
    _mark(offering, number="ZJ/2025/007")
    _mark(make_offering(pes, title="Druga"), number="ZJ/2024/003", days_left=-1)
    db.session.commit()
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"<loc>http://localhost/oferta/{offering.id}-publiczna</loc><lastmod>2025-07-01</lastmod>" in xml
    assert f"<loc>http://localhost/pes/{pes.id}/oferty</loc><lastmod>" in xml
    assert f"/pes/{quiet.id}/oferty<" not in xml and f"<loc>http://localhost/pes/{quiet.id}</loc>" in xml
    assert "<loc>http://localhost/kategoria/catering/obiady-dla-szkol</loc>" in xml
    assert "<loc>http://localhost/znak-jakosci</loc>" in xml
    assert "<loc>http://localhost/znak-jakosci/ZJ/2025/007</loc><lastmod>" in xml
    assert "ZJ/2024/003" not in xml  # expired


def _fixed_count() -> int:
    return 4 + sum(1 + len(categories.subcategory_choices(slug)) for slug in categories.slugs())


@pytest.mark.parametrize("app_config", [{"SITEMAP_LIMIT": 300}])
def test_all_addresses_share_one_limit(app, client):
    limit = app.config["SITEMAP_LIMIT"]
    assert _fixed_count() + 1 < limit
    pes = make_pes()
    for n in range(limit - _fixed_count() - 1):
        make_offering(pes, title=f"Oferta {n}", ref=f"off-s{n}")
    db.session.commit()
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    assert xml.count("<url>") == limit
    # The offerings filled the room but one: the PES's profile took it, its offerings page did not fit.
    assert f"<loc>http://localhost/pes/{pes.id}</loc>" in xml and f"/pes/{pes.id}/oferty<" not in xml
