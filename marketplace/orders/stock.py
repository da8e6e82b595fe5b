"""Stock of products ordered on the portal: reserved at checkout, given back once when the order no longer
needs it.

Both are single conditional UPDATE statements, so two buyers racing for the last item cannot both get it: the
database applies one decrement, and the second finds `stock >= quantity` false. The release is guarded by the
order's `stock_released` flag, set by a conditional update too, so a repeated webhook or a crash between two
attempts never gives the stock back twice.
"""
from datetime import datetime

from sqlalchemy import update

from catalog.models import Offering
from marketplace.extensions import db
from marketplace.orders.models import Order


class OutOfStock(Exception):
    """Not enough items left; `title` names the product and `left` says how many there are."""

    def __init__(self, title: str, left: int):
        super().__init__(title)
        self.title = title
        self.left = left


def take(offering_id: int, quantity: int) -> bool:
    """Take `quantity` items of a counted product; False when fewer are left. Uncounted offerings pass."""
    counted = db.session.execute(
        update(Offering).where(Offering.id == offering_id, Offering.stock.is_not(None),
                               Offering.stock >= quantity)
        .values(stock=Offering.stock - quantity).execution_options(synchronize_session=False))
    if counted.rowcount == 1:
        return True
    return db.session.get(Offering, offering_id).stock is None


def reserve(order: Order) -> None:
    """Take the stock of every line of the order, or raise OutOfStock (the caller rolls back)."""
    for line in order.lines:
        if line.offering_id is None:
            continue
        if not take(line.offering_id, line.quantity):
            offering = db.session.get(Offering, line.offering_id)
            db.session.refresh(offering, ["stock"])
            raise OutOfStock(line.title, offering.stock or 0)
        offering = db.session.get(Offering, line.offering_id)
        line.reserved = line.quantity if offering.stock is not None else 0
    order.stock_released = False


def release(order: Order) -> bool:
    """Give back what the order reserved, once; True when this call gave it back."""
    claimed = db.session.execute(
        update(Order).where(Order.id == order.id, Order.stock_released.is_(False))
        .values(stock_released=True).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False
    for line in order.lines:
        if line.offering_id is not None and line.reserved:
            db.session.execute(update(Offering).where(Offering.id == line.offering_id)
                               .values(stock=Offering.stock + line.reserved)
                               .execution_options(synchronize_session=False))
    db.session.refresh(order, ["stock_released"])
    return True


def expired(now: datetime) -> list[Order]:
    """Orders waiting for online payment whose reservation has run out."""
    return db.session.scalars(
        db.select(Order).where(Order.status == "awaiting_payment", Order.stock_released.is_(False),
                               Order.reserved_until < now).order_by(Order.id)).all()
