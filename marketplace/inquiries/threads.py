"""What happens in a thread: messages both ways, quotes, acceptance, closing, blocking and reporting.

Every change is checked against the thread's state here (not only in the form), so a stale page, a second
click or a forged post changes nothing and gets a clear message. Acceptance is a conditional update: of two
acceptances racing for one inquiry, exactly one wins.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import update

from catalog.pricing import gross
from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries import notify
from marketplace.inquiries.models import (
    OPEN_STATUSES,
    Inquiry,
    InquiryAttachment,
    InquiryMessage,
    InquiryThread,
    Quote,
    SenderBlock,
)
from marketplace.inquiries.services import MAX_BODY, InquiryError, normalise_email


@dataclass
class QuoteDraft:
    net: Decimal
    vat_rate: str
    valid_until: date
    delivery_date: date | None = None
    delivery_terms: str = ""


def _message(thread: InquiryThread, author: str, user, body: str, files=()) -> InquiryMessage:
    body = (body or "").strip()
    if len(body) > MAX_BODY:
        raise InquiryError(_("Wiadomość jest za długa (najwyżej %(n)s znaków).", n=MAX_BODY), "body")
    msg = InquiryMessage(thread=thread, author=author, author_id=getattr(user, "id", None), body=body,
                         created_at=clock.now())
    db.session.add(msg)
    db.session.flush()
    for item, path in files:
        db.session.add(InquiryAttachment(inquiry_id=thread.inquiry_id, message_id=msg.id, path=path,
                                         name=item.original_name, content_type=item.content_type,
                                         size=item.size))
    thread.updated_at = msg.created_at
    return msg


def _require_open(thread: InquiryThread) -> None:
    if thread.inquiry.status != "sent":
        raise InquiryError(_("To zapytanie jest zamknięte; nie można już w nim pisać."))
    if not thread.is_open and thread.status != "accepted":
        raise InquiryError(_("Ta rozmowa jest zamknięta; nie można już w niej pisać."))
    if thread.pes.status != "verified":
        raise InquiryError(_("Ten podmiot jest obecnie niedostępny w portalu; rozmowa jest wstrzymana."))


def _move(model, row_id: int, allowed: dict, **values) -> bool:
    """Change a row only if it still is as this request saw it (a conditional UPDATE): of two requests racing
    to change one inquiry, thread or quote, the second finds the condition false and changes nothing."""
    conditions = [model.id == row_id]
    for column, accepted in allowed.items():
        attr = getattr(model, column)
        conditions.append(attr.in_(accepted) if isinstance(accepted, (tuple, list)) else
                          (attr.is_(None) if accepted is None else attr == accepted))
    return bool(db.session.execute(update(model).where(*conditions).values(**values)
                                   .execution_options(synchronize_session=False)).rowcount)


def _settle_quotes(thread: InquiryThread, status: str, now) -> None:
    """The thread's standing quotes end (withdrawn by the PES, or declined by the buyer)."""
    db.session.execute(update(Quote).where(Quote.thread_id == thread.id, Quote.status == "offered")
                       .values(status=status, decided_at=now).execution_options(synchronize_session=False))
    for quote in thread.quotes:
        db.session.refresh(quote)


def _set_thread(thread: InquiryThread, status: str, now, from_statuses=OPEN_STATUSES, **flags) -> None:
    if not _move(InquiryThread, thread.id, {"status": from_statuses}, status=status, updated_at=now, **flags):
        raise InquiryError(_("Ta rozmowa zmieniła się w międzyczasie; odśwież stronę i spróbuj ponownie."))
    db.session.refresh(thread)


def seen_by_pes(thread: InquiryThread) -> None:
    if thread.status == "new":
        thread.status = "read"
    thread.pes_unread = False


def seen_by_buyer(thread: InquiryThread) -> None:
    thread.buyer_unread = False


def pes_reply(thread: InquiryThread, user, body: str, files=()) -> InquiryMessage:
    """A PES member answers; the buyer is told."""
    _require_open(thread)
    if not (body or "").strip():
        raise InquiryError(_("Napisz treść odpowiedzi."), "body")
    msg = _message(thread, "pes", user, body, files)
    _move(InquiryThread, thread.id, {"status": ("new", "read")}, status="answered")
    db.session.refresh(thread)
    thread.first_answer_at = thread.first_answer_at or msg.created_at
    thread.buyer_unread, thread.pes_unread = True, False
    notify.pes_replied(thread, msg)
    return msg


def pes_quote(thread: InquiryThread, user, draft: QuoteDraft, body: str = "") -> Quote:
    """A PES prices its answer; a previous quote still standing is withdrawn (the newest one counts)."""
    _require_open(thread)
    if thread.status == "accepted":
        raise InquiryError(_("Oferta w tej rozmowie została już przyjęta."))
    if draft.valid_until < clock.today():
        raise InquiryError(_("Data ważności oferty nie może być w przeszłości."), "valid_until")
    if draft.delivery_date is not None and draft.delivery_date < clock.today():
        raise InquiryError(_("Termin realizacji nie może być w przeszłości."), "delivery_date")
    _set_thread(thread, "quoted", clock.now(), buyer_unread=True, pes_unread=False)
    _settle_quotes(thread, "withdrawn", clock.now())
    msg = _message(thread, "pes", user, body or _("Przesyłamy ofertę cenową."))
    quote = Quote(thread=thread, message=msg, net=draft.net, vat_rate=draft.vat_rate,
                  gross=gross(draft.net, draft.vat_rate), valid_until=draft.valid_until,
                  delivery_date=draft.delivery_date, delivery_terms=(draft.delivery_terms or "").strip(),
                  author_id=getattr(user, "id", None), created_at=msg.created_at)
    db.session.add(quote)
    thread.first_answer_at = thread.first_answer_at or msg.created_at
    db.session.flush()
    notify.quote_sent(thread, quote)
    return quote


def buyer_reply(thread: InquiryThread, user, body: str, files=()) -> InquiryMessage:
    _require_open(thread)
    if not (body or "").strip():
        raise InquiryError(_("Napisz treść wiadomości."), "body")
    msg = _message(thread, "buyer", user, body, files)
    thread.pes_unread, thread.buyer_unread = True, False
    notify.buyer_replied(thread, msg)
    return msg


def accept(inquiry: Inquiry, quote: Quote) -> None:
    """The buyer accepts one quote: its PES is told; the other PES of the inquiry are thanked and told that
    another offer was chosen. Every step is a conditional update, so a second acceptance (another tab, a double
    click), a close or a new quote racing with this one leaves exactly one outcome."""
    thread = quote.thread
    if thread.inquiry_id != inquiry.id:
        raise InquiryError(_("Ta oferta nie należy do tego zapytania."))
    if inquiry.status != "sent":
        raise InquiryError(_("To zapytanie jest zamknięte."))
    _require_open(thread)
    now, today = clock.now(), clock.today()
    if not _move(Inquiry, inquiry.id, {"status": "sent", "accepted_quote_id": None}, accepted_quote_id=quote.id):
        raise InquiryError(_("W tym zapytaniu przyjęto już ofertę albo je zamknięto."))
    if quote.valid_until < today or not _move(Quote, quote.id, {"status": "offered"}, status="accepted",
                                              decided_at=now):
        raise InquiryError(_("Tej oferty nie można już przyjąć: została wycofana, zastąpiona nową albo "
                             "minął jej termin ważności."))
    _set_thread(thread, "accepted", now, pes_unread=True)
    db.session.refresh(inquiry)
    db.session.refresh(quote)
    notify.quote_accepted(thread, quote)
    for other in inquiry.threads:
        if other.id != thread.id and other.is_open:
            _settle_quotes(other, "declined", now)
            _set_thread(other, "declined", now, pes_unread=True)
            notify.other_chosen(other)


def close_inquiry(inquiry: Inquiry) -> None:
    """The buyer ends the inquiry without choosing (or after choosing): open threads are closed and told."""
    now = clock.now()
    if not _move(Inquiry, inquiry.id, {"status": "sent"}, status="closed", closed_at=now):
        raise InquiryError(_("To zapytanie jest już zamknięte."))
    db.session.refresh(inquiry)
    for thread in inquiry.threads:
        if thread.is_open:
            _settle_quotes(thread, "declined", now)
            _set_thread(thread, "closed", now, pes_unread=True)
            notify.inquiry_closed(thread)


def pes_close(thread: InquiryThread, user, body: str = "") -> None:
    """The PES will not make an offer; the buyer is told, with the PES's words if it gave some."""
    if not thread.is_open:
        raise InquiryError(_("Ta rozmowa jest już zamknięta."))
    _set_thread(thread, "closed", clock.now(), buyer_unread=True, pes_unread=False)
    _settle_quotes(thread, "withdrawn", clock.now())
    _message(thread, "pes", user, body or _("Dziękujemy za zapytanie. Nie możemy przygotować oferty."))
    notify.pes_closed(thread)


def block_sender(thread: InquiryThread, user) -> bool:
    """The PES receives no more inquiries from this sender's address; False when it was blocked already."""
    email = normalise_email(thread.inquiry.sender_email)
    exists = db.session.scalar(db.select(SenderBlock.id).where(SenderBlock.pes_id == thread.pes_id,
                                                               SenderBlock.email == email))
    if exists:
        return False
    db.session.add(SenderBlock(pes_id=thread.pes_id, email=email, created_by_id=user.id))
    if thread.is_open:
        _set_thread(thread, "closed", clock.now(), pes_unread=False)
        _settle_quotes(thread, "withdrawn", clock.now())
    return True


def report(thread: InquiryThread, reason: str) -> None:
    """Ask the regional office to look at a thread (spam, abuse); moderators are mailed."""
    reason = (reason or "").strip()
    if not reason:
        raise InquiryError(_("Napisz, co jest nie tak z tą rozmową."), "reason")
    if thread.reported_at is not None and thread.report_resolved_at is None:
        raise InquiryError(_("Ta rozmowa została już zgłoszona i czeka na moderatora."))
    thread.reported_at, thread.report_reason, thread.report_resolved_at = clock.now(), reason[:2000], None
    notify.thread_reported(thread)


def expire_due(today: date | None = None) -> int:
    """Quotes past their validity lapse. A thread whose standing quote lapsed is marked expired (still open:
    the PES may quote again) and the buyer sees it as news."""
    today = today or clock.today()
    lapsed = db.session.scalars(db.select(Quote).where(Quote.status == "offered", Quote.valid_until < today)).all()
    for quote in lapsed:
        if not _move(Quote, quote.id, {"status": "offered"}, status="expired", decided_at=clock.now()):
            continue
        _move(InquiryThread, quote.thread_id, {"status": "quoted"}, status="expired", buyer_unread=True,
              updated_at=clock.now())
    return len(lapsed)
