"""The buyer's side of orders: the cart, the checkout, the confirmation, the buyer's orders and their pages."""
import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.decorators import confirmed_required
from catalog.models import Offering
from marketplace import audit, outbox
from marketplace.core.views import safe_next
from marketplace.extensions import db, limiter
from marketplace.orders import cart, checkout, notify, statuses, stock
from marketplace.orders.forms import (
    AddToCartForm,
    MessageForm,
    QuantityForm,
    WithdrawalForm,
    cart_signature,
    checkout_form,
)
from marketplace.orders.models import Invoice, Order
from marketplace.orders.stripe_gateway import gateway

bp = Blueprint("orders", __name__)


def order_limited(view):
    """Checkouts and messages send mail: limited per account."""
    key = lambda: f"orders:{current_user.get_id() or request.remote_addr}"
    return limiter.limit(lambda: current_app.config["ORDER_LIMIT"], key_func=key, methods=["POST"])(view)


@bp.app_template_global()
def cart_form() -> AddToCartForm:
    return AddToCartForm(formdata=None)


@bp.app_template_global()
def cart_count() -> int:
    return cart.count()


@bp.post("/koszyk/dodaj")
def add():
    """Put an offering into the cart (works without JavaScript: the page reloads with a message)."""
    form = AddToCartForm()
    target = safe_next(form.next.data, url_for("orders.cart_page"))
    offering = db.session.get(Offering, int(form.offering_id.data)) if form.offering_id.data.isdigit() else None
    if not form.validate() or offering is None or not offering.is_public:
        flash(" ".join(form.quantity.errors) or _("Nie udało się dodać do koszyka."), "error")
        return redirect(target)
    cart.put(int(form.offering_id.data), form.quantity.data)
    flash(_("Dodano do koszyka."), "success")
    return redirect(target)


@bp.get("/koszyk")
def cart_page():
    """The cart, grouped by PES: each group becomes one order."""
    groups = cart.groups()
    return render_template("orders/cart.html", groups=groups, total=cart.grand_total(groups),
                           quantity_form=QuantityForm, online=gateway() is not None)


@bp.post("/koszyk/zmien")
def change_quantity():
    form = QuantityForm()
    if form.validate() and form.offering_id.data.isdigit():
        cart.put(int(form.offering_id.data), form.quantity.data or 0, add=False)
        flash(_("Koszyk zaktualizowany."), "success")
    else:
        flash(" ".join(form.quantity.errors) or _("Nie udało się zmienić koszyka."), "error")
    return redirect(url_for("orders.cart_page"))


def _buyer_data(form) -> checkout.BuyerData:
    institution = current_user.institution if current_user.role == "purchaser" else None
    return checkout.BuyerData(
        name=form.name.data, email=form.email.data, phone=form.phone.data or None,
        company_name=form.company_name.data or None, nip=form.nip.data or None, street=form.street.data,
        postal_code=form.postal_code.data, city=form.city.data, wants_invoice=form.wants_invoice.data,
        note=form.note.data or "", institution_id=institution.id if institution else None)


def _choices(form, groups) -> dict[int, checkout.Choice]:
    out = {}
    for group in groups:
        pid = group.pes.id
        out[pid] = checkout.Choice(getattr(form, f"pay_{pid}").data, getattr(form, f"ship_{pid}").data,
                                   getattr(form, f"address_{pid}").data or None)
    return out


def _prefill() -> dict:
    user = current_user
    data = {"name": user.name, "email": user.email}
    if user.role == "purchaser" and user.institution is not None:
        data.update(company_name=user.institution.name, nip=user.institution.nip, wants_invoice=True)
    return data


@bp.route("/zamowienie", methods=["GET", "POST"])
@login_required
@confirmed_required
@order_limited
def checkout_page():
    """The buyer's data and, for each PES, how to pay and receive; one order per PES on submit."""
    groups = [g for g in cart.groups() if g.ok_lines]
    if not groups:
        flash(_("W koszyku nie ma nic, co można teraz zamówić."), "warning")
        return redirect(url_for("orders.cart_page"))
    form = checkout_form(groups, checkout.payment_methods, checkout.fulfilments,
                         data=None if request.method == "POST" else _prefill())
    if request.method == "GET":
        form.seen.data, form.attempt.data = cart_signature(groups), uuid.uuid4().hex
    elif _already_placed(form.attempt.data):
        return redirect(url_for("orders.placed", checkout_id=form.attempt.data))
    elif form.seen.data != cart_signature(groups):
        flash(_("Koszyk zmienił się w czasie składania zamówienia (np. skończył się towar). Sprawdź go i "
                "złóż zamówienie ponownie."), "error")
        return redirect(url_for("orders.cart_page"))
    if request.method == "POST" and form.validate():
        try:
            orders = checkout.place(groups, current_user, _buyer_data(form), _choices(form, groups),
                                    form.attempt.data)
        except IntegrityError:  # the same form submitted twice at once: the other submit placed it
            outbox.rollback()
            return redirect(url_for("orders.placed", checkout_id=form.attempt.data))
        except (checkout.CheckoutError, stock.OutOfStock) as exc:
            outbox.rollback()
            message = str(exc) if isinstance(exc, checkout.CheckoutError) else _(
                "Produktu „%(title)s” zostało tylko %(n)d szt. – zmień liczbę w koszyku.", title=exc.title, n=exc.left)
            flash(message, "error")
            return redirect(url_for("orders.cart_page"))
        for order in orders:
            notify.placed(order)
        outbox.commit()
        cart.clear([line.offering_id for o in orders for line in o.lines])
        return redirect(url_for("orders.placed", checkout_id=orders[0].checkout_id))
    status = 400 if form.errors else 200
    return render_template("orders/checkout.html", form=form, groups=groups, total=cart.grand_total(groups),
                           methods=checkout.payment_methods, online=gateway() is not None), status


def _already_placed(attempt: str | None) -> bool:
    return bool(attempt) and db.session.scalar(select(Order.id).where(
        Order.checkout_id == attempt, Order.buyer_id == current_user.id).limit(1)) is not None


def buyer_order_or_404(number: str) -> Order:
    """An order of the signed-in buyer; anyone else's is a 404 (its existence is not told)."""
    order = db.session.scalars(select(Order).where(Order.number == number)).first()
    if order is None or order.buyer_id != current_user.id:
        abort(404)
    return order


@bp.get("/zamowienia/zlozone/<checkout_id>")
@login_required
def placed(checkout_id: str):
    """The confirmation after checkout: each order with what to do next (pay online, or the transfer data)."""
    orders = db.session.scalars(select(Order).where(Order.checkout_id == checkout_id,
                                                    Order.buyer_id == current_user.id).order_by(Order.id)).all()
    if not orders:
        abort(404)
    return render_template("orders/placed.html", orders=orders, status_label=statuses.label)


@bp.get("/zamowienia")
@login_required
def my_orders():
    """The signed-in buyer's orders, newest first."""
    orders = db.session.scalars(select(Order).where(Order.buyer_id == current_user.id)
                                .order_by(Order.created_at.desc(), Order.id.desc()).limit(200)).all()
    return render_template("orders/my_orders.html", orders=orders, status_label=statuses.label)


def can_withdraw(order: Order) -> bool:
    """A statement of withdrawal is for a contract under way: paid, or handed over."""
    return order.status not in ("cancelled", "refunded") and (
        order.paid_at is not None or order.status in ("ready", "shipped", "completed"))


def _order_page(order: Order, status: int = 200, **forms):
    invoice = db.session.scalars(select(Invoice).where(Invoice.order_id == order.id)).first()
    forms.setdefault("message_form", MessageForm())
    forms.setdefault("withdrawal_form", WithdrawalForm())
    return render_template("orders/order.html", order=order, invoice=invoice, history=statuses.history(order),
                           status_label=statuses.label, can_withdraw=can_withdraw(order), **forms), status


@bp.get("/zamowienia/<number>")
@login_required
def order(number: str):
    """One order for its buyer: status, lines, payment, invoice, messages, withdrawal."""
    return _order_page(buyer_order_or_404(number))


@bp.post("/zamowienia/<number>/wiadomosc")
@login_required
@confirmed_required
@order_limited
def buyer_message(number: str):
    item = buyer_order_or_404(number)
    form = MessageForm()
    if not form.validate():
        return _order_page(item, 400, message_form=form)
    notify.post(item, current_user, form.body.data, from_pes=False)
    outbox.commit()
    flash(_("Wiadomość wysłana do sprzedawcy."), "success")
    return redirect(url_for("orders.order", number=number) + "#wiadomosci")


@bp.post("/zamowienia/<number>/odstapienie")
@login_required
@confirmed_required
@order_limited
def withdraw(number: str):
    """A consumer's statement of withdrawal from the contract, sent to the PES and kept with the order."""
    item = buyer_order_or_404(number)
    form = WithdrawalForm()
    if not can_withdraw(item):
        abort(404)
    if not form.validate():
        return _order_page(item, 400, withdrawal_form=form)
    body = _("Oświadczenie o odstąpieniu od umowy (zamówienie %(number)s).", number=item.number)
    if form.details.data:
        body += "\n" + form.details.data
    audit.record(current_user, "order.withdrawal", item, after={"details": form.details.data or ""})
    notify.post(item, current_user, body, from_pes=False)
    outbox.commit()
    flash(_("Oświadczenie o odstąpieniu wysłane do sprzedawcy. Zachowaj tę stronę jako potwierdzenie."), "success")
    return redirect(url_for("orders.order", number=number))
