"""The mail of inquiries, each written into the outbox in the same transaction as the change it reports.

Texts are lazy strings, rendered by the outbox in each recipient's language. A PES hears through its members,
each as they chose (instant mail, a daily digest, or nothing); a PES without members through its public
address. The buyer hears at the address of the inquiry; a guest gets a link that opens the inquiry without
an account.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.models import STAFF_ROLES, User
from marketplace import outbox
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.inquiries import access

TEMPLATE = "mail/inquiries/event.txt"


def _pes_addresses(pes, include_digest: bool = False) -> list[tuple[str, str, object]]:
    """(address, language, membership or None) of who hears of a PES's inquiries now."""
    wanted = ("instant", "digest") if include_digest else ("instant",)
    found = [(m.user.email, m.user.locale or "pl", m) for m in pes.members
             if m.inquiry_mail in wanted and m.user.is_confirmed]
    if not pes.members and pes.email:
        found.append((pes.email, "pl", None))
    return found


def _unsubscribe(member) -> tuple[str | None, dict | None]:
    """The member's one-click unsubscribe link and the headers that offer it to mail programs."""
    if member is None:
        return None, None
    link = external_url("inquiries.unsubscribe", token=access.unsubscribe_token(member))
    return link, {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _to_pes(thread, subject, lines, include_digest: bool = False, details=()) -> None:
    link = external_url("inquiries.pes_thread", pes_id=thread.pes_id, thread_id=thread.id)
    for address, locale, member in _pes_addresses(thread.pes, include_digest):
        unsubscribe, headers = _unsubscribe(member)
        outbox.queue(address, subject, TEMPLATE, locale=locale, lines=lines, details=details, link=link,
                     link_label=_l("Otwórz rozmowę w portalu"), unsubscribe=unsubscribe, headers=headers)


def _to_buyer(thread, subject, lines, details=()) -> None:
    inquiry = thread.inquiry
    if inquiry.anonymised_at is not None:
        return
    if inquiry.sender_id is not None:
        link = external_url("inquiries.thread", inquiry_id=inquiry.id, thread_id=thread.id)
    else:
        link = external_url("inquiries.guest_access", token=access.guest_token(inquiry), thread=thread.id)
    outbox.queue(inquiry.sender_email, subject, TEMPLATE, locale=inquiry.locale, lines=lines, details=details,
                 link=link, link_label=_l("Zobacz odpowiedź w portalu"), unsubscribe=None)


def _inquiry_details(inquiry) -> list:
    from marketplace.region import powiat_label

    rows = [(_l("Temat"), inquiry.subject)]
    if inquiry.quantity:
        rows.append((_l("Ilość / zakres"), inquiry.quantity))
    if inquiry.wanted_by:
        rows.append((_l("Termin realizacji"), inquiry.wanted_by.strftime("%d.%m.%Y")))
    if inquiry.delivery_powiat:
        rows.append((_l("Miejsce realizacji"), powiat_label(inquiry.delivery_powiat)))
    return rows


def new_inquiry(thread) -> None:
    inquiry = thread.inquiry
    who = inquiry.sender_organisation or inquiry.sender_name
    lines = [_l("%(who)s pyta o ofertę podmiotu „%(pes)s”.", who=who, pes=thread.pes.name), inquiry.body]
    if inquiry.multi:
        lines.append(_l("To zapytanie ofertowe wysłano do kilku podmiotów; każdy odpowiada osobno."))
    contact = [(_l("Od"), inquiry.sender_name), (_l("E-mail"), inquiry.sender_email)]
    contact += [(_l("Telefon"), inquiry.sender_phone)] if inquiry.sender_phone else []
    contact += [(_l("Organizacja"), inquiry.sender_organisation)] if inquiry.sender_organisation else []
    _to_pes(thread, _l("Nowe zapytanie: %(subject)s", subject=inquiry.subject), lines,
            details=_inquiry_details(inquiry) + contact)


def pes_replied(thread, msg) -> None:
    _to_buyer(thread, _l("Odpowiedź od %(pes)s: %(subject)s", pes=thread.pes.name, subject=thread.inquiry.subject),
              [_l("„%(pes)s” odpowiada na Twoje zapytanie:", pes=thread.pes.name), msg.body])


def quote_sent(thread, quote) -> None:
    from catalog.pricing import format_price, vat_label

    details = [(_l("Cena netto"), format_price(quote.net)), (_l("VAT"), vat_label(quote.vat_rate)),
               (_l("Cena brutto"), format_price(quote.gross)),
               (_l("Oferta ważna do"), quote.valid_until.strftime("%d.%m.%Y"))]
    if quote.delivery_terms:
        details.append((_l("Warunki realizacji"), quote.delivery_terms))
    _to_buyer(thread, _l("Oferta cenowa od %(pes)s: %(subject)s", pes=thread.pes.name,
                         subject=thread.inquiry.subject),
              [_l("„%(pes)s” przesyła ofertę cenową w odpowiedzi na Twoje zapytanie.", pes=thread.pes.name),
               quote.message.body if quote.message else ""], details)


def buyer_replied(thread, msg) -> None:
    _to_pes(thread, _l("Nowa wiadomość w zapytaniu: %(subject)s", subject=thread.inquiry.subject),
            [_l("Pytający napisał nową wiadomość:"), msg.body])


def quote_accepted(thread, quote) -> None:
    from catalog.pricing import format_price

    _to_pes(thread, _l("Oferta przyjęta: %(subject)s", subject=thread.inquiry.subject),
            [_l("Pytający przyjął Waszą ofertę (%(gross)s brutto). Skontaktujcie się, aby ustalić szczegóły "
                "realizacji.", gross=format_price(quote.gross))], include_digest=True,
            details=_inquiry_details(thread.inquiry))


def other_chosen(thread) -> None:
    _to_pes(thread, _l("Dziękujemy za ofertę: %(subject)s", subject=thread.inquiry.subject),
            [_l("Dziękujemy za odpowiedź na zapytanie ofertowe. Tym razem pytający wybrał ofertę innego "
                "podmiotu. Zachęcamy do udziału w kolejnych zapytaniach.")], include_digest=True)


def inquiry_closed(thread) -> None:
    _to_pes(thread, _l("Zapytanie zamknięte: %(subject)s", subject=thread.inquiry.subject),
            [_l("Pytający zakończył to zapytanie bez wyboru oferty. Dziękujemy za zainteresowanie.")])


def pes_closed(thread) -> None:
    _to_buyer(thread, _l("%(pes)s nie przygotuje oferty: %(subject)s", pes=thread.pes.name,
                         subject=thread.inquiry.subject),
              [_l("„%(pes)s” odpowiada, że nie może przygotować oferty:", pes=thread.pes.name),
               thread.messages[-1].body if thread.messages else ""])


def guest_confirmation(inquiry) -> None:
    link = external_url("inquiries.confirm", token=access.confirm_token(inquiry))
    # Only the portal's own words: the address was typed by whoever filled in the form, so nothing they wrote
    # is carried to it before its owner confirms.
    outbox.queue(inquiry.sender_email, _l("Potwierdź wysłanie zapytania"), TEMPLATE, locale=inquiry.locale,
                 lines=[_l("Aby wysłać zapytanie, potwierdź, że ten adres e-mail należy do Ciebie. Dopóki tego "
                           "nie zrobisz, nikt go nie otrzyma. Jeśli to nie Ty, zignoruj tę wiadomość.")],
                 details=[], link=link, link_label=_l("Potwierdzam i wysyłam zapytanie"), unsubscribe=None)


def reminder_to_pes(thread) -> None:
    _to_pes(thread, _l("Przypomnienie: zapytanie czeka na odpowiedź – %(subject)s", subject=thread.inquiry.subject),
            [_l("Zapytanie od kilku dni czeka na odpowiedź. Nawet krótka informacja, że nie możecie przygotować "
                "oferty, pomaga pytającemu.")], include_digest=True, details=_inquiry_details(thread.inquiry))


def reminder_to_buyer(thread, quote) -> None:
    _to_buyer(thread, _l("Oferta wkrótce wygaśnie: %(subject)s", subject=thread.inquiry.subject),
              [_l("Oferta od „%(pes)s” jest ważna do %(day)s. Po tym dniu nie będzie można jej przyjąć.",
                  pes=thread.pes.name, day=quote.valid_until.strftime("%d.%m.%Y"))])


def thread_reported(thread) -> None:
    link = external_url("inquiries.moderation_detail", thread_id=thread.id)
    staff = db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES), User.email_confirmed_at.is_not(None)))
    for user in staff:
        outbox.queue(user.email, _l("Zgłoszona rozmowa w zapytaniach: %(subject)s", subject=thread.inquiry.subject),
                     TEMPLATE, locale=user.locale or "pl", lines=[_l("Zgłoszono rozmowę do moderacji. Powód:"),
                                                                  thread.report_reason],
                     details=[], link=link, link_label=_l("Zobacz zgłoszenie"), unsubscribe=None)


def digest(member, threads) -> None:
    """One mail with the threads a member who takes a daily digest has not been told of."""
    link = external_url("inquiries.pes_inbox", pes_id=member.pes_id)
    lines = [_l("Nowe i zaktualizowane zapytania do „%(pes)s”:", pes=member.pes.name)]
    lines += [f"– {t.inquiry.subject}" for t in threads]
    unsubscribe, headers = _unsubscribe(member)
    outbox.queue(member.user.email, _l("Zapytania z ostatniej doby: %(n)s", n=len(threads)), TEMPLATE,
                 locale=member.user.locale or "pl", lines=lines, details=[], link=link,
                 link_label=_l("Otwórz skrzynkę zapytań"), unsubscribe=unsubscribe, headers=headers)
