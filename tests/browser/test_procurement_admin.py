"""A moderator in a browser: the panel of legal values and guidance pages, confirming a value, a refused and
then a saved new version of the EUR rate, and a guidance page's form. axe-core checks every page visited."""
import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.browser.test_legal_pages import _check, _sign_in
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_moderator_confirms_edits_values_and_opens_guidance(page, a11y):
    make_user("moderator@example.org", role="moderator")
    db.session.commit()
    _sign_in(page, a11y, "moderator@example.org")
    page.goto("/moderacja/prawo")
    _check(page, a11y)
    expect(page.locator("main")).to_contain_text("9 wartości czeka na potwierdzenie")
    page.get_by_role("button", name="Potwierdź – Próg stosowania Pzp, od 1 stycznia 2026").click()
    _check(page, a11y)
    expect(page.locator(".flashes")).to_contain_text("Potwierdzono wartość")
    expect(page.locator("main")).to_contain_text("8 wartości czeka na potwierdzenie")

    page.get_by_role("link", name="Zmień lub zobacz wersje – Kurs euro do przeliczania progów, od 1 stycznia 2026").click()
    _check(page, a11y)
    page.get_by_label("Wartość", exact=True).fill("-1")
    page.get_by_role("button", name="Zapisz wersję 2").click()
    _check(page, a11y)
    expect(page.locator(".error-summary")).to_contain_text("Wartość musi być większa od zera.")
    expect(page.get_by_label("Wartość", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Wartość", exact=True).fill("4,40")
    page.get_by_label("Powód zmiany (do dziennika zdarzeń)").fill("Nowe obwieszczenie.")
    page.get_by_role("button", name="Zapisz wersję 2").click()
    _check(page, a11y)
    expect(page.locator(".flashes")).to_contain_text("Zapisano wersję 2")
    expect(page.get_by_role("row", name="Wersja 1")).to_contain_text("4,31 zł/EUR")

    page.get_by_role("link", name="Prawo zamówień publicznych").click()
    _check(page, a11y)
    page.get_by_role("link", name="Zamówienia zastrzeżone (art. 94 Pzp)").click()
    _check(page, a11y)
    page.get_by_label("Treść po polsku (Markdown)").fill("")
    page.get_by_role("button", name="Opublikuj wersję 2").click()
    _check(page, a11y)
    expect(page.locator(".error-summary")).to_contain_text("Wpisz treść po polsku.")
    page.get_by_label("Treść po polsku (Markdown)").fill("## Warunki\n\nCo najmniej {reserved_min_share}.")
    page.get_by_role("button", name="Opublikuj wersję 2").click()
    _check(page, a11y)
    page.get_by_role("link", name="Wersja 1").click()
    _check(page, a11y)
