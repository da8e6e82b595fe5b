"""Online payment end to end against localstripe, through the real stripe library: the payment page creates the
PaymentIntent, the buyer's browser confirms it, and localstripe posts its signed webhook to the portal running
on a loopback port; the reconciliation command catches a payment whose webhook never came."""
import time
from decimal import Decimal

import pytest
import stripe
from sqlalchemy import func, select

from catalog.models import Offering
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.orders import payments
from marketplace.orders.models import Order, StripeEvent
from tests.factories import login, make_user
from tests.order_factories import make_order, product, selling_pes
from tests.stripe_server import (
    SECRET_KEY,
    flush_localstripe,
    register_webhook,
    stripe_config,
    unregister_webhook,
)

EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"]


@pytest.fixture
def app_config(localstripe):
    flush_localstripe(localstripe)
    return dict(stripe_config(localstripe), SERVER_NAME=None)


@pytest.fixture
def browser_stripe(localstripe):
    """What Stripe.js does in the buyer's browser, done with the stripe library."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe}, max_network_retries=0)


def online_order(client):
    pes, _ = selling_pes(stripe_account_id="acct_pes_live", stripe_state="active")
    honey = product(pes, stock=3)
    order = make_order(pes, items=[("Miód wielokwiatowy 1 kg", 2, "40.00", "5")], status="awaiting_payment",
                       payment_method="stripe", stripe_account_id="acct_pes_live")
    order.lines[0].offering_id, order.lines[0].reserved = honey.id, 2
    honey.stock = 1
    order.buyer = buyer = make_user(email="platnik@example.org")
    db.session.commit()
    login(client, buyer.email)
    return order, honey


def pay_page(client, order):
    resp = client.get(f"/zamowienia/{order.number}/platnosc")
    assert resp.status_code == 200
    db.session.expire_all()
    assert order.stripe_payment_intent and order.stripe_client_secret
    return resp.get_data(as_text=True)


def events_about(intent_id: str, kind: str) -> list[StripeEvent]:
    """The stored events of `kind` about one PaymentIntent (localstripe may also post earlier tests' events)."""
    rows = db.session.scalars(select(StripeEvent).where(StripeEvent.type == kind)).all()
    return [e for e in rows if e.payload["data"]["object"].get("id") == intent_id]


def wait_for(predicate, seconds=15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_localstripe_posts_a_signed_webhook_that_pays_the_order(app, client, live_server, localstripe,
                                                                browser_stripe):
    register_webhook(localstripe, "portal", f"{live_server}/stripe/webhook", events=EVENTS)
    try:
        order, honey = online_order(client)
        html = pay_page(client, order)
        assert order.stripe_client_secret in html and "/js.stripe.com/v3/" in html
        assert 'data-account="acct_pes_live"' in html  # Stripe.js looks for the payment on the PES account
        assert client.get(f"/zamowienia/{order.number}/platnosc").status_code == 200  # the same intent again
        browser_stripe.v1.payment_intents.update(order.stripe_payment_intent, {"payment_method": "pm_card_visa"})
        browser_stripe.v1.payment_intents.confirm(order.stripe_payment_intent)
        assert wait_for(lambda: order.status == "paid"), "the webhook did not pay the order"
        assert len(events_about(order.stripe_payment_intent, "payment_intent.succeeded")) == 1
        assert db.session.get(Offering, honey.id).stock == 1
    finally:
        unregister_webhook(localstripe, "portal")


def test_a_refund_by_the_pes_is_made_at_stripe_and_its_later_webhook_counts_once(app, client, localstripe,
                                                                                  browser_stripe):
    """localstripe refunds but sends no charge.refunded: that event is signed here, as Stripe would send it."""
    from tests.test_orders_webhooks import deliver, event

    order, _ = online_order(client)
    pay_page(client, order)
    browser_stripe.v1.payment_intents.update(order.stripe_payment_intent, {"payment_method": "pm_card_visa"})
    browser_stripe.v1.payment_intents.confirm(order.stripe_payment_intent)
    client.get(f"/zamowienia/{order.number}/po-platnosci")  # the return page asks Stripe at once
    db.session.expire_all()
    assert order.status == "paid"
    with app.test_request_context():
        payments.refund(db.session.get(Order, order.id), Decimal("20.00"), None)
        db.session.commit()
    refunds = browser_stripe.v1.refunds.list({"payment_intent": order.stripe_payment_intent}).data
    assert [r.amount for r in refunds] == [2000]
    charge = {"id": "ch_1", "object": "charge", "payment_intent": order.stripe_payment_intent,
              "amount_refunded": 2000}
    for _ in range(3):
        deliver(client, event("evt_refund_1", "charge.refunded", charge, account="acct_pes_live"))
    db.session.expire_all()
    assert order.refunded == Decimal("20.00") and order.status == "paid"


def test_reconcile_pays_an_order_whose_webhook_never_came_and_cancels_an_expired_one(app, client, runner,
                                                                                    browser_stripe):
    order, honey = online_order(client)
    pay_page(client, order)
    browser_stripe.v1.payment_intents.update(order.stripe_payment_intent, {"payment_method": "pm_card_visa"})
    browser_stripe.v1.payment_intents.confirm(order.stripe_payment_intent)
    db.session.expire_all()
    assert order.status == "awaiting_payment"  # no webhook is registered
    pes = order.pes
    stale = make_order(pes, items=[("Miód wielokwiatowy 1 kg", 1, "40.00", "5")], status="awaiting_payment",
                       payment_method="stripe", stripe_account_id="acct_pes_live")
    stale.lines[0].offering_id, stale.lines[0].reserved = honey.id, 1
    stale.reserved_until = stale.created_at.replace(year=2025)
    db.session.commit()
    result = runner.invoke(args=["orders", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "paid 1" in result.output and "expired 1" in result.output
    db.session.expire_all()
    assert order.status == "paid" and stale.status == "cancelled"
    assert db.session.get(Offering, honey.id).stock == 2  # the expired order's item is back on sale


def _captured(recorder, kind: str, intent_id: str, seconds: float = 10.0):
    """The delivery of an event of `kind` about `intent_id` that localstripe posted to the recorder, as (body,
    signature). Matched by the object's id: localstripe also posts a second late of earlier tests' events."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for req in list(recorder.requests):
            event = req.json or {}
            if req.path == "/hook" and event.get("type") == kind and \
                    event.get("data", {}).get("object", {}).get("id") == intent_id:
                return req.body, req.headers["Stripe-Signature"]
        time.sleep(0.1)
    raise AssertionError(f"localstripe sent no {kind}")


def test_localstripe_deliveries_replayed_ten_times_and_late_change_the_orders_once(
        app, client, runner, localstripe, browser_stripe, stripe_recorder):
    """localstripe's own signed deliveries are captured, then given to the portal late and repeated: a payment
    replayed ten times pays once; a declined attempt that arrives after its order expired gives nothing back."""
    register_webhook(localstripe, "capture", f"{stripe_recorder.url}/hook", events=EVENTS)
    try:
        order, honey = online_order(client)
        pay_page(client, order)
        browser_stripe.v1.payment_intents.update(order.stripe_payment_intent, {"payment_method": "pm_card_visa"})
        browser_stripe.v1.payment_intents.confirm(order.stripe_payment_intent)
        paid = _captured(stripe_recorder, "payment_intent.succeeded", order.stripe_payment_intent)
        late = make_order(order.pes, order.buyer, [("Miód wielokwiatowy 1 kg", 1, "40.00", "5")],
                          status="awaiting_payment", payment_method="stripe", stripe_account_id="acct_pes_live")
        late.lines[0].offering_id, late.lines[0].reserved = honey.id, 1
        honey.stock = 0
        db.session.commit()
        pay_page(client, late)
        declined = browser_stripe.v1.tokens.create({"card": {"number": "4000000000000341", "exp_month": "12",
                                                             "exp_year": "2030", "cvc": "123"}})
        browser_stripe.v1.payment_intents.update(late.stripe_payment_intent, {"payment_method": declined.card.id})
        with pytest.raises(stripe.CardError):
            browser_stripe.v1.payment_intents.confirm(late.stripe_payment_intent)
        failed = _captured(stripe_recorder, "payment_intent.payment_failed", late.stripe_payment_intent)
    finally:
        unregister_webhook(localstripe, "capture")
    post = lambda body, signature: client.post(
        "/stripe/webhook", data=body, content_type="application/json", headers={"Stripe-Signature": signature})
    assert [post(*paid).get_json()["outcome"] for _ in range(10)] == ["paid"] + ["duplicate"] * 9
    late.reserved_until = late.created_at.replace(year=2025)
    db.session.commit()
    runner.invoke(args=["orders", "reconcile"])  # the declined order's reservation ran out: cancelled
    assert [post(*failed).get_json()["outcome"] for _ in range(3)] == ["ignored", "duplicate", "duplicate"]
    db.session.expire_all()
    assert order.status == "paid" and late.status == "cancelled"
    assert db.session.get(Offering, honey.id).stock == 1  # the late order's item back once, the paid ones kept
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_id == order.id, AuditEntry.action == "order.status")) == 1
