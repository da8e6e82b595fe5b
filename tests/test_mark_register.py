"""The public register, the verification page, the certificate and the badge: all computed from dates today."""
import base64
import re
from datetime import timedelta

from catalog.mark import queries
from marketplace import clock
from marketplace.extensions import db
from tests.factories import make_pes
from tests.test_mark_helpers import make_mark, make_offering, people


def _marks(app):
    """Marks of every kind, as the importer makes them (no application)."""
    today = clock.today()
    crew = people(app)
    toruń = crew["offering"]
    other_pes = make_pes(name="Koło Gospodyń Wiejskich w Lubiczu", legal_form="kgw", powiat="0415",
                         service_area=["0415", "0461"])
    bread = make_offering(other_pes, title="Chleb na zakwasie", category="zywnosc", kind="product")
    cleaning = make_offering(other_pes, title="Sprzątanie biur", category="sprzatanie")
    marks = {
        "valid": make_mark(toruń, "ZJ/2025/007", today - timedelta(days=100), today + timedelta(days=265)),
        "expired": make_mark(bread, "ZJ/2024/003", today - timedelta(days=500), today - timedelta(days=135)),
        "suspended": make_mark(cleaning, "ZJ/2025/011", today - timedelta(days=10), today + timedelta(days=355),
                               status="suspended", status_reason="Skargi klientów."),
    }
    db.session.commit()
    return crew, marks


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1] if "<tbody>" in html else ""
    return re.findall(r'href="/znak-jakosci/([^"]+)"', body)


def test_register_lists_every_mark_with_its_state_today(app, client):
    _marks(app)
    html = client.get("/znak-jakosci").get_data(as_text=True)
    assert sorted(_rows(html)) == ["ZJ/2024/003", "ZJ/2025/007", "ZJ/2025/011"]
    for text in ("ważny", "wygasł", "zawieszony", "Chleb na zakwasie", "Koło Gospodyń Wiejskich w Lubiczu"):
        assert text in html


def test_register_filters_by_category_powiat_and_state(app, client):
    _marks(app)
    assert _rows(client.get("/znak-jakosci?category=zywnosc").get_data(as_text=True)) == ["ZJ/2024/003"]
    both = _rows(client.get("/znak-jakosci?category=zywnosc&category=catering").get_data(as_text=True))
    assert sorted(both) == ["ZJ/2024/003", "ZJ/2025/007"]
    # Bydgoszcz (0461) is in the KGW's service area, not its seat.
    assert sorted(_rows(client.get("/znak-jakosci?powiat=0461").get_data(as_text=True))) == [
        "ZJ/2024/003", "ZJ/2025/011"]
    assert _rows(client.get("/znak-jakosci?powiat=0463").get_data(as_text=True)) == ["ZJ/2025/007"]
    assert _rows(client.get("/znak-jakosci?state=valid").get_data(as_text=True)) == ["ZJ/2025/007"]
    assert _rows(client.get("/znak-jakosci?state=expired").get_data(as_text=True)) == ["ZJ/2024/003"]
    # Unknown values are ignored rather than failing the page.
    response = client.get("/znak-jakosci?category=nic&powiat=9999&state=x&page=abc")
    assert response.status_code == 200 and len(_rows(response.get_data(as_text=True))) == 3


def test_register_is_paginated(app, client):
    crew = people(app)
    today = clock.today()
    for i in range(30):
        make_mark(crew["offering"], f"ZJ/2023/{i:04d}", today - timedelta(days=400 + i), today - timedelta(days=40))
    db.session.commit()
    first = _rows(client.get("/znak-jakosci").get_data(as_text=True))
    second = _rows(client.get("/znak-jakosci?page=2").get_data(as_text=True))
    assert len(first) == 25 and len(second) == 5 and not set(first) & set(second)


def test_verification_page_says_plainly_whether_the_mark_is_valid(app, client):
    _crew, marks = _marks(app)
    html = client.get("/znak-jakosci/ZJ/2025/007").get_data(as_text=True)
    assert "<h1>Znak jest ważny</h1>" in html and "Obiady dla szkół" in html
    m = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"', html)
    assert m and "http://localhost/znak-jakosci/ZJ/2025/007" in m.group(2)
    assert base64.b64decode(m.group(1)).lstrip().startswith(b"<svg")
    expired = client.get("/znak-jakosci/ZJ/2024/003").get_data(as_text=True)
    assert "Znak wygasł dnia" in expired
    suspended = client.get("/znak-jakosci/ZJ/2025/011").get_data(as_text=True)
    assert "<h1>Znak zawieszony</h1>" in suspended and "Skargi klientów." in suspended
    marks["suspended"].status = "revoked"
    db.session.commit()
    assert "<h1>Znak cofnięty</h1>" in client.get("/znak-jakosci/ZJ/2025/011").get_data(as_text=True)


def test_url_safe_numbers_and_unknown_numbers(app, client):
    _marks(app)
    assert "Znak jest ważny" in client.get("/znak-jakosci/ZJ-2025-007").get_data(as_text=True)
    assert "Znak jest ważny" in client.get("/znak-jakosci/zj-2025-007").get_data(as_text=True)
    response = client.get("/znak-jakosci/ZJ/2099/0001")
    assert response.status_code == 404 and "Nie ma takiego certyfikatu" in response.get_data(as_text=True)


def test_certificate_and_qr_code(app, client):
    _marks(app)
    html = client.get("/znak-jakosci/ZJ/2025/007/certyfikat").get_data(as_text=True)
    assert "Certyfikat regionalnego znaku jakości" in html and "nr ZJ/2025/007" in html
    assert "Spółdzielnia Socjalna Przystań" in html and "data:image/svg+xml;base64," in html
    response = client.get("/znak-jakosci/ZJ-2025-007/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert client.get("/znak-jakosci/ZJ/2099/1/certyfikat").status_code == 404


def test_moving_the_clock_past_valid_until_expires_the_mark_and_hides_the_badge(app, client):
    crew, marks = _marks(app)
    mark = marks["valid"]
    assert queries.current_mark(crew["offering"]) == mark
    assert queries.marks_for([crew["offering"]]) == {crew["offering"].id: mark}
    assert "mark-badge" in client.get("/znak-jakosci/ZJ/2025/007").get_data(as_text=True)
    app.config["CLOCK_OFFSET_DAYS"] = (mark.valid_until - clock.today()).days + 1
    assert queries.current_mark(crew["offering"]) is None and queries.marks_for([crew["offering"]]) == {}
    html = client.get("/znak-jakosci/ZJ/2025/007").get_data(as_text=True)
    assert "Znak wygasł dnia" in html and "mark-badge" not in html


def test_the_badge_shows_only_for_a_valid_mark(app):
    from flask import render_template_string

    _crew, marks = _marks(app)
    with app.test_request_context():
        render = lambda m: render_template_string('{% include "mark/_badge.html" %}', mark=m)
        assert "Znak jakości" in render(marks["valid"]) and "ZJ/2025/007" in render(marks["valid"])
        assert render(marks["expired"]).strip() == ""
        assert render(marks["suspended"]).strip() == ""
        assert render(None).strip() == ""


def test_current_mark_prefers_the_longest_and_ignores_future_ones(app):
    crew = people(app)
    today = clock.today()
    offering = crew["offering"]
    make_mark(offering, "A/1", today - timedelta(days=5), today + timedelta(days=10))
    longer = make_mark(offering, "A/2", today - timedelta(days=1), today + timedelta(days=300))
    make_mark(offering, "A/3", today + timedelta(days=301), today + timedelta(days=600))
    db.session.commit()
    assert queries.current_mark(offering) == longer
    assert queries.is_valid(longer) and not queries.is_valid(longer, today + timedelta(days=301))
    assert queries.marks_for([]) == {}


def test_certificate_register_and_verification_show_the_names_of_the_award_day(app, client):
    from tests.test_mark_helpers import client_for, decide, in_review

    crew = people(app)
    application = in_review(app, crew, scored_by=("member1", "member2"))
    decide(client_for(app, crew["chair"]), application)
    crew["offering"].title = "Zupełnie nowa oferta"
    crew["pes"].name = "Nowa nazwa spółdzielni"
    db.session.commit()
    number = f"ZJ/{clock.today().year}/0001"
    for url in (f"/znak-jakosci/{number}", f"/znak-jakosci/{number}/certyfikat", "/znak-jakosci"):
        html = client.get(url).get_data(as_text=True)
        assert "Obiady dla szkół" in html and "Spółdzielnia Socjalna Przystań" in html, url
    certificate = client.get(f"/znak-jakosci/{number}/certyfikat").get_data(as_text=True)
    assert "Zupełnie nowa oferta" not in certificate and "Nowa nazwa spółdzielni" not in certificate
    verify = client.get(f"/znak-jakosci/{number}").get_data(as_text=True)
    assert "(obecna nazwa oferty: Zupełnie nowa oferta)" in verify


def test_marks_recorded_without_names_show_the_current_ones(app, client):
    _marks(app)  # made as old rows are: no names kept
    html = client.get("/znak-jakosci/ZJ/2025/007/certyfikat").get_data(as_text=True)
    assert "Obiady dla szkół" in html and "Spółdzielnia Socjalna Przystań" in html
    assert "obecna nazwa" not in client.get("/znak-jakosci/ZJ/2025/007").get_data(as_text=True)


def _certificate(html: str) -> str:
    return html.split('<article class="mark-certificate', 1)[1].split("</article>", 1)[0]


def test_a_certificate_that_is_not_valid_says_so_inside_itself(app, client):
    _crew, marks = _marks(app)
    valid = _certificate(client.get("/znak-jakosci/ZJ/2025/007/certyfikat").get_data(as_text=True))
    assert "NIEWAŻNY" not in valid
    expired = _certificate(client.get("/znak-jakosci/ZJ/2024/003/certyfikat").get_data(as_text=True))
    assert "NIEWAŻNY – znak wygasł dnia" in expired
    assert "NIEWAŻNY – znak zawieszony" in _certificate(
        client.get("/znak-jakosci/ZJ/2025/011/certyfikat").get_data(as_text=True))
    marks["suspended"].status = "revoked"
    db.session.commit()
    page = client.get("/znak-jakosci/ZJ/2025/011/certyfikat").get_data(as_text=True)
    assert "NIEWAŻNY – znak cofnięty" in _certificate(page) and "<title>Certyfikat ZJ/2025/011 – NIEWAŻNY" in page
