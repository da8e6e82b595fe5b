"""The PES's side of orders: its order list, one order with its status, payment, refunds and messages."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from accounts.decorators import confirmed_required
from marketplace import outbox
from marketplace.extensions import db
from marketplace.orders import notify, payments, statuses, stock
from marketplace.orders.access import member_pes
from marketplace.orders.forms import MarkPaidForm, MessageForm, RefundForm, StatusForm
from marketplace.orders.models import Invoice, Order, OrderMessage, PesSales
from marketplace.orders.views import bp, order_limited

PER_PAGE = 50


def _pes_order(pes_id: int, order_id: int) -> Order:
    """An order of this PES for its members; another PES's order is a 404."""
    member_pes(pes_id)
    order = db.session.get(Order, order_id)
    if order is None or order.pes_id != pes_id:
        abort(404)
    return order


@bp.get("/panel/pes/<int:pes_id>/zamowienia")
@login_required
def pes_orders(pes_id: int):
    """The PES's orders, open ones first by default."""
    pes = member_pes(pes_id)
    shown = request.args.get("status", "open")
    query = select(Order).where(Order.pes_id == pes_id)
    if shown == "open":
        query = query.where(Order.status.in_(statuses.OPEN))
    elif shown in statuses.LABELS:
        query = query.where(Order.status == shown)
    else:
        shown = "all"
    page = db.paginate(query.order_by(Order.created_at.desc(), Order.id.desc()), per_page=PER_PAGE,
                       error_out=False)
    counts = dict(db.session.execute(select(Order.status, func.count()).where(Order.pes_id == pes_id)
                                     .group_by(Order.status)).all())
    sales = db.session.get(PesSales, pes_id)
    return render_template("orders/pes_orders.html", pes=pes, page=page, shown=shown, counts=counts,
                           sales=sales, status_label=statuses.label, labels=statuses.LABELS)


def _page(order: Order, status: int = 200, **forms):
    forms.setdefault("status_form", StatusForm(formdata=None).set_choices(order))
    forms.setdefault("refund_form", RefundForm(formdata=None))
    forms.setdefault("message_form", MessageForm(formdata=None))
    invoice = db.session.scalars(select(Invoice).where(Invoice.order_id == order.id)).first()
    return render_template("orders/pes_order.html", order=order, pes=order.pes, invoice=invoice,
                           history=statuses.history(order),
                           paid_form=MarkPaidForm(formdata=None), status_label=statuses.label, **forms), status


@bp.get("/panel/pes/<int:pes_id>/zamowienia/<int:order_id>")
@login_required
def pes_order(pes_id: int, order_id: int):
    return _page(_pes_order(pes_id, order_id))


def _back(order: Order):
    return redirect(url_for("orders.pes_order", pes_id=order.pes_id, order_id=order.id))


@bp.post("/panel/pes/<int:pes_id>/zamowienia/<int:order_id>/status")
@login_required
@confirmed_required
def pes_status(pes_id: int, order_id: int):
    """The PES moves the order on (in progress, ready, shipped, completed, cancelled); the buyer is told."""
    order = _pes_order(pes_id, order_id)
    form = StatusForm().set_choices(order)
    if not form.validate():
        return _page(order, 400, status_form=form)
    before = order.status
    statuses.change(order, form.status.data, current_user, reason=form.reason.data or None)
    if form.status.data == "refunded":  # a bank transfer the PES paid back itself
        order.refunded = order.gross_total
    if form.status.data == "cancelled" or (form.status.data == "refunded" and before in ("paid", "in_progress")):
        stock.release(order)  # what the order reserved goes back on sale
    notify.status_changed(order, form.status.data, form.reason.data or None)
    if form.reason.data:  # the status mail carries the change; the comment stays in the conversation
        db.session.add(OrderMessage(order=order, author_id=current_user.id, from_pes=True, body=form.reason.data))
    outbox.commit()
    flash(_("Status zamówienia zmieniony na: %(status)s.", status=statuses.label(form.status.data)), "success")
    return _back(order)


@bp.post("/panel/pes/<int:pes_id>/zamowienia/<int:order_id>/oplacone")
@login_required
@confirmed_required
def pes_mark_paid(pes_id: int, order_id: int):
    """The PES received the bank transfer."""
    order = _pes_order(pes_id, order_id)
    if not MarkPaidForm().validate():
        abort(400)
    try:
        payments.mark_transfer_paid(order, current_user)
    except payments.PaymentError as exc:
        outbox.rollback()
        flash(str(exc), "error")
        return _back(order)
    outbox.commit()
    flash(_("Zamówienie oznaczone jako opłacone."), "success")
    return _back(order)


@bp.post("/panel/pes/<int:pes_id>/zamowienia/<int:order_id>/zwrot")
@login_required
@confirmed_required
def pes_refund(pes_id: int, order_id: int):
    """A refund through Stripe, from the PES's own account (the PES is the seller and pays it)."""
    order = _pes_order(pes_id, order_id)
    form = RefundForm()
    if not form.validate():
        return _page(order, 400, refund_form=form)
    try:
        payments.refund(order, form.amount.amount, current_user)
    except payments.PaymentError as exc:
        outbox.rollback()
        form.amount.errors = [str(exc)]
        return _page(order, 400, refund_form=form)
    notify.refund(order, form.amount.amount)
    outbox.commit()
    flash(_("Zwrot zlecony w Stripe."), "success")
    return _back(order)


@bp.post("/panel/pes/<int:pes_id>/zamowienia/<int:order_id>/wiadomosc")
@login_required
@confirmed_required
@order_limited
def pes_message(pes_id: int, order_id: int):
    order = _pes_order(pes_id, order_id)
    form = MessageForm()
    if not form.validate():
        return _page(order, 400, message_form=form)
    notify.post(order, current_user, form.body.data, from_pes=True)
    outbox.commit()
    flash(_("Wiadomość wysłana do kupującego."), "success")
    return _back(order)
