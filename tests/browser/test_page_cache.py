"""Kept public pages in a browser: a new visitor gets the category and offering pages from the page cache, a
PES member renames the offering in the editor and the visitor sees the new title on the next load; visitors who
were served a kept offering page each put the product in their own cart with the form's token. axe-core checks
every page."""
import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.browser.test_catalog import _log_in
from tests.browser.test_inquiries import new_page  # noqa: F401 (fixture)
from tests.factories import make_user
from tests.order_factories import product, selling_pes

pytestmark = pytest.mark.browser


def _visit(page, a11y, path: str) -> str:
    response = page.goto(path)
    assert response.ok, (path, response.status)
    a11y.check(page)
    return response.headers.get("x-page-cache", "")


def test_a_visitor_sees_a_rename_at_once_and_kept_pages_take_orders(app, page, a11y, new_page):
    pes, _owner = selling_pes("Spółdzielnia Pasieka", owner=make_user("pasieka@example.org"))
    honey = product(pes, title="Miód lipowy 1 kg", price="45.00", vat="5", stock=5)
    db.session.commit()

    visitor = new_page()
    assert _visit(visitor, a11y, "/kategoria/zywnosc") == "miss"
    assert _visit(visitor, a11y, "/kategoria/zywnosc") == "hit"  # no form there: the visitor has no cookie
    expect(visitor.get_by_role("link", name="Miód lipowy 1 kg")).to_be_visible()

    _log_in(page, a11y, "pasieka@example.org")
    _visit(page, a11y, f"/panel/oferty/{honey.id}/edytuj")
    page.get_by_label("Tytuł").fill("Miód lipowy z Borów Tucholskich 1 kg")
    page.get_by_role("button", name="Zapisz ofertę").click()
    page.wait_for_load_state("load")
    a11y.check(page)

    assert _visit(visitor, a11y, "/kategoria/zywnosc") == "miss"
    expect(visitor.get_by_role("link", name="Miód lipowy z Borów Tucholskich 1 kg")).to_be_visible()
    expect(visitor.get_by_role("link", name="Miód lipowy 1 kg", exact=True)).to_have_count(0)

    visitor.get_by_role("link", name="Miód lipowy z Borów Tucholskich 1 kg").click()
    a11y.check(visitor)
    offering_path = visitor.url.split("://", 1)[1].split("/", 1)[1]
    states = []
    for _ in range(2):  # two more visitors, each new to the portal, are served the kept page
        buyer = new_page()
        states.append(_visit(buyer, a11y, "/" + offering_path))
        buyer.get_by_label("Liczba").fill("2")
        buyer.get_by_role("button", name="Dodaj do koszyka").click()
        buyer.wait_for_load_state("load")
        expect(buyer.get_by_text("Dodano do koszyka.")).to_be_visible()
        a11y.check(buyer)
        _visit(buyer, a11y, "/koszyk")
        expect(buyer.get_by_role("link", name="Miód lipowy z Borów Tucholskich 1 kg")).to_be_visible()
    assert "hit" in states
