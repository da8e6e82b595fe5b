"""The PES's side of orders: only its own, statuses it may set, a transfer marked paid, refunds through Stripe,
messages to the buyer; each change in the audit log and told to the buyer."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.audit import AuditEntry
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import login, make_user
from tests.order_factories import make_order, selling_pes
from tests.stripe_server import stripe_config


@pytest.fixture
def app_config(stripe_recorder):
    return stripe_config(stripe_recorder.url)


@pytest.fixture
def shop(client):
    pes, owner = selling_pes(stripe_account_id="acct_pes1", stripe_state="active")
    other, _other_owner = selling_pes("Inna Spółdzielnia", owner=make_user("inna@example.org"), nip="1234563218")
    buyer = make_user("kupujaca@example.org", name="Anna Kowalska")
    order = make_order(pes, buyer)
    db.session.commit()
    login(client, owner.email)
    return pes, order, other


def post(client, url, **data):
    return client.post(url, data=dict(data, csrf_token=csrf_token(client, "/panel")))


def test_a_pes_member_sees_only_its_own_orders(client, shop):
    pes, order, other = shop
    assert "Anna Kowalska" in client.get(f"/panel/pes/{pes.id}/zamowienia").get_data(as_text=True)
    assert client.get(f"/panel/pes/{other.id}/zamowienia").status_code == 403
    assert client.get(f"/panel/pes/{other.id}/zamowienia/{order.id}").status_code == 403
    foreign = make_order(other)
    db.session.commit()
    assert client.get(f"/panel/pes/{pes.id}/zamowienia/{foreign.id}").status_code == 404
    resp = post(client, f"/panel/pes/{pes.id}/zamowienia/{foreign.id}/status", status="cancelled")
    assert resp.status_code == 404
    db.session.expire_all()
    assert foreign.status == "new"


def test_status_changes_follow_the_rules_are_audited_and_mailed(client, shop, mailbox):
    pes, order, _ = shop
    base = f"/panel/pes/{pes.id}/zamowienia/{order.id}"
    page = client.get(base).get_data(as_text=True)
    assert 'value="ready"' in page and 'value="shipped"' not in page  # a pickup order is made ready, not sent
    assert post(client, base + "/status", status="completed").status_code == 400  # not from "new"
    resp = post(client, base + "/status", status="in_progress", reason="Zaczynamy jutro rano.")
    assert resp.status_code == 302
    db.session.expire_all()
    assert order.status == "in_progress"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "order.status")).one()
    assert (entry.before, entry.after) == ({"status": "new"}, {"status": "in_progress"})
    mail = mailbox.last(order.buyer_email)
    assert "w realizacji" in mail["Subject"] and "Zaczynamy jutro rano." in mailbox.body(mail)


def test_a_transfer_is_marked_paid_once(client, shop):
    pes, order, _ = shop
    url = f"/panel/pes/{pes.id}/zamowienia/{order.id}/oplacone"
    assert post(client, url).status_code == 302
    db.session.expire_all()
    assert order.paid_at is not None and order.status == "paid"
    post(client, url)
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "order.paid")).all()) == 1


def test_a_refund_goes_to_the_pes_stripe_account_and_bad_amounts_are_refused(client, shop, stripe_recorder):
    pes, order, _ = shop
    order.payment_method, order.status, order.stripe_payment_intent = "stripe", "paid", "pi_1"
    order.stripe_account_id, order.paid_at = "acct_pes1", order.created_at
    db.session.commit()
    url = f"/panel/pes/{pes.id}/zamowienia/{order.id}/zwrot"
    for bad in ("0", "abc", "84,001", "100,00"):
        resp = post(client, url, amount=bad)
        assert resp.status_code == 400, bad
    assert stripe_recorder.requests == []
    stripe_recorder.reply(200, {"id": "re_1", "object": "refund", "status": "succeeded", "amount": 2000})
    assert post(client, url, amount="20,00").status_code == 302
    sent = stripe_recorder.requests[-1]
    assert (sent.path, sent.form["amount"], sent.headers["Stripe-Account"]) == ("/v1/refunds", "2000", "acct_pes1")
    db.session.expire_all()
    assert order.refunded == Decimal("20.00") and order.status == "paid"


def test_a_message_reaches_the_buyer(client, shop, mailbox):
    pes, order, _ = shop
    url = f"/panel/pes/{pes.id}/zamowienia/{order.id}/wiadomosc"
    assert post(client, url, body="").status_code == 400
    assert post(client, url, body="Paczka wyjdzie w piątek.").status_code == 302
    assert "Paczka wyjdzie w piątek." in mailbox.body(mailbox.last(order.buyer_email))
    assert "Paczka wyjdzie w piątek." in client.get(f"/panel/pes/{pes.id}/zamowienia/{order.id}").get_data(
        as_text=True)
