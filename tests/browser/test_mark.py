"""The quality mark in a browser: a PES applies, the office passes it on, the committee scores, the chair grants;
the register and the QR code's page say it is valid, and a year later that it expired and the badge is gone.
axe-core checks every page on the way."""
import re

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.factories import PASSWORD, make_pes, make_user
from tests.test_mark_helpers import PDF, STATEMENT, make_offering

pytestmark = pytest.mark.browser


@pytest.fixture
def crew(app):
    owner = make_user("wlasciciel@example.org", name="Zofia Nowak")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Smaczny Toruń")
    offering = make_offering(pes, title="Obiady dla szkół i przedszkoli")
    people = {"owner": owner, "offering": offering,
              "moderator": make_user("moderator@example.org", role="moderator"),
              "member": make_user("kapitula@example.org", role="committee", name="Jan Kapituła"),
              "member2": make_user("kapitula2@example.org", role="committee", name="Ewa Kapituła"),
              "chair": make_user("przewodniczaca@example.org", role="committee_chair", name="Maria Nowicka")}
    db.session.commit()
    return people


def _visit(page, a11y, url):
    page.goto(url)
    a11y.check(page)


def _sign_in(page, a11y, email):
    page.context.clear_cookies()
    _visit(page, a11y, "/konto/logowanie")
    page.get_by_label("E-mail").first.fill(email)
    page.get_by_label("Hasło").first.fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    a11y.check(page)


def _apply(page, a11y, tmp_path, title):
    _visit(page, a11y, "/panel/znak")
    page.get_by_role("link", name=re.compile("Złóż wniosek o znak")).click()
    a11y.check(page)
    expect(page.locator("main")).to_contain_text("uprawnia do ubiegania się o znak")
    page.get_by_label("Okres działalności (pełne miesiące)").fill("4")
    page.get_by_role("button", name="Złóż wniosek").click()
    a11y.check(page)
    expect(page.locator(".error-summary")).to_contain_text("co najmniej 6 miesięcy")
    page.get_by_label("Okres działalności (pełne miesiące)").fill("30")
    page.get_by_label(re.compile("Udział przychodów własnych")).fill("55")
    page.get_by_label("Dlaczego ten produkt lub ta usługa są wysokiej jakości").fill(STATEMENT)
    for n in (1, 2):
        group = page.get_by_role("group", name=f"Rekomendacja {n}")
        group.get_by_label("Imię i nazwisko osoby polecającej").fill(f"Dyrektor {n}")
        group.get_by_label("Instytucja lub firma").fill(f"Szkoła Podstawowa nr {n} w Toruniu")
        group.get_by_label("Kontakt (e-mail lub telefon)").fill(f"sp{n}@example.org")
        group.get_by_label("Treść rekomendacji").fill("Obiady zawsze na czas, dzieci chętnie jedzą.")
    pdf = tmp_path / "rekomendacje.pdf"
    pdf.write_bytes(PDF)
    page.get_by_label("Załączniki (PDF, PNG, JPEG lub WebP)").set_input_files(str(pdf))
    page.get_by_role("button", name="Złóż wniosek").click()
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.locator("main")).to_contain_text("złożony")


def _office_sends(page, a11y, title):
    _visit(page, a11y, "/moderacja/znak")
    page.get_by_role("link", name=title).click()
    a11y.check(page)
    page.get_by_role("button", name="Przekaż kapitule").click()
    a11y.check(page)
    expect(page.locator("main")).to_contain_text("u kapituły")


def _member_scores(page, a11y, title):
    _visit(page, a11y, "/kapitula")
    page.get_by_role("link", name=title).click()
    a11y.check(page)
    for criterion in ("Forma prawna", "Okres działalności", "Udział przychodów własnych",
                      "Jakość produktu lub usługi", "Rekomendacje kupujących"):
        page.get_by_role("group", name=f"Ocena: {criterion}").get_by_label("4", exact=True).check()
    page.get_by_label("Komentarz: Jakość produktu lub usługi").fill("Rzetelny opis i dobre opinie.")
    page.get_by_role("button", name="Zapisz ocenę").click()
    a11y.check(page)
    expect(page.locator(".flashes")).to_contain_text("Twoja ocena została zapisana")


def _chair_grants(page, a11y, app_url):
    _visit(page, a11y, app_url)
    expect(page.locator("tbody")).to_contain_text("4")
    page.get_by_label("przyznać znak").check()
    page.get_by_label("Uzasadnienie decyzji").fill("Produkt wysokiej jakości, potwierdzony rekomendacjami.")
    page.get_by_role("button", name="Zapisz decyzję").click()
    a11y.check(page)
    expect(page.locator(".flashes")).to_contain_text("Znak przyznany")


def test_mark_from_application_to_expiry(app, page, a11y, crew, tmp_path):
    title = crew["offering"].title
    _sign_in(page, a11y, crew["owner"].email)
    _apply(page, a11y, tmp_path, title)
    _sign_in(page, a11y, crew["moderator"].email)
    _office_sends(page, a11y, title)
    for member in ("member", "member2"):  # the chair decides once two members have scored
        _sign_in(page, a11y, crew[member].email)
        _member_scores(page, a11y, title)
    committee_url = page.url
    _sign_in(page, a11y, crew["chair"].email)
    _chair_grants(page, a11y, committee_url)
    page.context.clear_cookies()

    _visit(page, a11y, "/znak-jakosci")
    row = page.locator("tbody tr").filter(has_text=title)
    expect(row).to_contain_text("ważny")
    number = row.locator("td").first.inner_text().strip()
    assert re.fullmatch(r"ZJ/\d{4}/0001", number)
    page.get_by_role("link", name=number).click()
    a11y.check(page)
    qr_target = re.search(r"https?://\S+", page.get_by_role("img", name=re.compile("Kod QR")).get_attribute("alt"))
    assert qr_target and qr_target.group(0).endswith("/znak-jakosci/" + number)
    _visit(page, a11y, qr_target.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Znak jest ważny")
    page.get_by_role("link", name="Certyfikat do wydruku").click()
    a11y.check(page)
    expect(page.locator(".mark-certificate")).to_contain_text(number)
    offering_url = f"/oferta/{crew['offering'].id}"
    _visit(page, a11y, offering_url)
    expect(page.locator(".mark-badge").first).to_be_visible()

    app.config["CLOCK_OFFSET_DAYS"] = 400  # the live server shares the app: a year and more later
    _visit(page, a11y, qr_target.group(0))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Znak wygasł dnia")
    expect(page.locator(".mark-badge")).to_have_count(0)
    _visit(page, a11y, qr_target.group(0) + "/certyfikat")
    expect(page.locator(".mark-certificate .mark-certificate-state").first).to_contain_text("NIEWAŻNY – znak wygasł")
    _visit(page, a11y, offering_url)
    expect(page.locator(".mark-badge")).to_have_count(0)
    _visit(page, a11y, "/znak-jakosci")
    expect(page.locator("tbody tr").filter(has_text=title)).to_contain_text("wygasł")


def _fits_320(page):
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, page.url
    page.set_viewport_size({"width": 1280, "height": 800})


def test_returned_application_staff_mark_page_and_unknown_number(app, page, a11y, crew, tmp_path):
    from datetime import timedelta

    from marketplace import clock
    from tests.test_mark_helpers import make_mark

    title = crew["offering"].title
    other = make_offering(crew["offering"].pes, title="Chleb na zakwasie", category="zywnosc")
    make_mark(other, "ZJ/2025/0099", clock.today() - timedelta(days=30), clock.today() + timedelta(days=300))
    db.session.commit()
    _sign_in(page, a11y, crew["owner"].email)
    _apply(page, a11y, tmp_path, title)
    _sign_in(page, a11y, crew["moderator"].email)
    _visit(page, a11y, "/moderacja/znak")
    page.get_by_role("link", name=title).click()
    a11y.check(page)
    page.get_by_role("button", name="Zwróć z uwagami").click()
    a11y.check(page)
    expect(page.locator(".error-summary")).to_contain_text("Napisz, co trzeba uzupełnić.")
    page.get_by_label("Co trzeba uzupełnić lub poprawić").fill("Dołączcie zdjęcie produktu.")
    page.get_by_role("button", name="Zwróć z uwagami").click()
    a11y.check(page)
    _visit(page, a11y, "/moderacja/znak?tab=marks")
    page.get_by_role("link", name="ZJ/2025/0099").click()
    a11y.check(page)
    _fits_320(page)
    page.get_by_role("button", name="Zawieś znak").click()
    a11y.check(page)
    expect(page.locator(".error-summary")).to_contain_text("Podaj uzasadnienie.")

    _sign_in(page, a11y, crew["owner"].email)
    _visit(page, a11y, "/panel/znak")
    _fits_320(page)
    page.get_by_role("link", name=title).click()
    a11y.check(page)
    expect(page.locator(".notice")).to_contain_text("Dołączcie zdjęcie produktu.")
    _fits_320(page)
    page.get_by_role("button", name="Złóż poprawiony wniosek").click()
    a11y.check(page)
    expect(page.locator(".flashes")).to_contain_text("złożony ponownie")

    for url in ("/znak-jakosci/ZJ/2025/0099", "/znak-jakosci/ZJ/2025/0099/certyfikat", "/znak-jakosci"):
        _visit(page, a11y, url)
        _fits_320(page)
    _visit(page, a11y, "/znak-jakosci/ZJ/1999/0001")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nie ma takiego certyfikatu")
