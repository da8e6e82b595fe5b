"""The invoice as a PDF for people: the buyer's copy and the PES's, built from the invoice's data as issued
(the legal invoice in KSeF is the FA(3) XML; this is its readable form)."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from flask_babel import get_locale
from flask_babel import gettext as _

from catalog.pricing import format_amount, format_price
from marketplace.core.reports import day_text, fast_table, line, portal_name
from marketplace.orders.models import Invoice

if TYPE_CHECKING:
    from marketplace.core.pdf import Document

_LINE_WIDTHS = (8, 62, 12, 12, 20, 22, 12, 18, 24)
_RATE_WIDTHS = (40, 40, 40, 40)


def _day(value: str | None) -> str:
    return day_text(date.fromisoformat(value)) if value else ""


def rate_label(rate: str) -> str:
    return _("zw.") if rate == "zw" else f"{rate}%"


def account_text(account: str) -> str:
    """PL61 1090 1014 ...: an account number in groups of four, as banks print it."""
    return " ".join(account[i:i + 4] for i in range(0, len(account), 4))


def _party(party: dict, seller: bool) -> str:
    town = " ".join(p for p in (party.get("postal_code"), party.get("city")) if p)
    rows = [party["name"]]
    if not seller and party.get("person") and party["person"] != party["name"]:
        rows.append(party["person"])
    rows += [party.get("street") or "", town]
    rows.append(_("NIP: %(nip)s", nip=party["nip"]) if party.get("nip") else "")
    return "\n".join(r for r in rows if r)


def _heading(pdf: Document, invoice: Invoice, data: dict) -> None:
    line(pdf, _("Faktura nr %(number)s", number=data["number"]), 16, "B")
    if invoice.ksef_number:
        line(pdf, _("Numer KSeF: %(number)s", number=invoice.ksef_number), 9, "B")
    line(pdf, _("Data wystawienia: %(day)s", day=_day(data["issue_date"])))
    line(pdf, _("Data sprzedaży: %(day)s", day=_day(data["sale_date"])))
    line(pdf, _("Zamówienie: %(number)s", number=data["order_number"]))
    pdf.ln(3)
    fast_table(pdf, (95, 95), (_("Sprzedawca"), _("Nabywca")),
               [(_party(data["seller"], True), _party(data["buyer"], False))], size=9, padding=2)
    pdf.ln(4)


def _lines(pdf: Document, data: dict) -> None:
    headings = (_("Lp."), _("Nazwa"), _("J.m."), _("Ilość"), _("Cena netto"), _("Wartość netto"),
                _("VAT"), _("Kwota VAT"), _("Wartość brutto"))
    rows = [(str(n), item["title"], item.get("unit") or "", item["quantity"], format_amount(item["unit_net"]),
             format_amount(item["net"]), rate_label(item["vat_rate"]), format_amount(item["vat"]),
             format_amount(item["gross"])) for n, item in enumerate(data["lines"], start=1)]
    fast_table(pdf, _LINE_WIDTHS, headings, rows, size=8)
    pdf.ln(4)


def _totals(pdf: Document, data: dict) -> None:
    totals = data["totals"]
    rows = [(rate_label(rate), format_amount(a["net"]), format_amount(a["vat"]), format_amount(a["gross"]))
            for rate, a in totals["by_rate"].items()]
    rows.append((_("Razem"), format_amount(totals["net"]), format_amount(totals["vat"]),
                 format_amount(totals["gross"])))
    fast_table(pdf, _RATE_WIDTHS, (_("Stawka VAT"), _("Netto"), _("VAT"), _("Brutto")), rows, size=8)
    pdf.ln(4)


def _payment(pdf: Document, data: dict) -> None:
    payment, gross = data["payment"], data["totals"]["gross"]
    if payment.get("paid_on"):
        line(pdf, _("Zapłacono: %(amount)s, dnia %(day)s", amount=format_price(gross),
                    day=_day(payment["paid_on"])), 10, "B")
    else:
        line(pdf, _("Do zapłaty: %(amount)s", amount=format_price(gross)), 10, "B")
        if payment.get("due"):
            line(pdf, _("Termin płatności: %(day)s", day=_day(payment["due"])))
    method = _("przelew") if payment["method"] == "transfer" else _("płatność online")
    line(pdf, _("Forma płatności: %(method)s", method=method))
    if payment.get("bank_account"):
        line(pdf, _("Numer rachunku: %(account)s", account=account_text(payment["bank_account"])))
    if data.get("exemption_basis"):
        pdf.ln(2)
        line(pdf, _("Sprzedawca zwolniony z VAT – podstawa zwolnienia: %(basis)s.",
                    basis=data["exemption_basis"]))


def render(invoice: Invoice) -> bytes:
    """The invoice as an A4 PDF in Lato (its Polish letters), titled with its number."""
    from marketplace.core.pdf import Document

    data = invoice.data
    pdf = Document(orientation="P")
    pdf.set_title(_("Faktura nr %(number)s", number=data["number"]))
    pdf.set_lang(str(get_locale() or "pl").replace("_", "-"))
    pdf.set_creator(portal_name())
    pdf.add_page()
    _heading(pdf, invoice, data)
    _lines(pdf, data)
    _totals(pdf, data)
    _payment(pdf, data)
    return bytes(pdf.output())
