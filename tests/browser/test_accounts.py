"""Account pages in a real browser: each passes axe-core, fits 320 px and works without JavaScript."""
import re

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from marketplace.pes.models import PesMembership
from tests.factories import PASSWORD, make_pes, make_user

pytestmark = pytest.mark.browser
NEW_PASSWORD = "Zielona-Lampa-nad-Wisla"


def _check(page, a11y):
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 800})


def _submit(page, name):
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state("load")


def test_purchaser_signs_up_confirms_and_sees_the_institution(page, a11y, mailbox):
    page.goto("/konto/rejestracja")
    _check(page, a11y)
    _submit(page, "Załóż konto")
    _check(page, a11y)
    expect(page.locator(".error-summary")).to_contain_text("Podaj adres e-mail.")

    page.get_by_label("Adres e-mail").fill("Urzednik@Example.org")
    page.get_by_label("Imię i nazwisko").fill("Ewa Nowak")
    page.get_by_label("Hasło", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Powtórz hasło").fill(NEW_PASSWORD)
    page.get_by_label("Zamawiający publiczny").check()
    page.get_by_label("Nazwa instytucji").fill("Gmina Lubicz")
    page.get_by_label("NIP instytucji").fill("879-017-68-02")
    page.get_by_label("Rodzaj instytucji").select_option("gmina")
    page.get_by_label("Akceptuję regulamin").check()
    _submit(page, "Załóż konto")
    expect(page).to_have_url(re.compile(r"/konto/sprawdz-poczte$"))
    _check(page, a11y)

    link = re.search(r"https?://\S+/konto/potwierdz/\S+", mailbox.body(mailbox.last("urzednik@example.org")))
    page.goto(link.group(0))
    _check(page, a11y)
    expect(page.get_by_role("heading", level=1)).to_have_text("Adres e-mail potwierdzony")
    page.locator("main").get_by_role("link", name="Zaloguj się").click()
    _check(page, a11y)
    page.get_by_label("Adres e-mail").fill("urzednik@example.org")
    page.get_by_label("Hasło").fill(NEW_PASSWORD)
    _submit(page, "Zaloguj się")
    page.get_by_role("link", name="Moje konto").click()
    _check(page, a11y)
    expect(page.locator("main")).to_contain_text("czeka na weryfikację")
    expect(page.locator("main")).to_contain_text("czeka na potwierdzenie przez ośrodek regionalny")


def test_login_reset_and_deletion_pages(page, a11y, mailbox):
    owner = make_user("jan@example.org")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Przystań")
    db.session.add(PesMembership(pes=pes, user=make_user("ewa@example.org"), role="editor"))
    db.session.commit()

    page.goto("/konto/logowanie")
    _check(page, a11y)
    page.get_by_role("link", name="Nie pamiętasz hasła? Ustaw nowe").click()
    _check(page, a11y)
    page.get_by_label("Adres e-mail").fill("jan@example.org")
    _submit(page, "Wyślij link")
    _check(page, a11y)
    link = re.search(r"https?://\S+/konto/haslo/\S+", mailbox.body(mailbox.last("jan@example.org")))
    page.goto(link.group(0))
    _check(page, a11y)
    page.goto(link.group(0).replace("/haslo/", "/haslo/x"))
    _check(page, a11y)

    page.goto("/konto/logowanie")
    a11y.check(page)
    page.get_by_label("Adres e-mail").fill("jan@example.org")
    page.get_by_label("Hasło").fill(PASSWORD)
    _submit(page, "Zaloguj się")
    a11y.check(page)
    page.goto("/konto/ustawienia")
    _check(page, a11y)
    expect(page.locator("main")).to_contain_text("przekaż rolę właściciela")
    page.locator("#del-password").fill(PASSWORD)
    page.get_by_label("Rozumiem, że konto").check()
    _submit(page, "Usuń konto")
    _check(page, a11y)
    expect(page.locator(".error-summary")).to_contain_text("jedynym właścicielem")
