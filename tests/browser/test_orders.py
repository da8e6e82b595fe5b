"""Ordering from two PES in a browser, paying one order by card and the other by bank transfer.

A buyer puts products of two PES in the cart from their offering pages, checks out once (one order per PES),
pays the first PES's order by card on the payment page, where localstripe's stand-in of Stripe.js takes the
card, and chooses a bank transfer against an invoice for the second. Each PES, signed in in a browser of its
own, sees its order; the paid one is paid, and localstripe's signed webhook reaches the portal as well.
axe-core checks every page visited.
"""
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.models import Offering
from marketplace.extensions import db
from marketplace.orders.models import Order
from tests.browser.test_inquiries import _sign_in, _submit, _visit, new_page  # noqa: F401 (fixture)
from tests.factories import make_user
from tests.order_factories import product, selling_pes
from tests.stripe_server import flush_localstripe, register_webhook, stripe_config, unregister_webhook
from tests.test_orders_stripe_live import events_about

pytestmark = pytest.mark.browser

HONEY_PES = "Spółdzielnia Socjalna Pszczela Dolina"
CLAY_PES = "Fundacja Glina i Ogień"


@pytest.fixture
def app_config(localstripe):
    flush_localstripe(localstripe)
    return dict(stripe_config(localstripe), SERVER_NAME=None)


@pytest.fixture
def shop(app):
    honey_pes, _owner = selling_pes(HONEY_PES, owner=make_user("miod@example.org", name="Ewa Pszczelarz"),
                                         accepts_transfer=False, stripe_account_id="acct_honey",
                                         stripe_state="active")
    clay_pes, _owner = selling_pes(CLAY_PES, owner=make_user("glina@example.org", name="Jan Garncarz"),
                                       nip="1234563218")
    honey = product(honey_pes, title="Miód lipowy 1 kg", price="45.00", vat="5", stock=3)
    bowl = product(clay_pes, title="Misa ceramiczna ręcznie toczona", price="80.00", vat="23", stock=None)
    buyer = make_user("kupujacy@example.org", name="Anna Kowalska")
    db.session.commit()
    return {"honey": honey, "bowl": bowl, "honey_pes": honey_pes, "clay_pes": clay_pes, "buyer": buyer}


def _add_to_cart(page, a11y, offering, quantity: int):
    _visit(page, a11y, f"/oferta/{offering.id}")
    page.get_by_label("Liczba").fill(str(quantity))
    _submit(page, page.get_by_role("button", name="Dodaj do koszyka"))
    expect(page.get_by_text("Dodano do koszyka.")).to_be_visible()
    a11y.check(page)


def _check_out(page, a11y):
    _visit(page, a11y, "/koszyk")
    expect(page.get_by_role("heading", name=f"Sprzedawca: {HONEY_PES}")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Sprzedawca: {CLAY_PES}")).to_be_visible()
    expect(page.get_by_text("Razem do zapłaty (brutto): 192,90 zł")).to_be_visible()  # 94,50 + 98,40
    _submit(page, page.get_by_role("link", name="Przejdź do zamówienia"))
    a11y.check(page)
    page.get_by_label("Ulica i numer").fill("ul. Długa 5")
    page.get_by_label("Kod pocztowy").fill("85-001")
    page.get_by_label("Miejscowość").fill("Bydgoszcz")
    page.get_by_role("group", name=f"Płatność – {HONEY_PES}").get_by_label("online").check()
    page.get_by_role("group", name=f"Płatność – {CLAY_PES}").get_by_label("przelew").check()
    page.get_by_label("Akceptuję regulamin").check()
    _submit(page, page.get_by_role("button", name="Zamawiam z obowiązkiem zapłaty"))
    a11y.check(page)
    expect(page.get_by_role("heading", name="Dziękujemy – zamówienie złożone")).to_be_visible()


def _pay_by_card(page, a11y):
    _submit(page, page.get_by_role("link", name="Zapłać online 94,50 zł"))
    a11y.check(page)
    card = page.locator("#payment-element")
    card.get_by_placeholder("number").fill("4242424242424242")
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("30")  # two digits: the stand-in prefixes "20"
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("87100")
    _submit(page, page.get_by_role("button", name="Zapłać 94,50 zł"))
    a11y.check(page)
    expect(page.get_by_text("jest opłacone")).to_be_visible()


def _pes_sees_its_order(page, a11y, email, pes, status_text):
    _sign_in(page, a11y, email)
    _visit(page, a11y, f"/panel/pes/{pes.id}/zamowienia")
    row = page.get_by_role("row").filter(has_text="Anna Kowalska")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(status_text)
    _submit(page, row.get_by_role("link"))
    a11y.check(page)
    return page


def test_buyer_orders_from_two_pes_pays_one_by_card_and_the_other_by_transfer(
        app, page, a11y, new_page, shop, live_server, localstripe):
    register_webhook(localstripe, "portal", f"{live_server}/stripe/webhook", events=["payment_intent.succeeded"])
    try:
        _sign_in(page, a11y, "kupujacy@example.org")
        _add_to_cart(page, a11y, shop["honey"], 2)
        _add_to_cart(page, a11y, shop["bowl"], 1)
        _check_out(page, a11y)
        _pay_by_card(page, a11y)

        db.session.expire_all()
        honey_order = db.session.scalars(select(Order).where(Order.pes_id == shop["honey_pes"].id)).one()
        bowl_order = db.session.scalars(select(Order).where(Order.pes_id == shop["clay_pes"].id)).one()
        assert honey_order.status == "paid" and honey_order.payment_method == "stripe"
        assert bowl_order.status == "new" and bowl_order.payment_method == "transfer" and bowl_order.paid_at is None
        assert db.session.get(Offering, shop["honey"].id).stock == 1

        honey_side = _pes_sees_its_order(new_page(), a11y, "miod@example.org", shop["honey_pes"], "opłacone")
        expect(honey_side.get_by_text("Opłacone", exact=False).first).to_be_visible()
        clay_side = _pes_sees_its_order(new_page(), a11y, "glina@example.org", shop["clay_pes"], "nowe")
        expect(clay_side.get_by_text("Termin płatności")).to_be_visible()
        _submit(clay_side, clay_side.get_by_role("button", name="Oznacz jako opłacone (przelew otrzymany)"))
        a11y.check(clay_side)
        db.session.expire_all()
        assert db.session.get(Order, bowl_order.id).paid_at is not None

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not events_about(honey_order.stripe_payment_intent,
                                                              "payment_intent.succeeded"):
            time.sleep(0.2)
            db.session.expire_all()
        [event] = events_about(honey_order.stripe_payment_intent, "payment_intent.succeeded")
        assert event.outcome == "already paid"  # the return page paid it first; the webhook changed nothing
    finally:
        unregister_webhook(localstripe, "portal")
