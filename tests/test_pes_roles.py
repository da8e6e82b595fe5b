"""Roles in a PES team: handing the PES over, stepping down, and never a PES without an owner, even when
two owners act at the same moment."""
import threading
import time

import pytest
from sqlalchemy import delete, select, text

from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.pes import team as pes_team
from marketplace.pes.models import PesInvitation, PesMembership
from marketplace.pes.services import PesError
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.test_pes_support import sign_in

OWNER, EDITOR = "wlascicielka@example.org", "redaktor@example.org"


def _team(pes) -> str:
    return f"/panel/pes/{pes.id}/zespol"


def _members(pes) -> dict[str, str]:
    db.session.expire_all()
    return {m.user.email: m.role for m in pes.members}


def _role_entries() -> list[tuple]:
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "pes.member_role")
                                 .order_by(AuditEntry.id)).all()
    return [(e.actor_id, e.before, e.after) for e in entries]


def _set_role(client, pes, membership, role: str):
    data = {"csrf_token": csrf_token(client, _team(pes)), "role": role}
    return client.post(f"{_team(pes)}/{membership.id}/rola", data=data, follow_redirects=True)


@pytest.fixture
def team(app):
    owner = make_user(OWNER, name="Wanda Właścicielka")
    editor = make_user(EDITOR, name="Roman Redaktor")
    pes = make_pes(owner=owner, name="Spółdzielnia Zespół")
    db.session.add(PesMembership(pes=pes, user=editor, role="editor"))
    db.session.commit()
    client = app.test_client()
    sign_in(client, owner)
    return owner, editor, pes, client


def test_owner_hands_the_pes_over_and_steps_down(app, team):
    owner, editor, pes, client = team
    page = client.get(_team(pes)).get_data(as_text=True)
    assert "Nadaj rolę właściciela" in page
    assert "Zrezygnuj z roli właściciela" not in page  # she is the only owner

    page = _set_role(client, pes, editor.membership_of(pes.id), "owner").get_data(as_text=True)
    assert "Roman Redaktor ma teraz rolę: właściciel." in page
    assert "Zrezygnuj z roli właściciela" in page
    assert _members(pes) == {OWNER: "owner", EDITOR: "owner"}

    page = _set_role(client, pes, owner.membership_of(pes.id), "editor").get_data(as_text=True)
    assert "Masz teraz rolę: redaktor." in page
    assert "Zespół może zmieniać tylko właściciel." in page and "Nadaj rolę właściciela" not in page
    assert _members(pes) == {OWNER: "editor", EDITOR: "owner"}
    assert _role_entries() == [
        (owner.id, {"user_id": editor.id, "role": "editor"}, {"user_id": editor.id, "role": "owner"}),
        (owner.id, {"user_id": owner.id, "role": "owner"}, {"user_id": owner.id, "role": "editor"}),
    ]
    new_owner = app.test_client()
    sign_in(new_owner, editor)
    assert "Wyślij zaproszenie" in new_owner.get(_team(pes)).get_data(as_text=True)


def test_an_owner_makes_another_owner_an_editor(team):
    _owner, _editor, pes, client = team
    second = make_user("druga@example.org", name="Druga Właścicielka")
    db.session.add(PesMembership(pes=pes, user=second, role="owner"))
    db.session.commit()
    page = _set_role(client, pes, second.membership_of(pes.id), "editor").get_data(as_text=True)
    assert "Druga Właścicielka ma teraz rolę: redaktor." in page
    assert _members(pes) == {OWNER: "owner", EDITOR: "editor", "druga@example.org": "editor"}


def test_the_last_owner_cannot_step_down(team):
    owner, _editor, pes, client = team
    page = _set_role(client, pes, owner.membership_of(pes.id), "editor").get_data(as_text=True)
    assert "PES musi mieć co najmniej jednego właściciela" in page
    assert _members(pes) == {OWNER: "owner", EDITOR: "editor"}
    assert _role_entries() == []


def test_giving_a_role_someone_already_has_is_explained(team):
    _owner, _editor, pes, client = team
    second = make_user("druga@example.org")
    db.session.add(PesMembership(pes=pes, user=second, role="owner"))
    db.session.commit()
    page = _set_role(client, pes, second.membership_of(pes.id), "owner").get_data(as_text=True)
    assert "Ta osoba ma już rolę: właściciel." in page
    assert _role_entries() == []


def test_editor_cannot_change_roles(app, team):
    owner, editor, pes, _owner_client = team
    client = app.test_client()
    sign_in(client, editor)
    page = client.get(_team(pes)).get_data(as_text=True)
    assert "Nadaj rolę właściciela" not in page and "Zmień rolę na redaktora" not in page
    token = csrf_token(client, _team(pes))
    for membership, role in ((editor.membership_of(pes.id), "owner"), (owner.membership_of(pes.id), "editor")):
        resp = client.post(f"{_team(pes)}/{membership.id}/rola", data={"csrf_token": token, "role": role})
        assert resp.status_code == 403
    assert _members(pes) == {OWNER: "owner", EDITOR: "editor"}
    assert _role_entries() == []


def test_role_change_needs_a_token_a_known_role_and_a_member_of_this_pes(team):
    _owner, editor, pes, client = team
    other = make_pes(owner=make_user("obcy@example.org"), name="Inny PES")
    db.session.commit()
    foreign = other.members[0]
    url = f"{_team(pes)}/{editor.membership_of(pes.id).id}/rola"
    assert client.post(url, data={"role": "owner"}).status_code == 400
    token = csrf_token(client, _team(pes))
    assert client.post(url, data={"csrf_token": token, "role": "admin"}).status_code == 400
    assert client.post(url, data={"csrf_token": token}).status_code == 400
    assert client.post(f"{_team(pes)}/{foreign.id}/rola",
                       data={"csrf_token": token, "role": "editor"}).status_code == 404
    assert client.post(f"/panel/pes/{other.id}/zespol/{foreign.id}/rola",
                       data={"csrf_token": token, "role": "editor"}).status_code == 403
    assert client.post(f"{_team(pes)}/2147483648/rola", data={"csrf_token": token, "role": "owner"}).status_code == 404
    assert _members(pes) == {OWNER: "owner", EDITOR: "editor"}
    assert _members(other) == {"obcy@example.org": "owner"}


def test_unconfirmed_owner_cannot_change_the_team(app, mailbox):
    owner, editor = make_user(OWNER, confirmed=False), make_user(EDITOR)
    pes = make_pes(owner=owner)
    editor_membership = PesMembership(pes=pes, user=editor, role="editor")
    invitation = PesInvitation(pes=pes, email="zaproszona@example.org", role="editor", invited_by_id=owner.id)
    db.session.add_all([editor_membership, invitation])
    db.session.commit()
    client = app.test_client()
    sign_in(client, owner)
    token = csrf_token(client, "/konto/sprawdz-poczte")

    for path, data in ((f"{_team(pes)}/{editor_membership.id}/rola", {"role": "owner"}),
                       (f"{_team(pes)}/{editor_membership.id}/usun", {}),
                       (f"{_team(pes)}/zapros", {"email": "nowa@example.org", "role": "editor"}),
                       (f"{_team(pes)}/zaproszenia/{invitation.id}/wycofaj", {})):
        resp = client.post(path, data={**data, "csrf_token": token})
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/konto/sprawdz-poczte"), path
    assert _members(pes) == {OWNER: "owner", EDITOR: "editor"}
    assert [i.email for i in db.session.scalars(select(PesInvitation))] == ["zaproszona@example.org"]
    assert db.session.get(PesInvitation, invitation.id).is_open
    assert mailbox.messages() == []


def test_the_team_is_read_again_under_the_lock(team):
    """What a request saw before it locked the PES does not count: an owner removed meanwhile is refused."""
    owner, editor, pes, _client = team
    second = make_user("druga@example.org")
    db.session.add(PesMembership(pes=pes, user=second, role="owner"))
    db.session.commit()
    mine, theirs = owner.membership_of(pes.id), second.membership_of(pes.id)
    assert len(pes.members) == 3  # this session holds the team as it was
    with db.engine.begin() as conn:  # meanwhile the other owner removed her, in another transaction
        conn.execute(delete(PesMembership).where(PesMembership.id == mine.id))

    with pytest.raises(PesError, match="Ty nim już nie jesteś"):
        pes_team.remove_member(owner, pes, theirs)
    db.session.rollback()
    with pytest.raises(PesError, match="Ty nim już nie jesteś"):
        pes_team.change_role(owner, pes, editor.membership_of(pes.id), "owner")
    db.session.rollback()
    assert _members(pes) == {"druga@example.org": "owner", EDITOR: "editor"}


def _wait_until_a_request_waits_for_a_lock(timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND wait_event_type = 'Lock'")).scalar()
            conn.rollback()  # the activity view is read once per transaction
            if waiting:
                return
            time.sleep(0.05)
    pytest.fail("the request did not wait for the lock on the PES row")


def test_two_owners_removing_each_other_at_once_leave_one_owner(team):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite writes one transaction at a time")
    owner, _editor, pes, client = team
    second = make_user("druga@example.org")
    db.session.add(PesMembership(pes=pes, user=second, role="owner"))
    db.session.commit()
    mine, theirs = owner.membership_of(pes.id).id, second.membership_of(pes.id).id
    token = csrf_token(client, _team(pes))
    db.session.commit()
    answers = []

    def remove_the_other_owner():
        answers.append(client.post(f"{_team(pes)}/{theirs}/usun", data={"csrf_token": token}))

    with db.engine.connect() as other:  # the second owner's request, which removes the first
        tx = other.begin()
        other.execute(text("SELECT id FROM pes WHERE id = :id FOR UPDATE"), {"id": pes.id})
        worker = threading.Thread(target=remove_the_other_owner)
        worker.start()
        _wait_until_a_request_waits_for_a_lock()
        other.execute(delete(PesMembership).where(PesMembership.id == mine))
        tx.commit()
    worker.join(10)

    assert not worker.is_alive() and answers[0].status_code == 302
    assert _members(pes) == {"druga@example.org": "owner", EDITOR: "editor"}
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pes.member_remove")) is None
