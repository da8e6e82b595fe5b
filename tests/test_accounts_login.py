"""Login, remember-me, logout, cookie flags and the limits on guessing passwords."""
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from accounts.models import User
from accounts.passwords import verify_password
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import PASSWORD, login, make_user
from tests.test_accounts_support import fresh_client

TOO_MANY = "zbyt wiele nieudanych prób logowania"


@pytest.fixture
def client(app):
    return fresh_client(app)


def logged_in(client) -> bool:
    return client.get("/konto/ustawienia").status_code == 200


def set_cookie(resp, name: str) -> str:
    found = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert found, resp.headers.getlist("Set-Cookie")
    return found[-1]


def attempt(client, email, password, address="192.0.2.1"):
    """A login from a given client address (documentation range), with a fresh CSRF token."""
    client.environ_base["REMOTE_ADDR"] = address
    return login(client, email, password)


def test_login_signs_in_records_the_time_and_sets_safe_session_cookie(client):
    user = make_user("jan@example.org")
    db.session.commit()
    resp = login(client, "JAN@example.org ")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = set_cookie(resp, "session").lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert logged_in(client)
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True}])
def test_cookies_are_secure_when_the_site_runs_on_https(client):
    make_user("jan@example.org")
    db.session.commit()
    resp = login(client, "jan@example.org", remember=True)
    for name in ("session", "remember_token"):
        cookie = set_cookie(resp, name).lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_unknown_email_and_wrong_password_get_the_same_message(client):
    make_user("jan@example.org")
    db.session.commit()
    wrong = login(client, "jan@example.org", "Zle-Haslo-123456").get_data(as_text=True)
    unknown = login(client, "nikt@example.org", PASSWORD).get_data(as_text=True)
    assert "Nieprawidłowy adres e-mail lub hasło." in wrong
    assert "Nieprawidłowy adres e-mail lub hasło." in unknown
    assert "nikt@example.org" in unknown  # the address stays filled in
    assert not logged_in(client)


def test_remember_me_sets_a_long_lived_cookie_only_when_asked(client, app):
    make_user("jan@example.org")
    db.session.commit()
    plain = login(client, "jan@example.org")
    assert not [h for h in plain.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    other = app.test_client()
    remembered = login(other, "jan@example.org", remember=True)
    cookie = set_cookie(remembered, "remember_token").lower()
    assert "expires=" in cookie and "httponly" in cookie


def test_remember_cookie_alone_keeps_the_user_signed_in(client, app):
    make_user("jan@example.org")
    db.session.commit()
    login(client, "jan@example.org", remember=True)
    client.delete_cookie("session", domain="localhost")
    assert logged_in(client)


def test_next_is_followed_only_within_the_site(client):
    make_user("jan@example.org")
    db.session.commit()
    resp = client.get("/konto/ustawienia")
    assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"]
    token = csrf_token(client, "/konto/logowanie?next=/konto/ustawienia")
    form = {"csrf_token": token, "email": "jan@example.org", "password": PASSWORD}
    ok = client.post("/konto/logowanie?next=/konto/ustawienia", data=form)
    assert ok.headers["Location"] == "/konto/ustawienia"
    client.post("/konto/wyloguj", data={"csrf_token": csrf_token(client, "/konto/ustawienia")})
    for evil in ("https://evil.example/", "//evil.example/x"):
        resp = client.post("/konto/logowanie", query_string={"next": evil}, data=form)
        assert resp.headers["Location"] == "/"
        client.post("/konto/wyloguj", data={"csrf_token": csrf_token(client, "/konto/ustawienia")})


def test_logout_needs_post_with_csrf(client):
    make_user("jan@example.org")
    db.session.commit()
    login(client, "jan@example.org")
    assert client.get("/konto/wyloguj").status_code == 405
    assert client.post("/konto/wyloguj").status_code == 400
    assert logged_in(client)
    resp = client.post("/konto/wyloguj", data={"csrf_token": csrf_token(client, "/konto/ustawienia")},
                       follow_redirects=True)
    assert "Wylogowano" in resp.get_data(as_text=True)
    assert not logged_in(client)


def test_old_password_hash_is_upgraded_at_login(client):
    old_hash = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    user = make_user("jan@example.org")
    user.password_hash = old_hash
    db.session.commit()
    assert login(client, "jan@example.org").status_code == 302
    db.session.expire_all()
    new_hash = db.session.get(User, user.id).password_hash
    assert new_hash != old_hash and verify_password(new_hash, PASSWORD)


@pytest.mark.parametrize("app_config", [{"LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
                                         "LOGIN_LIMIT_PER_ADDRESS": "100 per minute"}])
def test_failed_logins_are_limited_per_account_from_any_address(client):
    make_user("jan@example.org")
    make_user("ewa@example.org")
    db.session.commit()
    for n in range(3):
        assert attempt(client, "jan@example.org", "Zle-Haslo-123456", f"192.0.2.{n + 1}").status_code == 200
    blocked = attempt(client, "Jan@Example.org", PASSWORD, "198.51.100.7")
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert TOO_MANY in page.lower() and "Odczekaj" in page
    assert "Zbyt wiele prób" in page and "Możesz spróbować ponownie za 1 min." in page
    assert int(blocked.headers["Retry-After"]) <= 60
    assert client.get("/konto/logowanie").status_code == 200  # the page itself is not limited
    assert attempt(client, "ewa@example.org", PASSWORD, "198.51.100.7").status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_LIMIT_PER_ACCOUNT": "100 per minute",
                                         "LOGIN_LIMIT_PER_ADDRESS": "3 per minute"}])
def test_failed_logins_are_limited_per_address_across_accounts(client, app):
    make_user("jan@example.org")
    db.session.commit()
    for n in range(3):
        assert attempt(client, f"nikt{n}@example.org", PASSWORD, "203.0.113.5").status_code == 200
    blocked = attempt(client, "jan@example.org", PASSWORD, "203.0.113.5")
    assert blocked.status_code == 429 and TOO_MANY in blocked.get_data(as_text=True).lower()
    other = app.test_client()
    assert attempt(other, "jan@example.org", PASSWORD, "203.0.113.99").status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_LIMIT_PER_ACCOUNT": "2 per minute",
                                         "LOGIN_LIMIT_PER_ADDRESS": "2 per minute"}])
def test_successful_logins_do_not_count_towards_the_limit(client):
    make_user("jan@example.org")
    db.session.commit()
    for _ in range(4):
        assert login(client, "jan@example.org").status_code == 302
        client.post("/konto/wyloguj", data={"csrf_token": csrf_token(client, "/konto/ustawienia")})


def test_unconfirmed_account_is_told_to_confirm_at_login(client):
    make_user("jan@example.org", confirmed=False)
    db.session.commit()
    page = client.get(login(client, "jan@example.org").headers["Location"]).get_data(as_text=True)
    assert "nie jest jeszcze potwierdzony" in page


def test_signed_in_user_visiting_login_goes_on(client):
    make_user("jan@example.org")
    db.session.commit()
    login(client, "jan@example.org")
    assert client.get("/konto/logowanie").status_code == 302
    assert db.session.scalar(select(User).where(User.email == "jan@example.org")) is not None
