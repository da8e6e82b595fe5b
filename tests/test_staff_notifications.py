"""Mail to moderators and admins when something waits for them: a new or resubmitted PES, a reported
offering, a quality mark application."""
import pytest
from sqlalchemy import select

from catalog.mark.models import MarkApplication
from marketplace.extensions import db
from marketplace.moderation.notify import notify_staff, staff_recipients
from marketplace.outbox import OutboxMail
from marketplace.pes.models import Pes
from tests.conftest import Mailbox, csrf_token
from tests.factories import make_pes, make_user
from tests.test_mark_helpers import make_offering, people, submitted
from tests.test_pes_support import profile_form, sign_in, verified_pes

ADMIN, MODERATOR, ASLEEP = "admin@example.org", "moderator@example.org", "niepotwierdzony@example.org"


@pytest.fixture
def staff(app):
    """An admin and a moderator with confirmed addresses, a moderator without one, and a committee member."""
    accounts = {"admin": make_user(ADMIN, role="admin", locale="en"),
                "moderator": make_user(MODERATOR, role="moderator"),
                "unconfirmed": make_user(ASLEEP, role="moderator", confirmed=False),
                "committee": make_user("kapitula@example.org", role="committee")}
    db.session.commit()
    return accounts


def staff_mail(mailbox: Mailbox) -> dict[str, list]:
    return {address: mailbox.to(address) for address in (ADMIN, MODERATOR, ASLEEP)}


def test_one_message_per_confirmed_moderator_or_admin(app, staff):
    pes = make_pes(status="pending", name="Spółdzielnia Socjalna Kłos")
    queued = notify_staff("Test", "mail/staff/pes_submitted.txt", pes=pes, resubmitted=False, link="http://x/")
    db.session.commit()
    assert [u.email for u in staff_recipients()] == [ADMIN, MODERATOR]
    assert sorted(m.to for m in queued) == [ADMIN, MODERATOR]
    rows = db.session.scalars(select(OutboxMail)).all()
    assert len(rows) == 2 and all("Spółdzielnia Socjalna Kłos" in r.body for r in rows)
    # Each in the recipient's language: the admin chose English.
    by_address = {r.to: r.body for r in rows}
    assert "„Spółdzielnia Socjalna Kłos”" in by_address[MODERATOR]
    assert "„" not in by_address[ADMIN]


def test_a_new_pes_profile_is_announced_to_staff(client, staff, mailbox):
    owner = make_user("ania@example.org")
    sign_in(client, owner)
    client.post("/panel/pes/nowy", data={**profile_form(), "csrf_token": csrf_token(client, "/panel/pes/nowy")})
    pes = db.session.scalar(select(Pes))
    got = staff_mail(mailbox)
    assert (len(got[ADMIN]), len(got[MODERATOR]), got[ASLEEP]) == (1, 1, [])
    message = got[MODERATOR][0]
    assert "Spółdzielnia Socjalna Przystań" in message["Subject"]
    body = Mailbox.body(message)
    assert f"http://localhost/moderacja/pes/{pes.id}" in body and "czeka na weryfikację" in body
    assert mailbox.to(owner.email) == [] and mailbox.to("kapitula@example.org") == []


def test_a_corrected_rejected_profile_is_announced_again(client, staff, mailbox):
    owner = make_user("ania@example.org")
    pes = make_pes(owner=owner, status="rejected", name="Spółdzielnia Socjalna Przystań", nip="5260250274",
                   status_reason="Brak KRS.")
    sign_in(client, owner)
    url = f"/panel/pes/{pes.id}/edytuj"
    client.post(url, data={**profile_form(), "csrf_token": csrf_token(client, url)})
    assert db.session.get(Pes, pes.id).status == "pending"
    body = Mailbox.body(mailbox.last(MODERATOR))
    assert "wrócił do weryfikacji" in body and f"/moderacja/pes/{pes.id}" in body


def test_an_edit_that_keeps_a_profile_verified_mails_nobody(client, staff, mailbox):
    owner = make_user("ania@example.org")
    pes = verified_pes(owner=owner)
    sign_in(client, owner)
    url = f"/panel/pes/{pes.id}/edytuj"
    client.post(url, data={**profile_form(description="Nowy opis."), "csrf_token": csrf_token(client, url)})
    db.session.expire_all()
    assert (pes.description, pes.status) == ("Nowy opis.", "verified")
    assert mailbox.messages() == []


def test_a_reported_offering_is_announced_to_staff(client, staff, mailbox):
    offering = make_offering(make_pes(name="Spółdzielnia Socjalna Przystań"), title="Obiady z dowozem")
    db.session.commit()
    token = csrf_token(client, f"/oferta/{offering.id}-obiady-z-dowozem")
    response = client.post(f"/oferta/{offering.id}/zglos", data={
        "csrf_token": token, "reason": "not_pes", "message": "To firma handlowa, nie spółdzielnia."})
    assert response.status_code == 302
    got = staff_mail(mailbox)
    assert (len(got[ADMIN]), len(got[MODERATOR]), got[ASLEEP]) == (1, 1, [])
    body = Mailbox.body(got[MODERATOR][0])
    assert "„Obiady z dowozem”" in body and "oferta nie pochodzi od PES" in body
    assert "To firma handlowa, nie spółdzielnia." in body
    assert f"http://localhost/moderacja/oferty/{offering.id}" in body


def test_a_report_the_form_refuses_mails_nobody(client, staff, mailbox):
    offering = make_offering(make_pes(), title="Obiady z dowozem")
    db.session.commit()
    token = csrf_token(client, f"/oferta/{offering.id}-obiady-z-dowozem")
    assert client.post(f"/oferta/{offering.id}/zglos", data={"csrf_token": token}).status_code == 422
    assert mailbox.messages() == []


def test_a_quality_mark_application_is_announced_to_staff(app, mailbox):
    crew = people(app)
    admin = make_user(ADMIN, role="admin")
    db.session.commit()
    application = submitted(app, crew)
    assert isinstance(application, MarkApplication)
    for address in (admin.email, crew["moderator"].email):
        [message] = mailbox.to(address)
        assert "Obiady dla szkół" in message["Subject"]
        body = Mailbox.body(message)
        assert "złożył wniosek o znak jakości" in body
        assert f"http://localhost/moderacja/znak/{application.id}" in body
    assert mailbox.to(crew["member1"].email) == []  # the committee hears only once the office passes it on
