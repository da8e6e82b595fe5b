"""The model withdrawal form of annex 2 to the consumer rights Act, for the page and as a PDF.

The parts are kept here once, so that the printed page and the PDF always say the same.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _

from marketplace.core.reports import line, portal_name

if TYPE_CHECKING:
    from marketplace.core.pdf import Document

LINE_GAP = 8  # millimetres between the lines to write on


def parts() -> list[tuple[str, int]]:
    """(what to write, how many lines for it), in the order of the Act's model."""
    return [
        (_("Adresat (sprzedawca – podmiot ekonomii społecznej: nazwa, pełny adres pocztowy i adres e-mail):"), 3),
        (_("Ja/My(*) niniejszym informuję/informujemy(*) o moim/naszym odstąpieniu od umowy sprzedaży "
           "następujących rzeczy(*) / umowy dostawy następujących rzeczy(*) / umowy o dzieło polegającej na "
           "wykonaniu następujących rzeczy(*) / o świadczenie następującej usługi(*):"), 3),
        (_("Data zawarcia umowy(*) / odbioru(*):"), 1),
        (_("Numer zamówienia w portalu (jeśli go znasz):"), 1),
        (_("Imię i nazwisko konsumenta(-ów):"), 1),
        (_("Adres konsumenta(-ów):"), 2),
        (_("Podpis konsumenta(-ów) (tylko jeżeli formularz jest przesyłany w wersji papierowej):"), 1),
        (_("Data:"), 1),
    ]


def title() -> str:
    return _("Wzór formularza odstąpienia od umowy")


def purpose() -> str:
    return _("(formularz ten należy wypełnić i odesłać tylko w przypadku chęci odstąpienia od umowy)")


def footnote() -> str:
    return _("(*) Niepotrzebne skreślić.")


def _blank_lines(pdf: Document, count: int) -> None:
    for _n in range(count):
        pdf.ln(LINE_GAP)
        y = pdf.get_y()
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(4)


def render_pdf() -> bytes:
    """An A4 page to print, fill in by hand and send to the seller (or to fill in and send by e-mail)."""
    from fpdf.enums import XPos, YPos

    from marketplace.core.pdf import Document

    pdf = Document(orientation="P")
    pdf.set_title(title())
    pdf.set_creator(portal_name())
    pdf.add_page()
    line(pdf, _("Załącznik nr 2 do ustawy z dnia 30 maja 2014 r. o prawach konsumenta"), size=8)
    pdf.ln(4)
    line(pdf, title(), size=15, style="B")
    line(pdf, purpose(), size=9)
    pdf.ln(4)
    for text, count in parts():
        line(pdf, text, size=10)
        _blank_lines(pdf, count)
    line(pdf, footnote(), size=9)
    pdf.ln(6)
    pdf.set_font("Lato", size=8)
    pdf.multi_cell(w=0, h=4, new_x=XPos.LMARGIN, new_y=YPos.NEXT, text=_(
        "Formularz wyślij sprzedawcy, czyli podmiotowi, który przyjął zamówienie – nie operatorowi portalu. "
        "Dane sprzedawcy znajdziesz na stronie oferty i w potwierdzeniu zamówienia. Możesz też złożyć "
        "oświadczenie w zamówieniu, na stronie „Moje zamówienia”."))
    return bytes(pdf.output())
