"""An awarded mark's life: reminders before expiry, suspension, revocation and reinstatement by the office."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from catalog.mark.cli import marks_cli
from catalog.mark.models import MarkApplication, MarkReminder
from marketplace import clock
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from tests.test_mark_helpers import client_for, make_mark, make_offering, people, token


@pytest.fixture
def remind(app):
    if "marks" not in app.cli.commands:
        app.cli.add_command(marks_cli)
    runner = app.test_cli_runner()
    return lambda: runner.invoke(args=["marks", "remind"])


def test_reminders_60_30_and_7_days_before_expiry_are_sent_once(app, mailbox, remind):
    crew = people(app)
    owner = crew["owner"]
    mark = make_mark(crew["offering"], "ZJ/2025/0042", clock.today() - timedelta(days=300),
                     clock.today() + timedelta(days=61))
    db.session.commit()
    assert remind().output.endswith("total: 0, 0 mail(s)\n")
    assert mailbox.to(owner.email) == []

    for offset, days in ((1, 60), (31, 30), (54, 7)):
        app.config["CLOCK_OFFSET_DAYS"] = offset
        result = remind()
        assert result.exit_code == 0 and f"{days} days before expiry: 1 mark(s) reminded" in result.output
        assert remind().output.endswith("total: 0, 0 mail(s)\n")  # run twice: mailed once
    mails = mailbox.to(owner.email)
    assert len(mails) == 3 and all("ZJ/2025/0042" in m["Subject"] for m in mails)
    assert "za 60 dni" in mailbox.body(mails[0]) and "za 7 dni" in mailbox.body(mails[2])
    assert f"/panel/znak/wniosek?oferta={crew['offering'].id}" in mailbox.body(mails[0])
    assert sorted(db.session.scalars(select(MarkReminder.days_before))) == [7, 30, 60]
    app.config["CLOCK_OFFSET_DAYS"] = 62  # expired: nothing more
    assert remind().output.endswith("total: 0, 0 mail(s)\n")
    assert mark.id


def test_a_late_start_sends_only_the_reminder_now_due(app, mailbox, remind):
    crew = people(app)
    make_mark(crew["offering"], "ZJ/2025/0043", clock.today() - timedelta(days=340),
              clock.today() + timedelta(days=20))
    db.session.commit()
    assert "30 days before expiry: 1 mark(s)" in remind().output
    assert len(mailbox.to(crew["owner"].email)) == 1


def test_no_reminders_for_suspended_revoked_or_renewed_marks(app, mailbox, remind):
    crew = people(app)
    today = clock.today()
    pes = crew["pes"]
    make_mark(make_offering(pes, title="A"), "S/1", today - timedelta(days=300), today + timedelta(days=10),
              status="suspended")
    make_mark(make_offering(pes, title="B"), "R/1", today - timedelta(days=300), today + timedelta(days=10),
              status="revoked")
    renewed_offering = make_offering(pes, title="C")
    old = make_mark(renewed_offering, "N/1", today - timedelta(days=300), today + timedelta(days=10))
    db.session.add(MarkApplication(offering_id=renewed_offering.id, pes_id=pes.id, renews_mark_id=old.id,
                                   status="granted", quality_statement="x", recommendations=[]))
    pending_offering = make_offering(pes, title="D")
    pending = make_mark(pending_offering, "P/1", today - timedelta(days=300), today + timedelta(days=10))
    db.session.add(MarkApplication(offering_id=pending_offering.id, pes_id=pes.id, renews_mark_id=pending.id,
                                   status="in_review", quality_statement="x", recommendations=[]))
    db.session.commit()
    assert remind().output.endswith("total: 0, 0 mail(s)\n")
    assert mailbox.to(crew["owner"].email) == []


def _mark_with_staff(app):
    crew = people(app)
    mark = make_mark(crew["offering"], "ZJ/2025/0050", clock.today() - timedelta(days=10),
                     clock.today() + timedelta(days=300))
    db.session.commit()
    return crew, mark, client_for(app, crew["moderator"])


def test_suspension_hides_the_badge_and_reinstatement_brings_it_back(app, client, mailbox):
    crew, mark, office = _mark_with_staff(app)
    url = f"/moderacja/znak/znaki/{mark.id}"
    assert "ZJ/2025/0050" in office.get("/moderacja/znak?tab=marks").get_data(as_text=True)
    response = office.post(url + "/zawies", data={"csrf_token": token(office), "suspend-reason": ""})
    assert response.status_code == 422 and "Podaj uzasadnienie." in response.get_data(as_text=True)
    office.post(url + "/zawies", data={"csrf_token": token(office), "suspend-reason": "Skarga na jakość."})
    db.session.expire_all()
    assert mark.status == "suspended"
    page = client.get("/znak-jakosci/ZJ/2025/0050").get_data(as_text=True)
    assert "Znak zawieszony" in page and "mark-badge" not in page
    mail = mailbox.last(crew["owner"].email)
    assert "zawieszony" in mail["Subject"] and "Skarga na jakość." in mailbox.body(mail)

    office.post(url + "/przywroc", data={"csrf_token": token(office), "reinstate-reason": ""})
    db.session.expire_all()
    assert mark.status == "active" and mark.status_reason is None
    assert "Znak jest ważny" in client.get("/znak-jakosci/ZJ/2025/0050").get_data(as_text=True)
    assert "znów obowiązuje" in mailbox.last(crew["owner"].email)["Subject"]

    office.post(url + "/cofnij", data={"csrf_token": token(office), "revoke-reason": "Oferta wycofana."})
    db.session.expire_all()
    assert mark.status == "revoked"
    assert "cofnięty" in mailbox.last(crew["owner"].email)["Subject"]
    response = office.post(url + "/przywroc", data={"csrf_token": token(office)}, follow_redirects=True)
    assert "Tej czynności nie można wykonać" in response.get_data(as_text=True)
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["mark.suspend", "mark.reinstate", "mark.revoke"]


def test_only_staff_may_suspend(app):
    crew, mark, _office = _mark_with_staff(app)
    for who in ("owner", "chair"):
        c = client_for(app, crew[who])
        response = c.post(f"/moderacja/znak/znaki/{mark.id}/zawies",
                          data={"csrf_token": token(c), "suspend-reason": "Nie."})
        assert response.status_code == 403
    db.session.expire_all()
    assert mark.status == "active"


def test_the_office_is_told_that_the_reason_is_public(app):
    _crew, mark, office = _mark_with_staff(app)
    page = office.get(f"/moderacja/znak/znaki/{mark.id}").get_data(as_text=True)
    assert page.count("widoczne publicznie, dla każdego, na stronie weryfikacji certyfikatu") == 2  # both forms


def test_reminders_skip_marks_of_offerings_or_pes_that_are_not_public(app, mailbox, remind):
    crew = people(app)
    today = clock.today()
    archived = make_offering(crew["pes"], title="Archiwalna", status="archived")
    make_mark(archived, "H/1", today - timedelta(days=300), today + timedelta(days=20))
    make_mark(crew["offering"], "H/2", today - timedelta(days=300), today + timedelta(days=20))
    crew["pes"].status = "suspended"
    db.session.commit()
    result = remind()
    assert "skipped (offering or PES not public): 2 mark(s)" in result.output
    assert result.output.endswith("total: 0, 0 mail(s)\n")
    assert mailbox.to(crew["owner"].email) == [] and db.session.scalars(select(MarkReminder)).all() == []
    crew["pes"].status = "verified"  # public again: the reminder due now goes out
    db.session.commit()
    result = remind()
    assert "30 days before expiry: 1 mark(s) reminded" in result.output
    assert "skipped (offering or PES not public): 1 mark(s)" in result.output
    assert ["H/2"] == [m["Subject"].split()[2] for m in mailbox.to(crew["owner"].email)]
