"""The builder's result as files for the tender file: the clauses as .docx (to edit in a word processor) and
PDF (to print), each dated, with the inputs, the regime and the legal state it was computed with."""
import io

from flask_babel import get_locale
from flask_babel import gettext as _

from marketplace.core.reports import day_text, line, portal_name
from marketplace.procurement import labels
from marketplace.procurement.builder import Result


def summary(result: Result) -> list[tuple[str, str]]:
    """The inputs and the regime, as label and value pairs."""
    return labels.input_rows(result) + [(_("Tryb"), labels.regime_label(result.regime.code))]


def legal_lines(result: Result) -> list[str]:
    return [_("%(name)s: %(value)s (od %(since)s; źródło: %(source)s, stan prawny na %(day)s)%(flag)s",
              name=labels.value_name(e.key), value=labels.value_text(e), since=day_text(e.valid_from),
              source=e.source_title, day=day_text(e.legal_state_on),
              flag="" if e.verified else " – " + _("do potwierdzenia"))
            for e in result.legal.used_entries()]


def _heading(result: Result) -> tuple[str, str]:
    return (_("Klauzule społeczne – wynik kreatora"),
            _("Stan na %(day)s, stan prawny na %(legal)s. Informacja, nie porada prawna.",
              day=day_text(result.computed_on), legal=day_text(result.legal.as_of())))


def to_docx(result: Result) -> bytes:
    from docx import Document as WordDocument
    from docx.shared import Pt

    doc = WordDocument()
    doc.core_properties.title = _heading(result)[0]
    doc.core_properties.language = str(get_locale() or "pl")
    doc.styles["Normal"].font.size = Pt(11)
    title, dated = _heading(result)
    doc.add_heading(title, level=1)
    doc.add_paragraph(dated)
    doc.add_heading(_("Dane zamówienia"), level=2)
    for label, value in summary(result):
        doc.add_paragraph(f"{label}: {value}", style="List Bullet")
    doc.add_heading(_("Teksty klauzul"), level=2)
    for clause in result.clauses:
        doc.add_heading(clause.title, level=3)
        for paragraph in clause.paragraphs:
            doc.add_paragraph(paragraph)
    doc.add_heading(_("Stan prawny użyty w wyniku"), level=2)
    for text in legal_lines(result):
        doc.add_paragraph(text, style="List Bullet")
    doc.add_paragraph(_("Wygenerowano w portalu „%(portal)s”.", portal=portal_name()))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_pdf(result: Result) -> bytes:
    from marketplace.core.pdf import Document

    pdf = Document(orientation="P")
    title, dated = _heading(result)
    pdf.set_title(title)
    pdf.set_lang(str(get_locale() or "pl"))
    pdf.set_creator(portal_name())
    pdf.add_page()
    line(pdf, title, 15, "B")
    line(pdf, dated)
    pdf.ln(2)
    line(pdf, _("Dane zamówienia"), 12, "B")
    for label, value in summary(result):
        line(pdf, f"{label}: {value}")
    for clause in result.clauses:
        pdf.ln(3)
        line(pdf, clause.title, 12, "B")
        for paragraph in clause.paragraphs:
            line(pdf, paragraph, 10)
            pdf.ln(1)
    pdf.ln(3)
    line(pdf, _("Stan prawny użyty w wyniku"), 12, "B")
    for text in legal_lines(result):
        line(pdf, text, 8)
    return bytes(pdf.output())
