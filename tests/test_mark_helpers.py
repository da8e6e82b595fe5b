"""Builders and steps shared by the quality mark tests (this module holds no tests of its own)."""
import io
import itertools
from datetime import date

from PIL import Image
from pypdf import PdfWriter

from catalog.mark.models import QualityMark
from catalog.models import Offering
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import login, make_pes, make_user

_seq = itertools.count(1)
STATEMENT = ("Nasze obiady gotujemy każdego dnia ze świeżych, lokalnych produktów od rolników z powiatu "
             "toruńskiego. Jadłospis układa dietetyczka, a porcje dowozimy w termoizolacyjnych pojemnikach. "
             "Od trzech lat obsługujemy szkoły i przedszkola bez jednej reklamacji dotyczącej jakości.")


def pdf_bytes(build=None) -> bytes:
    """A one-page PDF made with pypdf; `build(writer)` may add scripts, attachments or encryption to it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if build is not None:
        build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = pdf_bytes()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 120, 60)).save(out, "PNG")
    return out.getvalue()


def make_offering(pes, title: str = "Obiady dla szkół", category: str = "catering", status: str = "published",
                  **fields) -> Offering:
    offering = Offering(ref=f"off-m{next(_seq)}", pes_id=pes.id, kind=fields.pop("kind", "service"), title=title,
                        category=category, status=status, description=fields.pop("description", "Opis."),
                        **fields)
    db.session.add(offering)
    db.session.flush()
    return offering


def make_mark(offering, number: str, valid_from: date, valid_until: date, status: str = "active",
              **fields) -> QualityMark:
    """A mark as the importer creates it (no application) unless fields say otherwise."""
    mark = QualityMark(number=number, offering_id=offering.id, pes_id=offering.pes_id, valid_from=valid_from,
                       valid_until=valid_until, status=status, **fields)
    db.session.add(mark)
    db.session.flush()
    return mark


def people(app, owner_email: str = "wlasciciel@example.org"):
    """A verified PES with a published offering, its owner, a moderator, two committee members and the chair."""
    owner = make_user(owner_email, locale="pl")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Przystań")
    offering = make_offering(pes)
    crew = {
        "owner": owner, "pes": pes, "offering": offering,
        "moderator": make_user("moderator@example.org", role="moderator"),
        "member1": make_user("kapitula1@example.org", role="committee", name="Jan Kapituła"),
        "member2": make_user("kapitula2@example.org", role="committee", name="Ewa Kapituła"),
        "chair": make_user("przewodniczaca@example.org", role="committee_chair", name="Maria Przewodnicząca"),
    }
    db.session.commit()
    return crew


def client_for(app, user):
    """A browser of its own, signed in as the user."""
    client = app.test_client()
    response = login(client, user.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def token(client) -> str:
    """The session's CSRF token, from the logout form every signed-in page has."""
    return csrf_token(client, "/")


def application_data(client, recommendations: int = 2, files=(), **overrides) -> dict:
    data = {"csrf_token": token(client), "months_operating": "18", "own_revenue_share": "45",
            "quality_statement": STATEMENT}
    for i in range(1, recommendations + 1):
        data.update({f"rec{i}_name": f"Osoba {i}", f"rec{i}_organisation": f"Szkoła Podstawowa nr {i}",
                     f"rec{i}_contact": f"szkola{i}@example.org",
                     f"rec{i}_text": "Polecamy – obiady zawsze na czas i smaczne."})
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    data.update(overrides)
    return data


def post_application(client, offering_id: int, **kwargs):
    return client.post(f"/panel/znak/wniosek?oferta={offering_id}", data=application_data(client, **kwargs),
                       content_type="multipart/form-data")


def score_data(client, value: int = 4) -> dict:
    from catalog.mark.models import CRITERIA

    data = {"csrf_token": token(client)}
    for c in CRITERIA:
        data[f"score_{c}"] = str(value)
        data[f"comment_{c}"] = f"Uwagi do kryterium {c}."
    return data


def submitted(app, crew, offering=None):
    """The crew's owner applies for the offering over HTTP; returns the application."""
    from sqlalchemy import select

    from catalog.mark.models import MarkApplication

    offering = offering or crew["offering"]
    assert post_application(client_for(app, crew["owner"]), offering.id).status_code == 302
    return db.session.scalars(select(MarkApplication).where(MarkApplication.offering_id == offering.id)
                              .order_by(MarkApplication.id.desc())).first()


def in_review(app, crew, offering=None, scored_by=()):
    """An application passed to the committee by the moderator and scored 4 by the named crew members."""
    application = submitted(app, crew, offering)
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/{application.id}/przekaz", data={"csrf_token": token(office)})
    for who in scored_by:
        c = client_for(app, crew[who])
        assert c.post(f"/kapitula/{application.id}/ocena", data=score_data(c, 4)).status_code == 302
    db.session.expire_all()
    assert application.status == "in_review"
    return application


def decide(client, application, decision: str = "grant", reason: str = "Produkt wysokiej jakości."):
    return client.post(f"/kapitula/{application.id}/decyzja", follow_redirects=True,
                       data={"csrf_token": token(client), "decision": decision, "reason": reason})
