"""Invoices for orders: numbered per PES and year without gaps, and frozen as issued.

The number is taken in the transaction that writes the invoice, so a rolled-back invoice gives its number
back. The invoice keeps a snapshot of seller, buyer, lines, totals and payment in `data`: a later change of the
order or of the PES profile never changes an issued invoice, and the FA(3) XML and the PDF are built from it.
Functions flush and never commit; the caller commits once.
"""
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace import audit, clock
from marketplace.core.reports import local_day
from marketplace.extensions import db
from marketplace.orders import money
from marketplace.orders.models import Invoice, InvoiceSequence, Order, PesSales

NUMBER_FORMAT = "FV/{seq}/{year}"
# Art. 113 ust. 1 of the VAT Act: the small-business exemption that most VAT-exempt PES use.
EXEMPTION_BASIS = "art. 113 ust. 1 ustawy z dnia 11 marca 2004 r. o podatku od towarów i usług"
PAID_STATUSES = ("paid", "in_progress", "ready", "shipped", "completed")
# A bank-transfer buyer pays against the invoice, so it may be issued as soon as the order is placed.
TRANSFER_STATUSES = ("new", "awaiting_payment", *PAID_STATUSES)


class InvoiceError(Exception):
    """An invoice that the rules refuse; str() is the message to show."""


def next_number(pes_id: int, year: int) -> int:
    """The PES's next invoice number in the year. The UPDATE locks the counter row until the transaction
    ends; a missing row is inserted in a savepoint, and if another transaction inserted it first, its row is
    incremented instead."""
    taken = _increment(pes_id, year)
    if taken is not None:
        return taken
    try:
        with db.session.begin_nested():
            db.session.add(InvoiceSequence(pes_id=pes_id, year=year, last=1))
        return 1
    except IntegrityError:  # a concurrent invoice created the row: it is committed (or we would still wait)
        return _increment(pes_id, year)


def _increment(pes_id: int, year: int) -> int | None:
    table = InvoiceSequence.__table__
    stmt = (update(table).where(table.c.pes_id == pes_id, table.c.year == year)
            .values(last=table.c.last + 1).returning(table.c.last))
    return db.session.execute(stmt).scalar_one_or_none()


def for_order(order_id: int) -> Invoice | None:
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order_id))


def issue(order: Order, actor, on: date | None = None) -> Invoice:
    """Issue the order's invoice dated `on` (default: today in Poland), or raise InvoiceError."""
    on = on or clock.today()
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())  # one invoice at a time
    sales = db.session.get(PesSales, order.pes_id) or PesSales(pes_id=order.pes_id)
    _check(order, sales)
    seq = next_number(order.pes_id, on.year)
    number = NUMBER_FORMAT.format(seq=seq, year=on.year)
    data = {"number": number, **snapshot(order, sales, on)}
    invoice = Invoice(pes_id=order.pes_id, order_id=order.id, year=on.year, seq=seq, number=number,
                      issue_date=on, sale_date=date.fromisoformat(data["sale_date"]), data=data,
                      gross_total=money.total(order.lines).gross,
                      ksef_state="pending" if sales.ksef_enabled else "off")
    db.session.add(invoice)
    db.session.flush()
    audit.record(actor, "invoice.issue", invoice, after={"number": invoice.number, "order": order.number,
                                                          "gross": data["totals"]["gross"]})
    return invoice


def _check(order: Order, sales: PesSales) -> None:
    existing = for_order(order.id)
    if existing is not None:
        raise InvoiceError(_("To zamówienie ma już fakturę %(number)s.", number=existing.number))
    if order.status in ("cancelled", "refunded"):
        raise InvoiceError(_("Do anulowanego lub zwróconego zamówienia nie wystawia się faktury."))
    allowed = TRANSFER_STATUSES if order.payment_method == "transfer" else PAID_STATUSES
    if order.status not in allowed:
        raise InvoiceError(_("Fakturę do tego zamówienia można wystawić dopiero po jego opłaceniu."))
    if sales.vat_exempt and not order.wants_invoice:
        raise InvoiceError(_("Podmiot zwolniony z VAT wystawia fakturę tylko na życzenie kupującego, a kupujący "
                             "o nią nie prosił."))
    pes = order.pes
    if not pes.nip:
        raise InvoiceError(_("Uzupełnij NIP podmiotu w jego profilu: bez niego nie można wystawić faktury."))
    if not (pes.city and pes.postal_code):
        raise InvoiceError(_("Uzupełnij adres podmiotu w jego profilu: bez niego nie można wystawić faktury."))
    _check_rates(order, sales)


def _check_rates(order: Order, sales: PesSales) -> None:
    """An exempt seller charges no VAT; a taxpayer's exempt line needs a legal basis the portal does not
    know yet. Either mismatch would put wrong tax on a legal document, so it is refused, not guessed."""
    rates = {line.vat_rate for line in order.lines}
    if not rates:
        raise InvoiceError(_("Zamówienie nie ma pozycji do zafakturowania."))
    if sales.vat_exempt and rates != {"zw"}:
        raise InvoiceError(_("Podmiot jest zwolniony z VAT, a zamówienie ma pozycje ze stawką VAT. Popraw "
                             "stawki w ofercie i ustawieniach sprzedaży, a zamówienie rozlicz poza portalem."))
    if not sales.vat_exempt and "zw" in rates:
        raise InvoiceError(_("Zamówienie ma pozycje zwolnione z VAT u czynnego podatnika VAT: fakturę z "
                             "podstawą zwolnienia wystaw poza portalem."))


def _text(value) -> str:
    return format(money.rounded(value), "f")


def _amounts(amounts: money.Amounts) -> dict:
    return {"net": _text(amounts.net), "vat": _text(amounts.vat), "gross": _text(amounts.gross)}


def _lines(order: Order) -> list[dict]:
    return [{"title": line.title, "unit": line.unit or "", "quantity": str(line.quantity),
             "unit_net": _text(line.unit_net), "vat_rate": line.vat_rate, "net": _text(line.net),
             "vat": _text(line.vat), "gross": _text(line.gross)} for line in order.lines]


def _parties(order: Order) -> dict:
    pes = order.pes
    seller = {"name": pes.name, "nip": pes.nip, "street": pes.street or "", "postal_code": pes.postal_code,
              "city": pes.city}
    buyer = {"name": order.company_name or order.buyer_name, "person": order.buyer_name,
             "nip": order.buyer_nip or None, "consumer": not order.buyer_nip, "street": order.street or "",
             "postal_code": order.postal_code or "", "city": order.city or "", "email": order.buyer_email}
    return {"seller": seller, "buyer": buyer}


def _payment(order: Order, sales: PesSales, on: date) -> dict:
    paid_on = local_day(order.paid_at) if order.paid_at else None
    if paid_on is None and order.payment_method == "stripe":
        paid_on = on  # paid online: the status says so even if the payment's time was not stored
    due = None
    if paid_on is None:
        due = order.payment_due or on + timedelta(days=sales.payment_term_days or 0)
    account = sales.bank_account if order.payment_method == "transfer" else None
    return {"method": order.payment_method, "due": due.isoformat() if due else None,
            "bank_account": account or None, "paid_on": paid_on.isoformat() if paid_on else None}


def snapshot(order: Order, sales: PesSales, on: date) -> dict:
    """What the invoice says, as JSON-safe strings; money as "123.45"."""
    payment = _payment(order, sales, on)
    paid_on = date.fromisoformat(payment["paid_on"]) if payment["paid_on"] else None
    sale_date = min(paid_on, on) if paid_on else on  # the day of payment, else of issue
    per_rate = money.by_rate(order.lines)
    return {
        **_parties(order),
        "order_number": order.number,
        "currency": "PLN",
        "issue_date": on.isoformat(),
        "sale_date": sale_date.isoformat(),
        "created_at": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lines": _lines(order),
        "totals": {"by_rate": {rate: _amounts(a) for rate, a in per_rate.items()},
                   **_amounts(money.total(order.lines))},
        "payment": payment,
        "exemption_basis": EXEMPTION_BASIS if sales.vat_exempt else None,
    }
