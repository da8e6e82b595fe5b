"""A PES starts selling and handles an order in a browser: its owner sets sales and payments (bank transfer,
pickup) on the settings page, a buyer reads the consumer pages and orders, and the PES issues the invoice and
downloads it. axe-core checks every page visited."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.orders.models import Invoice, PesSales
from tests.browser.test_inquiries import _sign_in, _submit, _visit, new_page  # noqa: F401 (fixture)
from tests.factories import make_pes, make_user
from tests.order_factories import product

pytestmark = pytest.mark.browser


@pytest.fixture
def pes(app):
    owner = make_user("wlascicielka@example.org", name="Ewa Właścicielka")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Len", nip="5260250274", street="ul. Szeroka 1",
                   postal_code="87-100", city="Toruń")
    cloth = product(pes, title="Obrus lniany 140 × 180 cm", price="120.00", vat="23", stock=4)
    make_user("kupujacy@example.org", name="Anna Kowalska")
    db.session.commit()
    pes.cloth_id = cloth.id
    return pes


def test_a_pes_starts_selling_and_invoices_an_order(app, page, a11y, new_page, pes):
    _sign_in(page, a11y, "wlascicielka@example.org")
    _visit(page, a11y, f"/panel/pes/{pes.id}/sprzedaz")
    expect(page.get_by_text("Płatności online są wyłączone na tym portalu.")).to_be_visible()
    page.get_by_label("Przyjmujemy zamówienia przez portal").check()
    page.get_by_label("Kupujący mogą zapłacić przelewem na nasz rachunek").check()
    page.get_by_label("Numer rachunku bankowego").fill("PL61 1090 1014 0000 0712 1981 2874")
    page.get_by_label("Adres odbioru osobistego").fill("ul. Szeroka 1, 87-100 Toruń")
    _submit(page, page.get_by_role("button", name="Zapisz ustawienia sprzedaży"))
    a11y.check(page)
    sales = db.session.get(PesSales, pes.id)
    assert sales.enabled and sales.bank_account == "PL61109010140000071219812874"

    buyer = new_page()
    _sign_in(buyer, a11y, "kupujacy@example.org")
    for path in ("/odstapienie-od-umowy", "/informacje-o-platformie"):
        _visit(buyer, a11y, path)
    _visit(buyer, a11y, f"/pes/{pes.id}")
    _visit(buyer, a11y, f"/oferta/{pes.cloth_id}")
    expect(buyer.get_by_text("Sprzedawca: przedsiębiorca")).to_be_visible()
    _submit(buyer, buyer.get_by_role("button", name="Dodaj do koszyka"))
    a11y.check(buyer)
    _visit(buyer, a11y, "/zamowienie")
    buyer.get_by_label("Nazwa firmy lub instytucji (do faktury)").fill("Gmina Lubicz")
    buyer.get_by_label("NIP (do faktury)").fill("879-017-68-02")
    buyer.get_by_label("Ulica i numer").fill("ul. Toruńska 21")
    buyer.get_by_label("Kod pocztowy").fill("87-162")
    buyer.get_by_label("Miejscowość").fill("Lubicz")
    buyer.get_by_label("Akceptuję regulamin").check()
    _submit(buyer, buyer.get_by_role("button", name="Zamawiam z obowiązkiem zapłaty"))
    a11y.check(buyer)

    _visit(page, a11y, f"/panel/pes/{pes.id}/zamowienia")
    _submit(page, page.get_by_role("row").filter(has_text="Gmina Lubicz").get_by_role("link"))
    a11y.check(page)
    _submit(page, page.get_by_role("button", name="Wystaw fakturę"))
    a11y.check(page)
    invoice = db.session.scalars(select(Invoice)).one()
    assert invoice.number == "FV/1/" + str(invoice.year) and invoice.data["buyer"]["nip"] == "8790176802"
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
