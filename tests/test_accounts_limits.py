"""Limits on the forms that send mail: per client address, and per recipient whatever the client."""
import pytest
from sqlalchemy import func, select

from accounts.models import User
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import PASSWORD, login, make_user
from tests.test_accounts_support import fresh_client

NEW_PASSWORD = "Zielona-Lampa-nad-Wisla"
PER_RECIPIENT = {"MAIL_LIMIT": "100 per hour", "MAIL_LIMIT_PER_RECIPIENT": "2 per hour"}


@pytest.fixture
def client(app):
    return fresh_client(app)


def from_address(app, address: str):
    """A visitor on another machine (its own cookies and client address)."""
    c = fresh_client(app)
    c.environ_base["REMOTE_ADDR"] = address
    return c


def ask_for_reset(client, email):
    return client.post("/konto/haslo", data={"csrf_token": csrf_token(client, "/konto/haslo"), "email": email})


def signup(client, email, password=NEW_PASSWORD):
    return client.post("/konto/rejestracja", data={
        "csrf_token": csrf_token(client, "/konto/rejestracja"), "email": email, "name": "Ewa Nowak",
        "password": password, "password2": password, "account_type": "buyer", "consent": "y"})


@pytest.mark.parametrize("app_config", [{"MAIL_LIMIT": "2 per hour"}])
def test_every_signup_post_counts_towards_the_limit(client, mailbox):
    assert signup(client, "ewa@example.org", "krotkie").status_code == 200
    assert signup(client, "ewa@example.org", "krotkie").status_code == 200
    blocked = signup(client, "ewa@example.org")
    assert blocked.status_code == 429 and "Odczekaj" in blocked.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0 and mailbox.messages() == []


@pytest.mark.parametrize("app_config", [PER_RECIPIENT])
def test_reset_mail_to_one_address_is_limited_from_any_machine(app, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    codes = [ask_for_reset(from_address(app, f"192.0.2.{n}"), "jan@example.org").status_code for n in (1, 2, 3)]
    assert codes == [200, 200, 429]
    assert ask_for_reset(from_address(app, "192.0.2.4"), " JAN@Example.org").status_code == 429
    assert len(mailbox.to("jan@example.org")) == 2
    assert ask_for_reset(from_address(app, "192.0.2.5"), "ewa@example.org").status_code == 200


@pytest.mark.parametrize("app_config", [PER_RECIPIENT])
def test_the_limit_is_the_same_for_addresses_without_an_account(app, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    known = [ask_for_reset(from_address(app, f"192.0.2.{n}"), "jan@example.org").status_code for n in (1, 2, 3)]
    unknown = [ask_for_reset(from_address(app, f"198.51.100.{n}"), "nikt@example.org").status_code
               for n in (1, 2, 3)]
    assert known == unknown == [200, 200, 429]


@pytest.mark.parametrize("app_config", [PER_RECIPIENT])
def test_the_limit_per_recipient_is_shared_by_signup_and_reset(app, mailbox):
    make_user("jan@example.org")
    db.session.commit()
    assert signup(from_address(app, "192.0.2.1"), "jan@example.org").status_code == 302
    assert signup(from_address(app, "192.0.2.2"), "Jan@example.org").status_code == 302
    assert ask_for_reset(from_address(app, "192.0.2.3"), "jan@example.org").status_code == 429
    assert len(mailbox.to("jan@example.org")) == 2  # the two notices of the attempted sign-ups


@pytest.mark.parametrize("app_config", [{"MAIL_LIMIT": "100 per hour", "MAIL_LIMIT_PER_RECIPIENT": "1 per hour"}])
def test_email_change_links_to_one_address_are_limited_across_accounts(app, mailbox):
    make_user("jan@example.org")
    make_user("ewa@example.org")
    db.session.commit()
    codes = []
    for n, email in enumerate(("jan@example.org", "ewa@example.org")):
        c = from_address(app, f"192.0.2.{n + 1}")
        login(c, email)
        codes.append(c.post("/konto/ustawienia/email", data={
            "csrf_token": csrf_token(c, "/konto/ustawienia"), "em-new_email": "ofiara@example.org",
            "em-password": PASSWORD}).status_code)
    assert codes == [302, 429]
    assert len(mailbox.to("ofiara@example.org")) == 1


@pytest.mark.parametrize("app_config", [PER_RECIPIENT])
def test_confirmation_links_to_one_account_are_limited_across_sessions(app, mailbox):
    make_user("ola@example.org", confirmed=False)
    db.session.commit()
    codes = []
    for n in (1, 2, 3):
        c = from_address(app, f"192.0.2.{n}")
        login(c, "ola@example.org")
        codes.append(c.post("/konto/potwierdzenie/wyslij",
                            data={"csrf_token": csrf_token(c, "/konto/ustawienia")}).status_code)
    assert codes == [302, 302, 429]
    assert len(mailbox.to("ola@example.org")) == 2
