"""Writing and sending inquiries: who may receive one, the checks a form cannot make alone, and the guest's
confirmation. Functions flush; the view commits once (through the outbox, so that mail leaves after commit).
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

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
    from marketplace.inquiries.recipients import verified_in_order

    return verified_in_order(Pes.id, [int(i) for i in pes_ids])


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
        status="sent" if _confirmed(user) else "unconfirmed", consent_at=clock.now())
    db.session.add(inquiry)
    # A PES that blocked the sender is left out silently: the sender is not told who blocked them.
    inquiry.threads = [InquiryThread(pes=p, created_at=clock.now(), updated_at=clock.now())
                       for p in pes_list if p.id not in blocked]
    if not inquiry.threads:
        raise InquiryError(_("Wybrane podmioty nie przyjmują zapytań z Twojego adresu e-mail."), "recipients")
    db.session.flush()
    for item, path in draft.files:
        db.session.add(InquiryAttachment(inquiry_id=inquiry.id, path=path, name=item.original_name,
                                         content_type=item.content_type, size=item.size))
    if inquiry.status == "sent":
        send(inquiry)
    else:
        notify.guest_confirmation(inquiry)
    db.session.flush()
    return inquiry


def _confirmed(user: User | None) -> bool:
    """An account whose address is confirmed sends at once; a guest, or an account that has not confirmed its
    address yet, confirms this inquiry by a link first (nobody sends in someone else's name)."""
    return user is not None and user.is_confirmed


def send(inquiry: Inquiry) -> None:
    """The inquiry goes out: each recipient PES is told (or will be, in its digest). A PES suspended, or one
    that blocked the sender, since the form was filled in (a guest confirms up to days later) is left out."""
    inquiry.status = "sent"
    inquiry.sent_at = clock.now()
    blocked = blocked_pes_ids(inquiry.sender_email, [t.pes_id for t in inquiry.threads])
    for thread in list(inquiry.threads):
        if thread.pes.status != "verified" or thread.pes_id in blocked:
            inquiry.threads.remove(thread)
            continue
        thread.created_at = thread.updated_at = inquiry.sent_at
        notify.new_inquiry(thread)


def confirm_guest(inquiry_id: int, email_fingerprint: str) -> tuple[Inquiry, bool]:
    """Send a guest's inquiry once its address is confirmed. Returns (inquiry, sent_now); a link used twice
    just shows the inquiry. A conditional update claims it, so that two clicks at once send it once."""
    from accounts import tokens

    inquiry = db.session.get(Inquiry, inquiry_id)
    if inquiry is None or tokens.fingerprint(inquiry.sender_email) != email_fingerprint:
        raise InquiryError(_("Ten link nie jest już ważny."))
    claimed = db.session.execute(update(Inquiry).where(Inquiry.id == inquiry_id, Inquiry.status == "unconfirmed")
                                 .values(status="sent").execution_options(synchronize_session=False)).rowcount
    db.session.refresh(inquiry)
    if not claimed:
        return inquiry, False
    send(inquiry)
    db.session.flush()
    return inquiry, True
