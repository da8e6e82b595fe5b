"""Builders for the order tests: PES that sell on the portal, products with stock, orders as checkout
writes them."""
import itertools
from datetime import timedelta
from decimal import Decimal

from catalog.models import Offering
from marketplace import clock
from marketplace.extensions import db
from marketplace.orders import money
from marketplace.orders.models import Order, OrderLine, PesSales
from tests.factories import make_pes, make_user

_seq = itertools.count(1)


def selling_pes(name: str | None = None, owner=None, nip: str = "5260250274", **sales):
    """A verified PES with an owner, its NIP and address, taking orders (bank transfer by default)."""
    owner = owner or make_user(name="Właścicielka PES")
    pes = make_pes(owner=owner, name=name, nip=nip, street="ul. Szeroka 1", postal_code="87-100", city="Toruń",
                   email="biuro@example.org")
    values = {"enabled": True, "accepts_transfer": True, "bank_account": "PL61109010140000071219812874",
              "payment_term_days": 14, "pickup": True, "pickup_address": "ul. Szeroka 1, 87-100 Toruń"}
    values.update(sales)
    db.session.add(PesSales(pes_id=pes.id, **values))
    db.session.flush()
    return pes, owner


def product(pes, title: str = "Miód wielokwiatowy 1 kg", price: str = "40.00", vat: str = "5",
            stock: int | None = 10, **fields) -> Offering:
    values = {"kind": "product", "description": "Miód z pasieki spółdzielni.", "category": "zywnosc",
              "unit": "szt.", "tags": []}
    values.update(fields)
    item = Offering(ref=f"of-ord-{next(_seq)}", pes=pes, title=title, status="published",
                    published_at=clock.now(), price_net=Decimal(price), vat_rate=vat, stock=stock, **values)
    db.session.add(item)
    db.session.flush()
    return item


def make_order(pes, buyer=None, items=(("Miód wielokwiatowy 1 kg", 2, "40.00", "5"),), *, status="new",
               payment_method="transfer", nip: str | None = None, company: str | None = None,
               wants_invoice: bool = False, **fields) -> Order:
    """An order of `items` (title, quantity, unit net, VAT rate) with its totals computed per line."""
    n = next(_seq)
    order = Order(number=f"ZAM-T-{n:06d}", checkout_id=f"t{n}", pes_id=pes.id, buyer_id=buyer.id if buyer else None,
                  status=status, payment_method=payment_method, fulfilment="pickup",
                  buyer_name=buyer.name if buyer else "Anna Kowalska",
                  buyer_email=buyer.email if buyer else "anna@example.org", company_name=company, buyer_nip=nip,
                  street="ul. Długa 5", postal_code="85-001", city="Bydgoszcz", consumer=nip is None,
                  wants_invoice=wants_invoice or nip is not None, net_total=0, vat_total=0, gross_total=0,
                  **fields)
    for i, (title, qty, unit_net, rate) in enumerate(items):
        amounts = money.line_amounts(Decimal(unit_net), qty, rate)
        order.lines.append(OrderLine(position=i, kind="product", title=title, unit="szt.", quantity=qty,
                                     unit_net=Decimal(unit_net), vat_rate=rate, net=amounts.net,
                                     vat=amounts.vat, gross=amounts.gross))
    totals = money.total(order.lines)
    order.net_total, order.vat_total, order.gross_total = totals.net, totals.vat, totals.gross
    if payment_method == "transfer":
        order.payment_due = (clock.now() + timedelta(days=14)).date()
    db.session.add(order)
    db.session.flush()
    return order
