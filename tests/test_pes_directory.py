"""Public pages: who sees which profile, the directory's filters and pages, and stale-data notices."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.test_pes_support import sign_in


def _names(client, query: str = "") -> list[str]:
    page = client.get("/pes" + query).get_data(as_text=True)
    return re.findall(r'<h3><a href="/pes/\d+">([^<]+)</a></h3>', page)


def _long_ago(days: int = 400) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.mark.parametrize("status", ["pending", "rejected", "suspended"])
def test_profile_that_is_not_verified_is_hidden_from_the_public(app, status):
    pes = make_pes(status=status, name="Niewidoczny PES")
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/pes/{pes.id}").status_code == 404
    assert "Niewidoczny PES" not in client.get("/pes").get_data(as_text=True)
    assert client.get("/pes/424242").status_code == 404


def test_members_and_staff_preview_a_pending_profile_with_a_notice(app):
    owner, moderator, stranger = make_user(), make_user(role="moderator"), make_user()
    pes = make_pes(owner=owner, status="pending", name="Przyszły PES")
    db.session.commit()
    for user in (owner, moderator):
        client = app.test_client()
        sign_in(client, user)
        page = client.get(f"/pes/{pes.id}").get_data(as_text=True)
        assert "Ten profil nie jest jeszcze publiczny." in page and "Przyszły PES" in page
    client = app.test_client()
    sign_in(client, stranger)
    assert client.get(f"/pes/{pes.id}").status_code == 404


def test_public_profile_shows_the_facts_a_buyer_needs(client):
    pes = make_pes(name="Przystań", legal_form="cis", powiat="0463", service_area=["0463", "0415"],
                   integration_mission=True, disadvantaged_share=45, social_enterprise_status=True,
                   email="biuro@example.org", phone="+48 56 000 00 00", mission="Praca dla ludzi.")
    db.session.commit()
    page = client.get(f"/pes/{pes.id}").get_data(as_text=True)
    for text in ("Centrum Integracji Społecznej (CIS)", "powiat toruński", "Toruń",
                 "uprawniony do zamówień zastrzeżonych (art. 94 Pzp)", "przedsiębiorstwo społeczne (PS)",
                 "mailto:biuro@example.org", "Praca dla ludzi.", "Dane potwierdzone"):
        assert text in page
    assert "nie jest jeszcze publiczny" not in page and "mogą być nieaktualne" not in page


def test_user_text_is_escaped(client):
    pes = make_pes(name="<script>alert(1)</script>", description="<b>pogrubienie</b>")
    db.session.commit()
    page = client.get(f"/pes/{pes.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;b&gt;pogrubienie&lt;/b&gt;" in page


def test_directory_filters_by_powiat_served_legal_form_eligibility_and_name(client):
    make_pes(name="Alfa", legal_form="cis", powiat="0463", service_area=["0463", "0402"],
             integration_mission=True, disadvantaged_share=50)
    make_pes(name="Beta", legal_form="fundacja", powiat="0402", integration_mission=False,
             disadvantaged_share=80)
    make_pes(name="Gamma", legal_form="kgw", powiat="0461")
    make_pes(name="Delta", legal_form="spoldzielnia_socjalna", powiat="0402", status="pending")
    db.session.commit()

    assert _names(client) == ["Alfa", "Beta", "Gamma"]
    assert _names(client, "?powiat=0402") == ["Alfa", "Beta"]  # Alfa's seat is Toruń but it serves 0402
    assert _names(client, "?powiat=0461&powiat=0463") == ["Alfa", "Gamma"]
    assert _names(client, "?legal_form=cis&legal_form=kgw") == ["Alfa", "Gamma"]
    assert _names(client, "?reserved_eligible=y") == ["Alfa"]
    assert _names(client, "?q=amm") == ["Gamma"]
    assert _names(client, "?q=100%25") == []
    assert _names(client, "?powiat=9999&legal_form=nieznana") == ["Alfa", "Beta", "Gamma"]

    page = client.get("/pes?powiat=0402&legal_form=fundacja").get_data(as_text=True)
    assert "Znaleziono 1 podmiot" in page
    assert re.search(r'<input checked[^>]*value="0402"', page)  # the chosen filters stay ticked


def test_directory_pages_by_twenty_and_keeps_filters_in_links(client):
    for n in range(25):
        make_pes(name=f"Podmiot {n:02d}", legal_form="cis", service_area=["0463", "0402"])
    make_pes(name="Inny", legal_form="fundacja")
    db.session.commit()

    first = client.get("/pes?legal_form=cis&powiat=0402").get_data(as_text=True)
    assert "Znaleziono 25 podmiotów" in first
    assert len(re.findall(r'class="card"', first)) == 20
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    assert "legal_form=cis" in next_link and "powiat=0402" in next_link and "page=2" in next_link

    assert _names(client, next_link.removeprefix("/pes")) == [f"Podmiot {n}" for n in range(20, 25)]
    assert _names(client, "?legal_form=cis&page=99") == []


def test_stale_data_is_flagged_on_the_profile_and_the_card(client):
    stale = make_pes(name="Dawno", data_confirmed_at=_long_ago(400))
    make_pes(name="Świeżo", data_confirmed_at=_long_ago(30))
    db.session.commit()

    page = client.get(f"/pes/{stale.id}").get_data(as_text=True)
    assert "Dane tego podmiotu mogą być nieaktualne" in page
    directory = client.get("/pes").get_data(as_text=True)
    cards = dict(re.findall(r'<h3><a href="/pes/\d+">([^<]+)</a></h3>(.*?)</li>', directory, re.DOTALL))
    assert "dane mogą być nieaktualne" in cards["Dawno"]
    assert "dane mogą być nieaktualne" not in cards["Świeżo"]


def test_confirm_button_marks_the_data_current(client):
    owner = make_user()
    pes = make_pes(owner=owner, name="Do potwierdzenia", data_confirmed_at=_long_ago(400))
    db.session.commit()
    sign_in(client, owner)

    panel = client.get("/panel/pes").get_data(as_text=True)
    assert "Potwierdzam, że dane są aktualne" in panel
    resp = client.post(f"/panel/pes/{pes.id}/potwierdz",
                       data={"csrf_token": csrf_token(client, "/panel/pes")}, follow_redirects=True)

    page = resp.get_data(as_text=True)
    assert "zostały potwierdzone" in page and "Potwierdzam, że dane są aktualne" not in page
    db.session.expire_all()
    assert not pes.data_is_stale(days=365)
    assert "mogą być nieaktualne" not in client.get(f"/pes/{pes.id}").get_data(as_text=True)


def test_confirm_needs_a_token_and_membership(app):
    owner, stranger = make_user(), make_user()
    pes = make_pes(owner=owner, data_confirmed_at=_long_ago(400))
    db.session.commit()
    client = app.test_client()
    sign_in(client, owner)
    assert client.post(f"/panel/pes/{pes.id}/potwierdz").status_code == 400
    other = app.test_client()
    sign_in(other, stranger)
    token = csrf_token(other, "/panel/pes/nowy")
    assert other.post(f"/panel/pes/{pes.id}/potwierdz", data={"csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert pes.data_is_stale(days=365)


def test_name_search_and_order_treat_polish_letters_alike_on_every_database(client):
    make_pes(name="Spółdzielnia ŁÓDŹ Kujawska")
    make_pes(name="żółta łąka")
    make_pes(name="Beta")
    make_pes(name="ALFA")
    db.session.commit()

    assert _names(client, "?q=łódź") == ["Spółdzielnia ŁÓDŹ Kujawska"]
    assert _names(client, "?q=ŻÓŁTA ŁĄ") == ["żółta łąka"]
    assert _names(client, "?q=SPÓŁ") == ["Spółdzielnia ŁÓDŹ Kujawska"]
    assert _names(client) == ["ALFA", "Beta", "Spółdzielnia ŁÓDŹ Kujawska", "żółta łąka"]


@pytest.mark.parametrize("page", ["abc", "-3", "0", "99999999999999999999"])
def test_odd_page_numbers_do_not_break_the_directory(client, page):
    for n in range(3):
        make_pes(name=f"Podmiot {n}")
    db.session.commit()
    resp = client.get(f"/pes?page={page}")
    assert resp.status_code == 200
    names = re.findall(r'<h3><a href="/pes/\d+">([^<]+)</a></h3>', resp.get_data(as_text=True))
    assert names == ([] if page.startswith("9") else ["Podmiot 0", "Podmiot 1", "Podmiot 2"])
