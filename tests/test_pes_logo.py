"""Logos: only real PNG, JPEG or WebP images, shrunk, stripped of metadata, replaced cleanly."""
import io
import os
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.exc import DBAPIError

from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.test_pes_support import (
    all_pes,
    image_bytes,
    jpeg_with_gps,
    profile_form,
    sign_in,
    upload,
    writes_refused,
)

NEW = "/panel/pes/nowy"


def _create_with_logo(client, data: bytes, filename: str):
    user = make_user()
    db.session.commit()
    sign_in(client, user)
    form = profile_form(logo=upload(data, filename), csrf_token=csrf_token(client, NEW))
    return client.post(NEW, data=form, content_type="multipart/form-data", follow_redirects=True)


def _stored(app, pes) -> Image.Image:
    path = Path(app.config["UPLOAD_DIR"]) / pes.logo
    return Image.open(io.BytesIO(path.read_bytes()))


def test_png_logo_is_shrunk_to_fit_and_shown_with_alt_text(app, client):
    resp = _create_with_logo(client, image_bytes("PNG", size=(1200, 800)), "logo.png")
    assert resp.status_code == 200
    [pes] = all_pes()
    assert pes.logo.startswith("logos/") and pes.logo.endswith(".png")
    img = _stored(app, pes)
    assert img.format == "PNG" and img.size == (400, 267)

    page = client.get(f"/pes/{pes.id}").get_data(as_text=True)
    assert f'alt="Logo: {pes.name}"' in page
    with client.get(f"/media/{pes.logo}") as served:
        assert served.status_code == 200 and served.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_photo_logo_loses_its_exif_and_gps(app, client):
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(0x8825)  # the test photo does carry a position

    _create_with_logo(client, jpeg_with_gps(), "zdjecie.jpg")

    [pes] = all_pes()
    img = _stored(app, pes)
    assert img.size == (400, 300)
    assert not img.getexif() and "exif" not in img.info and "icc_profile" not in img.info
    raw = (Path(app.config["UPLOAD_DIR"]) / pes.logo).read_bytes()
    assert b"PhoneMaker" not in raw and b"Exif" not in raw


@pytest.mark.parametrize("data, filename, message", [
    (b"To nie jest obraz, tylko tekst.\n", "logo.png", "Ten plik nie jest obrazem PNG, JPEG ani WebP."),
    (image_bytes("GIF", size=(50, 50)), "logo.gif", "Ten plik nie jest obrazem PNG, JPEG ani WebP."),
    (image_bytes("PNG", size=(8000, 8000), mode="1"), "bomba.png", "Obraz ma zbyt duże wymiary"),
])
def test_files_that_are_not_usable_images_are_refused(client, data, filename, message):
    resp = _create_with_logo(client, data, filename)
    page = resp.get_data(as_text=True)
    assert message in page.split('id="logo-error">', 1)[1].split("</p>", 1)[0]
    assert all_pes() == []


# A quarter of a megabyte keeps the upload under the size at which the test client spools it to disk.
@pytest.mark.parametrize("app_config", [{"LOGO_MAX_BYTES": 256 * 1024}])
def test_logo_over_the_size_limit_is_refused(app, client):
    too_big = image_bytes("PNG", size=(200, 200)) + os.urandom(app.config["LOGO_MAX_BYTES"])
    resp = _create_with_logo(client, too_big, "duze.png")
    page = resp.get_data(as_text=True)
    assert "Plik logo jest za duży (maksymalnie 0,25 MB)." in page
    assert all_pes() == []
    assert not (Path(app.config["UPLOAD_DIR"]) / "logos").exists()


def test_new_logo_replaces_and_deletes_the_old_file(app, client):
    owner = make_user()
    pes = make_pes(owner=owner)
    db.session.commit()
    sign_in(client, owner)
    path = f"/panel/pes/{pes.id}/edytuj"

    def post(**extra):
        form = profile_form(csrf_token=csrf_token(client, path), **extra)
        return client.post(path, data=form, content_type="multipart/form-data", follow_redirects=True)

    post(logo=upload(image_bytes("PNG", size=(300, 300)), "a.png"))
    db.session.expire_all()
    first = Path(app.config["UPLOAD_DIR"]) / pes.logo
    assert first.is_file()

    post(logo=upload(image_bytes("JPEG", size=(500, 500)), "b.jpg"))
    db.session.expire_all()
    second = Path(app.config["UPLOAD_DIR"]) / pes.logo
    assert second.is_file() and second.suffix == ".webp" and not first.exists()

    post()  # saving without a file keeps the logo
    db.session.expire_all()
    assert Path(app.config["UPLOAD_DIR"]) / pes.logo == second

    post(remove_logo="y")
    db.session.expire_all()
    assert pes.logo is None and not second.exists()


def test_logo_of_a_profile_that_could_not_be_saved_is_not_kept(app, client):
    user = make_user()
    db.session.commit()
    sign_in(client, user)
    form = profile_form(logo=upload(image_bytes("PNG", size=(300, 300)), "logo.png"),
                        csrf_token=csrf_token(client, NEW))
    with writes_refused("pes"), pytest.raises(DBAPIError):
        client.post(NEW, data=form, content_type="multipart/form-data")
    assert all_pes() == []
    assert list((Path(app.config["UPLOAD_DIR"]) / "logos").glob("*")) == []


def test_failed_save_keeps_the_old_logo_and_drops_the_new_one(app, client):
    owner = make_user()
    pes = make_pes(owner=owner)
    db.session.commit()
    sign_in(client, owner)
    path = f"/panel/pes/{pes.id}/edytuj"

    def post(data: bytes, filename: str):
        form = profile_form(logo=upload(data, filename), csrf_token=csrf_token(client, path))
        return client.post(path, data=form, content_type="multipart/form-data", follow_redirects=True)

    post(image_bytes("PNG", size=(300, 300)), "a.png")
    db.session.expire_all()
    old_logo, old_name = pes.logo, pes.name
    logos = Path(app.config["UPLOAD_DIR"]) / "logos"
    assert [p.name for p in logos.glob("*")] == [old_logo.split("/")[1]]

    with writes_refused("pes"), pytest.raises(DBAPIError):
        post(image_bytes("JPEG", size=(500, 500)), "b.jpg")

    db.session.expire_all()
    assert (pes.logo, pes.name) == (old_logo, old_name)
    assert [p.name for p in logos.glob("*")] == [old_logo.split("/")[1]]
    with client.get(f"/media/{old_logo}") as served:
        assert served.status_code == 200
