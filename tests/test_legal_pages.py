"""The terms, privacy policy, contact page and accessibility statement: versions, the admin's new versions,
and accepting new terms."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import User, utcnow
from marketplace import clock
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.legal import services
from marketplace.legal.models import LegalDocument
from tests.conftest import csrf_token
from tests.factories import login, make_legal_version, make_user

PAGES = {"/regulamin": "Regulamin portalu", "/polityka-prywatnosci": "Polityka prywatności",
         "/kontakt": "Kontakt", "/deklaracja-dostepnosci": "Deklaracja dostępności"}
EDIT = "/moderacja/dokumenty/regulamin/nowa-wersja"
REMINDER = "Regulamin portalu został zmieniony."


def h1(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL).group(1).strip()


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def signed_in(client, user):
    db.session.commit()
    assert login(client, user.email).status_code == 302
    return client


# Public pages -------------------------------------------------------------------------------------

def test_a_fresh_install_shows_version_1_of_each_page_in_polish(client):
    for path, title in PAGES.items():
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="pl">' in html and h1(html) == title, path
        assert "Wersja 1, obowiązuje od" in html
        for link in PAGES:  # the footer leads to all four
            assert f'href="{link}"' in html
    docs = db.session.scalars(select(LegalDocument)).all()
    assert sorted((d.slug, d.version, d.created_by_id) for d in docs) == [
        ("deklaracja-dostepnosci", 1, None), ("kontakt", 1, None), ("polityka-prywatnosci", 1, None),
        ("regulamin", 1, None)]
    assert services.seed_all() == []  # already there: nothing is written twice


@pytest.mark.parametrize("app_config", [{"INQUIRY_RETENTION_MONTHS": 18}])
def test_privacy_policy_fills_in_the_retention_period_and_names_the_controller(client):
    html = client.get("/polityka-prywatnosci").get_data(as_text=True)
    assert "przez 18 miesięcy od ostatniej wiadomości w wątku" in html and "{retention_months}" not in html
    assert "Administratorem Twoich danych osobowych jest Regionalny Ośrodek Polityki Społecznej w Toruniu" in html
    assert "PUODO" in html and "ul. Stawki 2" in html and "art. 15 RODO" in html
    statement = client.get("/deklaracja-dostepnosci").get_data(as_text=True)
    assert "Procedura wnioskowo-skargowa" in statement and "[UZUPEŁNIJ: imię i nazwisko osoby kontaktowej]" in statement


def test_pages_in_english_and_the_polish_text_when_english_is_missing(client):
    client.get("/jezyk/en")
    html = client.get("/regulamin").get_data(as_text=True)
    assert '<html lang="en">' in html and h1(html) == "Terms of service"
    assert 'class="legal-text">' in html and "Polish version is binding" in html
    make_legal_version("kontakt", title_pl="Kontakt z ośrodkiem", body_pl="Pisz do nas.")
    db.session.commit()
    html = client.get("/kontakt").get_data(as_text=True)
    assert '<h1 lang="pl">Kontakt z ośrodkiem</h1>' in html
    assert '<div class="legal-text" lang="pl"><p>Pisz do nas.</p>' in html
    assert '<p class="notice">' in html  # the note that the English text is missing


def test_earlier_versions_stay_readable_and_are_linked(client):
    client.get("/regulamin")
    make_legal_version(title_pl="Regulamin portalu (zmieniony)", body_pl="## Nowy paragraf\n\nNowe zasady.")
    db.session.commit()
    html = client.get("/regulamin").get_data(as_text=True)
    assert h1(html) == "Regulamin portalu (zmieniony)" and "Wersja 2, obowiązuje od" in html
    assert "<h2>Nowy paragraf</h2>" in html and 'href="/regulamin/wersje/1"' in html
    old = client.get("/regulamin/wersje/1").get_data(as_text=True)
    assert h1(old) == "Regulamin portalu" and "Najnowsza jest wersja 2" in old and 'href="/regulamin"' in old
    assert client.get("/regulamin/wersje/3").status_code == 404
    assert client.get("/deklaracja-dostepnosci/wersje/1").status_code == 200
    assert client.get("/nieznany/wersje/1").status_code == 404


def test_a_version_effective_later_points_to_the_one_in_force(client):
    client.get("/kontakt")
    make_legal_version("kontakt", effective_on=clock.today() + timedelta(days=10))
    db.session.commit()
    html = client.get("/kontakt").get_data(as_text=True)
    assert "Ta wersja zacznie obowiązywać" in html and 'href="/kontakt/wersje/1"' in html


# The admin's new versions --------------------------------------------------------------------------

@pytest.fixture
def admin(app):
    return make_user("admin@example.org", role="admin")


def edit_data(client, **fields) -> dict:
    data = {"csrf_token": csrf_token(client, EDIT), "base_version": "1", "title_pl": "Regulamin portalu",
            "body_pl": "## § 1\n\nNowa treść regulaminu.", "title_en": "", "body_en": "",
            "effective_on": clock.today().isoformat(), "note": "Nowy § 1."}
    data.update(fields)
    return data


def test_admin_publishes_a_new_version_and_the_old_one_stays(client, admin):
    signed_in(client, admin)
    listing = client.get("/moderacja/dokumenty").get_data(as_text=True)
    assert all(title in listing for title in PAGES.values()) and 'href="/moderacja/dokumenty"' in listing
    form = client.get(EDIT).get_data(as_text=True)
    assert 'name="csrf_token"' in form and '<label for="body_pl">' in form
    assert 'aria-describedby="body_pl-hint"' in form and "Opublikuj wersję 2" in form
    response = client.post(EDIT, data=edit_data(client))
    assert response.status_code == 302 and response.headers["Location"].endswith("/moderacja/dokumenty/regulamin")
    new = services.latest("regulamin")
    assert (new.version, new.created_by_id, new.body_pl, new.body_en) == (
        2, admin.id, "## § 1\n\nNowa treść regulaminu.", None)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "legal.publish"))
    assert (entry.actor_id, entry.object_type, entry.object_id, entry.reason) == (
        admin.id, "legaldocument", new.id, "Nowy § 1.")
    assert entry.before["version"] == 1 and entry.after["version"] == 2
    assert "Nowa treść regulaminu." in client.get("/regulamin").get_data(as_text=True)
    assert "Nowa treść regulaminu." not in client.get("/regulamin/wersje/1").get_data(as_text=True)
    preview = client.get("/moderacja/dokumenty/regulamin/wersje/1")
    assert preview.status_code == 200 and "Terms of service" in preview.get_data(as_text=True)
    assert "nowa wersja dokumentu portalu" in client.get("/moderacja/dziennik").get_data(as_text=True)


@pytest.mark.parametrize("fields, message", [
    ({"body_pl": "   "}, "Wpisz treść dokumentu po polsku."),
    ({"title_pl": "R" * 201}, "Tytuł może mieć najwyżej 200 znaków."),
    ({"title_en": "Terms"}, "Podaj tytuł i treść po angielsku albo zostaw oba pola puste."),
    ({"effective_on": "jutro"}, "Podaj datę w formacie RRRR-MM-DD"),
    ({"effective_on": ""}, "Podaj datę, od której obowiązuje nowa wersja."),
    ({"effective_on": "2000-01-01"}, "Nowa wersja nie może obowiązywać wcześniej niż poprzednia"),
    ({"base_version": "0"}, "W międzyczasie opublikowano wersję 1"),
])
def test_bad_input_is_explained_and_writes_nothing(client, admin, fields, message):
    signed_in(client, admin)
    response = client.post(EDIT, data=edit_data(client, **fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'class="error-summary"' in html
    assert count(LegalDocument) == 1 and count(AuditEntry) == 0


def test_the_same_text_again_is_not_a_new_version(client, admin):
    signed_in(client, admin)
    client.get(EDIT)  # a fresh install: opening the form writes version 1
    first = services.latest("regulamin")
    data = edit_data(client, body_pl=first.body_pl, title_en=first.title_en, body_en=first.body_en,
                     effective_on=first.effective_on.isoformat())
    response = client.post(EDIT, data=data)
    assert response.status_code == 422 and "Nic się nie zmieniło" in response.get_data(as_text=True)
    assert count(LegalDocument) == 1


def test_without_csrf_token_nothing_is_published(client, admin):
    signed_in(client, admin)
    data = edit_data(client)
    del data["csrf_token"]
    assert client.post(EDIT, data=data).status_code == 400
    assert count(LegalDocument) == 1


def test_moderators_read_versions_but_only_admins_publish(client):
    moderator = make_user("moderator@example.org", role="moderator")
    signed_in(client, moderator)
    listing = client.get("/moderacja/dokumenty").get_data(as_text=True)
    assert "Wszystkie wersje" in listing and "nowa-wersja" not in listing
    assert client.get("/moderacja/dokumenty/kontakt").status_code == 200
    assert client.get("/moderacja/dokumenty/kontakt/wersje/1").status_code == 200
    token = csrf_token(client, "/moderacja/dokumenty")
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, data={"csrf_token": token, "body_pl": "x"}).status_code == 403
    assert count(LegalDocument) == 4 and count(AuditEntry) == 0


def test_other_accounts_and_visitors_cannot_open_the_panel(client, app):
    assert client.get("/moderacja/dokumenty").status_code == 302  # to the login page
    signed_in(client, make_user("kupujacy@example.org"))
    for path in ("/moderacja/dokumenty", "/moderacja/dokumenty/regulamin", EDIT):
        assert client.get(path).status_code == 403, path


# Accepting the terms ------------------------------------------------------------------------------

def test_sign_up_links_to_the_documents_and_records_the_terms_version(client):
    client.get("/regulamin")
    make_legal_version()
    db.session.commit()
    page = client.get("/konto/rejestracja").get_data(as_text=True)
    hint = re.search(r'<p class="hint" id="consent-hint">(.*?)</p>', page, re.DOTALL).group(1)
    assert 'href="/regulamin"' in hint and 'href="/polityka-prywatnosci"' in hint
    assert 'aria-describedby="consent-hint"' in page
    password = "Zielona-Lampa-nad-Wisla"
    client.post("/konto/rejestracja", data={
        "csrf_token": csrf_token(client, "/konto/rejestracja"), "email": "ewa@example.org", "name": "Ewa Nowak",
        "password": password, "password2": password, "account_type": "buyer", "consent": "y"})
    user = db.session.scalar(select(User).where(User.email == "ewa@example.org"))
    assert user.terms_version == 2 and user.terms_accepted_at is not None


def test_new_terms_are_asked_for_on_every_page_until_accepted(client):
    client.get("/regulamin")
    user = make_user("jan@example.org", terms_version=1, terms_accepted_at=utcnow())
    signed_in(client, user)
    assert REMINDER not in client.get("/").get_data(as_text=True)
    make_legal_version(title_pl="Regulamin portalu 2")
    db.session.commit()
    for path in ("/", "/pes", "/konto/ustawienia", "/regulamin"):
        page = client.get(path)
        assert page.status_code == 200 and REMINDER in page.get_data(as_text=True), path
    assert 'href="/regulamin/akceptacja?next=/pes"' in client.get("/pes").get_data(as_text=True)
    form = client.get("/regulamin/akceptacja?next=/pes").get_data(as_text=True)
    assert REMINDER not in form and "Akceptuję regulamin w wersji 2" in form
    assert 'href="/regulamin/wersje/1"' in form
    token = csrf_token(client, "/regulamin/akceptacja")
    stale = client.post("/regulamin/akceptacja", data={"csrf_token": token, "version": "1"})
    assert stale.status_code == 302 and db.session.get(User, user.id).terms_version == 1
    done = client.post("/regulamin/akceptacja?next=/pes", data={"csrf_token": token, "version": "2"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/pes")
    db.session.expire_all()
    assert db.session.get(User, user.id).terms_version == 2
    assert REMINDER not in client.get("/").get_data(as_text=True)


def test_accounts_that_accepted_before_versions_count_as_version_1(client):
    client.get("/regulamin")
    legacy = make_user("stary@example.org", terms_accepted_at=utcnow())
    staff = make_user("moderator@example.org", role="moderator")  # made from the command line: never asked
    make_legal_version()
    signed_in(client, legacy)
    assert REMINDER in client.get("/").get_data(as_text=True)
    client.post("/konto/wyloguj", data={"csrf_token": csrf_token(client, "/")})
    signed_in(client, staff)
    assert REMINDER not in client.get("/").get_data(as_text=True)


def test_visitors_are_sent_to_login_from_the_acceptance_page(client):
    response = client.get("/regulamin/akceptacja")
    assert response.status_code == 302 and "/konto/logowanie" in response.headers["Location"]
