"""The team of a PES: invitations by signed link, roles, removing members, the last owner, and reminders."""
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.pes import team as pes_team
from marketplace.pes.cli import pes_cli
from marketplace.pes.models import PesInvitation, PesMembership
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.test_pes_support import sign_in


def _team(pes) -> str:
    return f"/panel/pes/{pes.id}/zespol"


def _invite(client, pes, email: str, role: str = "editor"):
    data = {"csrf_token": csrf_token(client, _team(pes)), "email": email, "role": role}
    return client.post(f"{_team(pes)}/zapros", data=data, follow_redirects=True)


def _link_in(mail) -> str:
    from tests.conftest import Mailbox

    return re.search(r"http://localhost(/zaproszenie/\S+)", Mailbox.body(mail)).group(1)


def _members(pes) -> dict[str, str]:
    db.session.expire_all()
    return {m.user.email: m.role for m in pes.members}


@pytest.fixture
def team(app):
    owner = make_user("wlascicielka@example.org")
    pes = make_pes(owner=owner, name="Spółdzielnia Zespół")
    db.session.commit()
    client = app.test_client()
    sign_in(client, owner)
    return owner, pes, client


def test_invitee_signs_in_and_accepts_once(app, team, mailbox):
    _owner, pes, client = team
    invitee = make_user("Nowa.Osoba@example.org")
    db.session.commit()

    page = _invite(client, pes, "nowa.osoba@example.org").get_data(as_text=True)
    assert "Zaproszenie zostało wysłane" in page and "nowa.osoba@example.org" in page
    mail = mailbox.last("nowa.osoba@example.org")
    assert "Spółdzielnia Zespół" in mail["Subject"]
    link = _link_in(mail)

    guest = app.test_client()
    resp = guest.get(link)
    assert resp.status_code == 302
    assert "/konto/logowanie" in resp.headers["Location"] and "next=" in resp.headers["Location"]

    sign_in(guest, invitee)
    assert "Przyjmuję zaproszenie" in guest.get(link).get_data(as_text=True)
    resp = guest.post(link, data={"csrf_token": csrf_token(guest, link)}, follow_redirects=True)
    assert "Jesteś teraz w zespole" in resp.get_data(as_text=True)
    assert _members(pes) == {"wlascicielka@example.org": "owner", "Nowa.Osoba@example.org": "editor"}

    again = guest.get(link)
    assert again.status_code == 410 and "zostało już wykorzystane" in again.get_data(as_text=True)


def test_invitation_for_another_address_is_refused(app, team, mailbox):
    _owner, pes, client = team
    _invite(client, pes, "zaproszona@example.org")
    link = _link_in(mailbox.last("zaproszona@example.org"))
    intruder = make_user("ktos.inny@example.org")
    db.session.commit()

    other = app.test_client()
    sign_in(other, intruder)
    page = other.get(link)
    assert page.status_code == 403 and "wysłane na inny adres e-mail" in page.get_data(as_text=True)
    token = csrf_token(other, "/panel/pes/nowy")
    assert other.post(link, data={"csrf_token": token}).status_code == 403
    assert "ktos.inny@example.org" not in _members(pes)
    assert db.session.scalar(select(PesInvitation)).accepted_at is None


def test_expired_and_revoked_invitations_say_so(app, team, mailbox):
    _owner, pes, client = team
    _invite(client, pes, "spozniona@example.org")
    invitation = db.session.scalar(select(PesInvitation))
    days = app.config["INVITE_TOKEN_MAX_AGE"] // 86400

    class IssuedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - (days + 1) * 86400

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=pes_team.INVITE_SALT, signer=IssuedLongAgo)
    expired = app.test_client().get(f"/zaproszenie/{old.dumps({'invitation': invitation.id})}")
    assert expired.status_code == 410 and "To zaproszenie wygasło" in expired.get_data(as_text=True)

    forged = app.test_client().get(f"/zaproszenie/{old.dumps({'invitation': invitation.id})}x")
    assert "link z zaproszeniem jest nieprawidłowy" in forged.get_data(as_text=True)

    link = _link_in(mailbox.last("spozniona@example.org"))
    revoke = f"{_team(pes)}/zaproszenia/{invitation.id}/wycofaj"
    resp = client.post(revoke, data={"csrf_token": csrf_token(client, _team(pes))}, follow_redirects=True)
    assert "zostało wycofane" in resp.get_data(as_text=True)
    assert "zostało wycofane" in app.test_client().get(link).get_data(as_text=True)


def test_owner_removes_an_editor_but_not_the_last_owner(team):
    owner, pes, client = team
    editor = make_user("redaktor@example.org")
    editor_membership = PesMembership(pes=pes, user=editor, role="editor")
    db.session.add(editor_membership)
    db.session.commit()
    own_membership = owner.membership_of(pes.id)

    def remove(membership):
        url = f"{_team(pes)}/{membership.id}/usun"
        return client.post(url, data={"csrf_token": csrf_token(client, _team(pes))}, follow_redirects=True)

    assert "usunięta z zespołu" in remove(editor_membership).get_data(as_text=True)
    assert _members(pes) == {"wlascicielka@example.org": "owner"}

    page = remove(own_membership).get_data(as_text=True)
    assert "Nie można usunąć jedynego właściciela" in page
    assert _members(pes) == {"wlascicielka@example.org": "owner"}


def test_editor_sees_the_team_but_cannot_change_it(app, team):
    owner, pes, _owner_client = team
    editor = make_user("redaktorka@example.org")
    db.session.add(PesMembership(pes=pes, user=editor, role="editor"))
    db.session.commit()
    client = app.test_client()
    sign_in(client, editor)

    page = client.get(_team(pes)).get_data(as_text=True)
    assert "wlascicielka@example.org" in page and "Zespół może zmieniać tylko właściciel." in page
    assert "Wyślij zaproszenie" not in page
    token = csrf_token(client, _team(pes))
    own = owner.membership_of(pes.id)
    assert client.post(f"{_team(pes)}/zapros", data={"csrf_token": token, "email": "x@example.org",
                                                       "role": "owner"}).status_code == 403
    assert client.post(f"{_team(pes)}/{own.id}/usun", data={"csrf_token": token}).status_code == 403
    assert _members(pes) == {"wlascicielka@example.org": "owner", "redaktorka@example.org": "editor"}
    assert db.session.scalar(select(func.count()).select_from(PesInvitation)) == 0


def test_outsider_cannot_see_the_team(app, team):
    _owner, pes, _client = team
    client = app.test_client()
    sign_in(client, make_user())
    db.session.commit()
    assert client.get(_team(pes)).status_code == 403


def test_inviting_a_member_again_is_explained(team, mailbox):
    _owner, pes, client = team
    resp = _invite(client, pes, "WLASCICIELKA@example.org")
    assert resp.status_code == 422 and "już należy do zespołu" in resp.get_data(as_text=True)
    assert mailbox.messages() == []


def test_invitations_are_rate_limited(app, team):
    _owner, pes, client = team
    limit = int(app.config["MAIL_LIMIT"].split()[0])
    for n in range(limit):
        assert _invite(client, pes, f"osoba{n}@example.org").status_code == 200
    assert _invite(client, pes, "jeszcze.jedna@example.org").status_code == 429


def _run_reminders(app, runner) -> str:
    if "pes" not in app.cli.commands:
        app.cli.add_command(pes_cli)
    result = runner.invoke(args=["pes", "remind-stale"])
    assert result.exit_code == 0, result.output
    return result.output


def test_remind_stale_mails_owners_once_a_month(app, runner, mailbox):
    long_ago = datetime.now(UTC) - timedelta(days=400)
    stale_owner, fresh_owner, pending_owner = make_user(), make_user(), make_user()
    stale = make_pes(owner=stale_owner, name="Zapomniany", data_confirmed_at=long_ago)
    make_pes(owner=fresh_owner, name="Aktualny")
    make_pes(owner=pending_owner, status="pending", data_confirmed_at=long_ago)
    db.session.commit()

    assert "1 PES (1 wiadomości)" in _run_reminders(app, runner)
    [mail] = mailbox.messages()
    assert mail["To"] == stale_owner.email and "Zapomniany" in mail["Subject"]
    assert "http://localhost/panel/pes" in mailbox.body(mail)

    assert "0 PES" in _run_reminders(app, runner)
    assert len(mailbox.messages()) == 1

    db.session.expire_all()
    stale.stale_reminder_sent_at = datetime.now(UTC) - timedelta(days=31)
    db.session.commit()
    assert "1 PES" in _run_reminders(app, runner)
    assert len(mailbox.messages()) == 2


def test_unconfirmed_invitee_confirms_the_address_first(app, team, mailbox):
    _owner, pes, client = team
    invitee = make_user("niepotwierdzona@example.org", confirmed=False)
    db.session.commit()
    _invite(client, pes, invitee.email)
    link = _link_in(mailbox.last(invitee.email))

    guest = app.test_client()
    sign_in(guest, invitee)
    page = guest.get(link, follow_redirects=True).get_data(as_text=True)
    assert "Najpierw potwierdź swój adres e-mail" in page and "Przyjmuję zaproszenie" not in page
    resp = guest.post(link, data={"csrf_token": csrf_token(guest, "/konto/sprawdz-poczte")})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/konto/sprawdz-poczte")
    assert invitee.email not in _members(pes)
    assert db.session.scalar(select(PesInvitation)).is_open


def test_invitation_to_someone_who_already_joined_changes_no_role(app, team):
    owner, pes, _client = team
    member = make_user("redaktorka@example.org")
    invitation = PesInvitation(pes=pes, email=member.email, role="owner", invited_by_id=owner.id)
    db.session.add_all([invitation, PesMembership(pes=pes, user=member, role="editor")])
    db.session.commit()
    with app.test_request_context():
        link = f"/zaproszenie/{pes_team.invitation_token(invitation)}"

    guest = app.test_client()
    sign_in(guest, member)
    resp = guest.post(link, data={"csrf_token": csrf_token(guest, link)})
    assert resp.status_code == 409 and "Już należysz do zespołu" in resp.get_data(as_text=True)
    assert _members(pes) == {"wlascicielka@example.org": "owner", "redaktorka@example.org": "editor"}


@pytest.mark.parametrize("app_config", [{"PORTAL_URL": "https://portal.example.pl"}])
def test_links_in_mail_point_at_the_configured_portal_address(app, team, runner, mailbox):
    _owner, pes, client = team
    resp = _invite(client, pes, "nowa@example.org")
    assert resp.status_code == 200
    body = mailbox.body(mailbox.last("nowa@example.org"))
    assert re.search(r"^https://portal\.example\.pl/zaproszenie/\S+$", body, re.MULTILINE)
    assert "http://localhost" not in body

    pes.data_confirmed_at = datetime.now(UTC) - timedelta(days=400)
    db.session.commit()
    _run_reminders(app, runner)
    assert "https://portal.example.pl/panel/pes" in mailbox.body(mailbox.last("wlascicielka@example.org"))
