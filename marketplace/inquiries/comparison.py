"""The comparison of the replies to a multi-PES inquiry, for the buyer's purchase file (rozeznanie rynku).

One row per asked PES: who it is (legal form, NIP, art. 94 Pzp, a quality mark valid on the day), where the
conversation stands and its quote. The same rows feed the page, a CSV for Polish Excel and a PDF to print and
file; both exports say the day they show ("Stan na"), since marks and statuses change afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.mark.models import QualityMark
from catalog.models import Offering
from catalog.pricing import format_price, vat_label
from marketplace import clock, region
from marketplace.core.reports import amount as _amount
from marketplace.core.reports import csv_bytes, day_text, local_day
from marketplace.core.reports import line as _line
from marketplace.core.reports import portal_name as _portal_name
from marketplace.core.reports import yes_no as _yes_no
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryThread, Quote
from marketplace.pes.labels import legal_form_label

if TYPE_CHECKING:
    from fpdf import FPDF

STATUS_LABELS = {
    "new": _l("Nowe"), "read": _l("Przeczytane"), "answered": _l("Z odpowiedzią"),
    "quoted": _l("Z ofertą cenową"), "accepted": _l("Przyjęte"), "declined": _l("Odrzucone"),
    "closed": _l("Zamknięte"), "expired": _l("Wygasłe"),
}


@dataclass(frozen=True)
class MarkInfo:
    number: str
    valid_until: date


@dataclass(frozen=True)
class ComparisonRow:
    thread_id: int
    pes_name: str
    pes_ref: str
    legal_form: str
    nip: str
    city: str
    powiat: str
    reserved_eligible: bool
    marks: tuple[MarkInfo, ...]
    status: str
    status_label: str
    first_answer_on: date | None
    quote_id: int | None
    quoted_on: date | None
    net: Decimal | None
    vat_rate: str
    vat_label: str
    gross: Decimal | None
    valid_until: date | None
    delivery_date: date | None
    delivery_terms: str
    accepted: bool
    accepted_on: date | None


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def valid_marks(pes_ids, day: date) -> dict[int, tuple[MarkInfo, ...]]:
    """The marks valid on the day of each PES's offerings (a PES "has a mark" through any of them), in one
    query; longest-lasting first."""
    ids = set(pes_ids)
    if not ids:
        return {}
    stmt = (select(Offering.pes_id, QualityMark.number, QualityMark.valid_until)
            .join(Offering, Offering.id == QualityMark.offering_id)
            .where(Offering.pes_id.in_(ids), QualityMark.status == "active",
                   QualityMark.valid_from <= day, QualityMark.valid_until >= day)
            .order_by(Offering.pes_id, QualityMark.valid_until.desc(), QualityMark.number))
    found: dict[int, list[MarkInfo]] = {}
    for pes_id, number, valid_until in db.session.execute(stmt):
        found.setdefault(pes_id, []).append(MarkInfo(number, valid_until))
    return {pes_id: tuple(marks) for pes_id, marks in found.items()}


def _shown_quote(thread: InquiryThread, accepted_id: int | None) -> Quote | None:
    """The accepted quote, else the latest one not withdrawn: declined and lapsed prices still belong to
    the market survey."""
    quotes = [q for q in thread.quotes if q.status != "withdrawn"]
    return next((q for q in quotes if q.id == accepted_id), quotes[-1] if quotes else None)


# What a thread without a quote shows in the quote's columns.
_NO_QUOTE = SimpleNamespace(id=None, created_at=None, net=None, vat_rate="", gross=None, valid_until=None,
                            delivery_date=None, delivery_terms="", decided_at=None)


def _row(thread: InquiryThread, marks: tuple[MarkInfo, ...], accepted_id: int | None) -> ComparisonRow:
    pes, quote = thread.pes, _shown_quote(thread, accepted_id) or _NO_QUOTE
    accepted = quote.id is not None and quote.id == accepted_id
    return ComparisonRow(
        thread_id=thread.id, pes_name=pes.name, pes_ref=pes.ref, legal_form=legal_form_label(pes.legal_form),
        nip=pes.nip or "", city=pes.city or "", powiat=region.powiat_label(pes.powiat),
        reserved_eligible=pes.reserved_eligible, marks=marks, status=thread.status,
        status_label=status_label(thread.status), first_answer_on=local_day(thread.first_answer_at),
        quote_id=quote.id, quoted_on=local_day(quote.created_at), net=quote.net, vat_rate=quote.vat_rate,
        vat_label=vat_label(quote.vat_rate), gross=quote.gross, valid_until=quote.valid_until,
        delivery_date=quote.delivery_date, delivery_terms=(quote.delivery_terms or "").replace("\r\n", "\n"),
        accepted=accepted, accepted_on=local_day(quote.decided_at) if accepted else None)


def _order(row: ComparisonRow):
    """Priced replies first, cheapest gross first; the rest by name; the thread breaks ties for stability."""
    if row.gross is not None:
        return (0, row.gross, row.pes_name.casefold(), row.thread_id)
    return (1, Decimal(0), row.pes_name.casefold(), row.thread_id)


def rows(inquiry: Inquiry, day: date | None = None) -> list[ComparisonRow]:
    """One row per thread of the inquiry, with the marks valid on the day (default: today), in a bounded
    number of queries whatever the number of threads."""
    threads = db.session.scalars(
        select(InquiryThread).where(InquiryThread.inquiry_id == inquiry.id)
        .options(selectinload(InquiryThread.pes), selectinload(InquiryThread.quotes))).all()
    marks = valid_marks({t.pes_id for t in threads}, day or clock.today())
    built = [_row(t, marks.get(t.pes_id, ()), inquiry.accepted_quote_id) for t in threads]
    return sorted(built, key=_order)


def _sender(inquiry: Inquiry) -> str:
    organisation = inquiry.sender_organisation or (inquiry.institution.name if inquiry.institution else None)
    return " – ".join(part for part in (organisation, inquiry.sender_name) if part)


_CSV_COLUMNS = (
    (_l("Podmiot"), lambda r: r.pes_name),
    (_l("Identyfikator w portalu"), lambda r: r.pes_ref),
    (_l("Forma prawna"), lambda r: r.legal_form),
    (_l("NIP"), lambda r: r.nip),
    (_l("Miejscowość"), lambda r: r.city),
    (_l("Powiat"), lambda r: r.powiat),
    (_l("Zamówienia zastrzeżone (art. 94 Pzp)"), lambda r: _yes_no(r.reserved_eligible)),
    (_l("Znak jakości"), lambda r: ", ".join(m.number for m in r.marks)),
    (_l("Znak jakości ważny do"), lambda r: ", ".join(day_text(m.valid_until) for m in r.marks)),
    (_l("Status"), lambda r: r.status_label),
    (_l("Pierwsza odpowiedź"), lambda r: day_text(r.first_answer_on)),
    (_l("Data oferty"), lambda r: day_text(r.quoted_on)),
    (_l("Netto (zł)"), lambda r: _amount(r.net)),
    (_l("Stawka VAT"), lambda r: r.vat_label),
    (_l("Brutto (zł)"), lambda r: _amount(r.gross)),
    (_l("Oferta ważna do"), lambda r: day_text(r.valid_until)),
    (_l("Termin dostawy"), lambda r: day_text(r.delivery_date)),
    (_l("Warunki dostawy"), lambda r: r.delivery_terms),
    (_l("Oferta przyjęta"), lambda r: _yes_no(r.accepted)),
)


def _heading(inquiry: Inquiry, day: date) -> list[tuple[str, str]]:
    return [(_("Zapytanie"), inquiry.subject), (_("Zamawiający"), _sender(inquiry)),
            (_("Data wysłania zapytania"), day_text(inquiry.sent_at or inquiry.created_at)),
            (_("Stan na"), day_text(day))]


def to_csv(inquiry: Inquiry, day: date | None = None) -> bytes:
    """UTF-8 with BOM, semicolons: what Polish Excel opens with letters and numbers intact."""
    day = day or clock.today()
    table = [[_("Porównanie ofert")], *([label, value] for label, value in _heading(inquiry, day)), [],
             [_("Lp.")] + [str(label) for label, _get in _CSV_COLUMNS]]
    table += [[number] + [get(row) for _label, get in _CSV_COLUMNS]
              for number, row in enumerate(rows(inquiry, day), start=1)]
    return csv_bytes(table)


_PDF_COLUMNS = ((_l("Lp."), 7), (_l("Podmiot"), 44), (_l("Siedziba"), 24), (_l("Art. 94 Pzp"), 12),
                (_l("Znak jakości"), 22), (_l("Status"), 21), (_l("Pierwsza odpowiedź"), 17),
                (_l("Data oferty"), 16), (_l("Netto"), 20), (_l("VAT"), 11), (_l("Brutto"), 20),
                (_l("Oferta ważna do"), 16), (_l("Dostawa"), 47))
_ACCEPTED_FILL = (226, 242, 230)


def _pdf_inquiry(pdf: FPDF, inquiry: Inquiry) -> None:
    _line(pdf, _("Porównanie ofert"), 16, "B")
    _line(pdf, _("Rozeznanie rynku: odpowiedzi podmiotów ekonomii społecznej na zapytanie ofertowe"), 9)
    pdf.ln(2)
    facts = [(_("Przedmiot zapytania"), inquiry.subject), (_("Ilość"), inquiry.quantity or ""),
             (_("Termin realizacji"), day_text(inquiry.wanted_by)),
             (_("Miejsce dostawy"), region.powiat_label(inquiry.delivery_powiat or "")),
             (_("Zamawiający"), _sender(inquiry)),
             (_("Data wysłania zapytania"), day_text(inquiry.sent_at or inquiry.created_at))]
    for label, value in facts:
        _line(pdf, f"{label}: {value or '–'}")
    pdf.ln(3)


def _clip(text: str, chars: int = 500, lines: int = 12) -> str:
    """User text cut short enough that a row stays shorter than a page (the CSV keeps it whole)."""
    kept = "\n".join(text.splitlines()[:lines])[:chars]
    return text if kept == text else kept.rstrip() + "…"


def _pdf_cells(number: int, row: ComparisonRow) -> list[tuple[str, str]]:
    """The row's cells and their alignment: several facts share a cell so that the table fits the page."""
    nip = _("NIP: %(nip)s", nip=row.nip) if row.nip else ""
    entity = "\n".join(filter(None, (_clip(row.pes_name, 150), row.legal_form, nip)))
    marks = "\n".join(_("%(number)s, ważny do %(day)s", number=m.number, day=day_text(m.valid_until))
                      for m in row.marks)
    status = row.status_label + ("\n" + _("oferta przyjęta") if row.accepted else "")
    delivery = "\n".join(filter(None, (day_text(row.delivery_date), _clip(row.delivery_terms))))
    return [(str(number), "R"), (entity, "L"), ("\n".join(filter(None, (row.city, row.powiat))), "L"),
            (_yes_no(row.reserved_eligible), "C"), (marks or "–", "L"), (status, "L"),
            (day_text(row.first_answer_on), "C"), (day_text(row.quoted_on), "C"),
            (format_price(row.net), "R"), (row.vat_label, "C"), (format_price(row.gross), "R"),
            (day_text(row.valid_until), "C"), (delivery, "L")]


def _pdf_table(pdf: FPDF, comparison: list[ComparisonRow]) -> None:
    from fpdf.enums import TableHeadingsDisplay
    from fpdf.fonts import FontFace

    accepted_style = FontFace(emphasis="BOLD", fill_color=_ACCEPTED_FILL)
    pdf.set_font("Lato", size=7.5)
    with pdf.table(col_widths=[width for _label, width in _PDF_COLUMNS], text_align="LEFT", v_align="TOP",
                   repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE, padding=1,
                   line_height=pdf.font_size * 1.3,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235))) as table:
        heading = table.row()
        for label, _width in _PDF_COLUMNS:
            heading.cell(str(label))
        for number, row in enumerate(comparison, start=1):
            cells = table.row(style=accepted_style if row.accepted else None)
            for text, align in _pdf_cells(number, row):
                cells.cell(text, align=align)


def _accepted_text(comparison: list[ComparisonRow]) -> str:
    accepted = next((r for r in comparison if r.accepted), None)
    if accepted is None:
        return _("Żadna oferta nie została przyjęta.")
    return _("Przyjęto ofertę: %(pes)s, %(gross)s brutto, dnia %(day)s.", pes=accepted.pes_name,
             gross=format_price(accepted.gross), day=day_text(accepted.accepted_on) or "–")


def to_pdf(inquiry: Inquiry, day: date | None = None) -> bytes:
    """The comparison as a PDF for the purchase file, tagged with its title and language."""
    from marketplace.core.pdf import Document

    day = day or clock.today()
    comparison = rows(inquiry, day)
    pdf = Document()
    pdf.set_title(_("Porównanie ofert: %(subject)s", subject=inquiry.subject))
    pdf.set_lang(str(get_locale() or "pl").replace("_", "-"))
    pdf.set_creator(_portal_name())
    pdf.add_page()
    _pdf_inquiry(pdf, inquiry)
    _pdf_table(pdf, comparison)
    pdf.ln(3)
    _line(pdf, _accepted_text(comparison), 9, "B")
    _line(pdf, _("Stan na %(day)s", day=day_text(day)))
    return bytes(pdf.output())
