"""Start pages by role: the main menu of buyers and PES teams, the PES panel and where login lands."""
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryThread, Quote
from marketplace.pes.models import PesMembership
from tests.conftest import csrf_token
from tests.factories import PASSWORD, login, make_pes, make_user
from tests.test_mark_helpers import make_mark, make_offering
from tests.test_pes_support import sign_in


def make_thread(pes, sender=None, subject: str = "Obiady dla 120 uczniów", status: str = "new",
                pes_unread: bool = True, buyer_unread: bool = False, age_days: int = 0,
                inquiry_status: str = "sent") -> InquiryThread:
    """An inquiry with its thread to one PES, built straight from the models."""
    inquiry = Inquiry(sender_id=sender.id if sender else None, sender_name="Anna Kowalska",
                      sender_email=sender.email if sender else "gosc@example.org", subject=subject,
                      body="Prosimy o ofertę.", status=inquiry_status)
    created = datetime.now(UTC) - timedelta(days=age_days)
    thread = InquiryThread(inquiry=inquiry, pes=pes, status=status, pes_unread=pes_unread,
                           buyer_unread=buyer_unread, created_at=created, updated_at=created)
    db.session.add(thread)
    db.session.flush()
    return thread


def make_quote(thread, gross: str = "1230.00", status: str = "offered", valid_days: int = 14) -> Quote:
    quote = Quote(thread=thread, net=Decimal(gross) / Decimal("1.23"), vat_rate="23", gross=Decimal(gross),
                  valid_until=clock.today() + timedelta(days=valid_days), status=status)
    db.session.add(quote)
    db.session.flush()
    return quote


def nav(html: str) -> str:
    return re.search(r'<nav class="main-nav".*?</nav>', html, re.DOTALL).group(0)


def section(html: str, pes) -> str:
    return re.search(rf'<section[^>]*aria-labelledby="pes-{pes.id}-name">.*?</section>', html, re.DOTALL).group(0)


# The main menu ----------------------------------------------------------------------------------------

def test_a_buyer_sees_inquiries_and_favourites_but_no_pes_tools(client):
    sign_in(client, make_user())
    menu = nav(client.get("/").get_data(as_text=True))
    for label in ("Moje zapytania", "Ulubione", "Moje konto"):
        assert f">{label}<" in menu, label
    for label in ("Moje PES", "Moje oferty", "Mój znak jakości", "Panel PES", "Skrzynka zapytań PES", "Moderacja"):
        assert label not in menu, label
    assert 'href="/zapytania"' in menu and 'href="/ulubione"' in menu


def test_a_pes_member_sees_the_pes_tools(client):
    owner = make_user()
    pes = make_pes(owner=owner)
    sign_in(client, owner)
    menu = nav(client.get("/").get_data(as_text=True))
    for label in ("Panel PES", "Skrzynka zapytań PES", "Moje PES", "Moje oferty", "Mój znak jakości"):
        assert f">{label}<" in menu, label
    assert 'href="/panel"' in menu and f'href="/panel/pes/{pes.id}/zapytania"' in menu
    assert "Moderacja" not in menu


def test_the_menu_counts_unread_replies_with_words_for_screen_readers(client):
    buyer, other = make_user(), make_user()
    pes = make_pes()
    make_thread(pes, sender=buyer, buyer_unread=True)
    make_thread(make_pes(), sender=buyer, buyer_unread=True)
    make_thread(pes, sender=buyer, buyer_unread=False)
    make_thread(pes, sender=other, buyer_unread=True)
    sign_in(client, buyer)
    menu = nav(client.get("/").get_data(as_text=True))
    link = re.search(r'<a href="/zapytania">(.*?)</a>', menu).group(1)
    assert re.sub(r"<[^>]+>", "", link) == "Moje zapytania 2 (nowe: 2)"
    assert '<span aria-hidden="true">2</span>' in link


def test_the_menu_counts_come_from_one_query_per_page(app, client):
    owner = make_user()
    pes = make_pes(owner=owner)
    make_thread(pes)
    make_thread(pes, inquiry_status="unconfirmed")  # a guest's, not delivered yet: not counted
    sign_in(client, owner)
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        html = client.get("/oferty").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len([s for s in statements if "inquiry_threads" in s]) == 1
    assert re.sub(r"<[^>]+>", "", re.search(r'<a href="/panel/pes/\d+/zapytania">(.*?)</a>',
                                            nav(html)).group(1)) == "Skrzynka zapytań PES 1 (nowe: 1)"


def test_guests_get_no_counts_and_no_account_links(client):
    menu = nav(client.get("/").get_data(as_text=True))
    assert "Moje zapytania" not in menu and "Ulubione" not in menu and "Zaloguj się" in menu


def test_only_accounts_without_a_pes_are_offered_to_register_one_in_settings(client):
    buyer, owner = make_user(), make_user()
    make_pes(owner=owner)
    sign_in(client, buyer)
    html = client.get("/konto/ustawienia").get_data(as_text=True)
    assert 'href="/panel/pes/nowy">Zarejestruj swój PES</a>' in html
    client.post("/konto/wyloguj", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)})
    sign_in(client, owner)
    assert "Zarejestruj swój PES" not in client.get("/konto/ustawienia").get_data(as_text=True)


# Where login lands -------------------------------------------------------------------------------------

def test_pes_members_land_on_the_panel_others_on_the_front_page(app, client):
    owner, buyer = make_user("wlasciciel@example.org"), make_user("kupujacy@example.org")
    make_pes(owner=owner)
    db.session.commit()
    assert login(client, owner.email).headers["Location"] == "/panel"
    assert client.get("/konto/logowanie").headers["Location"] == "/panel"  # already signed in
    assert login(app.test_client(), buyer.email).headers["Location"] == "/"


def test_a_next_page_wins_over_the_panel(client):
    owner = make_user()
    make_pes(owner=owner)
    db.session.commit()
    token = csrf_token(client, "/konto/logowanie")
    resp = client.post("/konto/logowanie?next=/ulubione", data={"csrf_token": token, "email": owner.email,
                                                                "password": PASSWORD})
    assert resp.headers["Location"] == "/ulubione"


# The PES panel -----------------------------------------------------------------------------------------

def test_the_panel_is_for_pes_teams(client):
    assert "/konto/logowanie" in client.get("/panel").headers["Location"]
    sign_in(client, make_user())
    resp = client.get("/panel")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 403
    assert 'href="/panel/pes/nowy"' in html and "poproś jego właściciela o zaproszenie" in html


def test_the_panel_shows_unread_threads_waiting_quotes_and_ending_marks(client):
    owner = make_user()
    pes = make_pes(owner=owner, name="Spółdzielnia Przystań")
    threads = [make_thread(pes, subject=f"Zapytanie {n}", age_days=n, pes_unread=n < 3) for n in range(7)]
    make_thread(pes, subject="Niepotwierdzone", inquiry_status="unconfirmed")
    quoted = make_thread(pes, subject="Catering na festyn", status="quoted", pes_unread=False, age_days=30)
    make_quote(quoted, gross="1230.00")
    make_quote(make_thread(pes, subject="Przyjęta", status="accepted", pes_unread=False, age_days=31),
               status="accepted")
    today = clock.today()
    lunch, chairs, bags = (make_offering(pes, title=t) for t in ("Obiady", "Krzesła", "Torby"))
    make_mark(lunch, "ZJ/2025/001", today - timedelta(days=300), today + timedelta(days=60))
    make_mark(chairs, "ZJ/2025/002", today - timedelta(days=300), today + timedelta(days=61))
    make_mark(bags, "ZJ/2025/003", today - timedelta(days=400), today - timedelta(days=1))
    sign_in(client, owner)

    html = section(client.get("/panel").get_data(as_text=True), pes)
    assert "Nieprzeczytane wątki: 3" in html
    for n in range(5):
        assert f'href="/panel/pes/{pes.id}/zapytania/{threads[n].id}">Zapytanie {n}</a>' in html
    assert "Zapytanie 5" not in html and "Niepotwierdzone" not in html
    assert html.count("nieprzeczytane") == 3
    assert f'href="/panel/pes/{pes.id}/zapytania/{quoted.id}">Catering na festyn</a>' in html
    assert "1230,00" in html.replace("\xa0", " ").replace(" ", "") and "Przyjęta" not in html
    assert "ZJ/2025/001" in html and "dni do końca: 60" in html
    assert "ZJ/2025/002" not in html and "ZJ/2025/003" not in html
    assert 'href="/panel/znak"' in html
    assert f'action="/panel/pes/{pes.id}/potwierdz"' not in html  # the data is fresh


def test_the_panel_has_a_section_per_pes_and_asks_to_confirm_old_data(client):
    owner = make_user()
    fresh = make_pes(owner=owner, name="A Spółdzielnia")
    stale = make_pes(name="B Fundacja", data_confirmed_at=datetime.now(UTC) - timedelta(days=400))
    db.session.add(PesMembership(pes=stale, user=owner, role="editor"))
    make_pes(name="C Cudza")
    sign_in(client, owner)
    html = client.get("/panel").get_data(as_text=True)
    assert html.count('<section class="card dashboard-pes"') == 2 and "C Cudza" not in nav(html) + html.split("<main")[1]
    assert "Ten podmiot nie dostał jeszcze zapytań." in section(html, fresh)
    assert f'action="/panel/pes/{stale.id}/potwierdz"' in section(html, stale)
    assert "Potwierdzam, że dane są aktualne" not in section(html, fresh)
    # With two PES the inbox link of the menu leads to the panel, where each has its own.
    assert re.search(r'<a href="/panel">Skrzynka zapytań PES', nav(html))
    assert f'href="/panel/pes/{fresh.id}/zapytania"' in section(html, fresh)


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_staff_without_a_pes_are_sent_nowhere_useless(client, role):
    sign_in(client, make_user(role=role))
    assert client.get("/panel").status_code == 403
    assert "Panel PES" not in nav(client.get("/").get_data(as_text=True))
