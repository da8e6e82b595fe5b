"""Invoices in the PES panel (issue, PDF, FA(3) XML) and the buyer's PDF download.

Every POST is checked for its CSRF token by CSRFProtect before the view runs.
"""
from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.decorators import confirmed_required
from marketplace.core.urls import url_or
from marketplace.extensions import db
from marketplace.orders import fa3, invoice_pdf, invoices
from marketplace.orders.access import member_pes
from marketplace.orders.models import Invoice, Order

bp = Blueprint("invoices", __name__)


def _pes_invoice(pes_id: int, invoice_id: int) -> Invoice:
    pes = member_pes(pes_id)
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.pes_id != pes.id:
        abort(404)
    return invoice


def _order_page(pes_id: int, order_id: int):
    """Back to the order in the PES panel; the PES list while the order page does not exist yet."""
    return redirect(url_or("orders.pes_order", url_for("pes.my_pes"), pes_id=pes_id, order_id=order_id))


def _file(body: bytes, mimetype: str, invoice: Invoice, ext: str) -> Response:
    name = invoice.number.replace("/", "-")
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="faktura-{name}.{ext}"', "Cache-Control": "no-store"})


@bp.post("/panel/pes/<int:pes_id>/zamowienia/<int:order_id>/faktura")
@login_required
@confirmed_required
def issue(pes_id: int, order_id: int):
    """Issue the order's invoice; a refusal is told on the order page."""
    pes = member_pes(pes_id)
    order = db.session.get(Order, order_id)
    if order is None or order.pes_id != pes.id:
        abort(404)
    try:
        invoice = invoices.issue(order, current_user)
    except invoices.InvoiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _order_page(pes_id, order_id)
    db.session.commit()
    flash(_("Wystawiono fakturę %(number)s.", number=invoice.number), "success")
    return _order_page(pes_id, order_id)


@bp.get("/panel/pes/<int:pes_id>/faktury/<int:invoice_id>.pdf")
@login_required
def pes_pdf(pes_id: int, invoice_id: int):
    invoice = _pes_invoice(pes_id, invoice_id)
    return _file(invoice_pdf.render(invoice), "application/pdf", invoice, "pdf")


@bp.get("/panel/pes/<int:pes_id>/faktury/<int:invoice_id>.xml")
@login_required
def pes_xml(pes_id: int, invoice_id: int):
    """The FA(3) XML, as it is (or would be) sent to KSeF."""
    invoice = _pes_invoice(pes_id, invoice_id)
    return _file(fa3.build_xml(invoice), "application/xml", invoice, "xml")


@bp.get("/zamowienia/faktura/<int:invoice_id>.pdf")
@login_required
def buyer_pdf(invoice_id: int):
    """The buyer's copy; anyone else gets 404 (nobody learns that the invoice exists)."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.order.buyer_id is None or invoice.order.buyer_id != current_user.id:
        abort(404)
    return _file(invoice_pdf.render(invoice), "application/pdf", invoice, "pdf")
