"""The market survey report (raport z rozeznania rynku): the shortlist of PES for the purchase, with contact
data, legal form, the basis of eligibility, marks valid on the day and when each PES last confirmed its data,
as CSV and PDF, dated, for the tender file."""
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from marketplace import region
from marketplace.core.reports import csv_bytes, day_text, fast_table, line, portal_name
from marketplace.pes.labels import legal_form_label
from marketplace.procurement import labels
from marketplace.procurement.builder import Result
from marketplace.procurement.documents import summary
from marketplace.procurement.shortlist import Supplier


def basis_text(supplier: Supplier) -> str:
    if not supplier.basis:
        return "–"
    return str(labels.BASIS[supplier.basis]) % {"share": supplier.pes.disadvantaged_share or 0}


def _address(pes) -> str:
    place = " ".join(filter(None, (pes.postal_code, pes.city)))
    return ", ".join(filter(None, (pes.street, place)))


def _marks(supplier: Supplier) -> str:
    return ", ".join(_("%(number)s (ważny do %(day)s)", number=m.number, day=day_text(m.valid_until))
                     for m in supplier.marks) or "–"


def columns():
    return (
        (_("Podmiot"), lambda s: s.pes.name),
        (_("Forma prawna"), lambda s: legal_form_label(s.pes.legal_form)),
        (_("NIP"), lambda s: s.pes.nip or ""), (_("KRS"), lambda s: s.pes.krs or ""),
        (_("Adres"), lambda s: _address(s.pes)), (_("Powiat"), lambda s: region.powiat_label(s.pes.powiat)),
        (_("E-mail"), lambda s: s.pes.email or ""), (_("Telefon"), lambda s: s.pes.phone or ""),
        (_("Podstawa uprawnienia"), basis_text), (_("Znaki jakości ważne w dniu raportu"), _marks),
        (_("Dane potwierdzone przez PES"), lambda s: day_text(s.confirmed_at)),
        (_("Profil w portalu"), lambda s: url_for("pes.profile", pes_id=s.pes.id, _external=True)),
    )


def _heading(result: Result, kind: str, total: int) -> list[tuple[str, str]]:
    return [(_("Raport z rozeznania rynku"), ""), (_("Stan na"), day_text(result.computed_on)),
            *summary(result), (_("Lista"), str(labels.LISTS[kind])), (_("Liczba podmiotów"), str(total))]


def to_csv(result: Result, kind: str, found: list[Supplier], total: int) -> bytes:
    cols = columns()
    rows = [list(pair) for pair in _heading(result, kind, total)] + [[]]
    rows.append([_("Lp.")] + [label for label, _get in cols])
    rows += [[number] + [get(s) for _label, get in cols] for number, s in enumerate(found, start=1)]
    return csv_bytes(rows)


_PDF_WIDTHS = (7, 45, 28, 20, 42, 40, 45, 30, 20)


def _pdf_row(number: int, s: Supplier) -> list[str]:
    pes = s.pes
    ids = "\n".join(filter(None, (pes.nip and _("NIP: %(nip)s", nip=pes.nip), pes.krs and f"KRS: {pes.krs}")))
    contact = "\n".join(filter(None, (pes.email, pes.phone)))
    return [str(number), pes.name, legal_form_label(pes.legal_form), ids,
            "\n".join(filter(None, (_address(pes), region.powiat_label(pes.powiat)))), contact, basis_text(s),
            _marks(s), day_text(s.confirmed_at)]


def to_pdf(result: Result, kind: str, found: list[Supplier], total: int) -> bytes:
    from marketplace.core.pdf import Document

    pdf = Document()
    pdf.set_title(_("Raport z rozeznania rynku"))
    pdf.set_lang(str(get_locale() or "pl"))
    pdf.set_creator(portal_name())
    pdf.add_page()
    line(pdf, _("Raport z rozeznania rynku"), 15, "B")
    for label, value in _heading(result, kind, total)[1:]:
        line(pdf, f"{label}: {value}")
    pdf.ln(3)
    headings = [_("Lp."), _("Podmiot"), _("Forma prawna"), _("NIP / KRS"), _("Adres"), _("Kontakt"),
                _("Podstawa uprawnienia"), _("Znaki jakości"), _("Dane potwierdzone")]
    fast_table(pdf, _PDF_WIDTHS, headings, (_pdf_row(n, s) for n, s in enumerate(found, start=1)))
    if total > len(found):
        line(pdf, _("Pokazano %(shown)s z %(total)s podmiotów.", shown=len(found), total=total))
    return bytes(pdf.output())
