"""Applying for the mark: the criteria are checked, attachments are checked by content, nothing is half-saved."""
import io
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from catalog.mark import uploads
from catalog.mark.models import MarkApplication, MarkAttachment
from marketplace import clock
from marketplace.extensions import db
from tests.test_mark_helpers import (
    PDF,
    client_for,
    make_mark,
    make_offering,
    people,
    png_bytes,
    post_application,
    token,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _stored_files(app) -> list[str]:
    folder = os.path.join(app.config["UPLOAD_DIR"], "marks")
    return os.listdir(folder) if os.path.isdir(folder) else []


def test_fewer_than_six_months_is_refused_with_a_clear_message(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    response = post_application(c, crew["offering"].id, months_operating="5", files=[("a.pdf", PDF)])
    assert response.status_code == 422
    assert "co najmniej 6 miesięcy" in response.get_data(as_text=True)
    assert _count(MarkApplication) == 0 and _stored_files(app) == []


def test_fewer_than_two_recommendations_is_refused(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    response = post_application(c, crew["offering"].id, recommendations=1)
    assert response.status_code == 422
    assert "co najmniej 2 rekomendacje" in response.get_data(as_text=True)
    # A half-filled row is named, not silently dropped.
    response = post_application(c, crew["offering"].id, recommendations=2, rec3_name="Ktoś")
    assert response.status_code == 422
    assert "wyczyść całą rekomendację nr 3" in response.get_data(as_text=True)
    assert _count(MarkApplication) == 0


def test_short_statement_and_share_out_of_range_are_refused(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    response = post_application(c, crew["offering"].id, quality_statement="Dobre.", own_revenue_share="120")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "od 200 do 5000 znaków" in page and "Podaj liczbę od 0 do 100." in page
    assert _count(MarkApplication) == 0


def test_text_file_renamed_pdf_is_refused_and_nothing_is_kept(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    response = post_application(c, crew["offering"].id,
                                files=[("dobry.pdf", PDF), ("faktura.pdf", b"To jest zwykly tekst.\n" * 20)])
    assert response.status_code == 422
    assert "„faktura.pdf” nie jest dokumentem PDF ani obrazem" in response.get_data(as_text=True)
    assert _count(MarkApplication) == 0 and _count(MarkAttachment) == 0 and _stored_files(app) == []


def test_header_only_pdf_is_refused(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    response = post_application(c, crew["offering"].id, files=[("pusty.pdf", b"%PDF-1.7\n")])
    assert response.status_code == 422 and "nie jest dokumentem PDF" in response.get_data(as_text=True)


def test_a_file_over_five_megabytes_is_refused(app):
    big = PDF[:-6] + b"%" + b"x" * uploads.MAX_BYTES + b"\n%%EOF\n"
    with app.test_request_context():
        with pytest.raises(uploads.UploadError, match="jest za duży \\(najwyżej 5 MB\\)"):
            uploads.check(FileStorage(io.BytesIO(big), "duzy.pdf"))
        assert uploads.check(FileStorage(io.BytesIO(PDF + b"%" + b"x" * 1000), "ok.pdf")).content_type \
            == "application/pdf"


@pytest.mark.parametrize("app_config", [{"MARK_ATTACHMENT_MAX_BYTES": 100 * 1024}])
def test_oversized_file_and_too_many_files_are_refused(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    big = PDF[:-6] + b"%" + b"x" * (100 * 1024) + b"\n%%EOF\n"
    response = post_application(c, crew["offering"].id, files=[("duzy.pdf", big)])
    assert response.status_code == 422 and "„duzy.pdf” jest za duży" in response.get_data(as_text=True)
    response = post_application(c, crew["offering"].id, files=[(f"s{i}.pdf", PDF) for i in range(6)])
    assert response.status_code == 422 and "najwyżej 5 plików" in response.get_data(as_text=True)
    assert _count(MarkApplication) == 0 and _stored_files(app) == []


def test_valid_pdf_and_image_are_stored_privately_and_downloadable_only_by_authorised_people(app):
    crew = people(app)
    owner_client = client_for(app, crew["owner"])
    response = post_application(owner_client, crew["offering"].id,
                                files=[("rekomendacja.pdf", PDF), ("zdjecie.png", png_bytes())])
    assert response.status_code == 302
    attachments = db.session.scalars(select(MarkAttachment).order_by(MarkAttachment.id)).all()
    assert [(a.original_name, a.content_type) for a in attachments] == [
        ("rekomendacja.pdf", "application/pdf"), ("zdjecie.png", "image/png")]
    pdf = attachments[0]
    assert pdf.path.startswith("marks/") and "rekomendacja" not in pdf.path
    assert app.test_client().get("/media/" + pdf.path).status_code == 404  # never public

    url = f"/znak/zalacznik/{pdf.id}"
    with owner_client.get(url) as response:
        assert response.status_code == 200 and response.data == PDF
        assert "attachment" in response.headers["Content-Disposition"]
    with client_for(app, crew["moderator"]).get(url) as response:
        assert response.status_code == 200
    # The committee sees the files once the office has passed the application on, not before.
    for role in ("member1", "chair"):
        assert client_for(app, crew[role]).get(url).status_code == 403
    office = client_for(app, crew["moderator"])
    office.post(f"/moderacja/znak/{pdf.application_id}/przekaz", data={"csrf_token": token(office)})
    for role in ("member1", "chair"):
        with client_for(app, crew[role]).get(url) as response:
            assert response.status_code == 200
    from tests.factories import make_pes, make_user

    stranger = make_user("obcy@example.org")
    make_pes(owner=stranger)
    db.session.commit()
    assert client_for(app, stranger).get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302  # to the login page


def test_only_one_open_application_per_offering(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    assert post_application(c, crew["offering"].id).status_code == 302
    response = post_application(c, crew["offering"].id)
    assert response.status_code == 422
    assert "jest już otwarty wniosek" in response.get_data(as_text=True)
    assert _count(MarkApplication) == 1


def test_withdrawn_application_frees_the_offering(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    post_application(c, crew["offering"].id)
    application = db.session.scalar(select(MarkApplication))
    c.post(f"/panel/znak/wniosek/{application.id}/wycofaj", data={"csrf_token": token(c)})
    db.session.expire_all()
    assert application.status == "withdrawn"
    assert post_application(c, crew["offering"].id).status_code == 302


def test_unpublished_offering_or_unverified_pes_cannot_apply(app):
    crew = people(app)
    draft = make_offering(crew["pes"], title="Szkic", status="draft")
    db.session.commit()
    c = client_for(app, crew["owner"])
    response = post_application(c, draft.id)
    assert response.status_code == 422 and "tylko dla opublikowanej oferty" in response.get_data(as_text=True)
    crew["pes"].status = "suspended"
    db.session.commit()
    page = c.get(f"/panel/znak/wniosek?oferta={crew['offering'].id}").get_data(as_text=True)
    assert "tylko zweryfikowane podmioty" in page
    assert _count(MarkApplication) == 0


def test_renewal_opens_sixty_days_before_expiry(app):
    crew = people(app)
    today = clock.today()
    make_mark(crew["offering"], "ZJ/2025/0100", today - timedelta(days=200), today + timedelta(days=61))
    db.session.commit()
    c = client_for(app, crew["owner"])
    response = post_application(c, crew["offering"].id)
    assert response.status_code == 422 and "O przedłużenie można wystąpić od" in response.get_data(as_text=True)
    app.config["CLOCK_OFFSET_DAYS"] = 1  # now 60 days before expiry
    assert post_application(c, crew["offering"].id).status_code == 302
    assert db.session.scalar(select(MarkApplication)).renews_mark_id is not None


def test_unknown_offering_is_404(app):
    crew = people(app)
    c = client_for(app, crew["owner"])
    assert c.get("/panel/znak/wniosek?oferta=999999").status_code == 404
    assert c.get("/panel/znak/wniosek").status_code == 404
    assert c.get("/panel/znak/wniosek?oferta=abc").status_code == 404


def test_a_suspended_mark_cannot_be_got_round_by_a_new_application(app):
    crew = people(app)
    today = clock.today()
    make_mark(crew["offering"], "ZJ/2025/0101", today - timedelta(days=20), today + timedelta(days=300),
              status="suspended", status_reason="Skarga.")
    db.session.commit()
    response = post_application(client_for(app, crew["owner"]), crew["offering"].id)
    assert response.status_code == 422 and "jest zawieszony" in response.get_data(as_text=True)
    assert _count(MarkApplication) == 0


def test_a_revoked_mark_cannot_be_got_round_by_a_new_application(app):
    crew = people(app)
    today = clock.today()
    make_mark(crew["offering"], "ZJ/2025/0102", today - timedelta(days=20), today + timedelta(days=300),
              status="revoked", status_reason="Oszustwo.")
    db.session.commit()
    c = client_for(app, crew["owner"])
    response = post_application(c, crew["offering"].id)
    assert response.status_code == 422 and "(certyfikat ZJ/2025/0102) został cofnięty" in response.get_data(
        as_text=True)
    assert _count(MarkApplication) == 0
    app.config["CLOCK_OFFSET_DAYS"] = 301  # the period it was awarded for is over: a new start is possible
    assert post_application(c, crew["offering"].id).status_code == 302
