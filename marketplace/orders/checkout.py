"""Checkout: the cart's lines become one order per PES, with the buyer's data, numbers, totals per line and
reserved stock, in one transaction (an item out of stock rolls the whole checkout back).

Online payment is not started here: the payment page creates the PaymentIntent, so a checkout never waits for
Stripe and an order whose payment never starts simply lets its reservation run out.
"""
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from marketplace import audit, clock
from marketplace.extensions import db
from marketplace.orders import money, stock
from marketplace.orders.cart import Group
from marketplace.orders.models import Order, OrderLine, OrderSequence
from marketplace.orders.stripe_gateway import gateway

NUMBER_FORMAT = "ZAM-{year}-{seq:06d}"


class CheckoutError(ValueError):
    """The checkout cannot be placed as asked; str() is the message for the buyer."""


@dataclass(frozen=True)
class BuyerData:
    name: str
    email: str
    phone: str | None
    company_name: str | None
    nip: str | None
    street: str
    postal_code: str
    city: str
    wants_invoice: bool
    note: str = ""
    institution_id: int | None = None


@dataclass(frozen=True)
class Choice:
    """How one PES's order is paid and handed over."""

    payment_method: str  # "stripe" or "transfer"
    fulfilment: str  # "pickup" or "delivery"
    delivery_address: str | None = None


def payment_methods(sales) -> list[str]:
    """The ways this PES can be paid now: online only with Stripe keys and an active account."""
    methods = []
    if sales.online_ready and gateway() is not None:
        methods.append("stripe")
    if sales.accepts_transfer and sales.bank_account:
        methods.append("transfer")
    return methods


def fulfilments(sales) -> list[str]:
    return [f for f, on in (("pickup", sales.pickup), ("delivery", sales.delivery)) if on]


def next_number(year: int) -> str:
    """The next order number of the year, never given twice (the row is updated under its lock)."""
    bump = update(OrderSequence).where(OrderSequence.year == year).values(last=OrderSequence.last + 1)
    if db.session.execute(bump).rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(OrderSequence).values(year=year, last=1))
        except IntegrityError:  # another checkout created the year's row first
            db.session.execute(bump)
    last = db.session.execute(select(OrderSequence.last).where(OrderSequence.year == year)).scalar_one()
    return NUMBER_FORMAT.format(year=year, seq=last)


def _check_choice(group: Group, choice: Choice | None) -> Choice:
    if choice is None or choice.payment_method not in payment_methods(group.sales):
        raise CheckoutError(_l("Wybierz sposób płatności dostępny u %(pes)s.", pes=group.pes.name))
    if choice.fulfilment not in fulfilments(group.sales):
        raise CheckoutError(_l("Wybierz sposób odbioru dostępny u %(pes)s.", pes=group.pes.name))
    if choice.fulfilment == "delivery" and not (choice.delivery_address or "").strip():
        raise CheckoutError(_l("Podaj adres dostawy zamówienia od %(pes)s.", pes=group.pes.name))
    return choice


def _lines(group: Group, choice: Choice) -> list[OrderLine]:
    lines = []
    for i, item in enumerate(group.ok_lines):
        o, amounts = item.offering, item.amounts
        lines.append(OrderLine(position=i, offering_id=o.id, kind=o.kind, title=o.title, unit=o.unit,
                               quantity=item.quantity, unit_net=o.price_net, vat_rate=item.vat_rate,
                               net=amounts.net, vat=amounts.vat, gross=amounts.gross,
                               withdrawal_exception=o.withdrawal_exception))
    if choice.fulfilment == "delivery" and group.sales.delivery_net > 0:
        rate = "zw" if group.sales.vat_exempt else "23"
        amounts = money.line_amounts(group.sales.delivery_net, 1, rate)
        lines.append(OrderLine(position=len(lines), kind="delivery", title=str(_l("Dostawa")), unit=None,
                               quantity=1, unit_net=group.sales.delivery_net, vat_rate=rate, net=amounts.net,
                               vat=amounts.vat, gross=amounts.gross))
    return lines


def _order(group: Group, choice: Choice, buyer: BuyerData, user, checkout_id: str) -> Order:
    now = clock.now()
    order = Order(number=next_number(clock.today().year), checkout_id=checkout_id, pes_id=group.pes.id,
                  buyer_id=user.id, institution_id=buyer.institution_id, payment_method=choice.payment_method,
                  fulfilment=choice.fulfilment, delivery_address=choice.delivery_address or None,
                  buyer_name=buyer.name, buyer_email=buyer.email, buyer_phone=buyer.phone,
                  company_name=buyer.company_name, buyer_nip=buyer.nip, street=buyer.street,
                  postal_code=buyer.postal_code, city=buyer.city, note=buyer.note,
                  wants_invoice=buyer.wants_invoice or bool(buyer.nip), consumer=not buyer.nip,
                  net_total=0, vat_total=0, gross_total=0)
    order.lines = _lines(group, choice)
    totals = money.total(order.lines)
    order.net_total, order.vat_total, order.gross_total = totals.net, totals.vat, totals.gross
    if choice.payment_method == "stripe":
        order.status = "awaiting_payment"
        order.reserved_until = now + timedelta(minutes=current_app.config["ORDER_RESERVATION_MINUTES"])
        order.platform_fee = money.fee(order.gross_total, Decimal(current_app.config["PLATFORM_FEE_PERCENT"]))
        order.stripe_account_id = group.sales.stripe_account_id
    else:
        order.status = "new"
        order.payment_due = clock.today() + timedelta(days=group.sales.payment_term_days)
    return order


def place(groups: list[Group], user, buyer: BuyerData, choices: dict[int, Choice],
          checkout_id: str | None = None) -> list[Order]:
    """One order per PES with orderable lines; raises CheckoutError or stock.OutOfStock (then roll back).
    `checkout_id` names the checkout form's submit: orders are unique per checkout and PES, so a form sent
    twice at once fails on the second insert (IntegrityError) instead of ordering twice."""
    groups = [g for g in groups if g.ok_lines]
    if not groups:
        raise CheckoutError(_l("W koszyku nie ma nic, co można teraz zamówić."))
    checkout_id = checkout_id if checkout_id and len(checkout_id) == 32 else uuid.uuid4().hex
    orders = []
    for group in groups:
        order = _order(group, _check_choice(group, choices.get(group.pes.id)), buyer, user, checkout_id)
        db.session.add(order)
        db.session.flush()
        stock.reserve(order)
        audit.record(user, "order.place", order, after={"status": order.status, "number": order.number,
                                                        "gross_total": str(order.gross_total)})
        orders.append(order)
    return orders
