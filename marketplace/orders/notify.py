"""Mail about orders, to the buyer and to the PES's members, through the outbox (sent after commit)."""
from flask_babel import lazy_gettext as _l

from catalog.pricing import format_price
from marketplace import outbox
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.orders import statuses
from marketplace.orders.models import Order, OrderMessage

TEMPLATE = "mail/inquiries/event.txt"  # the portal's plain event mail: lines, details and one link


def _details(order: Order) -> list:
    details = [(_l("Numer zamówienia"), order.number), (_l("Sprzedawca"), order.pes.name),
               (_l("Do zapłaty (brutto)"), format_price(order.gross_total))]
    for line in order.lines:
        details.append((f"{line.quantity} × {line.title}", format_price(line.gross)))
    if order.payment_method == "transfer" and order.payment_due and order.paid_at is None:
        details.append((_l("Termin płatności przelewem"), order.payment_due.strftime("%d.%m.%Y")))
    return details


def _to_buyer(order: Order, subject, lines) -> None:
    outbox.queue(order.buyer_email, subject, TEMPLATE, locale=order.buyer.locale if order.buyer else "pl",
                 lines=lines, details=_details(order), link=external_url("orders.order", number=order.number),
                 link_label=_l("Zobacz zamówienie w portalu"), unsubscribe=None)


def _to_pes(order: Order, subject, lines) -> None:
    link = external_url("orders.pes_order", pes_id=order.pes_id, order_id=order.id)
    recipients = [(m.user.email, m.user.locale or "pl") for m in order.pes.members if m.user.is_confirmed]
    if not recipients and order.pes.email:
        recipients = [(order.pes.email, "pl")]
    for address, locale in recipients:
        outbox.queue(address, subject, TEMPLATE, locale=locale, lines=lines, details=_details(order), link=link,
                     link_label=_l("Otwórz zamówienie w panelu"), unsubscribe=None)


def placed(order: Order) -> None:
    if order.payment_method == "stripe":
        buyer_line = _l("Przyjęliśmy Twoje zamówienie. Zapłać online, aby sprzedawca mógł je zrealizować.")
    else:
        buyer_line = _l("Przyjęliśmy Twoje zamówienie. Zapłacisz przelewem na podstawie faktury sprzedawcy.")
    _to_buyer(order, _l("Zamówienie %(number)s przyjęte", number=order.number), [buyer_line])
    _to_pes(order, _l("Nowe zamówienie %(number)s", number=order.number),
            [_l("Kupujący %(name)s złożył zamówienie przez portal.", name=order.buyer_name)])


def paid(order: Order) -> None:
    _to_buyer(order, _l("Zamówienie %(number)s opłacone", number=order.number),
              [_l("Sprzedawca otrzymał Twoją płatność. Dziękujemy!")])
    _to_pes(order, _l("Zamówienie %(number)s opłacone", number=order.number),
            [_l("Zamówienie zostało opłacone. Możesz je realizować.")])


def refunded_unfillable(order: Order) -> None:
    _to_buyer(order, _l("Zamówienie %(number)s: zwrot płatności", number=order.number),
              [_l("Płatność dotarła po upływie rezerwacji, a towaru już zabrakło. Zwróciliśmy całą kwotę "
                  "na Twoje konto.")])


def status_changed(order: Order, status: str, comment: str | None = None) -> None:
    label = statuses.LABELS[status]  # lazy: rendered in the buyer's language
    _to_buyer(order, _l("Zamówienie %(number)s: %(status)s", number=order.number, status=label),
              [_l("Sprzedawca zmienił status zamówienia na: %(status)s.", status=label), comment])


def refund(order: Order, amount) -> None:
    _to_buyer(order, _l("Zamówienie %(number)s: zwrot pieniędzy", number=order.number),
              [_l("Sprzedawca zlecił zwrot %(amount)s na Twoją kartę lub konto. Pieniądze zwykle wracają w ciągu "
                  "kilku dni roboczych.", amount=format_price(amount))])


def post(order: Order, author, body: str, from_pes: bool) -> None:
    """A message in the order's conversation, kept with the order and mailed to the other side."""
    db.session.add(OrderMessage(order=order, author_id=author.id, from_pes=from_pes, body=body))
    message(order, body, from_pes)


def message(order: Order, body: str, from_pes: bool) -> None:
    subject = _l("Wiadomość w sprawie zamówienia %(number)s", number=order.number)
    if from_pes:
        _to_buyer(order, subject, [body])
    else:
        _to_pes(order, subject, [body])
