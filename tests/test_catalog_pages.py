"""The public catalogue: who sees which offering, the offering page and its structured data, categories,
a PES's offerings, the sitemap, robots.txt, the CPV search, reports, and safe descriptions."""
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import select

from catalog.mark.models import QualityMark
from catalog.markdown import render
from catalog.models import CpvCode, OfferingReport
from marketplace import clock
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.test_catalog_offerings import cpv_codes, make_offering, sign_in  # noqa: F401


def _page(client, offering) -> str:
    resp = client.get(f"/oferta/{offering.id}", follow_redirects=True)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _json_ld(html: str) -> dict:
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    return json.loads(block)


def _mark(offering, number="ZJ/2025/007", days_left=30, status="active") -> QualityMark:
    today = clock.today()
    mark = QualityMark(number=number, offering_id=offering.id, pes_id=offering.pes_id, status=status,
                       valid_from=today - timedelta(days=300), valid_until=today + timedelta(days=days_left))
    db.session.add(mark)
    db.session.flush()
    return mark


# Who sees what ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("pes_status, fields", [
    ("verified", {"status": "draft"}),
    ("verified", {"status": "archived"}),
    ("verified", {"blocked_at": clock.now(), "blocked_reason": "Spam."}),
    ("pending", {}),
    ("suspended", {}),
])
def test_offerings_that_are_not_public_are_404_for_the_public(client, pes_status, fields):
    owner = make_user()
    pes = make_pes(owner=owner, status=pes_status)
    offering = make_offering(pes, **fields)
    db.session.commit()
    assert client.get(f"/oferta/{offering.id}").status_code == 404
    assert client.get(f"/oferta/{offering.id}-obiady-z-dowozem").status_code == 404
    assert "Obiady z dowozem" not in client.get("/kategoria/catering").get_data(as_text=True)

    sign_in(client, owner)
    page = _page(client, offering)
    assert "Podgląd: ta oferta nie jest widoczna publicznie." in page and "application/ld+json" not in page


def test_staff_see_a_preview_but_others_do_not(app, client):
    offering = make_offering(make_pes(owner=make_user()), status="draft")
    staff, stranger = make_user(role="moderator"), make_user()
    db.session.commit()
    sign_in(client, stranger)
    assert client.get(f"/oferta/{offering.id}", follow_redirects=True).status_code == 404
    other = app.test_client()
    sign_in(other, staff)
    assert "Podgląd" in _page(other, offering)


def test_short_and_outdated_addresses_redirect_to_the_canonical_one(client):
    offering = make_offering(make_pes(), title="Łóżka i stoły – meble z drewna")
    db.session.commit()
    canonical = f"/oferta/{offering.id}-lozka-i-stoly-meble-z-drewna"
    for path in (f"/oferta/{offering.id}", f"/oferta/{offering.id}-stary-tytul"):
        resp = client.get(path)
        assert resp.status_code == 301 and resp.headers["Location"].endswith(canonical)
    assert client.get(canonical).status_code == 200
    assert client.get("/oferta/999999").status_code == 404


# The offering page -----------------------------------------------------------------------------------

def test_the_offering_page_shows_price_details_and_the_pes(client, cpv_codes):
    pes = make_pes(name="Spółdzielnia Socjalna Przystań", legal_form="spoldzielnia_socjalna", integration_mission=True,
                   disadvantaged_share=45, email="biuro@przystan.example.org", phone="+48 56 000 00 00",
                   website="https://przystan.example.org", contact_person="Jan Kowalski")
    offering = make_offering(pes, cpv=["55524000-9"], tags=["obiady", "dowóz"], min_order="20 porcji",
                             lead_time="3 dni")
    offering.service_area = ["0463", "0415"]
    db.session.commit()
    page = _page(client, offering)
    assert "18,50 zł netto + 8% VAT = 19,98 zł brutto" in page
    assert "20 porcji" in page and "3 dni" in page and "porcja" in page
    name = db.session.get(CpvCode, "55524000-9").name_pl
    assert f'<span class="cpv-code">55524000-9</span> {escape(name)}' in page
    assert "Toruń" in page and "toruński" in page and "dowóz" in page
    assert f'href="/pes/{pes.id}"' in page and "Spółdzielnia Socjalna Przystań" in page
    assert "uprawniony do zamówień zastrzeżonych (art. 94 Pzp)" in page
    assert 'href="mailto:biuro@przystan.example.org' in page and "Jan Kowalski" in page
    assert "Dwudaniowe obiady z dowozem." in page.split('class="description"', 1)[1]


def test_price_on_request_is_said_so(client):
    offering = make_offering(make_pes(), price_net=None)
    db.session.commit()
    page = _page(client, offering)
    assert "cena do uzgodnienia" in page and "brutto" not in page


def test_json_ld_describes_a_service_with_its_gross_price_and_seller(client):
    pes = make_pes(name="Przystań")
    offering = make_offering(pes, title="Catering </script><script>alert(1)</script>")
    db.session.commit()
    html = _page(client, offering)
    assert "</script><script>alert(1)" not in html
    data = _json_ld(html)
    assert data["@type"] == "Service" and data["name"] == "Catering </script><script>alert(1)</script>"
    offer = data["offers"]
    assert offer["@type"] == "Offer" and offer["price"] == "19.98" and offer["priceCurrency"] == "PLN"
    assert offer["seller"] == {"@type": "Organization", "name": "Przystań", "url": f"http://localhost/pes/{pes.id}"}


def test_json_ld_of_a_product_on_request_has_no_price(client):
    offering = make_offering(make_pes(), kind="product", title="Miód lipowy", price_net=None)
    db.session.commit()
    data = _json_ld(_page(client, offering))
    assert data["@type"] == "Product" and data["name"] == "Miód lipowy"
    assert "price" not in data["offers"] and "priceCurrency" not in data["offers"]


def test_the_quality_mark_badge_shows_only_while_the_mark_is_valid(client):
    with_mark, expired, suspended = (make_offering(make_pes(), title=t) for t in ("Ze znakiem", "Wygasły", "Zawieszony"))
    _mark(with_mark)
    _mark(expired, number="ZJ/2024/001", days_left=-1)
    _mark(suspended, number="ZJ/2025/002", status="suspended")
    db.session.commit()
    page = _page(client, with_mark)
    badge = 'class="badge badge-ok mark-badge"'
    assert badge in page and "certyfikat ZJ/2025/007" in page and 'href="/znak-jakosci/ZJ/2025/007"' in page
    assert badge not in _page(client, expired) and badge not in _page(client, suspended)
    cards = client.get("/kategoria/catering").get_data(as_text=True)
    assert cards.count(badge) == 1


def test_descriptions_are_sanitised(client):
    html = str(render('Zobacz [stronę](javascript:alert(1)) i <script>alert(2)</script>\n\n'
                      '<img src=x onerror="alert(3)">\n\n[dobry](https://example.org) # nagłówek'))
    assert "<script" not in html and 'href="javascript:' not in html
    assert not re.search(r"<[^>]*\son\w+=", html) and "<img" not in html  # no live tag carries a handler
    assert '<a href="https://example.org" rel="nofollow noopener">dobry</a>' in html
    assert "<h3>Tytuł</h3>" in str(render("# Tytuł"))  # below the page's h1 and h2
    offering = make_offering(make_pes(), description='<script>alert(1)</script> [x](javascript:alert(1)) '
                                                     '<b onmouseover="alert(1)">b</b>')
    db.session.commit()
    page = _page(client, offering)
    assert "<script>alert(1)" not in page and 'href="javascript:' not in page and "<b onmouseover" not in page


def test_description_headings_start_at_h3_and_never_skip_a_level():
    html = str(render("## Menu\n\n#### Zupy\n\n### Drugie dania\n\n# Dowóz\n\n###### Godziny"))
    assert re.findall(r"<(h\d)>([^<]+)<", html) == [("h3", "Menu"), ("h4", "Zupy"), ("h4", "Drugie dania"),
                                                    ("h3", "Dowóz"), ("h4", "Godziny")]


# Lists -----------------------------------------------------------------------------------------------

def test_category_pages_list_public_offerings_with_counts(client):
    pes = make_pes()
    make_offering(pes, title="Obiady szkolne", subcategory="obiady-dla-szkol")
    make_offering(pes, title="Catering na wesela", subcategory="catering-okolicznosciowy")
    make_offering(pes, title="Szkic", status="draft")
    make_offering(make_pes(status="pending"), title="Niezweryfikowany")
    make_offering(pes, title="Mycie okien", category="sprzatanie")
    db.session.commit()
    index = client.get("/oferty").get_data(as_text=True)
    assert re.search(r'href="/kategoria/catering">Catering[^<]*</a> <span class="count">\(oferty: 2\)', index)
    assert re.search(r'href="/kategoria/sprzatanie">[^<]*</a> <span class="count">\(oferty: 1\)', index)
    page = client.get("/kategoria/catering").get_data(as_text=True)
    assert "Obiady szkolne" in page and "Catering na wesela" in page
    assert "Szkic" not in page and "Niezweryfikowany" not in page and "Mycie okien" not in page
    assert "18,50 zł brutto" not in page and "19,98 zł brutto" in page
    assert re.search(r'href="/kategoria/catering/obiady-dla-szkol">[^<]*</a> <span class="count">\(oferty: 1\)', page)
    sub = client.get("/kategoria/catering/obiady-dla-szkol").get_data(as_text=True)
    assert "Obiady szkolne" in sub and "Catering na wesela" not in sub
    assert client.get("/kategoria/nie-ma").status_code == 404
    assert client.get("/kategoria/catering/sprzatanie-biur").status_code == 404


def test_category_pages_are_paginated(client):
    pes = make_pes()
    for n in range(30):
        make_offering(pes, title=f"Oferta numer {n:02d}", ref=f"off-p{n}")
    db.session.commit()
    first = client.get("/kategoria/catering").get_data(as_text=True)
    second = client.get("/kategoria/catering?page=2").get_data(as_text=True)
    assert first.count('class="card offering-card"') == 24 and second.count('class="card offering-card"') == 6
    assert 'href="/kategoria/catering?page=2"' in first


def test_a_pes_offerings_page_lists_only_its_public_offerings(client):
    pes, other = make_pes(name="Przystań"), make_pes()
    make_offering(pes, title="Nasza oferta")
    make_offering(pes, title="Nasz szkic", status="draft")
    make_offering(other, title="Cudza oferta")
    hidden = make_pes(status="pending")
    db.session.commit()
    page = client.get(f"/pes/{pes.id}/oferty").get_data(as_text=True)
    assert "Nasza oferta" in page and "Nasz szkic" not in page and "Cudza oferta" not in page
    assert client.get(f"/pes/{hidden.id}/oferty").status_code == 404


def test_sitemap_lists_public_pages_only_and_robots_points_to_it(client):
    pes = make_pes()
    public = make_offering(pes, title="Publiczna")
    draft = make_offering(pes, title="Szkic", status="draft")
    hidden_pes = make_pes(status="pending")
    db.session.commit()
    resp = client.get("/sitemap.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    xml = resp.get_data(as_text=True)
    assert f"<loc>http://localhost/oferta/{public.id}-publiczna</loc><lastmod>" in xml
    assert f"/oferta/{draft.id}-" not in xml and f"/pes/{hidden_pes.id}<" not in xml
    assert f"<loc>http://localhost/pes/{pes.id}</loc>" in xml
    assert "<loc>http://localhost/kategoria/catering</loc>" in xml and "<loc>http://localhost/</loc>" in xml
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in robots and "Disallow: /panel/" in robots


def test_cpv_search_works_without_javascript_and_as_json(client, cpv_codes):
    page = client.get("/cpv?q=55524").get_data(as_text=True)
    assert "55524000-9" in page and "<th scope=\"col\">" in page
    data = client.get("/cpv.json?q=55524").get_json()
    assert data and data[0]["code"] == "55524000-9" and data[0]["name"]
    assert client.get("/cpv.json").get_json() == []


# Reports ---------------------------------------------------------------------------------------------

def _report(client, offering, **data):
    path = f"/oferta/{offering.id}"
    token = csrf_token(client, path + "-obiady-z-dowozem")
    return client.post(f"{path}/zglos", data={"csrf_token": token, **data})


def test_a_visitor_reports_an_offering(client):
    offering = make_offering(make_pes())
    db.session.commit()
    resp = _report(client, offering, reason="not_pes", message="To firma handlowa.", email="Ala@Example.org")
    assert resp.status_code == 302
    [report] = db.session.scalars(select(OfferingReport)).all()
    assert (report.offering_id, report.reason, report.message, report.reporter_email, report.status) == (
        offering.id, "not_pes", "To firma handlowa.", "ala@example.org", "open")
    assert "Zgłoszenie trafiło do moderatorów" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_a_report_needs_a_reason_and_a_message_for_other(client):
    offering = make_offering(make_pes())
    draft = make_offering(make_pes(), title="Szkic", status="draft")
    db.session.commit()
    token = csrf_token(client, f"/oferta/{offering.id}-obiady-z-dowozem")
    assert client.post(f"/oferta/{draft.id}/zglos", data={"csrf_token": token, "reason": "other",
                                                           "message": "x"}).status_code == 404
    resp = _report(client, offering, reason="other", message=" ")
    assert resp.status_code == 422 and "Opisz, co jest nie tak" in resp.get_data(as_text=True)
    resp = _report(client, offering, reason="nonsense")
    assert resp.status_code == 422
    assert db.session.scalars(select(OfferingReport)).all() == []
    assert client.post(f"/oferta/{offering.id}/zglos", data={"reason": "other", "message": "x"}).status_code == 400
    assert db.session.scalars(select(OfferingReport)).all() == []


@pytest.mark.parametrize("app_config", [{"MAIL_LIMIT": "2 per hour"}])
def test_reports_are_rate_limited(client):
    offering = make_offering(make_pes())
    db.session.commit()
    assert _report(client, offering, reason="misleading").status_code == 302
    assert _report(client, offering, reason="misleading").status_code == 302
    assert _report(client, offering, reason="misleading").status_code == 429
    assert len(db.session.scalars(select(OfferingReport)).all()) == 2


def test_gross_prices_on_cards_use_the_polish_format(client):
    make_offering(make_pes(), price_net=Decimal("1234.5"), vat_rate="23", unit="m²")
    db.session.commit()
    page = client.get("/kategoria/catering").get_data(as_text=True)
    assert "1\u00a0518,44 zł brutto / m²" in page
