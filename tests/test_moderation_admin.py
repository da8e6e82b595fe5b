"""The moderation panel for administrators: account roles and the audit log."""
import re

from accounts.models import User
from marketplace.audit import record
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.test_moderation import _act, _entries, setup, sign_in  # noqa: F401


def _role(client, user, role, **query):
    token = csrf_token(client, "/moderacja/uzytkownicy")
    return client.post(f"/moderacja/uzytkownicy/{user.id}/rola", query_string=query,
                       data={f"u{user.id}-csrf_token": token, f"u{user.id}-role": role},
                       follow_redirects=True)


def _status(model, obj_id):
    db.session.expire_all()
    return db.session.get(model, obj_id)


def test_admin_changes_a_role_and_it_is_logged(client, setup):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    sign_in(client, admin)
    resp = _role(client, setup["owner"], "moderator")
    assert "ma teraz rolę: moderator" in resp.get_data(as_text=True)
    assert _status(User, setup["owner"].id).role == "moderator"
    [entry] = _entries("user.role")
    assert entry.before == {"role": "buyer"} and entry.after == {"role": "moderator"}
    assert entry.actor_id == admin.id


def test_unknown_role_is_refused(client, setup):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    sign_in(client, admin)
    owner = setup["owner"]
    resp = _role(client, owner, "superuser", q="example")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Wybierz jedną z ról z listy." in html
    assert f'<a href="#u{owner.id}-role">Rola konta {owner.email}: Wybierz jedną z ról z listy.</a>' in html
    [select] = re.findall(f'<select[^>]*id="u{owner.id}-role"[^>]*>', html)
    assert 'aria-invalid="true"' in select
    assert _status(User, owner.id).role == "buyer" and _entries() == []


def test_every_role_has_a_name_in_words(client, setup):
    from accounts.models import ROLES
    from marketplace.moderation.forms import ROLE_LABELS, role_label

    assert set(ROLES) <= set(ROLE_LABELS)
    with client.application.test_request_context():
        names = [role_label(code) for code in ROLES]
    assert "członek Kapituły" in names and len(set(names)) == len(ROLES)


def test_admin_cannot_demote_themself(client, setup):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    sign_in(client, admin)
    resp = _role(client, admin, "moderator")
    assert "Nie możesz odebrać sobie roli administratora" in resp.get_data(as_text=True)
    assert _status(User, admin.id).role == "admin" and _entries() == []


def test_moderator_cannot_change_roles(client, setup):
    sign_in(client, setup["moderator"])
    token = csrf_token(client, "/moderacja/")
    owner = setup["owner"]
    resp = client.post(f"/moderacja/uzytkownicy/{owner.id}/rola",
                       data={f"u{owner.id}-csrf_token": token, f"u{owner.id}-role": "admin"})
    assert resp.status_code == 403
    resp = client.post(f"/moderacja/uzytkownicy/{setup['moderator'].id}/rola",
                       data={f"u{setup['moderator'].id}-csrf_token": token,
                             f"u{setup['moderator'].id}-role": "admin"})
    assert resp.status_code == 403
    assert _status(User, owner.id).role == "buyer"
    assert _status(User, setup["moderator"].id).role == "moderator"


def test_users_are_searched_by_email_and_paginated(client, setup):
    admin = make_user("admin@example.org", role="admin")
    for n in range(25):
        make_user(f"osoba{n:02d}@gmina.example.org")
    db.session.commit()
    sign_in(client, admin)
    html = client.get("/moderacja/uzytkownicy?q=OBROWO").get_data(as_text=True)
    assert "urzednik@obrowo.example.org" in html and "wlasciciel@example.org" not in html
    first = client.get("/moderacja/uzytkownicy?q=gmina").get_data(as_text=True)
    second = client.get("/moderacja/uzytkownicy?q=gmina&page=2").get_data(as_text=True)
    assert "osoba19@gmina.example.org" in first and "osoba20@gmina.example.org" not in first
    assert "osoba20@gmina.example.org" in second
    assert "Nie znaleziono kont" in client.get("/moderacja/uzytkownicy?q=nikt").get_data(as_text=True)
    assert client.get("/moderacja/uzytkownicy?page=999999999999").status_code == 200


def test_each_role_button_names_its_account(client, setup):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    sign_in(client, admin)
    html = client.get("/moderacja/uzytkownicy").get_data(as_text=True)
    for user in (admin, setup["owner"], setup["clerk"]):
        assert f'Zmień rolę<span class="visually-hidden"> – {user.email}</span>' in html
        assert f'<label for="u{user.id}-role">Rola konta {user.email}</label>' in html


def test_audit_log_lists_entries_in_words_newest_first(client, setup):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    moderator = client.application.test_client()
    sign_in(moderator, setup["moderator"])
    _act(moderator, setup["pes"], "odrzuc", reason="Brak wpisu w KRS.")
    sign_in(client, admin)
    _role(client, setup["owner"], "moderator")
    html = client.get("/moderacja/dziennik").get_data(as_text=True)
    rows = html[html.index("<tbody>"):]
    assert rows.index("zmiana roli konta") < rows.index("odrzucenie zgłoszenia PES")
    for text in ("moderator@example.org", "admin@example.org", "Brak wpisu w KRS.",
                 "status: czeka na weryfikację → odrzucony", "rola: kupujący → moderator",
                 f'href="/moderacja/pes/{setup["pes"].id}"', "Spółdzielnia Socjalna Przystań"):
        assert text in html


def test_audit_log_filters_by_action_and_actor(client, setup):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    moderator = client.application.test_client()
    sign_in(moderator, setup["moderator"])
    _act(moderator, setup["pes"], "odrzuc", reason="Brak wpisu w KRS.")
    sign_in(client, admin)
    _role(client, setup["owner"], "moderator")
    html = client.get("/moderacja/dziennik?action=pes.reject").get_data(as_text=True)
    assert "Brak wpisu w KRS." in html and "rola: kupujący" not in html
    html = client.get(f"/moderacja/dziennik?actor={admin.id}").get_data(as_text=True)
    assert "rola: kupujący" in html and "Brak wpisu w KRS." not in html
    url = f"/moderacja/dziennik?object_type=pes&object_id={setup['pes'].id}"
    html = client.get(url).get_data(as_text=True)
    assert "Brak wpisu w KRS." in html and "rola: kupujący" not in html
    html = client.get("/moderacja/dziennik?action=nieznana").get_data(as_text=True)
    assert "Brak wpisu w KRS." in html and "rola: kupujący" in html


def test_audit_log_names_deleted_actors_by_role(client, setup):
    gone = make_user("byly.moderator@example.org", role="moderator")
    pes = make_pes(status="verified")
    record(gone, "pes.suspend", pes, before={"status": "verified"}, after={"status": "suspended"},
           reason="Test")
    admin = make_user("admin@example.org", role="admin")
    db.session.flush()
    db.session.delete(gone)
    db.session.commit()
    sign_in(client, admin)
    html = client.get("/moderacja/dziennik").get_data(as_text=True)
    assert "konto usunięte (moderator)" in html and "byly.moderator" not in html
    html = client.get("/moderacja/dziennik?actor=deleted").get_data(as_text=True)
    assert "konto usunięte (moderator)" in html


def test_audit_log_is_paginated(client, setup):
    admin = make_user("admin@example.org", role="admin")
    for n in range(45):
        record(admin, "user.role", setup["owner"], before={"role": "buyer"}, after={"role": "buyer"},
               reason=f"wpis {n:02d}")
    db.session.commit()
    sign_in(client, admin)
    first = client.get("/moderacja/dziennik").get_data(as_text=True)
    second = client.get("/moderacja/dziennik?page=2").get_data(as_text=True)
    assert "wpis 44" in first and "wpis 04" not in first and "wpis 04" in second
    resp = client.get("/moderacja/dziennik?page=999999999999")
    assert resp.status_code == 200 and "Brak wpisów spełniających kryteria." in resp.get_data(as_text=True)


def test_audit_log_ignores_an_object_number_no_entry_can_have(client, setup):
    admin = make_user("admin@example.org", role="admin")
    record(admin, "user.role", setup["owner"], before={"role": "buyer"}, after={"role": "moderator"})
    db.session.commit()
    sign_in(client, admin)
    for value in ("99999999999999", "abc", "-1", "１２"):
        resp = client.get(f"/moderacja/dziennik?object_type=user&object_id={value}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, value
        assert "rola: kupujący → moderator" in html and "Widzisz tylko wpisy" not in html, value
    html = client.get(f"/moderacja/dziennik?object_type=user&object_id={setup['clerk'].id}").get_data(as_text=True)
    assert "Widzisz tylko wpisy" in html and "Brak wpisów spełniających kryteria." in html
