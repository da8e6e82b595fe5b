"""Public purchasers: knowing an institution's NIP unlocks nothing; staff confirm each person first."""
import pytest
from sqlalchemy import func, select

from accounts.decorators import verified_purchaser_required
from accounts.models import Institution, User
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import login, make_institution, make_user
from tests.test_accounts_support import fresh_client, link_in

NEW_PASSWORD = "Zielona-Lampa-nad-Wisla"
TOOL = "/t/narzedzia-zamawiajacego"


@pytest.fixture
def app_with_tool(app):
    """A purchasers' page behind the decorator, added to this test's app before its first request."""
    app.add_url_rule(TOOL, "t_purchaser_tool", verified_purchaser_required(lambda: "purchaser tools"))
    return app


@pytest.fixture
def client(app_with_tool):
    return fresh_client(app_with_tool)


def signup_as_purchaser(client, email="urzednik@example.org", nip="879-017-68-02"):
    return client.post("/konto/rejestracja", data={
        "csrf_token": csrf_token(client, "/konto/rejestracja"), "email": email, "name": "Ewa Nowak",
        "password": NEW_PASSWORD, "password2": NEW_PASSWORD, "account_type": "purchaser",
        "institution_name": "Urząd Gminy Lubicz", "institution_nip": nip, "institution_kind": "gmina",
        "consent": "y"})


def test_joining_a_verified_institution_by_its_nip_leaves_the_person_pending(client, mailbox):
    inst = make_institution(name="Gmina Lubicz", nip="8790176802", status="verified")
    db.session.commit()
    signup_as_purchaser(client)
    client.get(link_in(mailbox.body(mailbox.last("urzednik@example.org")), "/konto/potwierdz/"))
    user = db.session.scalar(select(User))
    assert user.institution_id == inst.id and user.is_confirmed
    assert db.session.scalar(select(func.count()).select_from(Institution)) == 1
    assert user.institution_status == "pending" and not user.is_verified_purchaser

    login(client, "urzednik@example.org", NEW_PASSWORD)
    page = client.get("/konto/ustawienia").get_data(as_text=True)
    assert "zweryfikowany" in page  # the institution's own status
    assert "czeka na potwierdzenie przez ośrodek regionalny" in page  # and the person's
    assert "narzędzia dla zamawiających są niedostępne" in page
    locked = client.get(TOOL)
    assert locked.status_code == 403
    assert "czeka na potwierdzenie przez ośrodek regionalny" in locked.get_data(as_text=True)


def test_purchaser_tools_open_only_for_a_confirmed_person_of_a_verified_institution(app_with_tool):
    verified, pending = make_institution(nip="8790176802"), make_institution(nip="9542751228", status="pending")
    make_user("ok@example.org", role="purchaser", institution=verified, institution_status="verified")
    make_user("czeka@example.org", role="purchaser", institution=verified, institution_status="pending")
    make_user("odrzucony@example.org", role="purchaser", institution=verified, institution_status="rejected")
    make_user("inst@example.org", role="purchaser", institution=pending, institution_status="verified")
    make_user("niepotw@example.org", role="purchaser", institution=verified, institution_status="verified",
              confirmed=False)
    make_user("kupujacy@example.org")
    make_user("admin@example.org", role="admin")
    db.session.commit()

    def visit(email):
        c = fresh_client(app_with_tool)
        login(c, email)
        resp = c.get(TOOL)
        return resp.status_code, resp.get_data(as_text=True)

    assert visit("ok@example.org") == (200, "purchaser tools")
    for email, reason in [("czeka@example.org", "czeka na potwierdzenie przez ośrodek regionalny"),
                          ("inst@example.org", "czeka na potwierdzenie przez ośrodek regionalny"),
                          ("odrzucony@example.org", "nie potwierdził, że działasz w imieniu instytucji"),
                          ("niepotw@example.org", "Najpierw potwierdź swój adres e-mail"),
                          ("kupujacy@example.org", "przeznaczona dla zamawiających publicznych"),
                          ("admin@example.org", "przeznaczona dla zamawiających publicznych")]:
        code, page = visit(email)
        assert code == 403 and "Brak dostępu" in page and reason in page, email
    anonymous = fresh_client(app_with_tool).get(TOOL)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/konto/logowanie?next=")


def test_settings_show_the_person_confirmed_or_rejected(client):
    inst = make_institution(name="Powiat Toruński", nip="8790176802", kind="powiat")
    make_user("ok@example.org", role="purchaser", institution=inst, institution_status="verified")
    make_user("nie@example.org", role="purchaser", institution=inst, institution_status="rejected")
    db.session.commit()
    login(client, "ok@example.org")
    page = client.get("/konto/ustawienia").get_data(as_text=True)
    assert "Powiat Toruński" in page and "potwierdzone" in page and "czeka na potwierdzenie" not in page
    assert client.get(TOOL).status_code == 200
    other = fresh_client(client.application)
    login(other, "nie@example.org")
    page = other.get("/konto/ustawienia").get_data(as_text=True)
    assert "odrzucone" in page and "nie potwierdził, że działasz w imieniu tej instytucji" in page
