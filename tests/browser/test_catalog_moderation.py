"""Offering moderation in a real browser: the queue, the detail page, hiding and restoring, each checked
with axe-core and usable at 320 px."""

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.factories import PASSWORD, make_pes, make_user
from tests.test_catalog_moderation import make_offering, make_report

pytestmark = pytest.mark.browser


def _check(page, a11y):
    a11y.check(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 800})


def test_moderator_hides_a_reported_offering_and_restores_it(page, a11y):
    make_user("moderatorka@example.org", role="moderator")
    pes = make_pes(owner=make_user("wlasciciel@example.org"), name="Spółdzielnia Socjalna Przystań")
    offering = make_offering(pes, "Obiady dla przedszkoli", description="Zdrowe obiady z dowozem.")
    make_report(offering, "not_pes", "To firma, nie spółdzielnia.")
    db.session.commit()

    page.goto("/konto/logowanie")
    a11y.check(page)
    page.get_by_label("Adres e-mail").fill("moderatorka@example.org")
    page.get_by_label("Hasło").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Zaloguj się").click()
    a11y.check(page)

    page.goto("/moderacja/oferty")
    _check(page, a11y)
    expect(page.locator("main")).to_contain_text("To firma, nie spółdzielnia.")
    page.locator("main").get_by_role("link", name="Obiady dla przedszkoli").first.click()
    _check(page, a11y)

    page.get_by_role("button", name="Ukryj ofertę").click()  # no reason yet
    _check(page, a11y)
    expect(page.locator(".error-summary")).to_contain_text("Podaj powód ukrycia oferty")
    page.get_by_label("Powód ukrycia oferty").fill("Oferta pochodzi od firmy, nie od PES.")
    page.get_by_role("button", name="Ukryj ofertę").click()
    _check(page, a11y)
    expect(page.get_by_role("button", name="Przywróć ofertę")).to_be_visible()
    db.session.refresh(offering)
    assert offering.blocked_at is not None and not offering.is_public

    page.get_by_role("button", name="Przywróć ofertę").click()
    _check(page, a11y)
    expect(page.get_by_role("button", name="Ukryj ofertę")).to_be_visible()
    db.session.refresh(offering)
    assert offering.blocked_at is None and offering.is_public
