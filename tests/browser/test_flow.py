"""The foundation's whole path in a browser: sign-up, the confirmation mail, a new PES, verification by a
moderator, and the PES on its public profile and in the directory; axe-core checks every page on the way."""
import io
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser
PES_NAME = "Spółdzielnia Socjalna Zielony Warsztat"


def confirmation_link(mail_dir: str, to: str) -> str:
    for path in sorted(Path(mail_dir).glob("*.eml"), reverse=True):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        if msg["To"] == to:
            body = msg.get_body(preferencelist=("plain",)).get_content()
            match = re.search(r"https?://\S+/konto/potwierdz/\S+", body)
            assert match, body
            return match.group(0)
    raise AssertionError(f"no mail to {to}")


def logo_file(tmp_path) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (900, 600), (11, 92, 59)).save(buf, "PNG")
    path = tmp_path / "logo.png"
    path.write_bytes(buf.getvalue())
    return str(path)


def sign_up(page, a11y, email):
    page.goto("/")
    a11y.check(page)
    page.get_by_role("link", name="Załóż konto").click()
    a11y.check(page)
    page.get_by_label("Adres e-mail").fill(email)
    page.get_by_label("Imię i nazwisko").fill("Zofia Nowak")
    page.get_by_label("Hasło", exact=True).fill(PASSWORD)
    page.get_by_label("Powtórz hasło").fill(PASSWORD)
    page.get_by_label(re.compile("Akceptuję regulamin")).check()
    page.get_by_role("button", name="Załóż konto").click()
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sprawdź skrzynkę e-mail")


def create_pes(page, a11y, tmp_path):
    # Someone without a PES finds the way to register one in the account settings, not in the main menu.
    page.get_by_role("link", name="Moje konto").click()
    a11y.check(page)
    page.get_by_role("link", name="Zarejestruj swój PES").click()
    a11y.check(page)
    page.get_by_label("Nazwa podmiotu").fill(PES_NAME)
    page.get_by_label("Forma prawna").select_option("spoldzielnia_socjalna")
    page.get_by_label("NIP", exact=True).fill("526-025-02-74")
    page.get_by_label("Powiat siedziby").select_option("0404")
    page.get_by_label("Miasto Toruń (powiat grodzki)").check()
    page.get_by_label("Opis działalności").fill("Naprawiamy meble i prowadzimy warsztaty stolarskie.")
    page.get_by_label(re.compile("Logo")).set_input_files(logo_file(tmp_path))
    page.get_by_role("button", name="Zapisz i zgłoś do weryfikacji").click()
    a11y.check(page)
    expect(page.get_by_text("czeka na weryfikację").first).to_be_visible()


def log_out(page, a11y):
    page.get_by_role("button", name="Wyloguj").click()
    a11y.check(page)


def log_in(page, a11y, email):
    page.get_by_role("link", name="Zaloguj się").first.click()
    a11y.check(page)
    page.get_by_label("Adres e-mail").fill(email)
    page.get_by_label("Hasło").fill(PASSWORD)
    page.get_by_role("button", name="Zaloguj się").click()
    a11y.check(page)


def verify_as_moderator(page, a11y):
    page.get_by_role("link", name="Moderacja").click()
    a11y.check(page)
    page.get_by_role("link", name=PES_NAME).click()
    a11y.check(page)
    page.get_by_role("button", name="Zweryfikuj podmiot").click()
    a11y.check(page)


def test_sign_up_create_pes_verify_and_find_it_in_the_directory(app, page, a11y, tmp_path):
    make_user("moderatorka@example.org", role="moderator")
    db.session.commit()

    sign_up(page, a11y, "zofia@example.org")
    page.goto(confirmation_link(app.config["MAIL_DIR"], "zofia@example.org"))
    a11y.check(page)
    expect(page.locator("main")).to_contain_text("potwierdzony")
    log_in(page, a11y, "zofia@example.org")
    create_pes(page, a11y, tmp_path)
    log_out(page, a11y)

    # Not public before verification.
    page.get_by_role("link", name="Katalog PES").first.click()
    a11y.check(page)
    expect(page.get_by_role("link", name=PES_NAME)).to_have_count(0)

    log_in(page, a11y, "moderatorka@example.org")
    verify_as_moderator(page, a11y)
    log_out(page, a11y)

    page.get_by_role("link", name="Katalog PES").first.click()
    a11y.check(page)
    # The powiat filter matches the service area: Toruń is served, Bydgoszcz is not.
    powiats = page.get_by_role("group", name="Działa w powiecie")
    powiats.get_by_label("Miasto Bydgoszcz (powiat grodzki)").check()
    page.get_by_role("button", name="Pokaż wyniki").click()
    a11y.check(page)
    expect(page.get_by_role("link", name=PES_NAME)).to_have_count(0)
    powiats = page.get_by_role("group", name="Działa w powiecie")
    powiats.get_by_label("Miasto Bydgoszcz (powiat grodzki)").uncheck()
    powiats.get_by_label("Miasto Toruń (powiat grodzki)").check()
    page.get_by_role("button", name="Pokaż wyniki").click()
    a11y.check(page)
    expect(page).to_have_url(re.compile(r"powiat=0463"))
    page.get_by_role("link", name=PES_NAME).click()
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(PES_NAME)
    main = page.locator("main")
    expect(main).to_contain_text("spółdzielnia socjalna")
    expect(main).to_contain_text("powiat chełmiński")
    expect(page.get_by_role("img", name=f"Logo: {PES_NAME}")).to_be_visible()
    size = page.get_by_role("img", name=f"Logo: {PES_NAME}").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert max(size) <= 400
