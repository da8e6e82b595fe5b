"""The catalogue in a browser: a PES member adds an offering with a photo and publishes it; the public sees it
on its page (photo, gross price, structured data without CSP errors) and in its category; a member of two PES
chooses which one adds an offering; a moderator sees an offering's photos. axe-core checks every page, and
the offering page fits a 320 px screen."""
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from catalog import cpv
from marketplace.extensions import db
from tests.factories import PASSWORD, make_pes, make_user

pytestmark = pytest.mark.browser
TITLE = "Obiady dwudaniowe dla szkół i przedszkoli z dowozem w termosach"


def _photo(tmp_path) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (1800, 1200), (180, 90, 30)).save(buf, "JPEG")
    path = tmp_path / "obiad.jpg"
    path.write_bytes(buf.getvalue())
    return str(path)


def _log_in(page, a11y, email: str) -> None:
    page.goto("/konto/logowanie")
    a11y.check(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    a11y.check(page)


def _fits(page, width: int = 320) -> None:
    page.set_viewport_size({"width": width, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _fill_offering(page, tmp_path) -> None:
    page.get_by_label("Usługa").check()
    page.get_by_label("Tytuł").fill(TITLE)
    page.get_by_label("Kategoria", exact=True).select_option("catering")
    page.get_by_label("Podkategoria").select_option("obiady-dla-szkol")
    page.get_by_label("Opis", exact=True).fill("Obiady **dwudaniowe** z dowozem.\n\n## Menu\n\n- zupa\n"
                                              "- drugie danie\n\n#### Diety\n\nWegetariańska i bezglutenowa.")
    page.get_by_label("Cena netto (zł)").fill("18,50")
    page.get_by_label("Stawka VAT").select_option("8")
    page.get_by_label("Jednostka").fill("porcja")
    page.get_by_label("Kody CPV").fill("55524000-9")
    page.get_by_label("Tagi").fill("obiady, dowóz")
    page.set_input_files("#new_images-0-file", _photo(tmp_path))


def test_member_publishes_an_offering_that_the_public_then_finds(app, page, a11y, tmp_path):
    cpv.ensure_loaded()
    owner = make_user("kucharz@example.org")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Smaczny Dzień", integration_mission=True,
                   disadvantaged_share=40, email="biuro@smaczny.example.org", phone="+48 56 000 00 00")
    db.session.commit()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)

    _log_in(page, a11y, owner.email)
    page.goto("/panel/oferty")
    a11y.check(page)
    page.get_by_role("link", name=f"Nowa oferta: {pes.name}").click()
    a11y.check(page)

    _fill_offering(page, tmp_path)
    page.get_by_role("button", name="Zapisz ofertę").click()  # no alt text yet: refused, next to the field
    a11y.check(page)
    expect(page.locator("#new_images-0-alt-error")).to_contain_text("tekstu alternatywnego")

    _fill_offering(page, tmp_path)
    picker = page.get_by_label("Znajdź kod CPV po nazwie lub numerze")  # shown only with JavaScript
    picker.fill("5552")
    first = page.locator(".cpv-picker-results button").first
    expect(first).to_be_visible()
    added = first.inner_text().split()[1]
    first.click()
    expect(page.locator("#cpv-picker-status")).to_contain_text(added)
    assert page.get_by_label("Kody CPV").input_value().startswith("55524000-9")
    a11y.check(page)
    page.locator("#new_images-0-alt").fill("Zupa i drugie danie w pojemnikach termicznych")
    page.get_by_label("Opublikowana").check()
    page.get_by_role("button", name="Zapisz ofertę").click()
    a11y.check(page)
    expect(page.get_by_text("została zapisana")).to_be_visible()
    page.goto("/panel/oferty")
    a11y.check(page)

    page.context.clear_cookies()  # from here on, an anonymous visitor
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/oferty")
    a11y.check(page)
    page.get_by_role("link", name="Catering i gastronomia").click()
    a11y.check(page)
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    expect(page.get_by_text("19,98 zł brutto / porcja")).to_be_visible()

    page.get_by_role("link", name=TITLE).click()
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("heading", level=3, name="Menu")).to_be_visible()  # "##" under the h2 "Opis"
    expect(page.get_by_role("heading", level=4, name="Diety")).to_be_visible()  # no level skipped
    photo = page.get_by_role("img", name="Zupa i drugie danie w pojemnikach termicznych")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") == 1600
    expect(page.get_by_text("18,50 zł netto + 8% VAT = 19,98 zł brutto")).to_be_visible()
    assert page.locator('script[type="application/ld+json"]').count() == 1
    _fits(page)
    a11y.check(page)
    page.get_by_text("Ta oferta wprowadza w błąd").click()
    page.get_by_role("button", name="Wyślij zgłoszenie").click()  # no reason chosen
    a11y.check(page)
    expect(page.locator("#reason-error")).to_be_visible()

    page.set_viewport_size({"width": 1280, "height": 900})
    for path in (f"/pes/{pes.id}/oferty", "/kategoria/catering/obiady-dla-szkol", "/cpv?q=catering"):
        page.goto(path)
        a11y.check(page)
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def test_choosing_the_pes_and_the_moderators_view_of_photos(app, page, a11y, tmp_path):
    owner = make_user("dwa-podmioty@example.org")
    first = make_pes(owner=owner, name="Spółdzielnia Socjalna Alfa")
    make_pes(owner=owner, name="Fundacja Beta", status="pending")
    make_user("moderator@example.org", role="moderator")
    db.session.commit()

    _log_in(page, a11y, owner.email)
    page.goto("/panel/oferty/nowa")
    a11y.check(page)
    page.get_by_role("link", name=f"Nowa oferta: {first.name}").click()
    a11y.check(page)
    _fill_offering(page, tmp_path)
    page.get_by_label("Kody CPV").fill("")
    page.locator("#new_images-0-alt").fill("Zupa w termosie")
    page.get_by_role("button", name="Zapisz ofertę").click()  # saved as a draft
    a11y.check(page)
    expect(page.get_by_text("została zapisana")).to_be_visible()
    expect(page.get_by_role("img", name="Zupa w termosie")).to_be_visible()  # the editor's preview

    page.context.clear_cookies()
    _log_in(page, a11y, "moderator@example.org")
    page.goto("/moderacja/oferty?q=obiady")
    a11y.check(page)
    page.get_by_role("link", name=TITLE).click()
    a11y.check(page)
    expect(page.get_by_text("18,50 zł netto + 8% VAT = 19,98 zł brutto")).to_be_visible()
    photo = page.get_by_role("img", name="Zupa w termosie")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") == 400  # the thumbnail of a draft, shown to staff
