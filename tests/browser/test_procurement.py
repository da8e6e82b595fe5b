"""A public purchaser in a browser: reads the guidance, runs the clause builder for a catering service
reserved under art. 94, downloads the clauses as .docx, sends one inquiry to the whole shortlist, and finds
the new inquiry counted on the programme's statistics page. axe-core checks every page visited."""
import io
import re

import pytest
from docx import Document
from playwright.sync_api import expect

from marketplace import clock
from marketplace.extensions import db
from tests.browser.test_inquiries import _sign_in, _submit, _visit
from tests.factories import make_institution, make_pes, make_user
from tests.inquiry_helpers import make_offering

pytestmark = pytest.mark.browser

TORUN = "Miasto Toruń (powiat grodzki)"


@pytest.fixture
def cast(app):
    purchaser = make_user("zamowienia@example.org", role="purchaser", name="Katarzyna Zamawiająca",
                          institution=make_institution(), institution_status="verified")
    eligible = [make_pes(name="Spółdzielnia Socjalna Obiadek"),
                make_pes(name="Fundacja Trzydzieści", legal_form="fundacja", integration_mission=True,
                         disadvantaged_share=30)]
    below = make_pes(name="Fundacja Dwadzieścia Dziewięć", legal_form="fundacja", integration_mission=True,
                     disadvantaged_share=29)
    for pes in [*eligible, below]:
        make_offering(pes, title=f"Obiady – {pes.name}", ref=f"of-{pes.ref}", cpv=["55524000-9"])
    db.session.commit()
    return purchaser


def _run_builder(page, a11y):
    _visit(page, a11y, "/zamowienia-publiczne")
    page.get_by_role("link", name="Zamówienia zastrzeżone (art. 94 Pzp)").click()
    page.wait_for_load_state("load")
    a11y.check(page)
    expect(page.locator("main")).to_contain_text("To informacja, nie porada prawna")
    page.get_by_role("link", name="Klauzule społeczne").click()
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Kreator klauzul społecznych").first.click()
    page.wait_for_load_state("load")
    a11y.check(page)
    page.get_by_label("Szacunkowa wartość zamówienia netto (zł)").fill("250 000")
    page.get_by_label("Data wszczęcia postępowania").fill(clock.today().isoformat())
    page.get_by_label("usługi", exact=True).check()
    page.get_by_label("Kody CPV przedmiotu (opcjonalnie)").fill("55524000-9")
    page.get_by_text("Miejsce realizacji (powiaty)", exact=True).first.click()
    page.get_by_label(TORUN).check()
    page.get_by_label("zatrudnienie osób w trudnej sytuacji").check()
    page.get_by_text("Szczegóły klauzul (opcjonalnie)").click()
    page.get_by_label("Liczba osób do zatrudnienia").fill("4")
    _submit(page, page.get_by_role("button", name="Sprawdź, co pasuje"))
    a11y.check(page)
    main = page.locator("main")
    expect(main).to_contain_text("Tryb: Pzp, poniżej progów unijnych")
    expect(main).to_contain_text("zatrudnił przy realizacji zamówienia 4 osoby")


def test_purchaser_builds_clauses_downloads_them_and_asks_the_shortlist(app, page, a11y, cast):
    _sign_in(page, a11y, cast.email)
    _run_builder(page, a11y)
    shortlist = page.get_by_role("region", name="Pasujące podmioty ekonomii społecznej")
    expect(shortlist.get_by_role("rowheader")).to_have_text(["Fundacja Trzydzieści",
                                                             "Spółdzielnia Socjalna Obiadek"])

    with page.expect_download() as download:
        page.get_by_role("link", name="klauzule (.docx, do edycji)").click()
    text = "\n".join(p.text for p in Document(io.BytesIO(download.value.path().read_bytes())).paragraphs)
    assert "zatrudnił przy realizacji zamówienia 4 osoby" in text

    # Saved and shared: the link shows the same result to a colleague who is not signed in.
    page.get_by_label("Nazwa wyniku (opcjonalnie)").fill("Obiady dla szkół 2026")
    _submit(page, page.get_by_role("button", name="Zapisz wynik i utwórz link do udostępnienia"))
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Obiady dla szkół 2026")
    shared = page.url
    colleague = page.context.browser.new_context(base_url=shared.split("/zamowienia")[0], locale="pl-PL")
    other = colleague.new_page()
    other.goto(shared)
    a11y.check(other)
    expect(other.locator("main")).to_contain_text("zatrudnił przy realizacji zamówienia 4 osoby")
    expect(other.get_by_role("button", name=re.compile("Zapisz wynik"))).to_have_count(0)
    colleague.close()

    _submit(page, page.get_by_role("button", name=re.compile(r"Wyślij zapytanie ofertowe do tych podmiotów")))
    a11y.check(page)
    recipients = page.get_by_role("group", name="Odbiorcy zapytania")
    expect(recipients.get_by_role("checkbox")).to_have_count(2)
    page.get_by_label("Treść zapytania").fill("Prosimy o ofertę na obiady dla 120 uczniów od 1 marca.")
    page.get_by_label(re.compile("Zgadzam się na przetwarzanie")).check()
    _submit(page, page.get_by_role("button", name="Wyślij zapytanie"))
    a11y.check(page)
    expect(page.locator(".flashes")).to_contain_text("Zapytanie wysłano do 2 podmiotów.")

    _visit(page, a11y, "/statystyki")
    headline = page.locator(".stats-headline")
    expect(headline.locator("dt", has_text="w tym od zamawiających publicznych").locator("+ dd")).to_have_text("1")
    page.get_by_text("Dane wykresu w tabeli: Zamawiający publiczni").click()
    table = page.get_by_role("table", name=re.compile("Zapytania zamawiających publicznych"))
    expect(table.get_by_role("row").last.get_by_role("cell")).to_have_text(["1", "0"])
    a11y.check(page)
    month = clock.today().strftime("%Y-%m")
    csv = page.request.get("/statystyki/zamawiajacy-publiczni.csv").body().decode("utf-8-sig")
    assert re.search(rf"^[^;\r\n]*;{month};1;0\r?$", csv, re.M), csv
