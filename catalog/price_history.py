"""The prices an offering had, and the Omnibus rule for showing a price reduction.

A price reduction must be shown together with the lowest price of the 30 days before it took effect (art. 4
ust. 2 of the Act on informing about prices of goods and services, after the Omnibus directive). So every
change of an offering's net price or VAT rate writes an OfferingPrice row.

The rule, in gross prices (what a consumer pays):
* the current price is a reduction when it is lower than the price it replaced (the history row before it);
  a change from or to "price on request" is no reduction;
* it is shown as a reduction for ANNOUNCED (30) days from the moment it took effect and only while it stays:
  after that, or after the next change, the price is simply the price, so that no "sale" lasts for ever;
* next to it: the price it replaced and the lowest gross price in effect at any moment of the LOOKBACK (30)
  days before the reduction; for an offering sold for a shorter time, since its first price.

Offerings from before the history (no row) count as having had their current price since they were published
(or created); their first change writes that price as a row before the new one.
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import inspect, or_, select
from sqlalchemy.sql import func

from catalog import pricing
from catalog.models import Offering, OfferingPrice
from marketplace import clock
from marketplace.extensions import db

LOOKBACK = timedelta(days=30)
ANNOUNCED = timedelta(days=30)


@dataclass(frozen=True)
class Reduction:
    """A reduced price as the offering page shows it; amounts are gross, `since` a day in Europe/Warsaw."""

    current: Decimal
    previous: Decimal
    lowest: Decimal
    since: date


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes, stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _same(a, b) -> bool:
    """Two (net, VAT rate) prices are the same; with no price (on request) the rate does not matter."""
    return a[0] == b[0] and (a[0] is None or a[1] == b[1])


def _gross(price) -> Decimal | None:
    return pricing.gross(price[0], price[1])


def _add(offering: Offering, at: datetime, price=None) -> OfferingPrice:
    net, rate = price or (offering.price_net, offering.vat_rate)
    row = OfferingPrice(offering_id=offering.id, price_net=net, vat_rate=rate, valid_from=at)
    db.session.add(row)
    return row


def _latest(offering_id: int):
    stmt = (select(OfferingPrice.price_net, OfferingPrice.vat_rate).where(OfferingPrice.offering_id == offering_id)
            .order_by(OfferingPrice.valid_from.desc(), OfferingPrice.id.desc()).limit(1))
    return db.session.execute(stmt).first()


def _stored(offering: Offering):
    """The price the database still holds: the one before this change (nothing has been flushed yet)."""
    stmt = select(Offering.price_net, Offering.vat_rate).where(Offering.id == offering.id)
    return db.session.execute(stmt).first()


def record(offering: Offering, at: datetime | None = None) -> OfferingPrice | None:
    """Write the offering's price to its history when it is new or changed; call it after setting the price
    and before anything flushes the change (it compares with what the database holds)."""
    at = at or clock.now()
    state = inspect(offering)
    if state.transient or state.pending:
        if offering.price_net is None:
            return None
        db.session.add(offering)
        db.session.flush()  # the row needs the offering's id
        return _add(offering, at)
    current = (offering.price_net, offering.vat_rate)
    with db.session.no_autoflush:
        last = _latest(offering.id)
        if last is not None:
            return None if _same(last, current) else _add(offering, at)
        before = _stored(offering)
    if before is None or _same(before, current):
        return None
    if before[0] is not None:  # older data: its price counts from publication
        _add(offering, min(_utc(offering.published_at or offering.created_at or at), at), before)
    return _add(offering, at)


def reduction(offering: Offering, now: datetime | None = None) -> Reduction | None:
    """The reduction to announce on the offering's page now, or None (see the module's rule)."""
    now = now or clock.now()
    if offering.id is None or offering.price_net is None:
        return None
    stmt = (select(OfferingPrice.price_net, OfferingPrice.vat_rate, OfferingPrice.valid_from)
            .where(OfferingPrice.offering_id == offering.id, OfferingPrice.valid_from <= now)
            .order_by(OfferingPrice.valid_from.desc(), OfferingPrice.id.desc()).limit(2))
    rows = db.session.execute(stmt).all()
    if len(rows) < 2 or not _same(rows[0], (offering.price_net, offering.vat_rate)):
        return None  # no history, or history out of step with the offering: claim nothing
    since = _utc(rows[0].valid_from)
    new, old = _gross(rows[0]), _gross(rows[1])
    if now - since >= ANNOUNCED or old is None or new >= old:
        return None
    lowest = min(_window_prices(offering.id, since), default=old)
    return Reduction(current=new, previous=old, lowest=lowest, since=since.astimezone(clock.WARSAW).date())


def _window_prices(offering_id: int, since: datetime) -> list[Decimal]:
    """The gross prices in effect at some moment of the LOOKBACK before `since`: those set within it and the
    one in effect when it began."""
    start = since - LOOKBACK
    began = (select(func.max(OfferingPrice.valid_from))
             .where(OfferingPrice.offering_id == offering_id, OfferingPrice.valid_from <= start).scalar_subquery())
    stmt = select(OfferingPrice.price_net, OfferingPrice.vat_rate).where(
        OfferingPrice.offering_id == offering_id, OfferingPrice.valid_from < since,
        or_(OfferingPrice.valid_from >= began, OfferingPrice.valid_from >= start))
    return [_gross(row) for row in db.session.execute(stmt) if row.price_net is not None]
