"""Attachments are checked by what they hold: PDFs that pypdf reads, without scripts, actions, embedded files
or encryption; images of at most 16 million pixels whose data verify."""
import io

import pytest
from PIL import Image
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from catalog.mark import uploads
from catalog.mark.models import MarkApplication
from marketplace.extensions import db
from tests.test_mark_helpers import PDF, client_for, pdf_bytes, people, png_bytes, post_application


def _check(app, data: bytes, name: str = "plik.pdf"):
    with app.test_request_context():
        return uploads.check(FileStorage(io.BytesIO(data), name))


def _page_action(writer) -> None:
    """An action run when the page opens (/AA), as a PDF-borne attack would add."""
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})})


def _open_script(writer) -> None:
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")})


def test_a_plain_pdf_is_accepted(app):
    checked = _check(app, PDF, "rekomendacja.pdf")
    assert (checked.content_type, checked.extension, checked.data) == ("application/pdf", "pdf", PDF)


@pytest.mark.parametrize("build", [
    lambda w: w.add_open_action(JavaScript("app.alert('x');")),  # pypdf's successor of add_js
    lambda w: w.add_attachment("faktura.exe", b"MZ..."),
    _page_action,
    _open_script,
], ids=["javascript", "embedded-file", "page-action", "open-action-script"])
def test_a_pdf_with_active_content_is_refused_over_http(app, build):
    crew = people(app)
    response = post_application(client_for(app, crew["owner"]), crew["offering"].id,
                                files=[("oferta.pdf", pdf_bytes(build))])
    assert response.status_code == 422
    assert "„oferta.pdf” zawiera skrypty, automatyczne akcje lub osadzone pliki" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MarkApplication)) == 0


def test_an_opening_action_that_only_shows_a_page_is_fine(app):
    def go_to_first_page(writer):
        writer._root_object[NameObject("/OpenAction")] = writer.pages[0].indirect_reference

    assert _check(app, pdf_bytes(go_to_first_page)).content_type == "application/pdf"


def test_an_encrypted_pdf_is_refused(app):
    data = pdf_bytes(lambda w: w.encrypt(user_password="tajne", owner_password="tajne", algorithm="RC4-128"))
    with pytest.raises(uploads.UploadError, match="jest zaszyfrowany lub chroniony hasłem"):
        _check(app, data)


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n" + b"\x00" * 200,
    PDF[: len(PDF) // 2],
    (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] "
     b"/Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"),  # looks like a PDF, has no page
], ids=["garbage", "cut-in-half", "no-pages"])
def test_a_pdf_that_cannot_be_read_is_refused(app, data):
    with pytest.raises(uploads.UploadError, match="nie jest dokumentem PDF, który da się odczytać"):
        _check(app, data)


def test_an_image_over_sixteen_million_pixels_is_refused(app):
    out = io.BytesIO()
    Image.new("1", (5000, 3500)).save(out, "PNG")  # 17.5 million pixels in a few kilobytes
    with pytest.raises(uploads.UploadError, match="nie jest dokumentem PDF ani obrazem"):
        _check(app, out.getvalue(), "plakat.png")
    out = io.BytesIO()
    Image.new("1", (4000, 4000)).save(out, "PNG")
    assert _check(app, out.getvalue(), "plakat.png").content_type == "image/png"


def test_a_damaged_image_is_refused_and_a_good_one_accepted(app):
    good = png_bytes()
    damaged = good[:40] + bytes([good[40] ^ 0xFF]) + good[41:]  # a flipped byte: the chunk's checksum fails
    with pytest.raises(uploads.UploadError, match="nie jest dokumentem PDF ani obrazem"):
        _check(app, damaged, "zdjecie.png")
    assert _check(app, good, "zdjecie.png").extension == "png"
