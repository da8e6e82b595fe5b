"""What the portal's downloadable reports share: spreadsheet-safe CSV cells, Polish dates, and paragraphs and
tables for PDFs. The A4 PDF itself (marketplace.core.pdf.Document) is imported where a PDF is made: fpdf2 and
its fonts are not loaded by a web worker that never makes one."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from catalog.pricing import GROSZ
from marketplace import clock, region

if TYPE_CHECKING:
    from fpdf import FPDF

# A spreadsheet runs a cell that begins with one of these as a formula (or after stripping it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(rows) -> bytes:
    """UTF-8 with BOM, semicolons: what Polish Excel opens with letters and numbers intact."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([cell if isinstance(cell, int) else safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def amount(value: Decimal | None) -> str:
    """1234,56: a decimal comma and no grouping, so that Polish Excel reads a number."""
    return "" if value is None else format(Decimal(value).quantize(GROSZ), "f").replace(".", ",")


def yes_no(value: bool) -> str:
    return _("tak") if value else _("nie")


def local_day(value: date | datetime | None) -> date | None:
    """The date in Europe/Warsaw: a reply sent at 23:30 UTC belongs to the next Polish day."""
    if value is None or not isinstance(value, datetime):
        return value
    if value.tzinfo is None:  # SQLite returns naive datetimes, stored in UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(clock.WARSAW).date()


def day_text(value: date | datetime | None) -> str:
    """DD.MM.RRRR, as Polish documents write dates."""
    day = local_day(value)
    return day.strftime("%d.%m.%Y") if day else ""


def portal_name() -> str:
    return f"{_('Portal sprzedaży PES')} – {region.name()}"


def line(pdf: FPDF, text: str, size: float = 9, style: str = "") -> None:
    """A paragraph across the page's width."""
    from fpdf.enums import XPos, YPos  # loaded already: `pdf` is one

    pdf.set_font("Lato", style, size)
    pdf.multi_cell(w=0, h=size * 0.5, text=text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


class _Widths:
    """Text widths in the current font from per-character widths, cached: wrapping a long table with fpdf2's
    own line breaker costs seconds, this costs milliseconds."""

    def __init__(self, pdf: FPDF):
        self.pdf, self.cache = pdf, {}

    def __call__(self, text: str) -> float:
        cache, total = self.cache, 0.0
        for ch in text:
            width = cache.get(ch)
            if width is None:
                width = cache[ch] = self.pdf.get_string_width(ch)
            total += width
        return total


def wrap(measure, text: str, width: float) -> list[str]:
    """The lines of `text` (its own line breaks kept) that fit `width`, breaking between words, or inside a
    word longer than a line."""
    lines = []
    for paragraph in (text or "").split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if measure(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:  # a word wider than the column is cut where it must be
                if measure(line + ch) > width and line:
                    lines.append(line)
                    line = ""
                line += ch
        lines.append(line)
    return lines


def fast_table(pdf: FPDF, widths, headings, rows, size: float = 7.5, padding: float = 1.0) -> None:
    """A bordered table whose heading row repeats on every page; rows never split across pages."""
    pdf.set_font("Lato", size=size)
    measure, line_h = _Widths(pdf), pdf.font_size * 1.3

    def draw(cells, bold=False):
        pdf.set_font("Lato", "B" if bold else "", size)
        wrapped = [wrap(measure if not bold else pdf.get_string_width, str(c), w - 2 * padding)
                   for c, w in zip(cells, widths)]
        height = max(len(lines) for lines in wrapped) * line_h + 2 * padding
        if pdf.get_y() + height > pdf.page_break_trigger and not bold:
            pdf.add_page()
            draw(headings, bold=True)
        x, y = pdf.l_margin, pdf.get_y()
        for lines, w in zip(wrapped, widths):
            pdf.rect(x, y, w, height, style="DF" if bold else "D")
            for i, text in enumerate(lines):
                pdf.text(x + padding, y + padding + pdf.font_size * 0.85 + i * line_h, text)
            x += w
        pdf.set_y(y + height)

    pdf.set_fill_color(235, 235, 235)
    draw(headings, bold=True)
    for row in rows:
        draw(row)
    pdf.set_font("Lato", size=size)
