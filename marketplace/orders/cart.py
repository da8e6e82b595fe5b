"""The cart: offering ids and quantities kept in the visitor's session, read back against the catalogue.

Only the ids and quantities are kept; prices, titles and availability are read from the database each time,
so the cart never shows a price the PES has since changed. Lines that can no longer be ordered are shown as
such and left out of the checkout.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from flask import session
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from catalog.models import Offering
from marketplace.extensions import db
from marketplace.orders import money
from marketplace.orders.models import PesSales

MAX_LINES = 30
MAX_QUANTITY = 999


@dataclass
class Line:
    offering: Offering
    quantity: int
    problem: str | None = None  # why the line cannot be ordered now, for the person
    vat_exempt: bool = False  # the seller is exempt from VAT (art. 113): its sales carry no VAT

    @property
    def vat_rate(self) -> str:
        return "zw" if self.vat_exempt else self.offering.vat_rate

    @property
    def amounts(self) -> money.Amounts:
        return money.line_amounts(self.offering.price_net, self.quantity, self.vat_rate)

    @property
    def unit_gross(self) -> Decimal:
        return money.line_amounts(self.offering.price_net, 1, self.vat_rate).gross


@dataclass
class Group:
    """The lines of one PES: they become one order."""

    pes: object
    sales: PesSales
    lines: list[Line] = field(default_factory=list)

    @property
    def ok_lines(self) -> list[Line]:
        return [line for line in self.lines if line.problem is None]

    @property
    def totals(self) -> money.Amounts:
        return money.total([line.amounts for line in self.ok_lines])


def raw() -> dict[str, int]:
    return dict(session.get("cart") or {})


def _store(items: dict[str, int]) -> None:
    session["cart"] = items
    session.modified = True


def count() -> int:
    return sum(raw().values())


def put(offering_id: int, quantity: int, add: bool = True) -> None:
    """Add `quantity` (or set it, with add=False); 0 removes the line. Quantities are kept within limits."""
    items = raw()
    key = str(offering_id)
    new = (items.get(key, 0) + quantity) if add else quantity
    if new <= 0:
        items.pop(key, None)
    elif key in items or len(items) < MAX_LINES:
        items[key] = min(new, MAX_QUANTITY)
    _store(items)


def clear(offering_ids=None) -> None:
    """Empty the cart, or remove only these offerings (those just ordered)."""
    if offering_ids is None:
        _store({})
        return
    _store({k: v for k, v in raw().items() if int(k) not in set(offering_ids)})


def orderable_problem(offering: Offering | None, sales: PesSales | None, quantity: int) -> str | None:
    """Why this offering cannot be ordered in this quantity, or None."""
    if offering is None or not offering.is_public:
        return str(_l("Ta oferta nie jest już dostępna."))
    if sales is None or not sales.enabled:
        return str(_l("Ten podmiot nie przyjmuje teraz zamówień przez portal – wyślij zapytanie."))
    if offering.price_net is None:
        return str(_l("Cena do uzgodnienia – zamiast zamówienia wyślij zapytanie."))
    if offering.stock is not None and offering.stock < quantity:
        if offering.stock == 0:
            return str(_l("Brak w magazynie."))
        return str(_l("Dostępnych jest tylko %(n)d szt.", n=offering.stock))
    return None


def groups() -> list[Group]:
    """The cart's lines grouped by PES, in the order they were added, each checked for availability."""
    items = raw()
    if not items:
        return []
    ids = [int(k) for k in items]
    offerings = {o.id: o for o in db.session.scalars(
        db.select(Offering).where(Offering.id.in_(ids)).options(selectinload(Offering.pes))).all()}
    sales = {s.pes_id: s for s in db.session.scalars(
        db.select(PesSales).where(PesSales.pes_id.in_({o.pes_id for o in offerings.values()}))).all()}
    if len(offerings) < len(items):  # offerings deleted meanwhile leave the cart (and its count)
        _store({k: v for k, v in items.items() if int(k) in offerings})
    result: dict[int, Group] = {}
    for key, quantity in items.items():
        offering = offerings.get(int(key))
        if offering is None:
            continue
        group = result.setdefault(offering.pes_id, Group(offering.pes, sales.get(offering.pes_id)))
        exempt = bool(group.sales and group.sales.vat_exempt)
        group.lines.append(Line(offering, quantity, orderable_problem(offering, group.sales, quantity), exempt))
    return list(result.values())


def grand_total(cart_groups: list[Group]) -> Decimal:
    return sum((g.totals.gross for g in cart_groups), money.ZERO)
