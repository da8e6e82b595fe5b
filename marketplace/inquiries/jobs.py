"""The daily work of inquiries, run from cron through `flask inquiries daily` (or one command each):
quotes lapse, PES are reminded of unanswered inquiries, buyers of quotes about to lapse, and members who
chose a digest get it. Each job commits and queues its mail through the outbox; each can run again safely.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import clock, outbox
from marketplace.extensions import db
from marketplace.inquiries import notify, threads
from marketplace.inquiries.models import Inquiry, InquiryThread, Quote
from marketplace.pes.models import PesMembership


def expire() -> int:
    count = threads.expire_due()
    outbox.commit()
    return count


def remind_pes() -> int:
    """Threads left new or read for INQUIRY_REMIND_AFTER_DAYS get one reminder each."""
    cutoff = clock.now() - timedelta(days=current_app.config["INQUIRY_REMIND_AFTER_DAYS"])
    due = db.session.scalars(select(InquiryThread).join(Inquiry).where(
        Inquiry.status == "sent", InquiryThread.status.in_(("new", "read")), InquiryThread.reminded_at.is_(None),
        InquiryThread.created_at <= cutoff)).all()
    for thread in due:
        thread.reminded_at = clock.now()
        notify.reminder_to_pes(thread)
    outbox.commit()
    return len(due)


def remind_buyers() -> int:
    """A quote standing within QUOTE_REMIND_BEFORE_DAYS of its last day: the buyer is reminded once."""
    last_day = clock.today() + timedelta(days=current_app.config["QUOTE_REMIND_BEFORE_DAYS"])
    due = db.session.scalars(select(Quote).join(InquiryThread).join(Inquiry).where(
        Quote.status == "offered", Quote.reminded_at.is_(None), Quote.valid_until <= last_day,
        Quote.valid_until >= clock.today(), Inquiry.status == "sent", Inquiry.accepted_quote_id.is_(None))).all()
    for quote in due:
        quote.reminded_at = clock.now()
        notify.reminder_to_buyer(quote.thread, quote)
    outbox.commit()
    return len(due)


def digests() -> int:
    """One mail per member on the digest with the threads of their PES that changed since their last one
    and that they have not read yet."""
    members = db.session.scalars(select(PesMembership).where(PesMembership.inquiry_mail == "digest")
                                 .options(selectinload(PesMembership.user), selectinload(PesMembership.pes))).all()
    sent = 0
    now = clock.now()
    for member in members:
        since = member.digest_sent_at or (now - timedelta(days=1))
        changed = db.session.scalars(select(InquiryThread).join(Inquiry).where(
            InquiryThread.pes_id == member.pes_id, InquiryThread.pes_unread.is_(True), Inquiry.status == "sent",
            InquiryThread.updated_at > since).order_by(InquiryThread.updated_at)).all()
        member.digest_sent_at = now
        if changed and member.user.is_confirmed:
            notify.digest(member, changed)
            sent += 1
    outbox.commit()
    return sent
