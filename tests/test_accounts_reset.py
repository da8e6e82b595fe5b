"""Password reset by a mailed link: same answer for everyone, single use, expiry, sessions ended."""
import re
import time

import pytest
from itsdangerous import TimestampSigner

from accounts import services, tokens
from accounts.models import User
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import PASSWORD, login, make_user
from tests.test_accounts_support import fresh_client, link_in

NEW_PASSWORD = "Nowe-Haslo-Do-Portalu-7"


@pytest.fixture
def client(app):
    return fresh_client(app)


def ask_for_reset(client, email):
    return client.post("/konto/haslo", data={"csrf_token": csrf_token(client, "/konto/haslo"), "email": email})


def set_new_password(client, path, password=NEW_PASSWORD, repeat=None):
    token = csrf_token(client, "/konto/haslo")
    return client.post(path, data={"csrf_token": token, "password": password,
                                   "password2": repeat or password})


def reset_link(client, mailbox, email="jan@example.org") -> str:
    ask_for_reset(client, email)
    return link_in(mailbox.body(mailbox.last(email)), "/konto/haslo/")


def logged_in(client) -> bool:
    return client.get("/konto/ustawienia").status_code == 200


def test_the_answer_is_the_same_and_mail_goes_only_to_existing_accounts(client, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    known = ask_for_reset(client, "Jan@Example.org").get_data(as_text=True)
    unknown = ask_for_reset(client, "nikt@example.org").get_data(as_text=True)
    assert "Sprawdź skrzynkę e-mail" in known and "Sprawdź skrzynkę e-mail" in unknown
    assert known.replace("Jan@Example.org", "X") == unknown.replace("nikt@example.org", "X")
    assert [m["To"] for m in mailbox.messages()] == ["jan@example.org"]


def test_reset_sets_the_new_password_and_ends_every_session(client, app, mailbox):
    user = make_user("jan@example.org")
    db.session.commit()
    elsewhere = app.test_client()
    login(elsewhere, "jan@example.org", remember=True)
    assert logged_in(elsewhere)

    path = reset_link(client, mailbox)
    form = client.get(path)
    assert form.status_code == 200 and "Ustaw nowe hasło" in form.get_data(as_text=True)
    done = set_new_password(client, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/konto/logowanie")

    assert not logged_in(elsewhere)
    elsewhere.delete_cookie("session", domain="localhost")  # the remember-me cookie no longer works either
    assert not logged_in(elsewhere)
    assert "Nieprawidłowy" in login(client, "jan@example.org", PASSWORD).get_data(as_text=True)
    assert login(client, "jan@example.org", NEW_PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == 2


def test_a_used_link_does_not_work_again(client, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    path = reset_link(client, mailbox)
    set_new_password(client, path)
    again = client.get(path)
    assert again.status_code == 400 and "został już wykorzystany" in again.get_data(as_text=True)
    post_again = set_new_password(client, path, "Inne-Haslo-Na-Pozniej-9")
    assert post_again.status_code == 400
    assert login(client, "jan@example.org", NEW_PASSWORD).status_code == 302


def test_an_expired_link_is_refused(client, app):
    user = make_user("jan@example.org")
    db.session.commit()

    class IssuedLongAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - app.config["RESET_TOKEN_MAX_AGE"] - 5

    old = tokens.serializer("reset", signer=IssuedLongAgo).dumps(services.reset_claims(user))
    resp = client.get(f"/konto/haslo/{old}")
    assert resp.status_code == 400 and "Link wygasł" in resp.get_data(as_text=True)
    assert "Poproś o nowy link" in resp.get_data(as_text=True)
    fresh = tokens.serializer("reset").dumps(services.reset_claims(user))
    assert client.get(f"/konto/haslo/{fresh}").status_code == 200


def test_a_link_for_another_purpose_or_a_forged_one_is_refused(client):
    user = make_user("jan@example.org")
    db.session.commit()
    confirm = tokens.issue("confirm", services.reset_claims(user))
    assert client.get(f"/konto/haslo/{confirm}").status_code == 400
    other_key = tokens.URLSafeTimedSerializer("another-secret", salt=tokens.SALTS["reset"]).dumps(
        services.reset_claims(user))
    resp = client.get(f"/konto/haslo/{other_key}")
    assert resp.status_code == 400 and "Nieprawidłowy link" in resp.get_data(as_text=True)


def test_weak_new_password_is_refused_and_the_link_still_works(client, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    path = reset_link(client, mailbox)
    page = set_new_password(client, path, "krotkie1").get_data(as_text=True)
    assert "co najmniej 10 znaków" in page
    page = set_new_password(client, path, NEW_PASSWORD, "Cos-Innego-Calkiem-1").get_data(as_text=True)
    assert "Hasła nie są takie same" in page
    assert login(client, "jan@example.org", PASSWORD).status_code == 302
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("app_config", [{"MAIL_LIMIT": "2 per hour"}])
def test_reset_requests_are_rate_limited_per_address(client, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    codes = [ask_for_reset(client, "jan@example.org").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert "Odczekaj" in ask_for_reset(client, "nikt@example.org").get_data(as_text=True)
    assert len(mailbox.to("jan@example.org")) == 2


@pytest.mark.parametrize("app_config", [{"SERVER_NAME": None}])  # as in production: no fixed host name
def test_links_in_mail_use_the_portal_address_not_the_request_host(client, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    evil = {"Host": "evil.example"}
    html = client.get("/konto/haslo", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    resp = client.post("/konto/haslo", data={"csrf_token": token, "email": "jan@example.org"}, headers=evil)
    assert resp.status_code == 200 and "Sprawdź skrzynkę e-mail" in resp.get_data(as_text=True)
    body = mailbox.body(mailbox.last("jan@example.org"))
    assert "evil.example" not in body
    assert re.search(r"^http://localhost/konto/haslo/\S+$", body, re.MULTILINE)


def test_a_link_mailed_before_an_address_change_stops_working(client, mailbox):
    user = make_user("jan@example.org")
    db.session.commit()
    path = reset_link(client, mailbox)
    user.email = "nowy@example.org"  # the address changed after the link was mailed
    db.session.commit()
    resp = client.get(path)
    assert resp.status_code == 400 and "został już wykorzystany" in resp.get_data(as_text=True)
    assert set_new_password(client, path).status_code == 400
    assert login(client, "nowy@example.org", PASSWORD).status_code == 302


def test_the_owner_is_told_after_a_reset(client, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    set_new_password(client, reset_link(client, mailbox))
    notice = mailbox.last("jan@example.org")
    assert notice["Subject"] == "Hasło do konta zostało zmienione"
    body = mailbox.body(notice)
    assert "zostało zmienione" in body and "http://localhost/konto/haslo" in body
    assert len(mailbox.to("jan@example.org")) == 2  # the link, then the notice
