"""The Stripe gateway through the real stripe library: payments, refunds and webhooks against localstripe;
Connect, fees, payment methods, idempotency and Stripe's errors against the recorder."""
import json
import time
from decimal import Decimal

import pytest
import stripe

from marketplace.orders.stripe_gateway import GatewayError, SignatureError, gateway
from tests.factories import make_pes
from tests.stripe_server import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    StripeRecorder,
    flush_localstripe,
    free_port,
    register_webhook,
    stripe_config,
    stripe_error,
    unregister_webhook,
)

ACCOUNT = "acct_1PESTorun"


@pytest.fixture
def local(app, localstripe):
    """The gateway on an empty localstripe, and a client playing the buyer's browser (Stripe.js)."""
    flush_localstripe(localstripe)
    app.config.update(stripe_config(localstripe))
    browser = stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe}, max_network_retries=0)
    return gateway(), browser


@pytest.fixture
def recorded(app, stripe_recorder):
    app.config.update(stripe_config(stripe_recorder.url))
    return gateway(), stripe_recorder


def pay(browser, intent_id: str, method: str = "pm_card_visa"):
    """What Stripe.js does in the buyer's browser: choose a payment method and confirm."""
    browser.v1.payment_intents.update(intent_id, {"payment_method": method})
    return browser.v1.payment_intents.confirm(intent_id)


def intent(**fields) -> dict:
    body = {"id": "pi_1", "object": "payment_intent", "amount": 8413, "amount_received": 0, "currency": "pln",
            "status": "requires_payment_method", "client_secret": "pi_1_secret_abc",
            "last_payment_error": None}
    body.update(fields)
    return body


def charge(gw, fee: str = "0", key: str = "key-1"):
    return gw.create_payment_intent(account_id=ACCOUNT, amount=Decimal("84.13"), fee=Decimal(fee),
                                    order_number="ZAM-2026-000007", order_id=7, idempotency_key=key)


def test_online_payment_is_off_without_a_secret_key(app):
    assert gateway() is None


# Against localstripe ---------------------------------------------------------------------------------

def test_a_payment_in_zloty_is_charged_in_grosze_paid_by_card_and_partly_refunded(local):
    gw, browser = local
    created = charge(gw)
    assert created.status == "requires_payment_method" and created.amount == Decimal("84.13")
    assert created.client_secret.startswith(created.id + "_secret_")
    stored = browser.v1.payment_intents.retrieve(created.id)
    assert (stored.amount, stored.currency) == (8413, "pln")
    assert stored.metadata.to_dict() == {"order_number": "ZAM-2026-000007", "order_id": "7"}

    pay(browser, created.id)
    paid = gw.retrieve_payment_intent(ACCOUNT, created.id)
    assert (paid.status, paid.amount_received, paid.error) == ("succeeded", Decimal("84.13"), None)

    refund = gw.refund(account_id=ACCOUNT, intent_id=created.id, amount=Decimal("20.13"),
                       idempotency_key="r-1")
    assert (refund.status, refund.amount) == ("succeeded", Decimal("20.13"))
    assert refund.id.startswith("re_")


def test_a_declined_card_becomes_a_gateway_error_and_the_payment_waits_for_another_method(local):
    gw, browser = local
    created = charge(gw)
    declined = browser.v1.tokens.create({"card": {"number": "4000000000000341", "exp_month": "12",
                                                   "exp_year": "2030", "cvc": "123"}})
    with pytest.raises(GatewayError) as raised:
        gw.confirm_with_card_token(ACCOUNT, created.id, declined.id)
    assert (raised.value.code, raised.value.retryable) == ("card_declined", False)
    assert raised.value.message == ("Płatność została odrzucona. Spróbuj inną kartą albo inną metodą "
                                     "płatności.")

    after = gw.retrieve_payment_intent(ACCOUNT, created.id)
    assert (after.status, after.amount_received, after.error) == (
        "requires_payment_method", Decimal("0.00"), raised.value.message)
    with pytest.raises(GatewayError) as refused:
        gw.refund(account_id=ACCOUNT, intent_id=created.id, amount=Decimal("1.00"), idempotency_key="r-2")
    assert not refused.value.retryable


def test_a_card_token_from_stripe_js_pays(local):
    gw, browser = local
    created = charge(gw)
    token = browser.v1.tokens.create({"card": {"number": "4242424242424242", "exp_month": "12",
                                                "exp_year": "2030", "cvc": "123"}})
    paid = gw.confirm_with_card_token(ACCOUNT, created.id, token.id)
    assert (paid.id, paid.status, paid.amount_received) == (created.id, "succeeded", Decimal("84.13"))


def wait_for_delivery(receiver, object_id: str, seconds: float = 10):
    """The delivery about `object_id` (localstripe sends each event a second late, to whichever targets are
    registered by then, so events of an earlier test may arrive too)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for delivery in list(receiver.requests):
            if json.loads(delivery.body)["data"]["object"]["id"] == object_id:
                return delivery
        time.sleep(0.1)
    raise AssertionError(f"no event about {object_id} arrived")


def test_an_event_signed_and_delivered_by_localstripe_is_accepted(local, localstripe):
    gw, browser = local
    receiver = StripeRecorder().start()
    try:
        register_webhook(localstripe, "gateway-test", receiver.url + "/webhooks/stripe", WEBHOOK_SECRET,
                         ["payment_intent.succeeded"])
        created = charge(gw)
        pay(browser, created.id)
        delivery = wait_for_delivery(receiver, created.id)
    finally:
        unregister_webhook(localstripe, "gateway-test")
        receiver.stop()
    event = gw.parse_event(delivery.body, delivery.headers["Stripe-Signature"])
    assert event["type"] == "payment_intent.succeeded" and event["id"].startswith("evt_")
    assert event["data"]["object"]["id"] == created.id and event["data"]["object"]["amount"] == 8413
    assert "account" in event and isinstance(event["created"], int)


# Webhook signatures ----------------------------------------------------------------------------------

EVENT = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "account": ACCOUNT,
                    "created": 1767225600, "livemode": False,
                    "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 8413}}})


def signature(payload: str, secret: str = WEBHOOK_SECRET, age: int = 0) -> str:
    at = int(time.time()) - age
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=at)


@pytest.fixture
def gw(app):
    app.config.update(stripe_config(f"http://127.0.0.1:{free_port()}"))
    return gateway()


def test_a_correctly_signed_event_is_returned_as_plain_data(gw):
    event = gw.parse_event(EVENT.encode(), signature(EVENT, age=290))
    assert event == {"id": "evt_1", "type": "payment_intent.succeeded", "account": ACCOUNT,
                     "created": 1767225600, "livemode": False,
                     "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 8413}},
                     "related_object": None}


@pytest.mark.parametrize("body, header", [
    (EVENT.replace("8413", "1"), signature(EVENT)),  # the body was changed after signing
    (EVENT, signature(EVENT, secret="whsec_somebody_else")),
    (EVENT, signature(EVENT, age=301)),  # older than the 300 s tolerance: a replay
    (EVENT, ""),
    (EVENT, "t=1,v1=nonsense"),
], ids=["tampered", "wrong-secret", "too-old", "no-header", "garbage"])
def test_an_event_that_stripe_did_not_sign_now_is_refused(gw, body, header):
    with pytest.raises(SignatureError) as raised:
        gw.parse_event(body.encode(), header)
    assert raised.value.message and not raised.value.retryable


def test_a_signed_body_that_is_not_an_event_is_refused_but_not_as_a_bad_signature(gw):
    with pytest.raises(GatewayError) as raised:
        gw.parse_event(b"[1, 2]", signature("[1, 2]"))
    assert not isinstance(raised.value, SignatureError) and raised.value.code == "invalid_payload"


# Against the recorder: the requests the portal sends and how it reads the answers ----------------------

def test_a_pes_gets_a_connected_account_of_accounts_v2_liable_for_its_own_payments(app, recorded):
    gw, rec = recorded
    pes = make_pes(name="Spółdzielnia Socjalna Przystań", email="biuro@przystan.example.org")
    rec.reply(200, {"id": "acct_1New", "object": "v2.core.account"})
    assert gw.create_account(pes) == "acct_1New"
    sent = rec.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v2/core/accounts")
    assert "Stripe-Account" not in sent.headers and sent.headers["Idempotency-Key"]
    assert sent.json == {
        "contact_email": "biuro@przystan.example.org", "display_name": "Spółdzielnia Socjalna Przystań",
        "dashboard": "full", "identity": {"country": "PL"},
        "configuration": {"merchant": {"capabilities": {
            "card_payments": {"requested": True}, "blik_payments": {"requested": True},
            "p24_payments": {"requested": True}}}},
        "defaults": {"currency": "pln", "locales": ["pl-PL"],
                     "responsibilities": {"fees_collector": "stripe", "losses_collector": "stripe"}},
        "metadata": {"pes_id": str(pes.id)}}


def test_the_onboarding_link_is_the_url_stripe_answers(recorded):
    gw, rec = recorded
    rec.reply(200, {"object": "v2.core.account_link", "url": "https://accounts.stripe.test/r/acct_1#alu_1"})
    url = gw.onboarding_link("acct_1", "https://portal.test/odswiez", "https://portal.test/powrot")
    assert url == "https://accounts.stripe.test/r/acct_1#alu_1"
    assert (rec.requests[-1].path, rec.requests[-1].json) == ("/v2/core/account_links", {
        "account": "acct_1", "use_case": {"type": "account_onboarding", "account_onboarding": {
            "refresh_url": "https://portal.test/odswiez", "return_url": "https://portal.test/powrot"}}})


def account(status: str | None, *details: tuple[str, str]) -> dict:
    capabilities = {} if status is None else {"card_payments": {
        "status": status, "status_details": [{"code": c, "resolution": r} for c, r in details]}}
    return {"id": "acct_1", "object": "v2.core.account",
            "configuration": {"merchant": {"capabilities": capabilities}}}


@pytest.mark.parametrize("answer, state", [
    (account("active"), "active"),
    (account(None), "onboarding"),
    (account("restricted", ("requirements_past_due", "provide_info")), "onboarding"),
    (account("pending", ("requirements_pending_verification", "no_resolution")), "restricted"),
    (account("restricted", ("restricted_other", "contact_stripe")), "restricted"),
    (account("rejected", ("rejected_fraud", "no_resolution")), "restricted"),
    (account("unsupported", ("unsupported_country", "no_resolution")), "restricted"),
])
def test_the_account_state_follows_its_card_payments_capability(recorded, answer, state):
    gw, rec = recorded
    rec.reply(200, answer)
    assert gw.account_state("acct_1") == state
    sent = rec.requests[-1]
    assert (sent.method, sent.path) == ("GET", "/v2/core/accounts/acct_1")
    assert sorted(v for values in sent.query.values() for v in values) == ["configuration.merchant",
                                                                            "requirements"]


@pytest.mark.parametrize("fee, sent_fee", [("2.52", "252"), ("0", None)])
def test_a_payment_is_a_direct_charge_on_the_pes_account_with_the_portal_fee(recorded, fee, sent_fee):
    gw, rec = recorded
    rec.reply(200, intent())
    info = charge(gw, fee=fee, key="order-7-attempt-1")
    assert (info.id, info.client_secret, info.amount, info.amount_received) == (
        "pi_1", "pi_1_secret_abc", Decimal("84.13"), Decimal("0.00"))
    sent = rec.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/payment_intents")
    assert (sent.headers["Stripe-Account"], sent.headers["Idempotency-Key"]) == (ACCOUNT, "order-7-attempt-1")
    expected = {"amount": "8413", "currency": "pln", "payment_method_types[0]": "card",
                "payment_method_types[1]": "blik", "payment_method_types[2]": "p24",
                "metadata[order_number]": "ZAM-2026-000007", "metadata[order_id]": "7"}
    if sent_fee:
        expected["application_fee_amount"] = sent_fee
    assert sent.form == expected


def test_a_lost_answer_is_retried_with_the_same_idempotency_key(recorded):
    gw, rec = recorded
    rec.reply(500, {"error": {"type": "api_error", "message": "Something went wrong."}})
    rec.reply(200, intent())
    assert charge(gw, key="order-7-attempt-2").id == "pi_1"
    first, second = rec.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == "order-7-attempt-2"
    assert first.form == second.form


@pytest.mark.parametrize("answers, code, retryable, message", [
    ([stripe_error(402, "Your card has insufficient funds.", "card_error", "card_declined",
                   decline_code="insufficient_funds")], "card_declined", False,
     "Brak wystarczających środków"),
    ([stripe_error(400, "No such destination.", code="resource_missing")], "resource_missing", False,
     "Operator płatności odrzucił żądanie"),
    ([stripe_error(401, "Invalid API Key provided.")], "authentication", False, "błąd ustawień portalu"),
    ([stripe_error(429, "Too many requests.", code="rate_limit")], "rate_limit", True, "przeciążony"),
    ([stripe_error(500, "Something went wrong.", "api_error")] * 3, "api_error", True, "chwilowe problemy"),
], ids=["402-card", "400-invalid", "401-key", "429-rate", "500-stripe"])
def test_stripe_errors_become_gateway_errors_saying_whether_to_try_again(recorded, answers, code, retryable,
                                                                         message):
    gw, rec = recorded
    rec.answer(*answers)
    with pytest.raises(GatewayError) as raised:
        charge(gw)
    assert (raised.value.code, raised.value.retryable) == (code, retryable)
    assert message in raised.value.message
    assert len(rec.requests) == len(answers)  # only Stripe's own failures are retried, at most twice


def test_a_stripe_that_cannot_be_reached_is_a_retryable_gateway_error(app):
    app.config.update(stripe_config(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(GatewayError) as raised:
        charge(gateway())
    assert (raised.value.code, raised.value.retryable) == ("connection", True)
    assert "Nie udało się połączyć" in raised.value.message


def test_a_payment_is_read_and_refunded_on_the_pes_account(recorded):
    gw, rec = recorded
    rec.reply(200, intent(status="requires_payment_method", last_payment_error={
        "code": "card_declined", "decline_code": "expired_card", "message": "Your card has expired."}))
    assert gw.retrieve_payment_intent(ACCOUNT, "pi_1").error == "Karta straciła ważność."
    read = rec.requests[-1]
    assert (read.path, read.headers["Stripe-Account"]) == ("/v1/payment_intents/pi_1", ACCOUNT)
    rec.reply(200, {"id": "re_1", "object": "refund", "amount": 2013, "status": "pending"})
    refund = gw.refund(account_id=ACCOUNT, intent_id="pi_1", amount=Decimal("20.13"), idempotency_key="ref-1",
                       refund_application_fee=True)
    assert (refund.id, refund.status, refund.amount) == ("re_1", "pending", Decimal("20.13"))
    sent = rec.requests[-1]
    assert sent.form == {"payment_intent": "pi_1", "amount": "2013", "refund_application_fee": "true"}
    assert (sent.headers["Stripe-Account"], sent.headers["Idempotency-Key"]) == (ACCOUNT, "ref-1")
