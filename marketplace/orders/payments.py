"""What payments do to orders, whichever way the news comes: a webhook, the buyer's return from the payment
page, the reconciliation command, or the PES marking a bank transfer as received.

Each function looks at the order's present state and does only what is still to be done, so news that comes
twice or late changes nothing: a failure reported after the success is ignored, a refund is stored as the
charge's total refunded amount (never added twice), a payment that arrives for an order whose reservation
ran out takes the stock again or, if it is gone, is refunded at once.
"""
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace import audit, clock
from marketplace.extensions import db
from marketplace.orders import notify, statuses, stock
from marketplace.orders.models import Order
from marketplace.orders.stripe_gateway import GatewayError, PaymentIntentInfo, gateway

AUTO_REFUND_FAILED = "auto-refund pending:"


class PaymentError(ValueError):
    """The payment step cannot be done; str() is the message for the person."""


def _key(order: Order, what: str) -> str:
    """Idempotency key of one Stripe request about this order: the same request repeated (a retry after a
    timeout, a double click) gets Stripe's first answer instead of a second charge or refund."""
    return f"order-{order.id}-{what}"


def start_online(order: Order) -> PaymentIntentInfo:
    """The order's PaymentIntent on the PES's account, created on first use; the stock is taken again if a
    failed attempt gave it back. Raises PaymentError or stock.OutOfStock."""
    stripe = gateway()
    if stripe is None or order.stripe_account_id is None:
        raise PaymentError(_l("Płatności online są wyłączone na tym portalu."))
    if order.status != "awaiting_payment":
        raise PaymentError(_l("To zamówienie nie czeka na płatność."))
    if order.stock_released:
        stock.reserve(order)
        minutes = current_app.config["ORDER_RESERVATION_MINUTES"]
        order.reserved_until = clock.now() + timedelta(minutes=minutes)
    try:
        if order.stripe_payment_intent:
            return stripe.retrieve_payment_intent(order.stripe_account_id, order.stripe_payment_intent)
        info = stripe.create_payment_intent(
            account_id=order.stripe_account_id, amount=order.gross_total, fee=order.platform_fee,
            order_number=order.number, order_id=order.id, idempotency_key=_key(order, "intent"))
    except GatewayError as exc:
        raise PaymentError(exc.message) from exc
    order.stripe_payment_intent, order.stripe_client_secret = info.id, info.client_secret
    return info


def succeeded(order: Order, amount_received: Decimal) -> str:
    """The buyer paid online."""
    if order.paid_at is not None:
        return "already paid"
    if order.status == "cancelled":  # cancelled by the PES or expired: the money goes back, the order stays
        return refund_unfillable(order)
    if amount_received < order.gross_total:
        order.payment_error = f"received {amount_received}, expected {order.gross_total}"
        return "amount too small"
    if order.stock_released:
        try:
            with db.session.begin_nested():
                stock.reserve(order)
        except stock.OutOfStock:
            return refund_unfillable(order)
    before = order.status
    order.status, order.paid_at, order.payment_error = "paid", clock.now(), None
    audit.record(None, "order.status", order, before={"status": before}, after={"status": "paid"},
                 reason="online payment")
    notify.paid(order)
    return "paid"


def refund_unfillable(order: Order) -> str:
    """A payment for an order that can no longer be filled (cancelled, or its items went to someone else
    meanwhile): the money goes back at once. If Stripe cannot be reached, `reconcile` tries again."""
    order.paid_at = order.paid_at or clock.now()
    try:
        gateway().refund(account_id=order.stripe_account_id, intent_id=order.stripe_payment_intent,
                         amount=order.gross_total, idempotency_key=_key(order, "refund-unfillable"))
    except GatewayError as exc:
        order.payment_error = f"{AUTO_REFUND_FAILED} {exc.message}"[:300]
        return "refund failed"
    before = order.status
    order.status, order.refunded, order.payment_error = "refunded", order.gross_total, None
    audit.record(None, "order.status", order, before={"status": before}, after={"status": "refunded"},
                 reason="paid when the order could no longer be filled")
    notify.refunded_unfillable(order)
    return "refunded: cannot be filled"


def unfilled_refunds() -> list[Order]:
    """Orders paid when they could no longer be filled whose automatic refund has not gone through yet."""
    return db.session.scalars(db.select(Order).where(
        Order.payment_error.startswith(AUTO_REFUND_FAILED), Order.status != "refunded")).all()



def failed(order: Order, message: str | None) -> str:
    """An online payment attempt failed: the stock goes back; the buyer may try again while it lasts."""
    if order.status != "awaiting_payment":
        return "ignored"
    order.payment_error = (message or str(_l("Płatność nie powiodła się.")))[:300]
    stock.release(order)
    return "failed"


def refunded(order: Order, total_refunded: Decimal) -> str:
    """Stripe says how much of the charge has been refunded in all."""
    if total_refunded <= order.refunded:
        return "no change"
    order.refunded = total_refunded
    if total_refunded < order.gross_total or order.status == "refunded":
        return "partly refunded" if total_refunded < order.gross_total else "refunded"
    before = order.status
    if before in ("paid", "in_progress", "ready"):
        stock.release(order)  # never handed over: the items are on sale again
    order.status, order.payment_error = "refunded", None  # also from any status: Stripe's refund is a fact
    audit.record(None, "order.status", order, before={"status": before}, after={"status": "refunded"},
                 reason="refund at Stripe")
    return "refunded"


def expire(order: Order) -> str:
    """The reservation of an unpaid online order ran out: the stock goes back and the order is cancelled."""
    if order.status != "awaiting_payment":
        return "ignored"
    stock.release(order)
    statuses.change(order, "cancelled", reason="reservation expired")
    return "expired"


def apply_intent(order: Order, info: PaymentIntentInfo) -> str:
    """Bring the order in line with its PaymentIntent as Stripe has it now (return page, reconciliation)."""
    if info.status == "succeeded":
        return succeeded(order, info.amount_received)
    if info.error and info.status == "requires_payment_method":
        return failed(order, info.error)
    if info.status == "canceled":
        return expire(order)
    return "pending"


def mark_transfer_paid(order: Order, actor) -> None:
    """The PES received the bank transfer."""
    if order.payment_method != "transfer" or order.paid_at is not None or order.status == "cancelled":
        raise PaymentError(_l("Tego zamówienia nie można oznaczyć jako opłaconego."))
    order.paid_at = clock.now()
    audit.record(actor, "order.paid", order, after={"paid_at": order.paid_at.isoformat()})
    if order.status in ("new", "awaiting_payment"):
        statuses.change(order, "paid", actor)
    notify.paid(order)


def refund(order: Order, amount: Decimal, actor) -> None:
    """Refund (part of) an online payment through Stripe, on the PES's own account."""
    left = order.gross_total - order.refunded
    if order.payment_method != "stripe" or order.paid_at is None or not order.stripe_payment_intent:
        raise PaymentError(_l("Zwrot przez portal jest możliwy tylko dla zamówień opłaconych online."))
    if amount <= 0 or amount > left:
        raise PaymentError(_l("Kwota zwrotu musi być większa od zera i nie większa niż %(left)s zł.",
                              left=f"{left:.2f}".replace(".", ",")))
    stripe = gateway()
    if stripe is None:
        raise PaymentError(_l("Płatności online są wyłączone na tym portalu."))
    try:
        stripe.refund(account_id=order.stripe_account_id, intent_id=order.stripe_payment_intent, amount=amount,
                      idempotency_key=_key(order, f"refund-{order.refunded}-{amount}"))
    except GatewayError as exc:
        raise PaymentError(exc.message) from exc
    audit.record(actor, "order.refund", order, after={"amount": str(amount)})
    refunded(order, order.refunded + amount)
