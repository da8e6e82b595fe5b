"""Personal data in inquiries (RODO): anonymising a sender, the retention period of guests' inquiries, and
what an account's data export says about its inquiries.

A PES keeps its correspondence: anonymising replaces the sender's data and removes the files the sender
sent, while the texts of the conversation stay. Files leave the disk only once the change is committed, so
that a rolled-back transaction never points at files that are gone.
"""
import calendar
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, or_, select

from catalog.mark import uploads
from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryAttachment, InquiryMessage, InquiryThread

ANONYMOUS_NAME = "Osoba anonimowa"  # stored as is: a fixed label in the portal's language, not a message
REASONS = ("retention", "account_deleted")
FOLDER = "inquiries"  # where attachments of inquiries are stored (the views write them there)
UNCONFIRMED_DAYS = 7  # a guest's inquiry never confirmed is dropped after this many days
FILES_KEY = "inquiry_files_to_remove"


def placeholder_email(inquiry: Inquiry) -> str:
    """An address that can never receive mail (RFC 2606), unique per inquiry as the column expects."""
    return f"anonim-{inquiry.id}@invalid"


def _remove_after_commit(paths) -> None:
    db.session.info.setdefault(FILES_KEY, []).extend(paths)


def _after_commit(session) -> None:
    paths = session.info.pop(FILES_KEY, None)
    if not paths:
        return
    try:
        uploads.delete(paths, FOLDER)
    except OSError as exc:  # the change is committed; a file left behind must not undo the answer
        current_app.logger.error("inquiry files not removed after anonymising: %s", exc)


def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None:  # rolled back or closed without a commit: the rows, and their files, stay
        session.info.pop(FILES_KEY, None)


for _name, _listener in (("after_commit", _after_commit), ("after_transaction_end", _after_transaction_end)):
    if not event.contains(db.session, _name, _listener):
        event.listen(db.session, _name, _listener)


def _buyer_attachments(inquiry: Inquiry) -> list[InquiryAttachment]:
    """Files the sender sent: with the inquiry itself or with the sender's own messages."""
    return list(db.session.scalars(
        select(InquiryAttachment).outerjoin(InquiryMessage, InquiryAttachment.message_id == InquiryMessage.id)
        .where(InquiryAttachment.inquiry_id == inquiry.id,
               or_(InquiryAttachment.message_id.is_(None), InquiryMessage.author == "buyer"))))


def _drop_buyer_files(inquiry: Inquiry) -> None:
    files = _buyer_attachments(inquiry)
    for item in files:
        if item.message is not None:
            item.message.attachments.remove(item)  # the collection's cascade deletes the row
        else:
            db.session.delete(item)
    _remove_after_commit([item.path for item in files])
    db.session.flush()
    db.session.expire(inquiry, ["attachments"])


def anonymise(inquiry: Inquiry, reason: str) -> None:
    """Replace the sender's data in an inquiry; the PES keeps the texts and its own files. Flushes only."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason for anonymising: {reason}")
    if inquiry.anonymised_at is not None:
        return
    db.session.flush()  # the placeholder address needs the id
    inquiry.sender_name = ANONYMOUS_NAME
    inquiry.sender_email = placeholder_email(inquiry)
    inquiry.sender_phone = None
    if inquiry.institution_id is None:  # a public purchaser's institution is not personal data
        inquiry.sender_organisation = None
    inquiry.sender = None
    inquiry.sender_id = None
    inquiry.anonymised_at = clock.now()
    for thread in inquiry.threads:
        for msg in thread.messages:
            if msg.author == "buyer":
                msg.author_id = None
    _drop_buyer_files(inquiry)
    current_app.logger.info("inquiry %s anonymised (%s)", inquiry.id, reason)


def months_before(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months earlier; the month's last day when that month is shorter."""
    year, month0 = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def retention_months() -> int:
    return int(current_app.config.get("INQUIRY_RETENTION_MONTHS", 24) or 24)


def _expired_guest_inquiries(cutoff: datetime) -> list[Inquiry]:
    """Sent guests' inquiries in which nothing happened since the cutoff (accounts' are their owners' to
    delete, with the account)."""
    recent_thread = select(InquiryThread.id).where(InquiryThread.inquiry_id == Inquiry.id,
                                                   InquiryThread.updated_at >= cutoff)
    recent_message = select(InquiryMessage.id).join(InquiryThread).where(
        InquiryThread.inquiry_id == Inquiry.id, InquiryMessage.created_at >= cutoff)
    return list(db.session.scalars(select(Inquiry).where(
        Inquiry.sender_id.is_(None), Inquiry.anonymised_at.is_(None), Inquiry.status != "unconfirmed",
        Inquiry.created_at < cutoff, or_(Inquiry.sent_at.is_(None), Inquiry.sent_at < cutoff),
        or_(Inquiry.closed_at.is_(None), Inquiry.closed_at < cutoff),
        ~recent_thread.exists(), ~recent_message.exists()).order_by(Inquiry.id)))


def delete_inquiry(inquiry: Inquiry) -> None:
    """Remove an inquiry with its threads, messages and files (rows now, files after commit)."""
    paths = db.session.scalars(select(InquiryAttachment.path).where(
        InquiryAttachment.inquiry_id == inquiry.id)).all()
    _remove_after_commit(paths)
    db.session.execute(InquiryAttachment.__table__.delete().where(InquiryAttachment.inquiry_id == inquiry.id))
    db.session.delete(inquiry)


def _unconfirmed_before(cutoff: datetime) -> list[Inquiry]:
    return list(db.session.scalars(select(Inquiry).where(
        Inquiry.status == "unconfirmed", Inquiry.sender_id.is_(None), Inquiry.created_at < cutoff)
        .order_by(Inquiry.id)))


def apply_retention(now: datetime | None = None) -> tuple[int, int]:
    """(anonymised, deleted): guests' inquiries past the retention period are anonymised, and guests'
    inquiries never confirmed within UNCONFIRMED_DAYS (never sent, so nobody needs them) are deleted.
    Commits; running it again changes nothing more."""
    now = now or clock.now()
    expired = _expired_guest_inquiries(months_before(now, retention_months()))
    for inquiry in expired:
        anonymise(inquiry, "retention")
    stale = _unconfirmed_before(now - timedelta(days=UNCONFIRMED_DAYS))
    for inquiry in stale:
        delete_inquiry(inquiry)
    db.session.commit()
    return len(expired), len(stale)


def anonymise_expired(now: datetime | None = None) -> int:
    """How many inquiries the retention period anonymised or deleted now (see apply_retention)."""
    return sum(apply_retention(now))


def _message_data(msg: InquiryMessage, iso) -> dict:
    return {"author": msg.author, "from": msg.thread.pes.name if msg.author == "pes" else msg.author,
            "date": iso(msg.created_at), "body": msg.body, "attachments": [a.name for a in msg.attachments]}


def _thread_data(thread: InquiryThread, iso) -> dict:
    quotes = [{"net": str(q.net), "vat_rate": q.vat_rate, "gross": str(q.gross), "status": q.status,
               "valid_until": q.valid_until.isoformat(), "date": iso(q.created_at),
               "delivery_terms": q.delivery_terms} for q in thread.quotes]
    return {"pes_name": thread.pes.name, "status": thread.status,
            "messages": [_message_data(m, iso) for m in thread.messages], "quotes": quotes}


def _inquiry_data(inquiry: Inquiry, iso) -> dict:
    return {
        "id": inquiry.id, "subject": inquiry.subject, "body": inquiry.body, "status": inquiry.status,
        "created_at": iso(inquiry.created_at), "sent_at": iso(inquiry.sent_at),
        "closed_at": iso(inquiry.closed_at), "quantity": inquiry.quantity,
        "wanted_by": inquiry.wanted_by.isoformat() if inquiry.wanted_by else None,
        "budget": None if inquiry.budget is None else str(inquiry.budget),
        "sender": {"name": inquiry.sender_name, "email": inquiry.sender_email, "phone": inquiry.sender_phone,
                   "organisation": inquiry.sender_organisation},
        "attachments": [a.name for a in inquiry.attachments],
        "recipients": [t.pes.name for t in inquiry.threads],
        "threads": [_thread_data(t, iso) for t in inquiry.threads],
    }


def export_for(user, iso) -> dict:
    """The account's inquiries and its mail preferences as a PES member, for the RODO right of access;
    `iso` writes a moment the way the rest of the export does."""
    inquiries = db.session.scalars(select(Inquiry).where(Inquiry.sender_id == user.id)
                                   .order_by(Inquiry.created_at, Inquiry.id))
    return {
        "inquiries": [_inquiry_data(i, iso) for i in inquiries],
        "inquiry_mail_preferences": [{"pes_id": m.pes_id, "pes_name": m.pes.name,
                                      "inquiry_mail": m.inquiry_mail} for m in user.memberships],
    }


def anonymise_account(user) -> int:
    """Before an account is deleted: its inquiries stay with the PES, with the person anonymised."""
    inquiries = db.session.scalars(select(Inquiry).where(Inquiry.sender_id == user.id)).all()
    for inquiry in inquiries:
        anonymise(inquiry, "account_deleted")
    return len(inquiries)
