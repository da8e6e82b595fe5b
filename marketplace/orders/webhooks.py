"""Stripe's webhook events: each stored once by its id and applied in the same transaction.

Delivery is at least once and in no set order. Storing the id first makes a repeated delivery a no-op (two
deliveries racing meet at the primary key, and the loser's transaction rolls back); the handlers in
`payments` read the order's present state, so an event that arrives late changes only what is still to change.
Account events do not trust their own payload's age: they ask Stripe for the account's state now.
"""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import clock
from marketplace.extensions import db
from marketplace.orders import money, payments
from marketplace.orders.models import Order, PesSales, StripeEvent
from marketplace.orders.stripe_gateway import GatewayError, gateway, intent_info


def _order_for_intent(intent_id: str | None, account: str | None) -> Order | None:
    if not intent_id:
        return None
    order = db.session.scalars(select(Order).where(Order.stripe_payment_intent == intent_id)).first()
    if order is not None and account and order.stripe_account_id and account != order.stripe_account_id:
        return None  # an event from another account never touches this order
    return order


def _intent_event(event: dict, obj: dict) -> str:
    order = _order_for_intent(obj.get("id"), event.get("account"))
    if order is None:
        return "no order"
    if event["type"] == "payment_intent.succeeded":
        return payments.succeeded(order, intent_info(obj).amount_received)
    if event["type"] == "payment_intent.payment_failed":
        error = (obj.get("last_payment_error") or {}).get("message")
        return payments.failed(order, error)
    return payments.expire(order)  # payment_intent.canceled


def _refund_event(event: dict, obj: dict) -> str:
    order = _order_for_intent(obj.get("payment_intent"), event.get("account"))
    if order is None:
        return "no order"
    return payments.refunded(order, money.from_grosze(int(obj.get("amount_refunded") or 0)))


def _account_event(event: dict, obj: dict) -> str:
    account_id = obj.get("id") if str(obj.get("id", "")).startswith("acct_") else event.get("account")
    related = event.get("related_object") or {}
    account_id = account_id or related.get("id")
    sales = db.session.scalars(select(PesSales).where(PesSales.stripe_account_id == account_id)).first()
    if sales is None:
        return "no account"
    try:
        sales.stripe_state = gateway().account_state(account_id)
    except GatewayError as exc:
        raise RuntimeError(f"account state unavailable: {exc.code}") from exc  # Stripe will deliver it again
    sales.stripe_checked_at = clock.now()
    return f"account {sales.stripe_state}"


HANDLERS = {
    "payment_intent.succeeded": _intent_event,
    "payment_intent.payment_failed": _intent_event,
    "payment_intent.canceled": _intent_event,
    "charge.refunded": _refund_event,
    "account.updated": _account_event,
}


def _handler(kind: str):
    if kind.startswith("v2.core.account"):
        return _account_event
    return HANDLERS.get(kind)


def receive(event: dict) -> str:
    """Store the event and apply it, once; the caller commits. Returns what it did (kept with the event)."""
    if db.session.get(StripeEvent, event["id"]) is not None:
        return "duplicate"
    row = StripeEvent(id=event["id"], type=event["type"], account=event.get("account"), payload=event)
    try:
        with db.session.begin_nested():  # a concurrent delivery of the same event fails here, and only here
            db.session.add(row)
    except IntegrityError:
        return "duplicate"
    handler = _handler(event["type"])
    obj = ((event.get("data") or {}).get("object")) or {}
    row.outcome = handler(event, obj) if handler else "not handled"
    row.processed_at = clock.now()
    return row.outcome


def reconcile(now=None) -> dict[str, int]:
    """Ask Stripe about online orders still waiting for payment (for webhooks that never came), then cancel
    those whose reservation ran out. Returns counts by outcome."""
    now = now or clock.now()
    counts: dict[str, int] = {}
    stripe = gateway()
    waiting = db.session.scalars(select(Order).where(Order.status == "awaiting_payment",
                                                     Order.stripe_payment_intent.is_not(None))).all()
    for order in waiting:
        if stripe is None:
            break
        try:
            info = stripe.retrieve_payment_intent(order.stripe_account_id, order.stripe_payment_intent)
        except GatewayError:
            counts["unreachable"] = counts.get("unreachable", 0) + 1
            continue
        outcome = payments.apply_intent(order, info)
        counts[outcome] = counts.get(outcome, 0) + 1
    for order in db.session.scalars(select(Order).where(Order.status == "awaiting_payment",
                                                        Order.reserved_until < now)).all():
        outcome = payments.expire(order)
        counts[outcome] = counts.get(outcome, 0) + 1
    for order in payments.unfilled_refunds() if stripe is not None else []:
        outcome = payments.refund_unfillable(order)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
