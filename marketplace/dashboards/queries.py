"""What the PES panel and the main menu show, read for all of a person's PES at once (a few queries in all,
not a few per PES)."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from catalog.mark.models import QualityMark
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryThread, Quote
from marketplace.pes.models import Pes, PesMembership

NEWEST_THREADS = 5
MARK_WARNING_DAYS = 60  # as the first reminder mail about a mark's end


@dataclass
class PesPanel:
    """One PES's section of the panel."""

    pes: Pes
    role: str
    unread: int = 0
    threads: list = field(default_factory=list)
    quotes: list = field(default_factory=list)
    marks: list = field(default_factory=list)


@dataclass
class NavCounts:
    buyer_unread: int = 0  # threads of the person's own inquiries with a reply they have not read
    pes_unread: int = 0  # threads to the person's PES that nobody in the team has read


def _grouped(rows, key) -> dict[int, list]:
    out: dict[int, list] = {}
    for row in rows:
        out.setdefault(key(row), []).append(row)
    return out


# A guest's inquiry reaches the PES only once its sender confirmed the address.
DELIVERED = Inquiry.status != "unconfirmed"


def unread_counts(pes_ids: list[int]) -> dict[int, int]:
    stmt = (select(InquiryThread.pes_id, func.count()).join(InquiryThread.inquiry)
            .where(InquiryThread.pes_id.in_(pes_ids), InquiryThread.pes_unread.is_(True), DELIVERED)
            .group_by(InquiryThread.pes_id))
    return dict(db.session.execute(stmt).all())


def newest_threads(pes_ids: list[int], limit: int = NEWEST_THREADS) -> dict[int, list[InquiryThread]]:
    """The newest threads of each PES (with their inquiry's subject), newest first."""
    order = (InquiryThread.created_at.desc(), InquiryThread.id.desc())
    rank = func.row_number().over(partition_by=InquiryThread.pes_id, order_by=order).label("rank")
    ranked = (select(InquiryThread.id, rank).join(InquiryThread.inquiry)
              .where(InquiryThread.pes_id.in_(pes_ids), DELIVERED).subquery())
    stmt = (select(InquiryThread).join(ranked, ranked.c.id == InquiryThread.id).join(InquiryThread.inquiry)
            .where(ranked.c.rank <= limit).options(contains_eager(InquiryThread.inquiry)).order_by(*order))
    return _grouped(db.session.scalars(stmt), lambda t: t.pes_id)


def waiting_quotes(pes_ids: list[int]) -> dict[int, list[Quote]]:
    """Quotes offered and not yet accepted or declined by the buyer, soonest to lapse first."""
    stmt = (select(Quote).join(Quote.thread).join(InquiryThread.inquiry)
            .where(InquiryThread.pes_id.in_(pes_ids), InquiryThread.status == "quoted", Quote.status == "offered")
            .options(contains_eager(Quote.thread).contains_eager(InquiryThread.inquiry))
            .order_by(Quote.valid_until, Quote.id))
    return _grouped(db.session.scalars(stmt), lambda q: q.thread.pes_id)


def expiring_marks(pes_ids: list[int], today: date, days: int = MARK_WARNING_DAYS) -> dict[int, list[QualityMark]]:
    """Marks valid today that end within `days` days, soonest first."""
    stmt = (select(QualityMark)
            .where(QualityMark.pes_id.in_(pes_ids), QualityMark.status == "active",
                   QualityMark.valid_from <= today, QualityMark.valid_until >= today,
                   QualityMark.valid_until <= today + timedelta(days=days))
            .options(selectinload(QualityMark.offering)).order_by(QualityMark.valid_until, QualityMark.id))
    return _grouped(db.session.scalars(stmt), lambda m: m.pes_id)


def panels(user_id: int, today: date) -> list[PesPanel]:
    """A section for each PES the person belongs to, ordered by name; empty for anyone else."""
    rows = db.session.execute(
        select(Pes, PesMembership.role).join(PesMembership, PesMembership.pes_id == Pes.id)
        .where(PesMembership.user_id == user_id).order_by(Pes.name_key, Pes.id)).all()
    ids = [pes.id for pes, _role in rows]
    if not ids:
        return []
    unread, threads = unread_counts(ids), newest_threads(ids)
    quotes, marks = waiting_quotes(ids), expiring_marks(ids, today)
    return [PesPanel(pes, role, unread.get(pes.id, 0), threads.get(pes.id, []), quotes.get(pes.id, []),
                     marks.get(pes.id, [])) for pes, role in rows]


def nav_counts(user_id: int) -> NavCounts:
    """Both menu counts in one query of two small subqueries."""
    buyer = (select(func.count()).select_from(InquiryThread).join(InquiryThread.inquiry)
             .where(Inquiry.sender_id == user_id, InquiryThread.buyer_unread.is_(True)).scalar_subquery())
    pes = (select(func.count()).select_from(InquiryThread).join(InquiryThread.inquiry)
           .join(PesMembership, PesMembership.pes_id == InquiryThread.pes_id)
           .where(PesMembership.user_id == user_id, InquiryThread.pes_unread.is_(True), DELIVERED)
           .scalar_subquery())
    buyer_unread, pes_unread = db.session.execute(select(buyer, pes)).one()
    return NavCounts(buyer_unread or 0, pes_unread or 0)
