"""A PES's sales settings: whether it takes orders on the portal, how buyers pay (bank transfer, online
through its own Stripe account) and receive what they order, its VAT status and KSeF.

Every change is written to the audit log. The Stripe account is created and its state read through
the gateway; when Stripe refuses or cannot be reached, the person sees why and nothing is stored.
"""
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.decorators import confirmed_required
from marketplace import audit, clock
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.orders.access import member_pes
from marketplace.orders.models import PesSales
from marketplace.orders.sales_forms import SALES_FIELDS, SalesForm
from marketplace.orders.stripe_gateway import GatewayError, gateway
from marketplace.pes import services as pes_services
from marketplace.pes.models import Pes

# Every POST is checked for its CSRF token by CSRFProtect before the view runs.
bp = Blueprint("sales", __name__)
STRIPE_FIELDS = ("stripe_account_id", "stripe_state")


def _editable_pes(pes_id: int) -> Pes:
    """The PES, for those who may edit its profile (the same people may change how it sells)."""
    pes = member_pes(pes_id)
    if not pes_services.can_edit(current_user, pes):
        abort(403)
    return pes


def _sales_of(pes: Pes) -> tuple[PesSales, bool]:
    """The PES's settings and whether they are new (not saved yet: the defaults are shown)."""
    sales = db.session.get(PesSales, pes.id)
    if sales is not None:
        return sales, False
    sales = PesSales(pes_id=pes.id)
    for column in PesSales.__table__.columns:  # the model's defaults, as the first save will store them
        if column.default is not None and column.default.is_scalar:
            setattr(sales, column.key, column.default.arg)
    return sales, True


def _snapshot(sales: PesSales, fields) -> dict:
    """The audited fields, JSON-safe (amounts as text)."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in audit.snapshot(sales, fields).items()}


def _online_ready(sales: PesSales) -> bool:
    return gateway() is not None and sales.online_ready


# Services: take data, flush, never commit ------------------------------------------------------------

def save_settings(user, pes: Pes, sales: PesSales, is_new: bool, data: dict) -> bool:
    """Store the settings; an entry in the audit log says what changed. False when nothing did."""
    before = None if is_new else _snapshot(sales, SALES_FIELDS)
    for key, value in data.items():
        setattr(sales, key, value)
    after = _snapshot(sales, SALES_FIELDS)
    if before == after:
        return False
    if is_new:
        db.session.add(sales)
    db.session.flush()
    audit.record(user, "sales.update", pes, before=before, after=after)
    return True


def set_stripe_state(user, pes: Pes, sales: PesSales, is_new: bool, **values) -> None:
    """Store the account's id or state as Stripe gave it; a change goes to the audit log."""
    before = _snapshot(sales, STRIPE_FIELDS)
    for key, value in values.items():
        setattr(sales, key, value)
    sales.stripe_checked_at = clock.now()
    if is_new:
        db.session.add(sales)
    db.session.flush()
    after = _snapshot(sales, STRIPE_FIELDS)
    if before != after:
        audit.record(user, "sales.stripe_state", pes, before=before, after=after)


# Views ------------------------------------------------------------------------------------------------

def _page(pes: Pes, sales: PesSales, form: SalesForm, status: int = 200):
    return render_template("orders/sales_settings.html", pes=pes, sales=sales, form=form,
                           online=gateway() is not None,
                           fee_percent=Decimal(str(current_app.config.get("PLATFORM_FEE_PERCENT") or 0))
                           ), status


def _back(pes: Pes):
    return redirect(url_for("sales.settings", pes_id=pes.id))


@bp.get("/panel/pes/<int:pes_id>/sprzedaz")
@login_required
def settings(pes_id: int):
    """The settings page; back from Stripe's onboarding (`?check`) it first asks Stripe for the state of
    the account."""
    pes = member_pes(pes_id)
    sales, is_new = _sales_of(pes)
    if "check" in request.args:
        _check_stripe(pes, sales, is_new)
        return _back(pes)
    return _page(pes, sales, SalesForm.for_sales(sales, _online_ready(sales)))


def _check_stripe(pes: Pes, sales: PesSales, is_new: bool) -> None:
    stripe = gateway()
    if stripe is None or not sales.stripe_account_id or not pes_services.can_edit(current_user, pes):
        return
    try:
        state = stripe.account_state(sales.stripe_account_id)
    except GatewayError as exc:
        flash(_("Nie udało się sprawdzić stanu konta Stripe: %(error)s", error=exc.message), "error")
        return
    set_stripe_state(current_user, pes, sales, is_new, stripe_state=state)
    db.session.commit()
    flash(_STATE_MESSAGES[state](), "success" if state == "active" else "info")


_STATE_MESSAGES = {
    "active": lambda: _("Konto Stripe jest aktywne: kupujący mogą płacić online."),
    "onboarding": lambda: _("Stripe potrzebuje jeszcze danych albo je sprawdza. Dokończ konfigurację "
                            "konta Stripe."),
    "restricted": lambda: _("Stripe ograniczył konto. Zaloguj się do panelu Stripe, aby dowiedzieć się "
                            "dlaczego."),
}


@bp.post("/panel/pes/<int:pes_id>/sprzedaz")
@confirmed_required
def save(pes_id: int):
    """Save the settings (owners and editors of the PES)."""
    pes = _editable_pes(pes_id)
    sales, is_new = _sales_of(pes)
    form = SalesForm.for_sales(sales, _online_ready(sales))
    if not form.validate():
        return _page(pes, sales, form, 422)
    changed = save_settings(current_user, pes, sales, is_new, form.settings())
    db.session.commit()
    flash(_("Zapisano ustawienia sprzedaży.") if changed else _("Nic się nie zmieniło."), "success")
    return _back(pes)


@bp.post("/panel/pes/<int:pes_id>/sprzedaz/stripe")
@confirmed_required
def connect_stripe(pes_id: int):
    """Create the PES's Stripe account when it has none, then send the person to Stripe's onboarding."""
    pes = _editable_pes(pes_id)
    stripe = gateway()
    if stripe is None:
        flash(_("Płatności online są wyłączone na tym portalu."), "error")
        return _back(pes)
    sales, is_new = _sales_of(pes)
    try:
        if not sales.stripe_account_id:
            account_id = stripe.create_account(pes, contact_email=pes.email or current_user.email)
            # Kept at once: the account exists at Stripe even if the link below fails.
            set_stripe_state(current_user, pes, sales, is_new, stripe_account_id=account_id,
                             stripe_state="onboarding")
            db.session.commit()
        link = stripe.onboarding_link(sales.stripe_account_id,
                                      refresh_url=external_url("sales.settings", pes_id=pes.id),
                                      return_url=external_url("sales.settings", pes_id=pes.id, check=1))
    except GatewayError as exc:
        db.session.rollback()
        flash(_("Nie udało się połączyć z kontem Stripe: %(error)s", error=exc.message), "error")
        return _back(pes)
    return redirect(link)
