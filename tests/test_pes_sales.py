"""A PES's sales settings: who may see and change them, what is stored, the checks at each field, the audit
log, and connecting a Stripe account (against the recorder standing in for Stripe's Connect API)."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.orders.models import PesSales
from marketplace.pes.models import PesMembership
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.stripe_server import stripe_config, stripe_error
from tests.test_pes_support import sign_in

IBAN = "PL61109010140000071219812874"


def page(pes) -> str:
    return f"/panel/pes/{pes.id}/sprzedaz"


def settings_form(**overrides) -> dict:
    """Everything filled in, as the form posts it; None leaves a box unticked or a field out."""
    data = {"enabled": "y", "accepts_transfer": "y", "bank_account": "PL61 1090 1014 0000 0712 1981 2874",
            "payment_term_days": "21", "pickup": "y", "pickup_address": "ul. Szeroka 1, 87-100 Toruń",
            "delivery": "y", "delivery_net": "15,50", "is_trader": "y", "ksef_enabled": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, pes, **overrides):
    token = csrf_token(client, page(pes))
    return client.post(page(pes), data={"csrf_token": token, **settings_form(**overrides)})


def stored(pes) -> PesSales | None:
    db.session.expire_all()
    return db.session.get(PesSales, pes.id)


def audit_entries(action: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return db.session.scalars(stmt).all()


def ticked(html: str, field: str) -> bool:
    tag = re.search(rf'<input[^>]*id="{field}"[^>]*>', html)
    return tag is not None and " checked" in tag.group(0)


def field_error(html: str, field: str) -> str:
    m = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    return m.group(1) if m else ""


@pytest.fixture
def owner(client):
    user = make_user("wlascicielka@example.org")
    pes = make_pes(owner=user, name="Spółdzielnia Socjalna Przystań", email="biuro@przystan.example.org")
    sign_in(client, user)
    return user, pes


# Who may see and change -------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_log_in(client):
    pes = make_pes()
    db.session.commit()
    resp = client.get(page(pes))
    assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"]


def test_only_members_see_the_page_and_an_unknown_pes_is_not_found(client):
    pes = make_pes(owner=make_user())
    outsider = make_user("obcy@example.org")
    sign_in(client, outsider)
    assert client.get(page(pes)).status_code == 403
    token = csrf_token(client, "/")
    assert client.post(page(pes), data={"csrf_token": token, **settings_form()}).status_code == 403
    assert client.post(page(pes) + "/stripe", data={"csrf_token": token}).status_code == 403
    assert client.get("/panel/pes/999999/sprzedaz").status_code == 404
    assert stored(pes) is None


def test_an_editor_sees_the_defaults_and_saves_the_settings(client):
    pes = make_pes(owner=make_user())
    editor = make_user("redaktor@example.org")
    db.session.add(PesMembership(pes=pes, user=editor, role="editor"))
    sign_in(client, editor)
    html = client.get(page(pes)).get_data(as_text=True)
    assert "Sprzedaż i płatności" in html
    assert '<label for="bank_account">Numer rachunku bankowego</label>' in html
    assert ticked(html, "pickup") and ticked(html, "is_trader") and not ticked(html, "enabled")

    resp = post(client, pes)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(page(pes))
    sales = stored(pes)
    assert (sales.enabled, sales.accepts_transfer, sales.bank_account, sales.payment_term_days) == (
        True, True, IBAN, 21)
    assert (sales.pickup, sales.pickup_address, sales.delivery, sales.delivery_net) == (
        True, "ul. Szeroka 1, 87-100 Toruń", True, Decimal("15.50"))
    assert (sales.vat_exempt, sales.is_trader, sales.ksef_enabled) == (False, True, True)
    assert "Zapisano ustawienia sprzedaży." in client.get(page(pes)).get_data(as_text=True)


def test_every_change_is_in_the_audit_log_and_saving_nothing_new_writes_nothing(client, owner):
    user, pes = owner
    post(client, pes, bank_account="61109010140000071219812874")  # the 26 digits alone are a Polish account
    post(client, pes, delivery=None, delivery_net="0", vat_exempt="y")
    post(client, pes, delivery=None, delivery_net="0", vat_exempt="y")
    first, second = audit_entries("sales.update")
    assert (first.actor_id, first.object_type, first.object_id) == (user.id, "pes", pes.id)
    assert first.before is None
    assert first.after["bank_account"] == IBAN and first.after["delivery_net"] == "15.50"
    changed = {k for k in second.after if second.after[k] != second.before[k]}
    assert changed == {"delivery", "delivery_net", "vat_exempt"}
    assert (second.before["delivery_net"], second.after["delivery_net"]) == ("15.50", "0.00")


# The checks at each field -----------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, field, message", [
    ({"bank_account": "PL61 1090 1014 0000 0712 1981 2875"}, "bank_account",
     "Numer rachunku jest nieprawidłowy"),
    ({"bank_account": "DE89370400440532013000"}, "bank_account", "Podaj rachunek w polskim banku"),
    ({"bank_account": ""}, "bank_account", "Podaj numer rachunku, na który kupujący mają wpłacać"),
    ({"payment_term_days": "0"}, "payment_term_days", "Termin zapłaty musi wynosić od 1 do 60 dni."),
    ({"payment_term_days": "61"}, "payment_term_days", "Termin zapłaty musi wynosić od 1 do 60 dni."),
    ({"payment_term_days": ""}, "payment_term_days", "Podaj termin zapłaty w dniach"),
    ({"payment_term_days": "dwa tygodnie"}, "payment_term_days",
     "Podaj termin zapłaty liczbą dni, od 1 do 60."),
    ({"pickup_address": "  "}, "pickup_address", "Podaj adres, pod którym kupujący odbiorą zamówienie."),
    ({"delivery_net": ""}, "delivery_net", "Podaj koszt dostawy netto (0, jeśli dostawa jest bezpłatna)."),
    ({"delivery_net": "-5"}, "delivery_net", "Koszt dostawy nie może być ujemny."),
    ({"delivery_net": "piętnaście"}, "delivery_net", "Podaj kwotę liczbą"),
    ({"delivery_net": "15,555"}, "delivery_net", "Kwota może mieć najwyżej dwa miejsca po przecinku"),
    ({"accepts_transfer": None, "bank_account": ""}, "enabled",
     "Aby przyjmować zamówienia, włączcie płatność przelewem"),
    ({"pickup": None, "delivery": None, "pickup_address": "", "delivery_net": ""}, "enabled",
     "Aby przyjmować zamówienia, wybierzcie co najmniej jeden sposób przekazania"),
], ids=["iban-checksum", "iban-foreign", "iban-missing", "term-0", "term-61", "term-empty", "term-words",
        "pickup-address", "delivery-empty", "delivery-negative", "delivery-words", "delivery-decimals",
        "no-payment", "no-fulfilment"])
def test_a_wrong_value_is_explained_at_its_field_and_nothing_is_stored(client, owner, overrides, field,
                                                                       message):
    _user, pes = owner
    resp = post(client, pes, **overrides)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert field_error(html, field).startswith(message), field_error(html, field)
    assert f'aria-describedby="{field}-error"' in html or f'{field}-hint {field}-error' in html
    assert stored(pes) is None and audit_entries("sales.update") == []


def test_sales_may_stay_off_without_any_way_to_pay(client, owner):
    _user, pes = owner
    resp = post(client, pes, enabled=None, accepts_transfer=None, bank_account="", pickup=None,
                pickup_address="", delivery=None, delivery_net="")
    assert resp.status_code == 302
    sales = stored(pes)
    assert (sales.enabled, sales.bank_account, sales.delivery_net) == (False, None, Decimal("0.00"))


# Stripe -----------------------------------------------------------------------------------------------

def test_without_stripe_keys_the_page_says_online_payment_is_off(client, owner):
    _user, pes = owner
    html = client.get(page(pes)).get_data(as_text=True)
    assert "Płatności online są wyłączone na tym portalu." in html
    assert "Połącz konto Stripe" not in html and "/sprzedaz/stripe" not in html


def test_connecting_stripe_creates_the_account_and_the_check_on_return_stores_its_state(app, client, owner,
                                                                                      stripe_recorder):
    _user, pes = owner
    app.config.update(stripe_config(stripe_recorder.url))
    assert "Połącz konto Stripe" in client.get(page(pes)).get_data(as_text=True)
    stripe_recorder.reply(200, {"id": "acct_1Przystan", "object": "v2.core.account"})
    stripe_recorder.reply(200, {"object": "v2.core.account_link", "url": "https://connect.stripe.test/setup/abc"})

    resp = client.post(page(pes) + "/stripe", data={"csrf_token": csrf_token(client, page(pes))})
    assert resp.status_code == 302 and resp.headers["Location"] == "https://connect.stripe.test/setup/abc"
    created, link = stripe_recorder.requests
    assert created.json["contact_email"] == "biuro@przystan.example.org"
    assert link.json["account"] == "acct_1Przystan"
    assert link.json["use_case"]["account_onboarding"]["return_url"] == f"http://localhost{page(pes)}?check=1"
    assert (stored(pes).stripe_account_id, stored(pes).stripe_state) == ("acct_1Przystan", "onboarding")

    stripe_recorder.reply(200, {"id": "acct_1Przystan", "object": "v2.core.account", "configuration": {
        "merchant": {"capabilities": {"card_payments": {"status": "active", "status_details": []}}}}})
    resp = client.get(page(pes) + "?check=1")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(page(pes))
    assert stripe_recorder.requests[-1].path == "/v2/core/accounts/acct_1Przystan"
    assert stored(pes).stripe_state == "active" and stored(pes).stripe_checked_at is not None
    assert "Konto Stripe jest aktywne" in client.get(page(pes)).get_data(as_text=True)
    entries = audit_entries("sales.stripe_state")
    states = [(e.before["stripe_state"], e.after["stripe_state"]) for e in entries]
    assert states == [("none", "onboarding"), ("onboarding", "active")]

    # With an active account, online payment alone is a way to pay.
    resp = post(client, pes, accepts_transfer=None, bank_account="")
    assert resp.status_code == 302 and stored(pes).enabled is True


def test_a_stripe_error_is_shown_and_no_account_is_stored(app, client, owner, stripe_recorder):
    _user, pes = owner
    app.config.update(stripe_config(stripe_recorder.url))
    stripe_recorder.answer(stripe_error(400, "Connect is not enabled for this platform.",
                                        code="platform_not_ready"))
    resp = client.post(page(pes) + "/stripe", data={"csrf_token": csrf_token(client, page(pes))},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "Nie udało się połączyć z kontem Stripe: Operator płatności odrzucił żądanie." in html
    assert stored(pes) is None and audit_entries("sales.stripe_state") == []
    assert len(stripe_recorder.requests) == 1  # no link was asked for an account that does not exist
