"""Sign-up, the confirmation link, and what a visitor sees when the form is wrong."""
import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from accounts import tokens
from accounts.models import Institution, User
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import PASSWORD, login, make_user
from tests.test_accounts_support import address_taken_meanwhile, fresh_client, link_in

NEW_PASSWORD = "Zielona-Lampa-nad-Wisla"


@pytest.fixture
def client(app):
    return fresh_client(app)


def signup(client, **fields):
    data = {"csrf_token": csrf_token(client, "/konto/rejestracja"), "email": "Ewa.Nowak@Example.org",
            "name": "Ewa Nowak", "password": NEW_PASSWORD, "password2": NEW_PASSWORD,
            "account_type": "buyer", "consent": "y"}
    data.update(fields)
    return client.post("/konto/rejestracja", data={k: v for k, v in data.items() if v is not None})


def purchaser(**fields):
    data = {"account_type": "purchaser", "institution_name": "Gmina Lubicz", "institution_nip": "879-017-68-02",
            "institution_kind": "gmina"}
    data.update(fields)
    return data


def users_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def logged_in(client) -> bool:
    return client.get("/konto/ustawienia").status_code == 200


def check_mail_page(client) -> str:
    """The page after sign-up, without the per-visitor CSRF token, to compare two visitors' pages."""
    return re.sub(r'value="[^"]+"', "", client.get("/konto/sprawdz-poczte").get_data(as_text=True))


def test_signup_creates_account_and_the_mailed_link_confirms_it(client, mailbox):
    resp = signup(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/konto/sprawdz-poczte")
    user = db.session.scalar(select(User))
    assert user.email == "ewa.nowak@example.org" and user.role == "buyer" and not user.is_confirmed
    assert user.terms_accepted_at is not None  # the consent is recorded with its date
    page = client.get("/konto/sprawdz-poczte").get_data(as_text=True)
    assert "ewa.nowak@example.org" in page and "Sprawdź skrzynkę e-mail" in page
    assert not logged_in(client)  # signing in would tell a stranger that the address was new

    path = link_in(mailbox.body(mailbox.last("ewa.nowak@example.org")), "/konto/potwierdz/")
    page = client.get(path)
    assert page.status_code == 200 and "Adres e-mail potwierdzony" in page.get_data(as_text=True)
    assert 'href="/konto/logowanie?next=/konto/ustawienia">Zaloguj się' in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).is_confirmed

    again = client.get(path)
    assert again.status_code == 200 and "został już potwierdzony" in again.get_data(as_text=True)
    assert login(client, "ewa.nowak@example.org", NEW_PASSWORD).status_code == 302
    assert client.get("/konto/sprawdz-poczte").headers["Location"].endswith("/konto/ustawienia")


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_notice(client, app, mailbox):
    owner = make_user("ewa.nowak@example.org", name="Ewa Właścicielka")
    db.session.commit()
    taken = signup(client, email="EWA.NOWAK@example.org", name="Ktoś Obcy", **purchaser())
    stranger = fresh_client(app)
    new = signup(stranger, email="nowa.osoba@example.org")
    assert (taken.status_code, taken.headers["Location"]) == (new.status_code, new.headers["Location"])
    assert check_mail_page(client).replace("ewa.nowak@example.org", "X") == \
        check_mail_page(stranger).replace("nowa.osoba@example.org", "X")
    assert not logged_in(client) and not logged_in(stranger)

    assert users_count() == 2  # the owner and the new account: no second row for the taken address
    assert db.session.scalar(select(func.count()).select_from(Institution)) == 0
    db.session.expire_all()
    kept = db.session.get(User, owner.id)
    assert (kept.name, kept.role, kept.institution_id) == ("Ewa Właścicielka", "buyer", None)
    assert login(client, "ewa.nowak@example.org", PASSWORD).status_code == 302  # the password is unchanged

    [notice] = mailbox.to("ewa.nowak@example.org")
    body = mailbox.body(notice)
    assert "już istnieje" in body and "/konto/potwierdz/" not in body
    assert "http://localhost/konto/logowanie" in body and "http://localhost/konto/haslo" in body


def test_two_simultaneous_signups_with_one_address_end_normally(client, mailbox):
    with address_taken_meanwhile("ewa.nowak@example.org") as taken:
        resp = signup(client)
    assert taken, "the other sign-up did not happen"
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/konto/sprawdz-poczte")
    assert users_count() == 1
    assert db.session.scalar(select(User.name)) == "Inna Osoba"  # the other request's account
    assert "już istnieje" in mailbox.body(mailbox.last("ewa.nowak@example.org"))
    assert len(mailbox.messages()) == 1  # the confirmation of the rolled-back account was never sent


def test_weak_password_is_refused_with_the_reason(client):
    page = signup(client, password="krotkie", password2="krotkie").get_data(as_text=True)
    assert "co najmniej 10 znaków" in page
    page = signup(client, password="1234567890", password2="1234567890").get_data(as_text=True)
    assert "zbyt łatwe do odgadnięcia" in page
    assert users_count() == 0


def test_repeated_password_must_match_and_consent_is_required(client):
    page = signup(client, password2="Inne-Haslo-Calkiem-2026").get_data(as_text=True)
    assert "Hasła nie są takie same" in page
    page = signup(client, consent=None).get_data(as_text=True)
    assert "Zaznacz zgodę" in page
    page = signup(client, email="to nie jest adres").get_data(as_text=True)
    assert "Podaj poprawny adres e-mail" in page
    assert users_count() == 0


def test_purchaser_signup_creates_a_pending_institution_shown_in_settings(client):
    signup(client, **purchaser())
    user = db.session.scalar(select(User))
    assert (user.role, user.institution_status) == ("purchaser", "pending")
    assert (user.institution.nip, user.institution.status, user.institution.kind) == ("8790176802", "pending", "gmina")
    login(client, "ewa.nowak@example.org", NEW_PASSWORD)
    page = client.get("/konto/ustawienia").get_data(as_text=True)
    assert "Gmina Lubicz" in page and "czeka na weryfikację" in page
    assert "czeka na potwierdzenie przez ośrodek regionalny" in page


def test_purchaser_with_invalid_nip_is_refused_and_nothing_is_written(client, mailbox):
    page = signup(client, **purchaser(institution_nip="8790176807")).get_data(as_text=True)
    assert "NIP ma błędną cyfrę kontrolną" in page
    page = signup(client, **purchaser(institution_nip="", institution_name="", institution_kind="")).get_data(
        as_text=True)
    assert "Podaj NIP instytucji" in page and "Podaj nazwę instytucji" in page and "Wybierz rodzaj instytucji" in page
    assert users_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Institution)) == 0
    assert mailbox.messages() == []


def test_buyer_does_not_need_institution_fields(client):
    signup(client, institution_nip="bzdura")
    assert db.session.scalar(select(User)).institution is None


def test_post_without_csrf_token_is_refused_and_creates_nothing(client):
    resp = client.post("/konto/rejestracja", data={
        "email": "a@example.org", "name": "A", "password": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "account_type": "buyer", "consent": "y"})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    assert users_count() == 0


def test_forged_and_expired_confirmation_links_get_a_clear_page(client, app):
    user = make_user("ola@example.org", confirmed=False)
    db.session.commit()
    forged = client.get("/konto/potwierdz/abc.def.ghi")
    assert forged.status_code == 400 and "Nieprawidłowy link" in forged.get_data(as_text=True)

    class IssuedLongAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - app.config["CONFIRM_TOKEN_MAX_AGE"] - 60

    old = tokens.serializer("confirm", signer=IssuedLongAgo).dumps(
        {"uid": user.id, "em": tokens.fingerprint(user.email)})
    expired = client.get(f"/konto/potwierdz/{old}")
    assert expired.status_code == 400 and "Link wygasł" in expired.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_confirmed


def test_unconfirmed_user_can_log_in_sees_a_notice_and_can_ask_for_the_link_again(client, mailbox):
    make_user("ola@example.org", confirmed=False)
    db.session.commit()
    login(client, "ola@example.org")
    page = client.get("/konto/ustawienia").get_data(as_text=True)
    assert "nie jest jeszcze potwierdzony" in page
    token = csrf_token(client, "/konto/ustawienia")
    resp = client.post("/konto/potwierdzenie/wyslij", data={"csrf_token": token}, follow_redirects=True)
    assert "Wysłaliśmy nowy link" in resp.get_data(as_text=True)
    path = link_in(mailbox.body(mailbox.last("ola@example.org")), "/konto/potwierdz/")
    assert "potwierdzony" in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"MAIL_LIMIT": "2 per hour"}])
def test_asking_for_the_link_again_is_rate_limited(client, mailbox):
    make_user("ola@example.org", password=PASSWORD, confirmed=False)
    db.session.commit()
    login(client, "ola@example.org")
    token = csrf_token(client, "/konto/ustawienia")
    codes = [client.post("/konto/potwierdzenie/wyslij", data={"csrf_token": token}).status_code
             for _ in range(3)]
    assert codes == [302, 302, 429]
    assert len(mailbox.to("ola@example.org")) == 2
