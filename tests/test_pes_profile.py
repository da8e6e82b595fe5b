"""Creating and editing a PES profile: the data, its checks, who may change it, and resubmission."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.pes.models import Pes, PesMembership
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.test_pes_support import CHECKED_DATA, all_pes, profile_form, sign_in, verified_pes

NEW = "/panel/pes/nowy"


def _post_new(client, **overrides):
    data = profile_form(**overrides)
    data["csrf_token"] = csrf_token(client, NEW)
    return client.post(NEW, data=data, follow_redirects=True)


def test_create_makes_the_author_owner_of_a_pending_profile(client):
    user = make_user("ania@example.org")
    db.session.commit()
    sign_in(client, user)

    resp = _post_new(client)

    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "czeka na weryfikację przez moderatora" in page
    [pes] = all_pes()
    assert (pes.name, pes.status, pes.ref) == ("Spółdzielnia Socjalna Przystań", "pending", f"pes-{pes.id}")
    assert (pes.nip, pes.krs, pes.postal_code, pes.website) == (
        "5260250274", "0000123456", "87-100", "https://przystan.example.org")
    assert pes.service_area == ["0415", "0463"]
    assert pes.reserved_eligible and pes.social_enterprise_status
    membership = db.session.scalar(select(PesMembership))
    assert (membership.user_id, membership.role) == (user.id, "owner")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pes.create"))
    assert entry.actor_id == user.id and entry.object_id == pes.id and entry.after["nip"] == "5260250274"
    # Not public yet: the directory does not list it, but the owner sees it in the panel.
    assert "Przystań" not in client.get("/pes").get_data(as_text=True)
    assert "Przystań" in client.get("/panel/pes").get_data(as_text=True)


def test_form_suggests_the_integration_mission_of_the_first_legal_form(client):
    sign_in(client, make_user())
    db.session.commit()
    page = client.get(NEW).get_data(as_text=True)
    assert re.search(r'<input[^>]*\bchecked\b[^>]*id="integration_mission"', page)


def test_service_area_defaults_to_the_seat_powiat(client):
    sign_in(client, make_user())
    db.session.commit()
    _post_new(client, service_area=None, powiat="0402")
    [pes] = all_pes()
    assert pes.service_area == ["0402"]


@pytest.mark.parametrize("field, value, message", [
    ("nip", "5260250275", "NIP ma błędną cyfrę kontrolną"),
    ("regon", "123456786", "REGON ma błędną cyfrę kontrolną"),
    ("krs", "KRS-12a", "Numer KRS może zawierać tylko cyfry."),
    ("krs", "12345678901", "Numer KRS ma 10 cyfr"),
    ("disadvantaged_share", "130", "Podaj liczbę od 0 do 100."),
])
def test_invalid_identifier_is_explained_next_to_its_field(client, field, value, message):
    sign_in(client, make_user())
    db.session.commit()
    resp = _post_new(client, **{field: value})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    error = page.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert f'aria-describedby="{field}-hint {field}-error"' in page or f'aria-describedby="{field}-error"' in page
    assert all_pes() == [] and db.session.scalar(select(PesMembership)) is None


def test_missing_name_and_powiat_are_required(client):
    sign_in(client, make_user())
    db.session.commit()
    page = _post_new(client, name="", powiat="").get_data(as_text=True)
    assert 'id="name-error"' in page and 'id="powiat-error"' in page
    assert all_pes() == []


def test_create_without_csrf_token_is_refused(client):
    sign_in(client, make_user())
    db.session.commit()
    resp = client.post(NEW, data=profile_form())
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    assert all_pes() == []


def test_anonymous_visitor_is_sent_to_login(client):
    resp = client.get(NEW)
    assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"]


def test_editor_edit_of_contacts_and_description_keeps_the_profile_verified(client):
    owner, editor = make_user(), make_user()
    pes = verified_pes(owner=owner, email="stary@example.org",
                       data_confirmed_at=datetime.now(UTC) - timedelta(days=400))
    db.session.add(PesMembership(pes=pes, user=editor, role="editor"))
    db.session.commit()
    sign_in(client, editor)

    path = f"/panel/pes/{pes.id}/edytuj"
    form_page = client.get(path).get_data(as_text=True)
    assert 'value="stary@example.org"' in form_page
    data = profile_form(email="nowy@example.org", phone="+48 52 111 22 33", description="Nowy opis.",
                        mission="Nowa misja.", street="ul. Długa 5", service_area=["0463", "0402"],
                        csrf_token=csrf_token(client, path))
    resp = client.post(path, data=data, follow_redirects=True)

    page = resp.get_data(as_text=True)
    assert "Zmiany zostały zapisane." in page and "wrócił do weryfikacji" not in page
    db.session.expire_all()
    assert (pes.email, pes.description, pes.status) == ("nowy@example.org", "Nowy opis.", "verified")
    assert pes.service_area == ["0402", "0463"]
    assert not pes.data_is_stale(days=365)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pes.resubmit")) is None
    assert "nowy@example.org" in client.get(f"/pes/{pes.id}").get_data(as_text=True)
    assert pes.name in client.get("/pes").get_data(as_text=True)


@pytest.mark.parametrize("field, posted, stored", [
    ("name", "Przystań Nowa", "Przystań Nowa"),
    ("legal_form", "fundacja", "fundacja"),
    ("nip", "725-180-11-26", "7251801126"),
    ("krs", "0000654321", "0000654321"),
    ("regon", "732065814", "732065814"),
    ("disadvantaged_share", "20", 20),
    ("integration_mission", None, False),
    ("social_enterprise_status", None, False),
])
def test_changing_checked_data_sends_a_verified_profile_back_to_review(app, client, field, posted, stored):
    owner = make_user()
    pes = verified_pes(owner=owner)
    db.session.commit()
    sign_in(client, owner)
    path = f"/panel/pes/{pes.id}/edytuj"
    form_page = client.get(path).get_data(as_text=True)
    # The warning stands above the checked fields, before anything is saved.
    warning = form_page.index("po zapisaniu profil wróci do weryfikacji")
    assert warning < form_page.index('id="name"') and warning < form_page.index('id="disadvantaged_share"')

    data = profile_form(csrf_token=csrf_token(client, path), **{field: posted})
    page = client.post(path, data=data, follow_redirects=True).get_data(as_text=True)

    assert "profil wrócił do weryfikacji" in page and "nie jest widoczny publicznie" in page
    db.session.expire_all()
    assert (getattr(pes, field), pes.status) == (stored, "pending")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pes.resubmit"))
    assert entry.actor_id == owner.id
    assert entry.before == {field: CHECKED_DATA[field], "status": "verified"}
    assert entry.after == {field: stored, "status": "pending"}
    guest = app.test_client()
    assert guest.get(f"/pes/{pes.id}").status_code == 404
    assert pes.name not in guest.get("/pes").get_data(as_text=True)


def test_pending_profile_edit_stays_in_the_queue_without_a_warning(client):
    owner = make_user()
    pes = make_pes(owner=owner, status="pending", name="Czekający")
    db.session.commit()
    sign_in(client, owner)
    path = f"/panel/pes/{pes.id}/edytuj"
    assert "wróci do weryfikacji" not in client.get(path).get_data(as_text=True)
    page = client.post(path, data=profile_form(name="Czekający 2", csrf_token=csrf_token(client, path)),
                       follow_redirects=True).get_data(as_text=True)
    assert "Zmiany zostały zapisane." in page
    db.session.expire_all()
    assert (pes.name, pes.status) == ("Czekający 2", "pending")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pes.update")).after["name"] == "Czekający 2"


def test_member_of_another_pes_cannot_edit_it(client):
    mine, theirs = make_user(), make_user()
    my_pes = make_pes(owner=mine)
    other = make_pes(owner=theirs, name="Cudzy PES")
    db.session.commit()
    sign_in(client, mine)
    token = csrf_token(client, f"/panel/pes/{my_pes.id}/edytuj")

    assert client.get(f"/panel/pes/{other.id}/edytuj").status_code == 403
    resp = client.post(f"/panel/pes/{other.id}/edytuj", data=profile_form(name="Przejęty", csrf_token=token))
    assert resp.status_code == 403
    assert client.get("/panel/pes/999999/edytuj").status_code == 404
    db.session.expire_all()
    assert other.name == "Cudzy PES"


def test_anonymous_edit_goes_to_login_and_changes_nothing(client):
    pes = make_pes(owner=make_user(), name="Bez zmian")
    db.session.commit()
    path = f"/panel/pes/{pes.id}/edytuj"
    assert client.post(path, data=profile_form(name="Zmienione")).status_code == 400  # no token
    token = csrf_token(client, "/konto/logowanie")
    resp = client.post(path, data=profile_form(name="Zmienione", csrf_token=token))
    assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"]
    db.session.expire_all()
    assert pes.name == "Bez zmian"
    assert "/konto/logowanie" in client.get(f"/panel/pes/{pes.id}/edytuj").headers["Location"]


def test_rejected_profile_is_resubmitted_after_correction(client):
    owner = make_user()
    pes = make_pes(owner=owner, status="rejected", status_reason="Błędny NIP.")
    db.session.commit()
    sign_in(client, owner)
    panel = client.get("/panel/pes").get_data(as_text=True)
    assert "Błędny NIP." in panel

    path = f"/panel/pes/{pes.id}/edytuj"
    resp = client.post(path, data=profile_form(csrf_token=csrf_token(client, path)), follow_redirects=True)

    assert "ponownie zgłoszony do weryfikacji" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert (pes.status, pes.status_reason) == ("pending", None)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pes.resubmit")) is not None


def test_generated_ref_does_not_clash_with_an_imported_one(client):
    user = make_user()
    make_pes(ref="pes-2", name="Zaimportowany")
    db.session.commit()
    sign_in(client, user)
    _post_new(client, name="Nowy")
    new = db.session.scalar(select(Pes).where(Pes.name == "Nowy"))
    assert new.ref.startswith(f"pes-{new.id}") and new.ref != "pes-2"
    assert len({p.ref for p in all_pes()}) == 2


def test_unconfirmed_account_cannot_create_edit_or_confirm(client):
    user = make_user(confirmed=False)
    pes = make_pes(owner=user, name="Bez potwierdzenia",
                   data_confirmed_at=datetime.now(UTC) - timedelta(days=400))
    db.session.commit()
    sign_in(client, user)
    token = csrf_token(client, "/konto/sprawdz-poczte")
    edit = f"/panel/pes/{pes.id}/edytuj"

    assert "najpierw potwierdź swój adres e-mail" in client.get("/panel/pes").get_data(as_text=True)
    page = client.get(NEW, follow_redirects=True).get_data(as_text=True)
    assert "Najpierw potwierdź swój adres e-mail" in page
    refused = [client.get(edit),
               client.post(NEW, data=profile_form(name="Nowy", csrf_token=token)),
               client.post(edit, data=profile_form(name="Zmieniony", csrf_token=token)),
               client.post(f"/panel/pes/{pes.id}/potwierdz", data={"csrf_token": token})]
    for resp in refused:
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/konto/sprawdz-poczte")
    db.session.expire_all()
    assert [p.name for p in all_pes()] == ["Bez potwierdzenia"]
    assert pes.data_is_stale(days=365)
