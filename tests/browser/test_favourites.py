"""Favourites and the PES panel in a browser, without scripts doing the work: a buyer saves an offering and a
PES, finds them under "Ulubione" and sends the chosen PES to the inquiry form; a PES owner logs in to the
panel. axe-core checks every page on the way, and the new pages fit a 320 px screen."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from marketplace import clock
from marketplace.extensions import db
from tests.browser.test_catalog import _log_in
from tests.factories import PASSWORD, make_pes, make_user
from tests.test_dashboards import make_quote, make_thread
from tests.test_mark_helpers import make_mark, make_offering

pytestmark = pytest.mark.browser


def _fits(page, a11y, width: int = 320) -> None:
    page.set_viewport_size({"width": width, "height": 700})
    a11y.check(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_buyer_saves_favourites_and_asks_the_chosen_pes(app, page, a11y):
    make_user("kupujaca@example.org")
    seller = make_pes(name="Spółdzielnia Socjalna Smaki", ref="pes-smaki")
    other = make_pes(name="Fundacja Przystań", ref="pes-przystan")
    lunch = make_offering(seller, title="Obiady dla szkół")
    db.session.commit()

    page.goto(f"/oferta/{lunch.id}")
    a11y.check(page)
    page.get_by_role("link", name="Zaloguj się, aby dodać do ulubionych").click()
    a11y.check(page)
    page.fill("#email", "kupujaca@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Obiady dla szkół")  # back where it started

    page.get_by_role("button", name="Dodaj do ulubionych").click()
    a11y.check(page)
    expect(page.locator(".flash")).to_contain_text("do ulubionych")
    expect(page.get_by_role("button", name="Usuń z ulubionych")).to_be_visible()
    page.goto(f"/pes/{other.id}")
    a11y.check(page)
    page.get_by_role("button", name="Dodaj do ulubionych").click()
    a11y.check(page)

    page.get_by_role("navigation", name="Menu główne").get_by_role("link", name="Ulubione").click()
    _fits(page, a11y)
    expect(page.get_by_role("link", name="Obiady dla szkół")).to_be_visible()
    choice = page.get_by_role("group", name="Do których PES wysłać zapytanie?")
    choice.get_by_label("Spółdzielnia Socjalna Smaki").check()
    choice.get_by_label("Fundacja Przystań").check()
    page.get_by_role("button", name="Wyślij zapytanie do zaznaczonych PES").click()
    page.wait_for_load_state("load")
    a11y.check(page)
    assert sorted(re.findall(r"pes=([\w-]+)", page.url)) == ["pes-przystan", "pes-smaki"]

    page.goto("/panel")  # not for buyers: a page that says what the panel is and how to get a PES
    a11y.check(page)
    expect(page.get_by_role("link", name="Zarejestruj swój PES")).to_be_visible()
    page.goto("/ulubione")
    a11y.check(page)
    page.get_by_role("button", name="Usuń z ulubionych – Fundacja Przystań").click()
    a11y.check(page)
    expect(page.get_by_role("group", name="Do których PES wysłać zapytanie?").get_by_role("checkbox")).to_have_count(1)


def test_a_pes_owner_lands_on_the_panel(app, page, a11y):
    owner = make_user("wlascicielka@example.org")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Przystań",
                   data_confirmed_at=datetime.now(UTC) - timedelta(days=400))
    buyer = make_user("kupujacy@example.org")
    make_thread(pes, sender=buyer, subject="Catering na 120 osób")
    make_quote(make_thread(pes, sender=buyer, subject="Meble do świetlicy", status="quoted", pes_unread=False))
    today = clock.today()
    make_mark(make_offering(pes, title="Obiady"), "ZJ/2025/010", today - timedelta(days=300), today + timedelta(days=20))
    db.session.commit()

    _log_in(page, a11y, owner.email)
    expect(page).to_have_url(re.compile(r"/panel$"))
    _fits(page, a11y)
    menu = page.get_by_role("navigation", name="Menu główne")
    # The number itself is hidden from screen readers, which hear the words instead.
    expect(menu.get_by_role("link", name="Skrzynka zapytań PES (nowe: 1)", exact=True)).to_be_visible()
    expect(page.get_by_text("Nieprzeczytane wątki: 1")).to_be_visible()
    page.get_by_role("button", name=re.compile("Potwierdzam, że dane są aktualne")).click()
    a11y.check(page)
    expect(page.locator(".flash")).to_contain_text("zostały potwierdzone")
