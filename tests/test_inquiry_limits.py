"""Limits on inquiries: per guest e-mail, per account and per client address count only inquiries sent;
messages are limited per account; a quote must be valid in the future."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, Quote
from tests.conftest import csrf_token
from tests.factories import make_user
from tests.inquiry_helpers import inquiry_form, pes_with_owner, signed_in


def _inquiries() -> int:
    return db.session.scalar(select(func.count()).select_from(Inquiry))


@pytest.mark.parametrize("app_config", [{"INQUIRY_LIMIT_PER_EMAIL": "2 per day"}])
def test_a_guest_address_may_send_only_so_many_inquiries(client):
    pes, _owner = pes_with_owner("Spółdzielnia Limit")
    db.session.commit()
    for _ in range(2):
        data = inquiry_form(client, f"pes={pes.ref}", pes=pes.ref, name="Jan", email="jan@example.org")
        assert client.post("/zapytania/nowe", data=data).status_code == 200
    data = inquiry_form(client, f"pes={pes.ref}", pes=pes.ref, name="Jan", email="JAN@example.org")
    assert client.post("/zapytania/nowe", data=data).status_code == 429
    other = inquiry_form(client, f"pes={pes.ref}", pes=pes.ref, name="Ola", email="ola@example.org")
    assert client.post("/zapytania/nowe", data=other).status_code == 200
    assert _inquiries() == 3


@pytest.mark.parametrize("app_config", [{"INQUIRY_LIMIT_PER_ACCOUNT": "2 per day"}])
def test_an_account_may_send_only_so_many_and_failed_attempts_do_not_count(client):
    pes, _owner = pes_with_owner("Spółdzielnia Limit")
    buyer = make_user()
    db.session.commit()
    signed_in(client, buyer)
    for _ in range(3):  # refused for a missing body: nothing sent, nothing counted
        assert client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}", pes=pes.ref,
                                                                 body="")).status_code == 422
    for _ in range(2):
        assert client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}",
                                                                 pes=pes.ref)).status_code == 302
    assert client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}",
                                                             pes=pes.ref)).status_code == 429
    assert _inquiries() == 2


@pytest.mark.parametrize("app_config", [{"INQUIRY_MESSAGE_LIMIT": "2 per hour"}])
def test_messages_in_threads_are_limited(client):
    pes, _owner = pes_with_owner("Spółdzielnia Limit")
    buyer = make_user()
    db.session.commit()
    signed_in(client, buyer)
    client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}", pes=pes.ref))
    inquiry = db.session.scalar(select(Inquiry))
    path = f"/zapytania/{inquiry.id}/rozmowa/{inquiry.threads[0].id}"
    codes = [client.post(path, data={"csrf_token": csrf_token(client, path), "body": f"Wiadomość {i}"}).status_code
             for i in range(3)]
    assert codes == [302, 302, 429]


def test_a_quote_valid_in_the_past_or_without_a_price_is_refused(client):
    pes, owner = pes_with_owner("Spółdzielnia Wycena")
    buyer = make_user()
    db.session.commit()
    signed_in(client, buyer)
    client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}", pes=pes.ref))
    client.post("/konto/wyloguj", data={"csrf_token": csrf_token(client, "/")})
    thread = db.session.scalar(select(Inquiry)).threads[0]
    signed_in(client, owner)
    path = f"/panel/pes/{pes.id}/zapytania/{thread.id}"
    base = {"quote-net": "100", "quote-vat_rate": "23",
            "quote-valid_until": (clock.today() + timedelta(days=7)).isoformat()}
    for override, message in (({"quote-valid_until": (clock.today() - timedelta(days=1)).isoformat()},
                               "nie może być w przeszłości"),
                              ({"quote-net": ""}, "Podaj cenę netto."),
                              ({"quote-net": "-5"}, "nie może być ujemna"),
                              ({"quote-vat_rate": "17"}, "Nieprawidłowy wybór")):
        data = dict(base, csrf_token=csrf_token(client, path), **override)
        response = client.post(path + "/oferta", data=data)
        assert response.status_code == 422, override
        assert message in response.get_data(as_text=True), override
    assert db.session.scalar(select(func.count()).select_from(Quote)) == 0
