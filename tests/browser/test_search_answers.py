"""What a buyer sees in a browser when the query is not what the catalogue says: a misspelt query shows the
corrected results at once with a way back to the words as typed, text that cannot be searched is refused
with a message next to the box, a place nobody serves is named with links to the places served, and the
price order follows the gross prices on the cards. axe-core checks every page."""
import re

import pytest
from playwright.sync_api import expect

from tests.test_search_answers import catalogue  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def _search(page, text):
    box = page.get_by_role("search", name="Szukaj w katalogu ofert").get_by_role("combobox")
    box.fill(text)
    box.press("Enter")
    page.wait_for_load_state("load")


def test_a_misspelt_query_shows_the_corrected_results_and_can_be_searched_as_typed(page, a11y, catalogue):
    page.goto("/szukaj")
    a11y.check(page)
    _search(page, "kateringg")
    expect(page.locator(".search-corrected")).to_contain_text("Wyniki dla: catering — szukaj jednak: kateringg")
    expect(page.get_by_role("link", name="Catering dla szkół")).to_be_visible()
    a11y.check(page)

    page.locator(".search-corrected").get_by_role("link", name="kateringg").click()
    page.wait_for_load_state("load")
    assert "exact=1" in page.url
    expect(page.locator("[data-search-count]")).to_have_text("Nie znaleziono ofert.")
    a11y.check(page)
    page.locator(".search-suggestion").get_by_role("link", name="catering").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("link", name="Catering dla szkół")).to_be_visible()
    a11y.check(page)


def test_text_that_cannot_be_searched_is_explained_next_to_the_box(page, a11y, catalogue):
    page.goto("/szukaj")
    a11y.check(page)
    _search(page, "i w dla")
    expect(page.get_by_role("alert")).to_contain_text("tylko ze słów zbyt pospolitych")
    expect(page.get_by_role("search", name="Szukaj w katalogu ofert").get_by_role("combobox")).to_have_value(
        "i w dla")
    a11y.check(page)
    _search(page, "90900000-5")
    expect(page.get_by_role("alert")).to_contain_text("ten kod to 90900000-6")
    a11y.check(page)
    _search(page, "90900000-6")
    expect(page.get_by_role("link", name="Sprzątanie biur")).to_be_visible()
    a11y.check(page)


def test_a_place_nobody_serves_leads_to_the_places_served(page, a11y, catalogue):
    page.goto("/szukaj?q=catering+bydgoszcz")
    note = page.locator(".search-places")
    expect(note).to_contain_text("Żadna ze znalezionych ofert nie obejmuje miejsca")
    a11y.check(page)
    note.get_by_role("link", name=re.compile("Toruń")).click()
    page.wait_for_load_state("load")
    assert "powiat=0463" in page.url
    expect(page.get_by_role("link", name="Catering dla szkół")).to_be_visible()
    a11y.check(page)


def test_price_order_follows_the_gross_prices_on_the_cards(page, a11y, catalogue):
    page.goto("/szukaj?q=pralnicze")
    a11y.check(page)
    page.get_by_label("Kolejność").select_option("price_asc")
    page.get_by_role("button", name="Sortuj").click()
    page.wait_for_load_state("load")
    titles = page.locator(".offering-cards h3").all_inner_texts()
    assert [t.strip() for t in titles] == ["Worki pralnicze", "Usługi pralnicze dla pensjonatów"]
    a11y.check(page)


def test_few_full_matches_are_followed_by_partial_ones_with_a_note(page, a11y, catalogue):
    page.goto("/szukaj?q=%C5%9Bwiece+z+filcu")
    expect(page.locator(".search-partial")).to_contain_text("Żadna oferta nie ma wszystkich wpisanych słów")
    expect(page.get_by_role("link", name="Świece sojowe")).to_be_visible()
    a11y.check(page)


def test_the_cpv_finder_leads_to_the_offerings_with_a_code(page, a11y, catalogue):
    from catalog import cpv
    from marketplace.extensions import db

    cpv.ensure_loaded()
    db.session.commit()
    page.goto("/cpv?q=90911200")
    a11y.check(page)
    page.get_by_role("link", name=re.compile("Oferty z tym kodem 90911200-8")).click()
    page.wait_for_load_state("load")
    assert "q=90911200-8" in page.url
    expect(page.get_by_role("link", name="Sprzątanie biur")).to_be_visible()
    a11y.check(page)
