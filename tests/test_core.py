"""Pages and helpers shared by every package: uploaded media, language switch, bounded URLs, home page."""
from pathlib import Path

from marketplace.extensions import db
from tests.factories import login, make_pes, make_user


def test_media_serves_logos_only(app, client):
    folder = Path(app.config["UPLOAD_DIR"])
    (folder / "logos").mkdir(parents=True)
    (folder / "logos" / "a.png").write_bytes(b"\x89PNG")
    (folder / "private").mkdir()
    (folder / "private" / "secret.pdf").write_bytes(b"%PDF")
    def status(path):
        with client.get(path) as resp:
            return resp.status_code

    assert status("/media/logos/a.png") == 200
    assert status("/media/private/secret.pdf") == 404
    assert status("/media/logos/../private/secret.pdf") == 404
    assert status("/media/logos/nie-ma.png") == 404


def test_language_link_changes_the_session_not_the_saved_account_language(client):
    user = make_user("ola@example.org", locale="pl")
    db.session.commit()
    login(client, "ola@example.org")
    client.get("/jezyk/en?next=/")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale == "pl"


def test_huge_ids_and_pages_are_not_found_rather_than_errors(client):
    make_pes(name="Fundacja Duże Liczby")
    db.session.commit()
    assert client.get("/pes/99999999999999999999").status_code == 404
    resp = client.get("/pes?page=99999999999999999999")
    assert resp.status_code == 200


def test_home_page_lists_recently_verified_pes(client):
    make_pes(name="Spółdzielnia Socjalna Pierwsza")
    make_pes(name="Nieznana Fundacja", status="pending")
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Spółdzielnia Socjalna Pierwsza" in html and "Nieznana Fundacja" not in html


def test_offering_photos_are_not_served_as_public_media(app, client):
    folder = Path(app.config["UPLOAD_DIR"]) / "offerings"
    folder.mkdir(parents=True)
    (folder / "x.png").write_bytes(b"\x89PNG")
    with client.get("/media/offerings/x.png") as resp:
        assert resp.status_code == 404  # they go through the catalogue's own check of the offering
