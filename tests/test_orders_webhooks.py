"""Stripe's webhooks drive orders: signature checked, each event applied once, in any order.

Events are signed here the way Stripe signs them (HMAC-SHA256 of "timestamp.body" with the endpoint secret)
and posted to the portal's endpoint; calls the portal makes back to Stripe go to the request recorder.
"""
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from catalog.models import Offering
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.orders.models import Order, StripeEvent
from tests.order_factories import make_order, product, selling_pes
from tests.stripe_server import WEBHOOK_SECRET, stripe_config


@pytest.fixture
def app_config(stripe_recorder):
    return stripe_config(stripe_recorder.url)


def sign(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    at = at or int(time.time())
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def deliver(client, event: dict, secret: str = WEBHOOK_SECRET):
    body = json.dumps(event).encode()
    return client.post("/stripe/webhook", data=body, content_type="application/json",
                       headers={"Stripe-Signature": sign(body, secret)})


def event(evt_id: str, kind: str, obj: dict, account: str = "acct_pes1") -> dict:
    return {"id": evt_id, "object": "event", "type": kind, "account": account, "created": int(time.time()),
            "livemode": False, "data": {"object": obj}}


def intent(order, status="succeeded", error=None) -> dict:
    grosze = int(order.gross_total * 100)
    return {"id": order.stripe_payment_intent, "object": "payment_intent", "status": status, "amount": grosze,
            "amount_received": grosze if status == "succeeded" else 0, "currency": "pln",
            "last_payment_error": {"message": error} if error else None}


def online_order(stock_left=5, quantity=2):
    pes, _owner = selling_pes(stripe_account_id="acct_pes1", stripe_state="active")
    honey = product(pes, stock=stock_left)
    order = make_order(pes, items=[("Miód wielokwiatowy 1 kg", quantity, "40.00", "5")], status="awaiting_payment",
                       payment_method="stripe", stripe_account_id="acct_pes1", stripe_payment_intent="pi_test1")
    order.lines[0].offering_id, order.lines[0].reserved = honey.id, quantity
    honey.stock -= quantity
    db.session.commit()
    return order, honey


def audit_count(order, action="order.status") -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_id == order.id, AuditEntry.action == action))


def test_the_same_success_delivered_ten_times_pays_the_order_once(client, mailbox):
    order, _ = online_order()
    paid = event("evt_paid", "payment_intent.succeeded", intent(order))
    answers = [deliver(client, paid).get_json()["outcome"] for _ in range(10)]
    assert answers == ["paid"] + ["duplicate"] * 9
    db.session.expire_all()
    assert order.status == "paid" and order.paid_at is not None
    assert audit_count(order) == 1
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 1
    assert len([m for m in mailbox.to(order.buyer_email) if "opłacone" in m["Subject"]]) == 1


def test_a_failure_that_arrives_after_the_success_changes_nothing(client):
    order, honey = online_order()
    deliver(client, event("evt_2", "payment_intent.succeeded", intent(order)))
    out = deliver(client, event("evt_1", "payment_intent.payment_failed",
                                intent(order, "requires_payment_method", "Karta odrzucona."))).get_json()
    assert out["outcome"] == "ignored"
    db.session.expire_all()
    assert order.status == "paid" and order.payment_error is None
    assert db.session.get(Offering, honey.id).stock == 3  # still taken by the paid order


def test_a_failed_attempt_gives_the_stock_back_and_a_later_success_takes_it_again(client):
    order, honey = online_order()
    deliver(client, event("evt_f", "payment_intent.payment_failed",
                          intent(order, "requires_payment_method", "Karta odrzucona.")))
    db.session.expire_all()
    assert order.status == "awaiting_payment" and order.payment_error == "Karta odrzucona."
    assert db.session.get(Offering, honey.id).stock == 5
    for _ in range(3):  # a repeated failure gives nothing back twice
        deliver(client, event("evt_f", "payment_intent.payment_failed", intent(order, "requires_payment_method")))
    deliver(client, event("evt_s", "payment_intent.succeeded", intent(order)))
    db.session.expire_all()
    assert order.status == "paid" and db.session.get(Offering, honey.id).stock == 3


def test_refunds_count_the_charge_total_whatever_the_order_of_events(client):
    order, _ = online_order()
    deliver(client, event("evt_paid", "payment_intent.succeeded", intent(order)))
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_test1", "amount": 8400}
    deliver(client, event("evt_r2", "charge.refunded", dict(charge, amount_refunded=8400)))
    deliver(client, event("evt_r1", "charge.refunded", dict(charge, amount_refunded=2000)))  # older, late
    deliver(client, event("evt_r2", "charge.refunded", dict(charge, amount_refunded=8400)))
    db.session.expire_all()
    assert order.refunded == Decimal("84.00") and order.status == "refunded"
    assert audit_count(order) == 2  # paid, then refunded


def test_a_bad_signature_is_refused_and_nothing_is_stored(client):
    order, _ = online_order()
    paid = event("evt_paid", "payment_intent.succeeded", intent(order))
    resp = deliver(client, paid, secret="whsec_someone_else")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad_signature"
    body = json.dumps(paid).encode()
    tampered = body.replace(b"evt_paid", b"evt_paiD")
    resp = client.post("/stripe/webhook", data=tampered, content_type="application/json",
                       headers={"Stripe-Signature": sign(body)})
    assert resp.status_code == 400
    old = client.post("/stripe/webhook", data=body, content_type="application/json",
                      headers={"Stripe-Signature": sign(body, at=int(time.time()) - 301)})
    assert old.status_code == 400
    db.session.expire_all()
    assert order.status == "awaiting_payment"
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_an_event_from_another_account_does_not_touch_the_order(client):
    order, _ = online_order()
    deliver(client, event("evt_x", "payment_intent.succeeded", intent(order), account="acct_other"))
    db.session.expire_all()
    assert order.status == "awaiting_payment"


def test_a_payment_after_the_reservation_ran_out_and_the_stock_went_is_refunded(client, stripe_recorder):
    order, honey = online_order(stock_left=2, quantity=2)
    deliver(client, event("evt_f", "payment_intent.payment_failed", intent(order, "requires_payment_method")))
    Offering.query.filter_by(id=honey.id).update({"stock": 0})  # sold to someone else meanwhile
    db.session.commit()
    stripe_recorder.reply(200, {"id": "re_1", "object": "refund", "status": "succeeded", "amount": 8400})
    out = deliver(client, event("evt_s", "payment_intent.succeeded", intent(order))).get_json()
    assert out["outcome"] == "refunded: cannot be filled"
    sent = stripe_recorder.requests[-1]
    assert sent.path == "/v1/refunds" and sent.form["amount"] == "8400"
    assert sent.headers["Stripe-Account"] == "acct_pes1" and sent.headers["Idempotency-Key"]
    db.session.expire_all()
    assert order.status == "refunded" and db.session.get(Offering, honey.id).stock == 0


def test_account_events_ask_stripe_for_the_account_state(client, stripe_recorder):
    selling_pes(stripe_account_id="acct_pes1", stripe_state="onboarding")
    db.session.commit()
    stripe_recorder.reply(200, {"id": "acct_pes1", "object": "v2.core.account", "configuration": {"merchant": {
        "capabilities": {"card_payments": {"status": "active"}}}}, "requirements": {"entries": []}})
    out = deliver(client, event("evt_a", "account.updated", {"id": "acct_pes1", "object": "account"})).get_json()
    assert out["outcome"] == "account active"
    assert stripe_recorder.requests[-1].path == "/v2/core/accounts/acct_pes1"


def test_unknown_events_are_stored_and_acknowledged(client):
    resp = deliver(client, event("evt_u", "customer.created", {"id": "cus_1"}))
    assert resp.status_code == 200 and resp.get_json()["outcome"] == "not handled"
    assert db.session.get(StripeEvent, "evt_u").outcome == "not handled"


def test_orders_of_another_pes_are_not_changed_by_an_unknown_intent(client):
    order, _ = online_order()
    other = dict(intent(order), id="pi_unknown")
    assert deliver(client, event("evt_o", "payment_intent.succeeded", other)).get_json()["outcome"] == "no order"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "awaiting_payment"


def test_a_thin_account_event_of_accounts_v2_refreshes_the_state_from_stripe(client, stripe_recorder):
    selling_pes(stripe_account_id="acct_v2", stripe_state="onboarding")
    db.session.commit()
    stripe_recorder.reply(200, {"id": "acct_v2", "object": "v2.core.account", "configuration": {"merchant": {
        "capabilities": {"card_payments": {"status": "active"}}}}, "requirements": {"entries": []}})
    thin = {"id": "evt_thin", "object": "v2.core.event", "created": int(time.time()),
            "type": "v2.core.account[configuration.merchant].capability_status_updated",
            "related_object": {"id": "acct_v2", "type": "v2.core.account", "url": "/v2/core/accounts/acct_v2"}}
    assert deliver(client, thin).get_json()["outcome"] == "account active"
    assert stripe_recorder.requests[-1].path == "/v2/core/accounts/acct_v2"


def test_a_payment_for_an_order_the_pes_cancelled_is_refunded_not_revived(client, stripe_recorder):
    order, honey = online_order()
    from marketplace.orders import statuses, stock

    with client.application.test_request_context():
        statuses.change(order, "cancelled")
        stock.release(order)
    db.session.commit()
    stripe_recorder.reply(200, {"id": "re_2", "object": "refund", "status": "succeeded", "amount": 8400})
    out = deliver(client, event("evt_late", "payment_intent.succeeded", intent(order))).get_json()
    assert out["outcome"] == "refunded: cannot be filled"
    db.session.expire_all()
    assert order.status == "refunded" and db.session.get(Offering, honey.id).stock == 5


def test_an_automatic_refund_that_failed_is_retried_by_reconcile(client, runner, stripe_recorder):
    from tests.stripe_server import stripe_error

    order, _ = online_order()
    order.status = "cancelled"
    db.session.commit()
    stripe_recorder.answer(*[stripe_error(500, "Stripe is down", "api_error")] * 3)  # the client retries twice
    assert deliver(client, event("evt_late", "payment_intent.succeeded", intent(order))).get_json()[
        "outcome"] == "refund failed"
    db.session.expire_all()
    assert order.status == "cancelled" and order.paid_at is not None
    stripe_recorder.reply(200, {"id": "re_3", "object": "refund", "status": "succeeded", "amount": 8400})
    result = runner.invoke(args=["orders", "reconcile"])
    assert "refunded: cannot be filled 1" in result.output, result.output
    db.session.expire_all()
    assert order.status == "refunded" and order.refunded == order.gross_total
    assert stripe_recorder.requests[-1].path == "/v1/refunds"


def test_a_full_refund_of_a_paid_order_never_handed_over_puts_the_stock_back(client):
    order, honey = online_order()
    deliver(client, event("evt_paid", "payment_intent.succeeded", intent(order)))
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_test1", "amount_refunded": 8400}
    assert deliver(client, event("evt_r", "charge.refunded", charge)).get_json()["outcome"] == "refunded"
    db.session.expire_all()
    assert order.status == "refunded" and db.session.get(Offering, honey.id).stock == 5
