"""Offering photos: real PNG/JPEG/WebP only, stripped of metadata, shrunk with a thumbnail, alt text required,
at most eight, reordered and removed; a bad photo leaves nothing half-saved, neither rows nor files."""
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from catalog.models import OfferingImage
from marketplace.core import images as core_images
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_pes
from tests.test_catalog_offerings import all_offerings, cpv_codes, error_of, make_offering, member, post_new  # noqa: F401
from tests.test_pes_support import image_bytes, jpeg_with_gps, upload


def _files(app) -> list[str]:
    folder = Path(app.config["UPLOAD_DIR"]) / "offerings"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _open(app, relative: str) -> Image.Image:
    return Image.open(io.BytesIO((Path(app.config["UPLOAD_DIR"]) / relative).read_bytes()))


def _url(relative: str) -> str:
    """The address a stored photo ("offerings/<name>") is served at."""
    return "/oferta/zdjecie/" + relative.split("/", 1)[1]


def png_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    return image_bytes("PNG", size=(2400, 1200), exif=exif)


def test_a_png_is_stored_without_exif_with_a_thumbnail_and_shown_with_its_alt(app, client, cpv_codes):
    assert Image.open(io.BytesIO(png_with_exif())).getexif()  # the upload does carry metadata
    _user, pes = member(client)
    resp = post_new(client, pes, status="published", **{"new_images-0-file": upload(png_with_exif(), "obiad.png"),
                                                          "new_images-0-alt": "Obiad w pojemnikach"})
    assert resp.status_code == 302
    [offering] = all_offerings()
    [image] = offering.images
    assert image.alt == "Obiad w pojemnikach" and image.path.startswith("offerings/") and image.path.endswith(".png")
    big, thumb = _open(app, image.path), _open(app, image.thumb_path)
    assert big.size == (1600, 800) == (image.width, image.height) and thumb.size == (400, 200)
    assert not big.getexif() and "exif" not in big.info and not thumb.getexif()
    assert b"PhoneMaker" not in (Path(app.config["UPLOAD_DIR"]) / image.path).read_bytes()

    page = client.get(f"/oferta/{offering.id}", follow_redirects=True).get_data(as_text=True)
    assert f'src="{_url(image.path)}" alt="Obiad w pojemnikach"' in page
    assert f'href="{_url(image.path)}"' in page and "/media/offerings/" not in page
    with client.get(_url(image.thumb_path)) as served:
        assert served.status_code == 200 and served.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_photo_loses_its_gps_position(app, client, cpv_codes):
    _user, pes = member(client)
    post_new(client, pes, **{"new_images-0-file": upload(jpeg_with_gps(), "zdjecie.jpg"),
                             "new_images-0-alt": "Sala"})
    [image] = all_offerings()[0].images
    stored = _open(app, image.path)
    assert stored.format == "WEBP" and stored.size == (1600, 1200)
    assert not stored.getexif() and b"PhoneMaker" not in (Path(app.config["UPLOAD_DIR"]) / image.path).read_bytes()


@pytest.mark.parametrize("data, filename, message", [
    (b"To nie jest obraz.\n", "obraz.png", "Ten plik nie jest obrazem PNG, JPEG ani WebP."),
    (image_bytes("GIF", size=(50, 50)), "anim.gif", "Ten plik nie jest obrazem PNG, JPEG ani WebP."),
    (image_bytes("PNG", size=(8000, 8000), mode="1"), "bomba.png", "Obraz ma zbyt duże wymiary"),
    # 20 million pixels: more than any photo needs, and hundreds of megabytes once decoded.
    (image_bytes("PNG", size=(5000, 4000), mode="1"), "duzy.png", "Obraz ma zbyt duże wymiary (5000 × 4000 pikseli)"),
])
def test_files_that_are_not_usable_images_are_refused(app, client, cpv_codes, data, filename, message):
    _user, pes = member(client)
    resp = post_new(client, pes, **{"new_images-0-file": upload(data, filename), "new_images-0-alt": "Opis"})
    assert resp.status_code == 422
    assert message in error_of(resp.get_data(as_text=True), "new_images-0-file")
    assert all_offerings() == [] and _files(app) == []


@pytest.mark.parametrize("app_config", [{"OFFERING_IMAGE_MAX_BYTES": 256 * 1024}])
def test_a_photo_over_the_size_limit_is_refused(app, client, cpv_codes):
    _user, pes = member(client)
    too_big = image_bytes("PNG", size=(200, 200)) + os.urandom(256 * 1024)
    resp = post_new(client, pes, **{"new_images-0-file": upload(too_big, "duze.png"), "new_images-0-alt": "Opis"})
    assert "Zdjęcie jest za duże (maksymalnie 0,25 MB)." in error_of(resp.get_data(as_text=True), "new_images-0-file")
    assert all_offerings() == [] and _files(app) == []


def test_a_photo_without_alt_text_is_refused(app, client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, **{"new_images-0-file": upload(image_bytes(), "a.png"), "new_images-0-alt": "  "})
    assert resp.status_code == 422
    assert "tekstu alternatywnego" in error_of(resp.get_data(as_text=True), "new_images-0-alt")
    assert all_offerings() == [] and _files(app) == []


def test_one_bad_photo_saves_nothing_not_even_the_good_one(app, client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, **{"new_images-0-file": upload(image_bytes(), "dobre.png"),
                                    "new_images-0-alt": "Dobre",
                                    "new_images-1-file": upload(b"GIF89a nonsense", "zle.png"),
                                    "new_images-1-alt": "Złe"})
    assert resp.status_code == 422
    assert all_offerings() == [] and _files(app) == []


def test_files_are_removed_when_the_save_is_refused_after_they_were_written(app, client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, status="published", description="",
                    **{"new_images-0-file": upload(image_bytes(), "a.png"), "new_images-0-alt": "Zdjęcie"})
    assert resp.status_code == 422 and "opis oferty" in resp.get_data(as_text=True)
    assert all_offerings() == [] and _files(app) == []


def _offering_with_photos(app, pes, n: int):
    offering = make_offering(pes, status="draft")
    for i in range(n):
        prepared = core_images.prepare(io.BytesIO(image_bytes(size=(40 + i, 30))),
                                       core_images.ImageLimits("offerings", 10**6, 1600, 400))
        stored = core_images.store(prepared, "offerings")
        offering.images.append(OfferingImage(path=stored.path, thumb_path=stored.thumb_path, width=stored.width,
                                             height=stored.height, alt=f"Zdjęcie {i + 1}", position=i))
    db.session.commit()
    return offering


def test_a_ninth_photo_is_refused(app, client, cpv_codes):
    _user, pes = member(client)
    offering = _offering_with_photos(app, pes, 8)
    before = _files(app)
    path = f"/panel/oferty/{offering.id}/edytuj"
    page = client.get(path).get_data(as_text=True)
    assert "Oferta ma już najwięcej zdjęć" in page and 'name="new_images-0-file"' not in page
    resp = post_new(client, pes, path=path, **{"new_images-0-file": upload(image_bytes(), "9.png"),
                                               "new_images-0-alt": "Dziewiąte"})
    assert resp.status_code == 422
    assert "najwyżej 8 zdjęć" in error_of(resp.get_data(as_text=True), "new_images-0-file")
    assert len(all_offerings()[0].images) == 8 and _files(app) == before


def test_photos_are_reordered_described_again_and_removed(app, client, cpv_codes):
    _user, pes = member(client)
    offering = _offering_with_photos(app, pes, 3)
    first, second, third = offering.images
    path = f"/panel/oferty/{offering.id}/edytuj"
    fields = {"images-0-image_id": first.id, "images-0-alt": "Pierwsze", "images-0-position": "3",
              "images-1-image_id": second.id, "images-1-alt": "Drugie", "images-1-position": "1",
              "images-2-image_id": third.id, "images-2-alt": "Trzecie", "images-2-position": "2",
              "images-2-remove": "y"}
    resp = post_new(client, pes, path=path, **fields)
    assert resp.status_code == 302
    saved = all_offerings()[0].images
    assert [(i.id, i.alt, i.position) for i in saved] == [(second.id, "Drugie", 0), (first.id, "Pierwsze", 1)]
    assert Path(third.path).name not in _files(app) and Path(third.thumb_path).name not in _files(app)
    assert Path(first.path).name in _files(app)


def test_an_existing_photo_cannot_lose_its_alt_text(app, client, cpv_codes):
    _user, pes = member(client)
    offering = _offering_with_photos(app, pes, 1)
    [image] = offering.images
    path = f"/panel/oferty/{offering.id}/edytuj"
    resp = post_new(client, pes, path=path, **{"images-0-image_id": image.id, "images-0-alt": "",
                                               "images-0-position": "1"})
    assert resp.status_code == 422
    assert "tekst alternatywny jest wymagany" in error_of(resp.get_data(as_text=True), "images-0-alt")
    assert all_offerings()[0].images[0].alt == "Zdjęcie 1"


def test_another_offerings_photo_id_is_ignored(app, client, cpv_codes):
    _user, pes = member(client)
    mine = _offering_with_photos(app, pes, 1)
    theirs = _offering_with_photos(app, make_pes(), 1)
    path = f"/panel/oferty/{mine.id}/edytuj"
    post_new(client, pes, path=path, **{"images-0-image_id": theirs.images[0].id, "images-0-alt": "Moje?",
                                        "images-0-position": "1", "images-0-remove": "y"})
    db.session.expire_all()
    assert db.session.get(type(theirs), theirs.id).images[0].alt == "Zdjęcie 1"
    assert len(db.session.get(type(mine), mine.id).images) == 1


def test_duplicate_copies_the_photo_files(app, client, cpv_codes):
    _user, pes = member(client)
    offering = _offering_with_photos(app, pes, 2)
    token = csrf_token(client, "/panel/oferty")
    client.post(f"/panel/oferty/{offering.id}/kopiuj", data={"csrf_token": token})
    original, copy = all_offerings()
    assert [i.alt for i in copy.images] == ["Zdjęcie 1", "Zdjęcie 2"]
    assert {i.path for i in copy.images}.isdisjoint({i.path for i in original.images})
    assert len(_files(app)) == 8  # two photos and two thumbnails, each twice


def test_the_generic_pipeline_keeps_its_promises(app):
    limits = core_images.ImageLimits("offerings", 2000, 100)
    with app.test_request_context():
        with pytest.raises(core_images.ImageError, match="Plik jest za duży"):
            core_images.prepare(io.BytesIO(os.urandom(3000)), limits)
        with pytest.raises(core_images.ImageError, match="pusty"):
            core_images.prepare(io.BytesIO(b""), limits)
        prepared = core_images.prepare(io.BytesIO(image_bytes("PNG", size=(50, 20))), limits)
        assert prepared.thumb is None and (prepared.width, prepared.height) == (50, 20)
        stored = core_images.store(prepared, "offerings")
        assert stored.thumb_path is None and _files(app) == [Path(stored.path).name]
        outside = Path(app.config["UPLOAD_DIR"]) / "keep.txt"
        outside.write_text("keep")
        for path in ("offerings/../keep.txt", "../keep.txt", "keep.txt", "logos/../keep.txt"):
            core_images.delete(path, "offerings")  # never anything outside its own folder
        assert outside.exists()
        core_images.delete(stored.path, "offerings")
        assert _files(app) == []


# Who sees the photos -----------------------------------------------------------------------------------

def _served(client, relative: str):
    with client.get(_url(relative)) as resp:
        return resp.status_code, resp.headers.get("Cache-Control", "")


def test_photos_of_an_offering_that_is_not_public_are_served_only_to_its_pes_and_staff(app, client, cpv_codes):
    from marketplace import clock
    from tests.factories import make_user
    from tests.test_catalog_offerings import sign_in

    _user, pes = member(client)
    offering = _offering_with_photos(app, pes, 1)  # a draft
    [image] = offering.images
    anonymous, stranger, moderator = app.test_client(), app.test_client(), app.test_client()
    sign_in(stranger, make_user())
    sign_in(moderator, make_user(role="moderator"))

    for path in (image.path, image.thumb_path):
        assert _served(anonymous, path)[0] == 404 and _served(stranger, path)[0] == 404
        status, cache = _served(client, path)
        assert status == 200 and "private" in cache and "public" not in cache
        assert _served(moderator, path)[0] == 200
    page = client.get(f"/panel/oferty/{offering.id}/edytuj").get_data(as_text=True)
    assert f'src="{_url(image.thumb_path)}" alt="Zdjęcie 1"' in page  # the editor's preview

    offering.status, offering.published_at = "published", clock.now()
    db.session.commit()
    status, cache = _served(anonymous, image.path)
    assert status == 200 and "public" in cache and "private" not in cache

    offering.blocked_at, offering.blocked_reason = clock.now(), "Zdjęcia z internetu."
    db.session.commit()
    assert _served(anonymous, image.path)[0] == 404 and _served(client, image.path)[0] == 200


def test_only_files_of_offering_photos_are_served(app, client, cpv_codes):
    _user, pes = member(client)
    offering = _offering_with_photos(app, pes, 1)
    offering.status = "published"
    db.session.commit()
    (Path(app.config["UPLOAD_DIR"]) / "offerings" / "luzny.png").write_bytes(image_bytes())  # in no offering
    for name in ("luzny.png", "nie-ma.png", "..%2Fkeep.txt", ".hidden"):
        assert client.get(f"/oferta/zdjecie/{name}").status_code == 404
