"""Who may do what with mark applications: other PES, committee members of the applying PES, non-chairs."""
from sqlalchemy import func, select

from catalog.mark.models import MarkApplication, MarkScore, QualityMark
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.pes.models import PesMembership
from tests.factories import make_pes, make_user
from tests.test_mark_helpers import client_for, make_offering, people, post_application, score_data, token


def _submitted(app, crew) -> MarkApplication:
    c = client_for(app, crew["owner"])
    assert post_application(c, crew["offering"].id).status_code == 302
    return db.session.scalar(select(MarkApplication))


def _in_review(app, crew) -> MarkApplication:
    application = _submitted(app, crew)
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/{application.id}/przekaz", data={"csrf_token": token(office)})
    db.session.expire_all()
    assert application.status == "in_review"
    return application


def test_another_pes_cannot_see_or_touch_the_application(app):
    crew = people(app)
    application = _submitted(app, crew)
    other = make_user("inny@example.org")
    other_pes = make_pes(owner=other, name="Inna Spółdzielnia")
    make_offering(other_pes, title="Cudza oferta")
    db.session.commit()
    c = client_for(app, other)
    assert c.get(f"/panel/znak/wniosek/{application.id}").status_code == 404
    assert c.post(f"/panel/znak/wniosek/{application.id}/wycofaj",
                  data={"csrf_token": token(c)}).status_code == 404
    # Nor apply for another PES's offering.
    assert c.get(f"/panel/znak/wniosek?oferta={crew['offering'].id}").status_code == 403
    assert post_application(c, crew["offering"].id).status_code == 403
    assert crew["offering"].title not in c.get("/panel/znak").get_data(as_text=True)
    db.session.expire_all()
    assert application.status == "submitted"
    assert db.session.scalar(select(func.count()).select_from(MarkApplication)) == 1


def test_pes_members_and_buyers_cannot_use_the_office_or_committee_pages(app):
    crew = people(app)
    application = _submitted(app, crew)
    c = client_for(app, crew["owner"])
    assert c.get("/moderacja/znak").status_code == 403
    assert c.post(f"/moderacja/znak/{application.id}/przekaz", data={"csrf_token": token(c)}).status_code == 403
    assert c.get("/kapitula").status_code == 403
    assert c.post(f"/kapitula/{application.id}/ocena", data=score_data(c)).status_code == 403
    assert app.test_client().get("/kapitula").status_code == 302  # to the login page
    db.session.expire_all()
    assert application.status == "submitted"


def test_committee_member_of_the_applying_pes_cannot_score_and_is_told_why(app):
    crew = people(app)
    db.session.add(PesMembership(pes_id=crew["pes"].id, user_id=crew["member1"].id, role="editor"))
    db.session.commit()
    application = _in_review(app, crew)
    c = client_for(app, crew["member1"])
    page = c.get(f"/kapitula/{application.id}").get_data(as_text=True)
    assert "Jesteś członkiem podmiotu, który złożył ten wniosek" in page and "Zapisz ocenę" not in page
    response = c.post(f"/kapitula/{application.id}/ocena", data=score_data(c))
    assert response.status_code == 403
    assert "Jesteś członkiem podmiotu" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MarkScore)) == 0


def test_only_the_chair_decides_and_only_after_scores(app):
    crew = people(app)
    application = _in_review(app, crew)
    member = client_for(app, crew["member1"])
    assert "Decyzja przewodniczącego" not in member.get(f"/kapitula/{application.id}").get_data(as_text=True)
    response = member.post(f"/kapitula/{application.id}/decyzja",
                           data={"csrf_token": token(member), "decision": "grant", "reason": "Tak."})
    assert response.status_code == 403
    chair = client_for(app, crew["chair"])
    response = chair.post(f"/kapitula/{application.id}/decyzja",
                          data={"csrf_token": token(chair), "decision": "grant", "reason": "Tak."},
                          follow_redirects=True)
    assert "Żaden członek kapituły nie ocenił" in response.get_data(as_text=True)
    db.session.expire_all()
    assert application.status == "in_review"
    assert db.session.scalar(select(QualityMark)) is None


def test_scores_are_refused_outside_the_scale_and_after_the_decision(app):
    crew = people(app)
    application = _in_review(app, crew)
    c = client_for(app, crew["member1"])
    data = score_data(c)
    data["score_quality"] = "7"
    response = c.post(f"/kapitula/{application.id}/ocena", data=data)
    assert response.status_code == 422
    c.post(f"/kapitula/{application.id}/ocena", data=score_data(c, 5))
    other = client_for(app, crew["member2"])
    other.post(f"/kapitula/{application.id}/ocena", data=score_data(other, 5))
    chair = client_for(app, crew["chair"])
    chair.post(f"/kapitula/{application.id}/decyzja",
               data={"csrf_token": token(chair), "decision": "refuse", "reason": "Za mało dowodów."})
    response = c.post(f"/kapitula/{application.id}/ocena", data=score_data(c, 1), follow_redirects=True)
    assert "Tej czynności nie można wykonać" in response.get_data(as_text=True)
    assert set(db.session.scalars(select(MarkScore.score))) == {5}


def test_a_moderator_of_the_applying_pes_cannot_check_it(app):
    crew = people(app)
    db.session.add(PesMembership(pes_id=crew["pes"].id, user_id=crew["moderator"].id, role="editor"))
    db.session.commit()
    application = _submitted(app, crew)
    office = client_for(app, crew["moderator"])
    assert "nie możesz sprawdzać jego wniosku" in office.get(f"/moderacja/znak/{application.id}").get_data(
        as_text=True)
    response = office.post(f"/moderacja/znak/{application.id}/przekaz", data={"csrf_token": token(office)})
    assert response.status_code == 403
    assert list(db.session.scalars(select(AuditEntry.action))) == ["mark.apply"]  # the PES's own step only
