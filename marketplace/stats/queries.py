"""The figures of the statistics page, each one aggregate query returning plain data (codes and counts).

Nothing here loads rows one per item: the page must stay fast with tens of thousands of offerings. Months are
the months of Europe/Warsaw; their boundaries are computed here and compared with the stored UTC times, so
the same SQL buckets them on SQLite and PostgreSQL.
"""
from datetime import UTC, date, datetime, time

from sqlalchemy import case, exists, func, select

from catalog import services as catalog_services
from catalog.mark.queries import register_query
from catalog.models import Offering
from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryThread
from marketplace.pes.models import Pes

MONTHS = 12
# Sent: a guest's inquiry counts once its sender confirmed the address (the PES sees it only then).
SENT = Inquiry.status != "unconfirmed"
# Answered: a PES replied or quoted in one of its threads (as "Moje zapytania" counts answers).
ANSWERED = exists().where(InquiryThread.inquiry_id == Inquiry.id, InquiryThread.first_answer_at.is_not(None))
# A public purchaser's: sent for an institution, which is recorded only for a verified purchaser (and kept
# after the account is deleted); an account that merely chose the purchaser role at sign-up does not count.
FROM_PURCHASER = Inquiry.institution_id.is_not(None)


def verified_pes_by(column) -> dict[str, int]:
    """Verified PES counted by one of their columns (Pes.powiat, Pes.legal_form)."""
    stmt = select(column, func.count()).where(Pes.status == "verified").group_by(column)
    return dict(db.session.execute(stmt).all())


def public_offerings_by_category() -> dict[str, int]:
    """The catalogue's own count, so that the page agrees with the category pages."""
    return catalog_services.category_counts()


def valid_marks_by_category(day: date | None = None) -> dict[str, int]:
    """Marks valid on the day (the register's definition: active, day within their dates) by category."""
    valid = register_query(state="valid", day=day or clock.today()).order_by(None).subquery()
    offering = select(Offering.category, func.count()).join(valid, valid.c.offering_id == Offering.id)
    return dict(db.session.execute(offering.group_by(Offering.category)).all())


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """The first days of the last `months` months up to today's, and of the next month (the end)."""
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 2)]


def _instant(day: date) -> datetime:
    """Midnight starting the day in Warsaw, in UTC as times are stored."""
    return datetime.combine(day, time(), clock.WARSAW).astimezone(UTC)


def _monthly(flag, starts: list[date], *criteria) -> list[tuple[int, int]]:
    """(sent, flagged) per month for inquiries sent in the window: one query, months as CASE ranges."""
    bounds = [_instant(day) for day in starts]
    month = case(*((Inquiry.sent_at < bound, i) for i, bound in enumerate(bounds[1:])))
    inner = select(month.label("month"), case((flag, 1), else_=0).label("flag")).select_from(Inquiry)
    sub = inner.where(SENT, Inquiry.sent_at >= bounds[0], Inquiry.sent_at < bounds[-1], *criteria).subquery()
    rows = db.session.execute(select(sub.c.month, func.count(), func.sum(sub.c.flag)).group_by(sub.c.month))
    found = {month: (sent, int(flagged or 0)) for month, sent, flagged in rows}
    return [found.get(i, (0, 0)) for i in range(len(starts) - 1)]


def inquiries_by_month(starts: list[date]) -> list[tuple[int, int]]:
    """(sent, answered) per month: the month is the one it was sent in, the answer may come later."""
    return _monthly(ANSWERED, starts)


def purchaser_inquiries_by_month(starts: list[date]) -> list[tuple[int, int]]:
    """(sent, with an accepted quote) per month, for public purchasers' inquiries."""
    return _monthly(Inquiry.accepted_quote_id.is_not(None), starts, FROM_PURCHASER)
