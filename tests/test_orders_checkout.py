"""The cart and the checkout: one order per PES, exact totals, reserved stock, bad input refused whole."""
import re
from decimal import Decimal

from sqlalchemy import select

from catalog.models import Offering
from catalog.views import offering_url
from marketplace.extensions import db
from marketplace.orders.models import Order
from tests.conftest import csrf_token
from tests.factories import login, make_user
from tests.order_factories import product, selling_pes


def add(client, offering, quantity=1):
    """The offering page's "add to cart" form, posted (pages without it give the token all the same)."""
    with client.application.test_request_context():
        page = offering_url(offering)
    token = csrf_token(client, page)
    return client.post("/koszyk/dodaj", data={"csrf_token": token, "offering_id": offering.id,
                                              "quantity": quantity, "next": "/koszyk"})


BUYER = {"name": "Anna Kowalska", "email": "anna@example.org", "phone": "", "street": "ul. Długa 5",
         "postal_code": "85-001", "city": "Bydgoszcz", "accept": "y"}


def checkout_page(client) -> dict:
    """The checkout form's hidden fields: the CSRF token and the lines the buyer was shown."""
    html = client.get("/zamowienie").get_data(as_text=True)
    return {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)
            for name in ("csrf_token", "seen", "attempt")}


def checkout(client, groups, hidden=None, **fields):
    data = dict(BUYER, **(hidden or checkout_page(client)), **fields)
    for pes in groups:
        data.setdefault(f"pay_{pes.id}", "transfer")
        data.setdefault(f"ship_{pes.id}", "pickup")
    return client.post("/zamowienie", data=data)


def signed_in_buyer(client, email="kupujacy@example.org"):
    user = make_user(email=email, name="Anna Kowalska")
    db.session.commit()
    login(client, email)
    return user


def test_cart_groups_lines_by_pes_and_shows_gross_totals(client):
    pes_a, _ = selling_pes("Spółdzielnia Socjalna Miód")
    pes_b, _ = selling_pes("Fundacja Ceramika", nip="1234563218")
    honey = product(pes_a, price="40.00", vat="5")
    bowl = product(pes_b, title="Miska ceramiczna", price="33.33", vat="23")
    db.session.commit()
    add(client, honey, 2)
    add(client, bowl, 3)
    html = client.get("/koszyk").get_data(as_text=True)
    assert "Sprzedawca: Spółdzielnia Socjalna Miód" in html and "Sprzedawca: Fundacja Ceramika" in html
    assert "84,00 zł" in html  # 2 × 40,00 net + 5% VAT
    assert "122,99 zł" in html  # 3 × 33,33 = 99,99 net, VAT 23,00 (rounded once, per line)
    assert "206,99 zł" in html


def test_checkout_makes_one_order_per_pes_with_exact_totals_and_reserves_stock(client):
    pes_a, _ = selling_pes("Spółdzielnia Socjalna Miód")
    pes_b, _ = selling_pes("Fundacja Ceramika", nip="1234563218")
    honey = product(pes_a, price="40.00", vat="5", stock=5)
    bowl = product(pes_b, title="Miska ceramiczna", price="33.33", vat="23", stock=None)
    buyer = signed_in_buyer(client)
    add(client, honey, 2)
    add(client, bowl, 3)
    resp = checkout(client, [pes_a, pes_b], nip="5260250274", company_name="Firma Testowa sp. z o.o.")
    assert resp.status_code == 302 and "/zamowienia/zlozone/" in resp.location
    orders = db.session.scalars(select(Order).order_by(Order.id)).all()
    assert [o.pes_id for o in orders] == [pes_a.id, pes_b.id]
    assert len({o.checkout_id for o in orders}) == 1 and len({o.number for o in orders}) == 2
    assert re.fullmatch(r"ZAM-\d{4}-\d{6}", orders[0].number)
    assert orders[0].gross_total == Decimal("84.00") and orders[1].gross_total == Decimal("122.99")
    assert orders[1].vat_total == Decimal("23.00") and orders[1].lines[0].vat == Decimal("23.00")
    assert all(o.buyer_id == buyer.id and not o.consumer and o.wants_invoice for o in orders)
    assert all(o.status == "new" and o.payment_due is not None for o in orders)
    db.session.expire_all()
    assert db.session.get(Offering, honey.id).stock == 3
    page = client.get(resp.location).get_data(as_text=True)
    assert orders[0].number in page and orders[1].number in page
    assert client.get("/koszyk").get_data(as_text=True).count("Koszyk jest pusty") == 1


def test_checkout_mails_the_buyer_and_each_pes(client, mailbox):
    pes, owner = selling_pes("Spółdzielnia Socjalna Miód")
    honey = product(pes)
    signed_in_buyer(client)
    add(client, honey)
    checkout(client, [pes])
    number = db.session.scalars(select(Order.number)).one()
    assert number in mailbox.last("anna@example.org")["Subject"]  # the address given at checkout
    assert number in mailbox.last(owner.email)["Subject"]
    assert "40,00 zł" not in mailbox.body(mailbox.last(owner.email))  # gross, not net, in the summary
    assert "42,00 zł" in mailbox.body(mailbox.last(owner.email))  # 1 × 40,00 net + 5% VAT


def test_checkout_refuses_more_than_is_left_and_writes_nothing(client):
    pes, _ = selling_pes()
    honey = product(pes, stock=2)
    other = product(pes, title="Świeca sojowa", stock=4)
    signed_in_buyer(client)
    add(client, other, 4)
    add(client, honey, 2)
    hidden = checkout_page(client)
    Offering.query.filter_by(id=honey.id).update({"stock": 1})  # someone else bought one meanwhile
    db.session.commit()
    resp = checkout(client, [pes], hidden)
    assert resp.status_code == 302 and resp.location.endswith("/koszyk")
    assert db.session.scalars(select(Order)).all() == []
    db.session.expire_all()
    assert db.session.get(Offering, other.id).stock == 4  # the other line's reservation was rolled back
    page = client.get("/koszyk").get_data(as_text=True)
    assert "Dostępnych jest tylko 1 szt." in page


def test_a_checkout_posted_without_the_lines_it_was_shown_is_sent_back_to_the_cart(client):
    pes, _ = selling_pes()
    signed_in_buyer(client)
    add(client, product(pes))
    hidden = checkout_page(client)
    resp = checkout(client, [pes], {"csrf_token": hidden["csrf_token"]})
    assert resp.status_code == 302 and resp.location.endswith("/koszyk")
    assert db.session.scalars(select(Order)).all() == []


def test_checkout_form_errors_are_shown_at_the_fields(client):
    pes, _ = selling_pes()
    honey = product(pes)
    signed_in_buyer(client)
    add(client, honey)
    resp = checkout(client, [pes], nip="1234567890", postal_code="85001", accept="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Ten NIP jest niepoprawny" in html and "Kod pocztowy ma postać 00-000." in html
    assert "Zaakceptuj regulamin" in html
    assert db.session.scalars(select(Order)).all() == []


def test_online_payment_is_not_offered_without_stripe_keys(client):
    pes, _ = selling_pes(accepts_transfer=False, stripe_account_id="acct_1", stripe_state="active")
    honey = product(pes)
    signed_in_buyer(client)
    add(client, honey)
    html = client.get("/zamowienie").get_data(as_text=True)
    assert "Płatności online są wyłączone na tym portalu." in html
    assert 'value="stripe"' not in html
    resp = checkout(client, [pes], **{f"pay_{pes.id}": "stripe"})
    assert resp.status_code == 400 and db.session.scalars(select(Order)).all() == []


def test_price_on_request_and_not_selling_pes_stay_out_of_the_checkout(client):
    pes, _ = selling_pes()
    quiet, _ = selling_pes("Stowarzyszenie Bez Sklepu", nip="1234563218", enabled=False)
    on_request = product(pes, title="Catering na zamówienie", price="1.00")
    on_request.price_net = None
    elsewhere = product(quiet, title="Kosz wiklinowy")
    signed_in_buyer(client)
    add(client, on_request)
    add(client, elsewhere)
    html = client.get("/koszyk").get_data(as_text=True)
    assert "Cena do uzgodnienia – zamiast zamówienia wyślij zapytanie." in html
    assert "nie przyjmuje teraz zamówień przez portal" in html
    resp = client.get("/zamowienie")
    assert resp.status_code == 302 and resp.location.endswith("/koszyk")


def test_checkout_needs_an_account(client):
    pes, _ = selling_pes()
    add(client, product(pes))
    resp = client.get("/zamowienie")
    assert resp.status_code == 302 and "/konto/logowanie" in resp.location


def test_another_buyers_order_is_not_found(client):
    pes, _ = selling_pes()
    signed_in_buyer(client)
    add(client, product(pes))
    checkout(client, [pes])
    number = db.session.scalars(select(Order.number)).one()
    client.post("/konto/wyloguj", data={"csrf_token": csrf_token(client, "/zamowienia")})
    signed_in_buyer(client, "inny@example.org")
    assert client.get(f"/zamowienia/{number}").status_code == 404
    assert number not in client.get("/zamowienia").get_data(as_text=True)


def test_an_editor_save_keeps_the_items_ordered_while_the_form_was_open(app):
    from catalog import services

    pes, owner = selling_pes()
    honey = product(pes, stock=10)
    db.session.commit()
    seen = honey.stock  # the editor opens with 10
    Offering.query.filter_by(id=honey.id).update({"stock": Offering.stock - 4})  # a checkout takes 4
    db.session.commit()
    services.update_offering(owner, honey, {"stock": 15, "stock_seen": seen}, [])  # the PES adds 5
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Offering, honey.id).stock == 11
    services.update_offering(owner, honey, {"stock": 11, "stock_seen": 11}, [])  # saved unchanged
    Offering.query.filter_by(id=honey.id).update({"stock": 2})
    services.update_offering(owner, honey, {"stock": 0, "stock_seen": 11}, [])  # "none left": never below 0
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Offering, honey.id).stock == 0


def test_the_same_checkout_form_submitted_twice_orders_once(client):
    pes, _ = selling_pes()
    honey = product(pes, stock=10)
    signed_in_buyer(client)
    add(client, honey, 2)
    hidden = checkout_page(client)
    cookie = client.get_cookie("session").value  # the cart as it was before the first answer
    first = checkout(client, [pes], hidden)
    client.set_cookie("session", cookie)
    second = checkout(client, [pes], hidden)
    assert first.location == second.location and "/zamowienia/zlozone/" in second.location
    assert len(db.session.scalars(select(Order)).all()) == 1
    db.session.expire_all()
    assert db.session.get(Offering, honey.id).stock == 8


def test_a_price_changed_while_the_form_was_open_sends_the_buyer_back_to_the_cart(client):
    pes, _ = selling_pes()
    honey = product(pes, price="40.00")
    signed_in_buyer(client)
    add(client, honey)
    hidden = checkout_page(client)
    honey.price_net = Decimal("400.00")
    db.session.commit()
    resp = checkout(client, [pes], hidden)
    assert resp.status_code == 302 and resp.location.endswith("/koszyk")
    assert db.session.scalars(select(Order)).all() == []
    assert "420,00 zł" in client.get("/koszyk").get_data(as_text=True)
