"""The legal pages, the admin's form for a new version and the reminder of new terms in a real browser:
each page passes axe-core, has one h1 and fits 320 px."""
import pytest
from playwright.sync_api import expect

from accounts.models import utcnow
from marketplace.extensions import db
from tests.factories import PASSWORD, make_legal_version, make_user

pytestmark = pytest.mark.browser
PAGES = {"/regulamin": "Regulamin portalu", "/polityka-prywatnosci": "Polityka prywatności",
         "/kontakt": "Kontakt", "/deklaracja-dostepnosci": "Deklaracja dostępności"}


def _check(page, a11y):
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 800})


def _sign_in(page, a11y, email):
    page.goto("/konto/logowanie")
    a11y.check(page)
    page.get_by_label("E-mail").first.fill(email)
    page.get_by_label("Hasło").first.fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    a11y.check(page)


def test_the_four_pages_and_their_versions(page, a11y):
    for path, title in PAGES.items():
        page.goto(path)
        _check(page, a11y)
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.locator("footer").get_by_role("link", name=title.split(" portalu")[0])).to_have_count(1)
    make_legal_version(title_pl="Regulamin portalu (zmiany)", body_pl="## Zmiana\n\nNowe zasady.")
    db.session.commit()
    page.goto("/regulamin")
    _check(page, a11y)
    page.get_by_role("link", name="Wersja 1", exact=False).click()
    _check(page, a11y)
    expect(page.get_by_role("heading", level=1)).to_have_text("Regulamin portalu")
    page.get_by_role("link", name="English").click()
    _check(page, a11y)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/regulamin")  # version 2 has no English text: the Polish one, marked as Polish
    _check(page, a11y)
    expect(page.locator(".legal-text")).to_have_attribute("lang", "pl")


def test_admin_publishes_a_version_through_the_form(page, a11y):
    make_user("admin@example.org", role="admin")
    db.session.commit()
    _sign_in(page, a11y, "admin@example.org")
    page.goto("/moderacja/dokumenty")
    _check(page, a11y)
    page.get_by_role("link", name="Utwórz nową wersję – Kontakt").click()
    _check(page, a11y)
    page.get_by_label("Treść po polsku (Markdown)").fill("")
    page.get_by_role("button", name="Opublikuj wersję 2").click()
    _check(page, a11y)
    expect(page.locator(".error-summary")).to_contain_text("Wpisz treść dokumentu po polsku.")
    expect(page.get_by_label("Treść po polsku (Markdown)")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Treść po polsku (Markdown)").fill("## Sekretariat\n\nTel. 56 000 00 00.")
    page.get_by_label("Co się zmieniło (do dziennika zdarzeń)").fill("Nowy numer telefonu.")
    page.get_by_role("button", name="Opublikuj wersję 2").click()
    _check(page, a11y)
    expect(page.locator(".flashes")).to_contain_text("Opublikowano wersję 2")
    page.get_by_role("link", name="Wersja 1").click()
    _check(page, a11y)
    page.goto("/kontakt")
    _check(page, a11y)
    expect(page.get_by_role("heading", level=2, name="Sekretariat")).to_be_visible()


def test_new_terms_reminder_and_acceptance(page, a11y):
    make_legal_version(version=1, title_pl="Regulamin portalu")
    make_user("jan@example.org", terms_version=1, terms_accepted_at=utcnow())
    make_legal_version(title_pl="Regulamin portalu", body_pl="Nowe zasady.")
    db.session.commit()
    _sign_in(page, a11y, "jan@example.org")
    page.goto("/pes")
    a11y.check(page)
    reminder = page.locator(".flashes")
    expect(reminder).to_contain_text("Regulamin portalu został zmieniony.")
    reminder.get_by_role("link", name="Przeczytaj zmiany i zaakceptuj nową wersję").click()
    _check(page, a11y)
    page.get_by_role("button", name="Akceptuję regulamin w wersji 2").click()
    page.wait_for_load_state("load")
    _check(page, a11y)
    expect(page).to_have_url(f"{page.url.split('/pes')[0]}/pes")
    expect(page.locator(".flashes")).not_to_contain_text("Regulamin portalu został zmieniony.")
