"""The moderation panel in a real browser: every page passes axe-core and fits 320 px, without JavaScript."""
import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.factories import PASSWORD, make_institution, make_pes, make_user

pytestmark = pytest.mark.browser


def _sign_in(page, a11y, email):
    page.goto("/konto/logowanie")
    a11y.check(page)
    page.get_by_label("E-mail").first.fill(email)
    page.get_by_label("Hasło").first.fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    a11y.check(page)


def _fits_320(page):
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture
def data(app):
    admin = make_user("admin@example.org", role="admin")
    owner = make_user("wlasciciel@example.org")
    pes = make_pes(owner=owner, status="pending", name="Spółdzielnia Socjalna Przystań", nip="5260250274")
    make_pes(status="suspended", name="Zawieszone Koło", status_reason="Nieaktualne dane")
    inst = make_institution(name="Gmina Obrowo", status="pending")
    make_user("urzednik@obrowo.example.org", role="purchaser", institution_id=inst.id, institution_status="pending")
    county = make_institution(name="Powiat Toruński", nip="8792624426", kind="powiat", status="verified")
    make_user("zamowienia@powiat.example.org", role="purchaser", institution_id=county.id,
              institution_status="verified")
    make_user("nowa.osoba.z.dlugim.adresem@starostwo.powiat.example.org", role="purchaser",
              institution_id=county.id, institution_status="pending")
    db.session.commit()
    return {"admin": admin, "pes": pes, "inst": inst, "county": county}


def test_lists_are_accessible_and_fit_320px(page, a11y, data):
    _sign_in(page, a11y, data["admin"].email)
    for url in ("/moderacja/", "/moderacja/?tab=institutions", "/moderacja/?tab=suspended",
                "/moderacja/?tab=rejected", f"/moderacja/instytucje/{data['inst'].id}",
                f"/moderacja/instytucje/{data['county'].id}", "/moderacja/uzytkownicy", "/moderacja/dziennik"):
        page.goto(url)
        a11y.check(page)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        _fits_320(page)


def test_actions_and_audit_log_in_the_browser(page, a11y, data):
    _sign_in(page, a11y, data["admin"].email)
    page.goto(f"/moderacja/pes/{data['pes'].id}")
    a11y.check(page)
    _fits_320(page)
    page.get_by_role("button", name="Odrzuć zgłoszenie").click()
    a11y.check(page)
    expect(page.locator(".error-summary")).to_contain_text("Podaj uzasadnienie.")
    page.get_by_role("button", name="Zweryfikuj podmiot").click()
    a11y.check(page)
    expect(page.locator(".flashes")).to_contain_text("zweryfikowany")
    page.get_by_label("Powód zawieszenia").fill("Skargi klientów.")
    page.get_by_role("button", name="Zawieś profil").click()
    a11y.check(page)
    page.goto("/moderacja/dziennik")
    a11y.check(page)
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_label("Czynność").select_option("pes.suspend")
    page.get_by_role("button", name="Filtruj").click()
    a11y.check(page)
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("Skargi klientów.")
    _fits_320(page)


def test_people_of_an_institution_are_checked_one_by_one(page, a11y, data):
    _sign_in(page, a11y, data["admin"].email)
    page.goto("/moderacja/?tab=institutions")
    a11y.check(page)
    page.get_by_role("link", name="nowa.osoba.z.dlugim.adresem@starostwo.powiat.example.org").click()
    a11y.check(page)
    newcomer = page.locator("section", has=page.get_by_role("heading", name="nowa.osoba", exact=False))
    newcomer.get_by_role("button", name="Odrzuć powiązanie").click()
    a11y.check(page)
    expect(page.get_by_role("heading", level=4, name="Popraw błędy w formularzu")).to_be_visible()
    expect(page.locator(".error-summary")).to_contain_text("Podaj uzasadnienie.")
    _fits_320(page)
    page.get_by_role("button", name="Potwierdź powiązanie – nowa.osoba.z.dlugim.adresem@starostwo.powiat.example.org").click()
    a11y.check(page)
    expect(page.locator(".flashes")).to_contain_text("Potwierdzono powiązanie osoby")
    page.get_by_label("Powód cofnięcia weryfikacji").fill("Starostwo nie zakładało tych kont.")
    page.get_by_role("button", name="Cofnij weryfikację").click()
    a11y.check(page)
    expect(page.locator(".flashes")).to_contain_text("Weryfikacja instytucji cofnięta")
    expect(page.get_by_role("button", name="Zweryfikuj instytucję")).to_be_visible()
    _fits_320(page)
    page.goto("/moderacja/uzytkownicy")
    a11y.check(page)
    expect(page.get_by_role("button", name="Zmień rolę – zamowienia@powiat.example.org")).to_have_count(1)
