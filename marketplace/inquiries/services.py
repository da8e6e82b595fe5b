"""Writing and sending inquiries: who may receive one, the checks a form cannot make alone, and the guest's
confirmation. Functions flush; the view commits once (through the outbox, so that mail leaves after commit).
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.models import User
from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries import notify
from marketplace.inquiries.models import Inquiry, InquiryAttachment, InquiryThread, SenderBlock
from marketplace.pes.models import Pes

MAX_BODY = 5000
MAX_SUBJECT = 200


class InquiryError(ValueError):
    """The inquiry cannot be sent as it is; the message says why, `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Sender:
    """Who writes: an account, or a guest who gave a name and an address."""
    name: str
    email: str
    user: User | None = None
    phone: str | None = None
    organisation: str | None = None


@dataclass
class Draft:
    subject: str
    body: str
    quantity: str | None = None
    wanted_by: date | None = None
    delivery_powiat: str | None = None
    budget: Decimal | None = None
    offering_id: int | None = None
    files: list = field(default_factory=list)  # [(CheckedFile, stored path)]


def max_recipients() -> int:
    return int(current_app.config.get("INQUIRY_MAX_RECIPIENTS") or 50)


def normalise_email(value: str) -> str:
    return (value or "").strip().lower()


def blocked_pes_ids(email: str, pes_ids) -> set[int]:
    """The PES among `pes_ids` that blocked this address."""
    if not pes_ids:
        return set()
    rows = db.session.scalars(select(SenderBlock.pes_id).where(
        SenderBlock.email == normalise_email(email), SenderBlock.pes_id.in_(list(pes_ids))))
    return set(rows)


def recipients(pes_ids) -> list[Pes]:
    """The verified PES among the ids, in the order given (others are dropped: they cannot be asked)."""
    ids = list(dict.fromkeys(int(i) for i in pes_ids))
    if not ids:
        return []
    found = {p.id: p for p in db.session.scalars(select(Pes).where(Pes.id.in_(ids), Pes.status == "verified"))}
    return [found[i] for i in ids if i in found]


def _check(draft: Draft, pes_list: list[Pes], sender: Sender) -> None:
    if not draft.subject.strip():
        raise InquiryError(_("Podaj temat zapytania."), "subject")
    if not draft.body.strip():
        raise InquiryError(_("Napisz treść zapytania."), "body")
    if len(draft.body) > MAX_BODY or len(draft.subject) > MAX_SUBJECT:
        raise InquiryError(_("Zapytanie jest za długie."), "body")
    if draft.wanted_by is not None and draft.wanted_by < clock.today():
        raise InquiryError(_("Termin realizacji nie może być w przeszłości."), "wanted_by")
    if not pes_list:
        raise InquiryError(_("Wybierz co najmniej jeden podmiot, do którego chcesz wysłać zapytanie."), "recipients")
    if len(pes_list) > max_recipients():
        raise InquiryError(_("Jedno zapytanie można wysłać najwyżej do %(n)s podmiotów; wybrano %(k)s.",
                             n=max_recipients(), k=len(pes_list)), "recipients")
    if len(pes_list) == 1 and blocked_pes_ids(sender.email, [pes_list[0].id]):
        raise InquiryError(_("Ten podmiot nie przyjmuje zapytań z Twojego adresu e-mail."), "recipients")


def create(sender: Sender, draft: Draft, pes_ids, locale: str = "pl") -> Inquiry:
    """Store an inquiry with one thread per recipient. An account's inquiry goes out at once (mail queued);
    a guest's waits as "unconfirmed" until the address is confirmed (confirm_guest)."""
    pes_list = recipients(pes_ids)
    _check(draft, pes_list, sender)
    blocked = blocked_pes_ids(sender.email, [p.id for p in pes_list])
    user = sender.user
    inquiry = Inquiry(
        sender=user, sender_name=sender.name.strip()[:120], sender_email=normalise_email(sender.email),
        sender_phone=(sender.phone or "").strip()[:40] or None,
        sender_organisation=(sender.organisation or "").strip()[:250] or None,
        institution_id=user.institution_id if user is not None and user.is_verified_purchaser else None,
        subject=draft.subject.strip(), body=draft.body.strip(), quantity=(draft.quantity or "").strip() or None,
        wanted_by=draft.wanted_by, delivery_powiat=draft.delivery_powiat or None, budget=draft.budget,
        offering_id=draft.offering_id, multi=len(pes_list) > 1, locale=locale,
        status="sent" if user is not None else "unconfirmed", consent_at=clock.now())
    db.session.add(inquiry)
    # A PES that blocked the sender is left out silently: the sender is not told who blocked them.
    inquiry.threads = [InquiryThread(pes=p, created_at=clock.now(), updated_at=clock.now())
                       for p in pes_list if p.id not in blocked]
    db.session.flush()
    for item, path in draft.files:
        db.session.add(InquiryAttachment(inquiry_id=inquiry.id, path=path, name=item.original_name,
                                         content_type=item.content_type, size=item.size))
    if user is not None:
        send(inquiry)
    else:
        notify.guest_confirmation(inquiry)
    db.session.flush()
    return inquiry


def send(inquiry: Inquiry) -> None:
    """The inquiry goes out: each recipient PES is told (or will be, in its digest)."""
    inquiry.status = "sent"
    inquiry.sent_at = clock.now()
    for thread in inquiry.threads:
        thread.created_at = thread.updated_at = inquiry.sent_at
        notify.new_inquiry(thread)


def confirm_guest(inquiry_id: int, email_fingerprint: str) -> tuple[Inquiry, bool]:
    """Send a guest's inquiry once its address is confirmed. Returns (inquiry, sent_now); a link used twice
    just shows the inquiry. The row is locked so that two clicks at once send it once."""
    from accounts import tokens

    inquiry = db.session.scalar(select(Inquiry).where(Inquiry.id == inquiry_id).with_for_update())
    if inquiry is None or tokens.fingerprint(inquiry.sender_email) != email_fingerprint:
        raise InquiryError(_("Ten link nie jest już ważny."))
    if inquiry.status != "unconfirmed":
        return inquiry, False
    send(inquiry)
    db.session.flush()
    return inquiry, True


def sent_today(email: str) -> int:
    """How many inquiries this address sent today (the per-address cap for guests)."""
    start = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return db.session.scalar(select(func.count(Inquiry.id)).where(
        Inquiry.sender_email == normalise_email(email), Inquiry.created_at >= start)) or 0
