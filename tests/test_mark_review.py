"""The committee's decision and its guards: the quorum, suspended or revoked marks, who sees whose scores,
who gets the mail, what the audit log keeps, and that resubmitting checks the PES and the offering again."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.mark.labels import ACTION_LABELS
from catalog.mark.models import MarkApplication, MarkScore, QualityMark
from marketplace import clock
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.pes.models import PesMembership
from tests.factories import make_user
from tests.test_mark_helpers import (
    application_data,
    client_for,
    decide,
    in_review,
    make_mark,
    people,
    post_application,
    score_data,
    submitted,
    token,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_chair_decides_only_once_two_members_scored_every_criterion(app):
    crew = people(app)
    application = in_review(app, crew, scored_by=("member1",))
    chair = client_for(app, crew["chair"])
    assert "Komplet ocen (wszystkie kryteria) wystawił 1 członek kapituły; do decyzji potrzeba co najmniej 2." \
        in chair.get(f"/kapitula/{application.id}").get_data(as_text=True)
    for decision in ("grant", "refuse"):
        page = decide(chair, application, decision).get_data(as_text=True)
        assert "Decyzję można podjąć, gdy wszystkie kryteria oceni co najmniej 2 członków kapituły" in page
    db.session.expire_all()
    assert application.status == "in_review" and _count(QualityMark) == 0
    c = client_for(app, crew["member2"])
    c.post(f"/kapitula/{application.id}/ocena", data=score_data(c, 5))
    assert "Znak przyznany" in decide(chair, application).get_data(as_text=True)
    assert _count(QualityMark) == 1


@pytest.mark.parametrize("app_config", [{"MARK_MIN_SCORERS": 1}])
def test_the_quorum_comes_from_the_configuration(app):
    crew = people(app)
    application = in_review(app, crew, scored_by=("member1",))
    assert "Znak przyznany" in decide(client_for(app, crew["chair"]), application).get_data(as_text=True)


def _renewal_in_review(app, crew):
    """An active mark ending in 30 days and an application for its renewal, scored by two members."""
    today = clock.today()
    old = make_mark(crew["offering"], "ZJ/2025/0200", today - timedelta(days=335), today + timedelta(days=30))
    db.session.commit()
    application = in_review(app, crew, scored_by=("member1", "member2"))
    assert application.renews_mark_id == old.id
    return old, application


@pytest.mark.parametrize("status", ["suspended", "revoked"])
def test_no_grant_while_the_offerings_mark_is_suspended_or_revoked(app, status):
    crew = people(app)
    old, application = _renewal_in_review(app, crew)
    old.status, old.status_reason = status, "Skarga."  # changed outside the office's page: nothing returned
    db.session.commit()
    chair = client_for(app, crew["chair"])
    page = decide(chair, application).get_data(as_text=True)
    assert "Nie można przyznać znaku" in page and "ZJ/2025/0200" in page
    db.session.expire_all()
    assert application.status == "in_review" and _count(QualityMark) == 1
    assert "Odmowę zapisano" in decide(chair, application, "refuse").get_data(as_text=True)  # refusing works


@pytest.mark.parametrize("slug, field, word", [("zawies", "suspend", "zawieszony"), ("cofnij", "revoke", "cofnięty")])
def test_suspending_or_revoking_returns_the_open_renewal(app, mailbox, slug, field, word):
    crew = people(app)
    old, application = _renewal_in_review(app, crew)
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/znaki/{old.id}/{slug}", data={"csrf_token": token(office),
                                                                 f"{field}-reason": "Skargi klientów."})
    db.session.expire_all()
    assert application.status == "returned"
    assert f"ZJ/2025/0200, którego przedłużenia dotyczy, został {word}" in application.return_comment
    assert "mark.return" in set(db.session.scalars(select(AuditEntry.action)))
    assert "Otwarty wniosek o przedłużenie tego znaku został zwrócony" in mailbox.body(
        mailbox.last(crew["owner"].email))
    # The PES sees why, and cannot get round it by resubmitting.
    owner = client_for(app, crew["owner"])
    assert f"został {word}" in owner.get(f"/panel/znak/wniosek/{application.id}").get_data(as_text=True)
    response = owner.post(f"/panel/znak/wniosek/{application.id}", data=application_data(owner),
                          content_type="multipart/form-data", follow_redirects=True)
    assert f"(certyfikat ZJ/2025/0200) {'jest zawieszony' if field == 'suspend' else 'został cofnięty'}" \
        in response.get_data(as_text=True)
    db.session.expire_all()
    assert application.status == "returned"


def test_a_committee_member_of_the_applying_pes_does_not_see_the_others_scores(app):
    crew = people(app)
    db.session.add(PesMembership(pes_id=crew["pes"].id, user_id=crew["member1"].id, role="editor"))
    db.session.commit()
    application = in_review(app, crew, scored_by=("member2",))
    page = client_for(app, crew["member1"]).get(f"/kapitula/{application.id}").get_data(as_text=True)
    assert "nie widzisz ocen ani komentarzy innych członków kapituły" in page
    assert "Uwagi do kryterium" not in page and "Ewa Kapituła" not in page and "Średnia ocena" not in page
    page = client_for(app, crew["chair"]).get(f"/kapitula/{application.id}").get_data(as_text=True)
    assert "Uwagi do kryterium quality." in page and "Ewa Kapituła" in page


def test_application_mail_reaches_the_applicant_and_the_owners_once_each(app, mailbox):
    crew = people(app)
    editor = make_user("redaktor@example.org", locale="pl")
    db.session.add(PesMembership(pes_id=crew["pes"].id, user_id=editor.id, role="editor"))
    db.session.commit()
    assert post_application(client_for(app, editor), crew["offering"].id).status_code == 302
    application = db.session.scalar(select(MarkApplication))
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/{application.id}/przekaz", data={"csrf_token": token(office)})
    for address in (crew["owner"].email, editor.email):
        assert [m["Subject"] for m in mailbox.to(address)] == ["Wniosek o znak jakości trafił do kapituły"]
    # Once the applicant leaves the PES, only the owners are told.
    db.session.execute(PesMembership.__table__.delete().where(PesMembership.user_id == editor.id))
    db.session.commit()
    for who in ("member1", "member2"):
        c = client_for(app, crew[who])
        c.post(f"/kapitula/{application.id}/ocena", data=score_data(c))
    decide(client_for(app, crew["chair"]), application, "refuse")
    assert len(mailbox.to(editor.email)) == 1 and "Odmowa" in mailbox.last(crew["owner"].email)["Subject"]


def test_an_owner_who_applied_gets_one_mail(app, mailbox):
    crew = people(app)
    application = submitted(app, crew)
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/{application.id}/zwroc", data={"csrf_token": token(office), "comment": "Popraw."})
    assert len(mailbox.to(crew["owner"].email)) == 1


def test_the_pes_own_steps_are_in_the_audit_log(app):
    crew = people(app)
    application = submitted(app, crew)
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/{application.id}/zwroc", data={"csrf_token": token(office), "comment": "Popraw."})
    owner = client_for(app, crew["owner"])
    owner.post(f"/panel/znak/wniosek/{application.id}", data=application_data(owner, recommendations=3),
               content_type="multipart/form-data")
    owner.post(f"/panel/znak/wniosek/{application.id}/wycofaj", data={"csrf_token": token(owner)})
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["mark.apply", "mark.return", "mark.resubmit", "mark.withdraw"]
    assert entries[0].actor_id == crew["owner"].id and entries[-1].after["status"] == "withdrawn"
    assert {"mark.apply", "mark.resubmit", "mark.withdraw"} <= set(ACTION_LABELS)


@pytest.mark.parametrize("change, message", [
    (lambda crew: setattr(crew["offering"], "status", "archived"), "tylko dla opublikowanej oferty"),
    (lambda crew: setattr(crew["offering"], "blocked_at", clock.now()), "tylko dla opublikowanej oferty"),
    (lambda crew: setattr(crew["pes"], "status", "suspended"), "tylko zweryfikowane podmioty"),
])
def test_resubmitting_checks_the_offering_and_the_pes_again(app, change, message):
    crew = people(app)
    application = submitted(app, crew)
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/{application.id}/zwroc", data={"csrf_token": token(office), "comment": "Popraw."})
    change(crew)
    db.session.commit()
    owner = client_for(app, crew["owner"])
    response = owner.post(f"/panel/znak/wniosek/{application.id}", data=application_data(owner),
                          content_type="multipart/form-data", follow_redirects=True)
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert application.status == "returned"
    assert [a for a in db.session.scalars(select(AuditEntry.action)) if a == "mark.resubmit"] == []


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive UTC


@pytest.mark.parametrize("app_config", [{"CLOCK_OFFSET_DAYS": 100}])
def test_timestamps_follow_the_portal_clock(app):
    crew = people(app)
    application = in_review(app, crew, scored_by=("member1", "member2"))
    decide(client_for(app, crew["chair"]), application)
    db.session.expire_all()
    mark = db.session.scalar(select(QualityMark))
    score = db.session.scalar(select(MarkScore).limit(1))
    for moment in (application.submitted_at, application.created_at, application.decided_at, score.created_at,
                   mark.created_at):
        assert abs(_aware(moment) - clock.now()) < timedelta(minutes=5)
