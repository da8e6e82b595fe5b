"""The base layout in a real browser: accessible, usable at 320 px, language switch, error pages."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_home_page_is_accessible_and_fits_320px(page, a11y):
    page.goto("/")
    a11y.check(page)
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # 200% zoom of a 640 px window is the same layout width as 320 px; nothing may need sideways scrolling.


def test_skip_link_moves_focus_to_main(page, a11y):
    page.goto("/")
    a11y.check(page)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Przejdź do treści")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_language_switch_to_english_and_back(page, a11y):
    page.goto("/deklaracja-dostepnosci")
    a11y.check(page)
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/deklaracja-dostepnosci$"))
    a11y.check(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
    page.get_by_role("link", name="Polski").click()
    a11y.check(page)
    expect(page.locator("html")).to_have_attribute("lang", "pl")


def test_not_found_page_is_polish_and_accessible(page, a11y):
    response = page.goto("/nie-ma-takiej-strony")
    assert response.status == 404
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Nie znaleziono strony")


def test_no_resources_from_outside_the_portal(page, a11y, live_server):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/")
    a11y.check(page)
    assert requested and all(u.startswith(live_server) or u.startswith("data:") for u in requested), requested
