"""Read-only questions about quality marks that other pages ask: is there a valid mark for this offering today?"""
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import contains_eager

from catalog.mark.models import QualityMark
from catalog.models import Offering, OfferingArea
from marketplace import clock
from marketplace.extensions import db
from marketplace.pes.models import Pes, PesServiceArea


def is_valid(mark: QualityMark | None, day: date | None = None) -> bool:
    """True when the mark is active and the day (default: the portal's today) lies within its dates."""
    if mark is None:
        return False
    return mark.is_valid_on(day or clock.today())


def _valid_query(day: date):
    return (select(QualityMark)
            .where(QualityMark.status == "active",
                   QualityMark.valid_from <= day,
                   QualityMark.valid_until >= day)
            .order_by(QualityMark.valid_until.desc(), QualityMark.id.desc()))


def _offering_id(offering) -> int:
    return offering if isinstance(offering, int) else offering.id


def current_mark(offering, day: date | None = None) -> QualityMark | None:
    """The offering's mark valid today (the one lasting longest if several), or None."""
    query = _valid_query(day or clock.today()).where(QualityMark.offering_id == _offering_id(offering))
    return db.session.scalars(query.limit(1)).first()


def marks_for(offerings, day: date | None = None) -> dict[int, QualityMark]:
    """The currently valid mark of each offering of a list (offerings or their ids), in one query."""
    ids = {_offering_id(o) for o in offerings}
    if not ids:
        return {}
    query = _valid_query(day or clock.today()).where(QualityMark.offering_id.in_(ids))
    result: dict[int, QualityMark] = {}
    for mark in db.session.scalars(query):
        result.setdefault(mark.offering_id, mark)  # ordered by valid_until desc: the first one wins
    return result


def state_on(mark: QualityMark, day: date | None = None) -> str:
    """What the mark is on a day: "valid", "upcoming", "expired", "suspended" or "revoked"."""
    day = day or clock.today()
    if mark.status in ("suspended", "revoked"):
        return mark.status
    if day < mark.valid_from:
        return "upcoming"
    if day > mark.valid_until:
        return "expired"
    return "valid"


def register_query(categories=(), powiats=(), state: str | None = None, day: date | None = None):
    """Every mark for the public register, newest first, filtered by the offering's category, by powiat
    (the PES's seat, the PES's service area or the offering's own) and by its state on the day."""
    day = day or clock.today()
    stmt = (select(QualityMark).join(QualityMark.offering).join(QualityMark.pes)
            .options(contains_eager(QualityMark.offering), contains_eager(QualityMark.pes)))
    if categories:
        stmt = stmt.where(Offering.category.in_(list(categories)))
    if powiats:
        codes = list(powiats)
        stmt = stmt.where(or_(
            Pes.powiat.in_(codes),
            exists().where(PesServiceArea.pes_id == Pes.id, PesServiceArea.powiat.in_(codes)),
            exists().where(OfferingArea.offering_id == Offering.id, OfferingArea.powiat.in_(codes))))
    if state == "valid":
        stmt = stmt.where(QualityMark.status == "active", QualityMark.valid_from <= day,
                          QualityMark.valid_until >= day)
    elif state == "expired":
        stmt = stmt.where(QualityMark.status == "active", QualityMark.valid_until < day)
    elif state in ("suspended", "revoked"):
        stmt = stmt.where(QualityMark.status == state)
    return stmt.order_by(QualityMark.valid_from.desc(), QualityMark.number.desc())
