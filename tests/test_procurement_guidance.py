"""The guidance for public purchasers: one page per instrument, its legal values filled from data, its legal
state date, the note that it is not legal advice, its sources, and the PES of the catalogue that can meet it."""
import re

import pytest

from marketplace.extensions import db
from marketplace.procurement import guidance
from marketplace.procurement.models import GuidancePage
from tests.factories import make_pes
from tests.inquiry_helpers import make_offering

SLUGS = ("ponizej-progu", "art-94-zamowienia-zastrzezone", "art-95-umowa-o-prace", "art-96-zatrudnienie",
         "art-100-dostepnosc", "art-242-kryteria-spoleczne", "art-361-uslugi-spoleczne")
SECTIONS_PL = ("Kiedy ma zastosowanie", "Warunki", "Co wpisać w ogłoszeniu i SWZ", "Jak weryfikować wykonanie",
               "Częste błędy")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("&nbsp;", " ").replace("\u00a0", " "))


def test_the_index_links_every_instrument_and_the_builder(client):
    html = client.get("/zamowienia-publiczne").get_data(as_text=True)
    for slug in SLUGS:
        assert f'href="/zamowienia-publiczne/{slug}"' in html
    assert 'href="/zamowienia-publiczne/kreator"' in html
    page = text_of(html)
    assert "Próg stosowania Pzp: 170 000 zł" in page and "Próg stosowania Pzp: 130 000 zł" in page
    assert "nie porada prawna" in page


@pytest.mark.parametrize("slug", SLUGS)
def test_each_page_has_its_sections_date_note_and_filled_values(client, slug):
    response = client.get(f"/zamowienia-publiczne/{slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(html)
    for heading in SECTIONS_PL:
        assert f">{heading}</h2>" in html
    assert "Stan prawny na 6 stycznia 2026" in page
    assert "To informacja, nie porada prawna" in page
    assert "{" not in page  # every placeholder filled from the legal data
    assert "170 000 zł" in page  # the threshold in force, from data
    assert re.search(r'<a href="https://[^"]+" rel="noopener">', html)  # its sources


def test_pages_have_english_text(client):
    client.get("/jezyk/en")
    html = client.get("/zamowienia-publiczne/art-94-zamowienia-zastrzezone").get_data(as_text=True)
    assert "When it applies" in html and '<h1 lang="pl"' not in html


def test_the_threshold_in_the_text_follows_the_data(client, app):
    """A value shown in the guidance comes from the legal data: a new version changes every page."""
    client.get("/zamowienia-publiczne")
    with app.app_context():
        from marketplace.procurement import legal_data
        from marketplace.procurement.models import LegalValue
        from tests.factories import make_user

        row = db.session.scalar(db.select(LegalValue).where(LegalValue.key == "reserved_min_share"))
        legal_data.change(make_user(role="moderator"), row, {"value": "35"})
        db.session.commit()
    page = text_of(client.get("/zamowienia-publiczne/art-94-zamowienia-zastrzezone").get_data(as_text=True))
    assert "35%" in page


def test_the_art94_page_lists_pes_that_meet_the_condition(client, app):
    with app.app_context():
        for name, share in (("Fundacja Trzydzieści", 30), ("Fundacja Dwadzieścia Dziewięć", 29)):
            pes = make_pes(name=name, legal_form="fundacja", integration_mission=True, disadvantaged_share=share)
            make_offering(pes, title=f"Sprzątanie – {name}")
        db.session.commit()
    page = text_of(client.get("/zamowienia-publiczne/art-94-zamowienia-zastrzezone").get_data(as_text=True))
    assert "Fundacja Trzydzieści" in page and "Dwadzieścia Dziewięć" not in page


def test_an_unknown_page_is_not_found(client):
    assert client.get("/zamowienia-publiczne/art-1000").status_code == 404


def test_seeding_twice_adds_nothing(app):
    with app.app_context():
        assert guidance.seed() == len(SLUGS)
        assert guidance.seed() == 0
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(GuidancePage)) == len(SLUGS)


def test_the_art96_page_lists_pes_that_employ_such_persons(client, app):
    with app.app_context():
        for name, share in (("Fundacja Zatrudnia", 12), ("Stowarzyszenie Bez Zatrudnienia", 0)):
            pes = make_pes(name=name, legal_form="stowarzyszenie", disadvantaged_share=share)
            make_offering(pes, title=f"Sprzątanie – {name}")
        db.session.commit()
    page = text_of(client.get("/zamowienia-publiczne/art-96-zatrudnienie").get_data(as_text=True))
    assert "Fundacja Zatrudnia" in page and "Bez Zatrudnienia" not in page
    assert "zatrudniają osoby z grup zagrożonych wykluczeniem" in page
