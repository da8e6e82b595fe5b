"""`flask create-user` and the access decorators that later features stack on their views."""
import pytest
from sqlalchemy import func, select

from accounts.cli import create_user_command
from accounts.decorators import confirmed_required, role_required, staff_required
from accounts.models import User
from marketplace.extensions import db
from tests.factories import PASSWORD, login, make_user
from tests.test_accounts_support import fresh_client


@pytest.fixture
def client(app):
    return fresh_client(app)


@pytest.fixture
def cli(app, runner):
    if "create-user" not in app.cli.commands:
        app.cli.add_command(create_user_command)
    return runner


def count(email: str) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == email))


def test_create_user_with_password_on_stdin(cli, client):
    result = cli.invoke(args=["create-user", "Admin@Example.org", "--role", "admin", "--password-stdin",
                              "--name", "Alicja Admin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "admin@example.org" in result.output and "admin" in result.output
    user = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    assert (user.role, user.name, user.is_confirmed) == ("admin", "Alicja Admin", True)
    assert login(client, "admin@example.org").status_code == 302


def test_create_user_prompts_for_the_password_twice(cli):
    result = cli.invoke(args=["create-user", "mod@example.org", "--role", "moderator"],
                        input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert count("mod@example.org") == 1


def test_create_user_refuses_a_duplicate(cli):
    make_user("mod@example.org")
    db.session.commit()
    result = cli.invoke(args=["create-user", "MOD@example.org", "--role", "admin", "--password-stdin"],
                        input=PASSWORD + "\n")
    assert result.exit_code == 1 and "już istnieje" in result.output
    assert count("mod@example.org") == 1
    assert db.session.scalar(select(User.role).where(User.email == "mod@example.org")) == "buyer"


def test_create_user_refuses_unknown_role_bad_address_and_weak_password(cli):
    result = cli.invoke(args=["create-user", "x@example.org", "--role", "superuser", "--password-stdin"],
                        input=PASSWORD + "\n")
    assert result.exit_code == 1 and "Nieznana rola: superuser" in result.output and "moderator" in result.output
    result = cli.invoke(args=["create-user", "nie-adres", "--role", "admin", "--password-stdin"],
                        input=PASSWORD + "\n")
    assert result.exit_code == 1 and "Podaj poprawny adres e-mail" in result.output
    result = cli.invoke(args=["create-user", "x@example.org", "--role", "admin", "--password-stdin"],
                        input="krotkie\n")
    assert result.exit_code == 1 and "co najmniej 10 znaków" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.fixture
def guarded(app):
    """Three pages behind the decorators, added to this test's app before its first request."""
    app.add_url_rule("/t/admin", "t_admin", role_required("admin")(lambda: "admin page"))
    app.add_url_rule("/t/staff", "t_staff", staff_required(lambda: "staff page"))
    app.add_url_rule("/t/confirmed", "t_confirmed", confirmed_required(lambda: "confirmed page"))
    return app


def test_role_required_sends_anonymous_to_login_and_refuses_other_roles(guarded, client):
    make_user("kupujacy@example.org")
    make_user("admin@example.org", role="admin")
    db.session.commit()
    resp = client.get("/t/admin")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/konto/logowanie?next=")
    login(client, "kupujacy@example.org")
    denied = client.get("/t/admin")
    assert denied.status_code == 403 and "Brak dostępu" in denied.get_data(as_text=True)
    other = guarded.test_client()
    login(other, "admin@example.org")
    assert other.get("/t/admin").get_data(as_text=True) == "admin page"


def test_staff_required_lets_moderators_and_admins_in(guarded, client):
    make_user("mod@example.org", role="moderator")
    make_user("zam@example.org", role="purchaser")
    db.session.commit()
    login(client, "mod@example.org")
    assert client.get("/t/staff").status_code == 200
    other = guarded.test_client()
    login(other, "zam@example.org")
    assert other.get("/t/staff").status_code == 403


def test_confirmed_required_sends_unconfirmed_users_to_confirm(guarded, client):
    make_user("nowy@example.org", confirmed=False)
    make_user("stary@example.org")
    db.session.commit()
    login(client, "nowy@example.org")
    resp = client.get("/t/confirmed", follow_redirects=True)
    assert "Najpierw potwierdź swój adres e-mail" in resp.get_data(as_text=True)
    other = guarded.test_client()
    login(other, "stary@example.org")
    assert other.get("/t/confirmed").get_data(as_text=True) == "confirmed page"


def test_role_required_rejects_unknown_roles_when_the_view_is_declared():
    with pytest.raises(ValueError):
        role_required("superadmin")
