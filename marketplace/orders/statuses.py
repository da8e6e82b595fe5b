"""The order's status as a state machine: which changes are allowed, who may make them, and their labels.

Every change goes through `change()`, which writes the audit log; the PES changes what it does with the order
(in progress, ready, shipped, completed, cancelled), payments change the rest (paid, refunded).
"""
from flask_babel import lazy_gettext as _l

from marketplace import audit
from marketplace.extensions import db
from marketplace.orders.models import Order

LABELS = {
    "new": _l("nowe"),
    "awaiting_payment": _l("czeka na płatność"),
    "paid": _l("opłacone"),
    "in_progress": _l("w realizacji"),
    "ready": _l("gotowe do odbioru"),
    "shipped": _l("wysłane"),
    "completed": _l("zakończone"),
    "cancelled": _l("anulowane"),
    "refunded": _l("zwrócone"),
}
# What may follow each status. Online orders wait for payment first; bank-transfer orders start as "new" and
# may be carried out before the buyer pays against the invoice (public buyers pay after delivery), so their
# payment is kept in `paid_at` besides the status. Paid and refunded are set by payment events, or by the
# PES marking a transfer as received; the rest by the PES.
ALLOWED = {
    "new": {"paid", "in_progress", "ready", "shipped", "cancelled"},
    "awaiting_payment": {"paid", "cancelled"},
    "paid": {"in_progress", "ready", "shipped", "completed", "refunded"},
    "in_progress": {"ready", "shipped", "completed", "cancelled", "refunded"},
    "ready": {"completed", "cancelled", "refunded"},
    "shipped": {"completed", "refunded"},
    "completed": {"refunded"},
    "cancelled": set(),
    "refunded": set(),
}
# Statuses a PES member may choose on the order page (the others come from payments).
PES_CHOICES = ("in_progress", "ready", "shipped", "completed", "cancelled")
OPEN = ("new", "awaiting_payment", "paid", "in_progress", "ready", "shipped")
PAID_OR_LATER = ("paid", "in_progress", "ready", "shipped", "completed", "refunded")


class StatusError(ValueError):
    """The change is not allowed from the order's current status."""


def label(status: str) -> str:
    return str(LABELS.get(status, status))


def allowed(order: Order, new: str) -> bool:
    if new == "cancelled" and order.paid_at is not None:
        return False  # a paid order is refunded, not merely cancelled
    return new in ALLOWED.get(order.status, set())


def pes_choices(order: Order) -> list[str]:
    """The statuses the PES may move the order to now: "ready" for pickup, "shipped" for delivery, and
    "refunded" for a bank transfer the PES paid back itself (online payments are refunded through Stripe)."""
    skip = "shipped" if order.fulfilment == "pickup" else "ready"
    choices = [s for s in PES_CHOICES if s != skip and allowed(order, s)]
    if order.payment_method == "transfer" and order.paid_at is not None and allowed(order, "refunded"):
        choices.append("refunded")
    return choices


def history(order: Order) -> list:
    """The order's changes from the audit log, oldest first, for both sides' order pages."""
    return db.session.scalars(db.select(audit.AuditEntry).where(
        audit.AuditEntry.object_type == "order", audit.AuditEntry.object_id == order.id)
        .order_by(audit.AuditEntry.id)).all()


def change(order: Order, new: str, actor=None, reason: str | None = None) -> None:
    """Move the order to `new`, or raise StatusError; the change is written to the audit log."""
    if not allowed(order, new):
        raise StatusError(f"{order.status} -> {new}")
    before = order.status
    order.status = new
    audit.record(actor, "order.status", order, before={"status": before}, after={"status": new}, reason=reason)
