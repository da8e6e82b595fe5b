"""The whole way of a quality mark over HTTP: apply, return, resubmit, committee, scores, grant, numbers, mail."""
from datetime import timedelta

from sqlalchemy import select

from catalog.mark.models import MarkApplication, MarkScore, QualityMark
from marketplace import clock
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from tests.test_mark_helpers import (
    application_data,
    client_for,
    make_offering,
    people,
    post_application,
    score_data,
    token,
)


def _through_committee(app, crew, offering, mailbox, decision="grant"):
    """Apply, send to the committee, two members score, the chair decides; returns the application."""
    pes_client = client_for(app, crew["owner"])
    response = post_application(pes_client, offering.id)
    assert response.status_code == 302
    application = db.session.scalars(select(MarkApplication).where(
        MarkApplication.offering_id == offering.id).order_by(MarkApplication.id.desc())).first()
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/{application.id}/przekaz", data={"csrf_token": token(office)})
    for member in ("member1", "member2"):
        c = client_for(app, crew[member])
        assert c.post(f"/kapitula/{application.id}/ocena", data=score_data(c, 4)).status_code == 302
    chair = client_for(app, crew["chair"])
    response = chair.post(f"/kapitula/{application.id}/decyzja", data={
        "csrf_token": token(chair), "decision": decision, "reason": "Wysoka jakość potwierdzona rekomendacjami."})
    assert response.status_code == 302
    db.session.expire_all()
    return application


def test_whole_flow_from_application_to_certificate(app, mailbox):
    crew = people(app)
    owner, offering = crew["owner"], crew["offering"]
    pes_client = client_for(app, owner)

    page = pes_client.get(f"/panel/znak/wniosek?oferta={offering.id}").get_data(as_text=True)
    assert "spółdzielnia socjalna" in page and "uprawnia do ubiegania się o znak" in page
    response = post_application(pes_client, offering.id)
    assert response.status_code == 302
    application = db.session.scalar(select(MarkApplication))
    assert application.status == "submitted" and len(application.recommendations) == 2
    assert "złożony" in pes_client.get("/panel/znak").get_data(as_text=True)

    # The office returns it with comments; the PES is told and corrects it.
    office = client_for(app, crew["moderator"])
    assert offering.title in office.get("/moderacja/znak").get_data(as_text=True)
    response = office.post(f"/moderacja/znak/{application.id}/zwroc", data={"csrf_token": token(office),
                                                                            "comment": ""})
    assert response.status_code == 422 and "Napisz, co trzeba uzupełnić." in response.get_data(as_text=True)
    office.post(f"/moderacja/znak/{application.id}/zwroc",
                data={"csrf_token": token(office), "comment": "Dołączcie trzecią rekomendację."})
    db.session.expire_all()
    assert application.status == "returned"
    mail = mailbox.last(owner.email)
    assert "uzupełnienia" in mail["Subject"] and "Dołączcie trzecią rekomendację." in mailbox.body(mail)
    page = pes_client.get(f"/panel/znak/wniosek/{application.id}").get_data(as_text=True)
    assert "Dołączcie trzecią rekomendację." in page and "Złóż poprawiony wniosek" in page
    response = pes_client.post(f"/panel/znak/wniosek/{application.id}",
                               data=application_data(pes_client, recommendations=3),
                               content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    assert application.status == "submitted" and len(application.recommendations) == 3

    # The office passes it on; two committee members score; the chair grants.
    office.post(f"/moderacja/znak/{application.id}/przekaz", data={"csrf_token": token(office)})
    db.session.expire_all()
    assert application.status == "in_review"
    assert "kapituły" in mailbox.last(owner.email)["Subject"]
    for member, value in (("member1", 4), ("member2", 2)):
        c = client_for(app, crew[member])
        assert offering.title in c.get("/kapitula").get_data(as_text=True)
        assert c.post(f"/kapitula/{application.id}/ocena", data=score_data(c, value)).status_code == 302
    # A score can change until the decision.
    c = client_for(app, crew["member2"])
    c.post(f"/kapitula/{application.id}/ocena", data=score_data(c, 3))
    assert db.session.scalar(select(db.func.count()).select_from(MarkScore)) == 10
    chair = client_for(app, crew["chair"])
    page = chair.get(f"/kapitula/{application.id}").get_data(as_text=True)
    assert "3,5" in page  # the average of 4 and 3, in Polish notation
    response = chair.post(f"/kapitula/{application.id}/decyzja",
                          data={"csrf_token": token(chair), "decision": "grant", "reason": ""})
    assert response.status_code == 422 and "Podaj uzasadnienie decyzji." in response.get_data(as_text=True)
    chair.post(f"/kapitula/{application.id}/decyzja", data={
        "csrf_token": token(chair), "decision": "grant", "reason": "Rekomendacje i opis przekonują."})
    db.session.expire_all()
    assert application.status == "granted"

    year = clock.today().year
    mark = db.session.scalar(select(QualityMark))
    assert mark.number == f"ZJ/{year}/0001"
    assert mark.valid_from == clock.today() and mark.application_id == application.id
    mail = mailbox.last(owner.email)
    assert mark.number in mail["Subject"] and mark.number in mailbox.body(mail)
    assert f"http://localhost/znak-jakosci/ZJ/{year}/0001" in mailbox.body(mail)
    page = app.test_client().get(f"/znak-jakosci/ZJ/{year}/0001").get_data(as_text=True)
    assert "Znak jest ważny" in page

    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"mark.return", "mark.to_committee", "mark.score", "mark.grant", "mark.award"} <= actions

    # Another offering, another award: the next number.
    second = make_offering(crew["pes"], title="Catering na konferencje")
    db.session.commit()
    _through_committee(app, crew, second, mailbox)
    numbers = list(db.session.scalars(select(QualityMark.number).order_by(QualityMark.id)))
    assert numbers == [f"ZJ/{year}/0001", f"ZJ/{year}/0002"]


def test_refusal_is_mailed_with_reasons_and_allows_a_new_application(app, mailbox):
    crew = people(app)
    application = _through_committee(app, crew, crew["offering"], mailbox, decision="refuse")
    assert application.status == "refused"
    assert db.session.scalar(select(QualityMark)) is None
    mail = mailbox.last(crew["owner"].email)
    assert "Odmowa" in mail["Subject"] and "Wysoka jakość potwierdzona" in mailbox.body(mail)
    assert "refuse" not in mailbox.body(mail)
    c = client_for(app, crew["owner"])
    assert "Wysoka jakość potwierdzona" in c.get(f"/panel/znak/wniosek/{application.id}").get_data(as_text=True)
    assert post_application(c, crew["offering"].id).status_code == 302


def test_mail_goes_in_the_owners_language(app, mailbox):
    crew = people(app)
    crew["owner"].locale = "en"
    db.session.commit()
    _through_committee(app, crew, crew["offering"], mailbox)
    assert mailbox.last(crew["owner"].email)["Subject"]  # rendered in the owner's locale without error


def test_renewal_starts_the_day_after_the_old_mark(app, mailbox):
    from tests.test_mark_helpers import make_mark

    crew = people(app)
    today = clock.today()
    old = make_mark(crew["offering"], "ZJ/2020/0009", today - timedelta(days=330), today + timedelta(days=20))
    db.session.commit()
    page = client_for(app, crew["owner"]).get(f"/panel/znak/wniosek?oferta={crew['offering'].id}")
    assert "przedłużenie znaku ZJ/2020/0009" in page.get_data(as_text=True)
    application = _through_committee(app, crew, crew["offering"], mailbox)
    assert application.renews_mark_id == old.id
    new = db.session.scalar(select(QualityMark).where(QualityMark.application_id == application.id))
    assert new.valid_from == old.valid_until + timedelta(days=1)
