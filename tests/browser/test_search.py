"""The search in a browser, on the project's test catalogue: the header's box suggests titles as one types (an ARIA
combobox driven by the keyboard), the search page filters by two facets and announces the new count, a
misspelt query leads through "Czy chodziło Ci o" to results and an offering; and all of it works without
JavaScript. axe-core checks every page, with the list of suggestions open too."""
import re

import pytest
from playwright.sync_api import expect

from search import service
from search.index import IndexUnavailable
from tests.test_search_service import sample  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
HEADER_BOX = "Szukaj produktów i usług"


def _count(page):
    return page.locator("[data-search-count]")


def test_header_box_suggests_titles_and_the_keyboard_picks_one(page, a11y, sample):
    page.goto("/")
    a11y.check(page)
    box = page.get_by_role("combobox", name=HEADER_BOX)
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("pie", delay=60)
    listbox = page.get_by_role("listbox", name="Podpowiedzi wyszukiwania")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-controls", listbox.get_attribute("id"))
    expect(listbox.get_by_role("option", name="Pierogi z kapustą i grzybami")).to_be_visible()
    expect(page.locator(".site-search [role=status]")).to_contain_text("Podpowiedzi: 3.")
    a11y.check(page)  # with the list open

    box.press("ArrowDown")
    first = listbox.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    expect(box).to_be_focused()  # the focus stays in the field
    box.press("ArrowUp")  # from the first option up to the last
    last = listbox.get_by_role("option").last
    expect(last).to_have_attribute("aria-selected", "true")
    expect(first).to_have_attribute("aria-selected", "false")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile(".*"))

    box.press("ArrowDown")  # opens the list again on its first option
    expect(listbox).to_be_visible()
    chosen = listbox.get_by_role("option").first.inner_text()
    box.press("Enter")
    page.wait_for_url(re.compile(r"/szukaj\?q="))
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Wyniki wyszukiwania: „{chosen}”")
    expect(page.locator("main .card-title").first).to_have_text(chosen)
    expect(_count(page)).to_have_attribute("role", "status")


def test_two_facets_narrow_the_results_and_the_back_button_undoes_them(page, a11y, sample):
    page.goto("/")
    a11y.check(page)
    page.get_by_role("combobox", name=HEADER_BOX).fill("")
    page.get_by_role("button", name="Szukaj", exact=True).click()  # an empty query: every offering
    page.wait_for_url(re.compile(r"/szukaj"))
    a11y.check(page)
    expect(_count(page)).to_have_text("Znalezione oferty: 26.")
    expect(page.get_by_text("Po zaznaczeniu lub odznaczeniu pola wyniki od razu")).to_be_visible()

    categories = page.get_by_role("group", name="Kategoria")
    categories.get_by_label("Sprzątanie i utrzymanie czystości").check()  # the form is sent at once
    page.wait_for_url(re.compile(r"category=sprzatanie"))
    a11y.check(page)
    expect(_count(page)).to_have_text("Znalezione oferty: 3.")
    expect(page.get_by_label("Sprzątanie i utrzymanie czystości")).to_be_focused()  # back where it was

    page.get_by_role("group", name="Powiat").get_by_label("powiat inowrocławski").check()
    page.wait_for_url(re.compile(r"powiat=0407"))
    a11y.check(page)
    expect(_count(page)).to_have_text("Znalezione oferty: 2.")
    assert "category=sprzatanie" in page.url
    expect(page.get_by_role("link", name="Usuń filtr: Powiat: powiat inowrocławski")).to_be_visible()

    page.get_by_label("Kolejność").select_option("price_asc")
    page.get_by_role("button", name="Sortuj").click()
    page.wait_for_url(re.compile(r"sort=price_asc"))
    a11y.check(page)
    expect(page.locator("main .card-title").first).to_have_text("Sprzątanie biur i hal magazynowych")

    page.go_back()
    page.go_back()
    expect(_count(page)).to_have_text("Znalezione oferty: 3.")
    a11y.check(page)
    page.get_by_role("link", name="Usuń filtr: Kategoria: Sprzątanie i utrzymanie czystości").click()
    expect(_count(page)).to_have_text("Znalezione oferty: 26.")
    a11y.check(page)


def test_a_misspelt_query_leads_to_the_suggestion_and_an_offering(page, a11y, sample):
    page.goto("/szukaj")
    a11y.check(page)
    box = page.get_by_role("combobox", name="Czego szukasz?")
    box.fill("piergoi")
    box.press("Enter")  # no suggestion highlighted: the typed text is searched
    page.wait_for_url(re.compile(r"q=piergoi"))
    a11y.check(page)
    expect(page.locator(".search-corrected")).to_contain_text("Wyniki dla: pierogi")  # corrected at once
    expect(page.locator(".card-snippet mark").first).to_be_visible()
    page.get_by_role("link", name="Pierogi z kapustą i grzybami").click()
    page.wait_for_url(re.compile(r"/oferta/\d+-pierogi-z-kapusta-i-grzybami"))
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pierogi z kapustą i grzybami")


def test_ignored_values_a_page_past_the_last_and_an_unavailable_index_are_explained(page, a11y, sample,
                                                                                     monkeypatch):
    page.goto("/szukaj?q=pierogi&category=nieznana&sort=losowo")
    a11y.check(page)
    expect(page.locator("main")).to_contain_text("nieznana")
    page.goto("/szukaj?q=pierogi&page=40")
    a11y.check(page)
    page.get_by_role("link", name="Wróć do pierwszej strony wyników").click()
    a11y.check(page)
    expect(page.locator("main .card").first).to_be_visible()

    def unavailable(params):
        raise IndexUnavailable("locked")

    monkeypatch.setattr(service, "search", unavailable)
    response = page.goto("/szukaj?q=pierogi")
    assert response.status == 503
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_search_page_fits_a_narrow_screen_with_the_list_open(page, a11y, sample):
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto("/szukaj?q=sprz%C4%85tanie&category=sprzatanie")
    a11y.check(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    box = page.get_by_role("combobox", name="Czego szukasz?")
    box.fill("sprzą")
    expect(page.get_by_role("listbox")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    a11y.check(page)


def test_without_javascript_the_forms_still_search_and_filter(browser, live_server, sample):
    context = browser.new_context(base_url=live_server, locale="pl-PL", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        # axe-core needs JavaScript, so it cannot run here: these pages are the same HTML that the tests
        # above check with it (scripts only add attributes and the list of suggestions).
        page.goto("/")
        box = page.get_by_label(HEADER_BOX)
        expect(box).not_to_have_attribute("role", "combobox")  # a plain search field
        box.fill("sprzatanie")
        box.press("Enter")
        page.wait_for_url(re.compile(r"/szukaj\?q=sprzatanie"))
        expect(_count(page)).to_have_text(re.compile(r"Znalezione oferty: [3-9]\."))
        before = _count(page).inner_text()
        expect(page.get_by_text("wyniki od razu się odświeżą")).to_be_hidden()
        forms = page.get_by_role("group", name="Forma prawna")
        forms.get_by_label("Centrum Integracji Społecznej (CIS)").check()
        assert "legal_form" not in page.url  # nothing is sent until the button is pressed
        page.get_by_role("button", name="Zastosuj filtry").click()
        page.wait_for_url(re.compile(r"legal_form=cis"))
        expect(_count(page)).to_have_text("Znalezione oferty: 2.")
        assert before != "Znalezione oferty: 2."
        expect(page.get_by_label("Centrum Integracji Społecznej (CIS)")).to_be_checked()
        page.get_by_role("link", name="Usuń filtr: Forma prawna: Centrum Integracji Społecznej (CIS)").click()
        expect(_count(page)).to_have_text(before)
    finally:
        context.close()
