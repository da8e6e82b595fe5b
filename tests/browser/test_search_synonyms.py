"""The search synonyms in the moderation panel, in a real browser: adding (with a mistake first), editing and
deleting a group, every page checked with axe-core and fitting 320 px, without JavaScript."""
import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.browser.test_moderation import _fits_320, _sign_in
from tests.factories import make_user

pytestmark = pytest.mark.browser


def _check(page, a11y):
    page.wait_for_load_state("load")
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    _fits_320(page)


@pytest.fixture
def admin(app):
    user = make_user("admin@example.org", role="admin")
    db.session.commit()
    return user


def test_adding_editing_and_deleting_a_group(page, a11y, admin):
    _sign_in(page, a11y, admin.email)
    page.goto("/moderacja/")
    a11y.check(page)
    page.get_by_role("link", name="Synonimy wyszukiwarki").click()
    _check(page, a11y)

    page.get_by_label("Słowa grupy").fill("kosz kobiałka")
    page.get_by_role("button", name="Dodaj grupę").click()
    _check(page, a11y)
    expect(page.get_by_role("alert")).to_contain_text("jednym wyrazem")
    expect(page.get_by_label("Słowa grupy")).to_have_value("kosz kobiałka")

    page.get_by_label("Słowa grupy").fill("kosz, kobiałka")
    page.get_by_label("Notatka (nieobowiązkowa)").fill("Tak piszą kupujący z gmin wiejskich.")
    page.get_by_role("button", name="Dodaj grupę").click()
    _check(page, a11y)
    expect(page.locator("main .flash")).to_contain_text("Dodano grupę synonimów: kosz, kobiałka")

    page.get_by_role("link", name="Edytuj – kosz, kobiałka").click()
    _check(page, a11y)
    page.get_by_label("Słowa grupy").fill("kosz")  # one word is no group
    page.get_by_role("button", name="Zapisz zmiany").click()
    _check(page, a11y)
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Słowa grupy")).to_have_value("kosz")
    page.get_by_label("Słowa grupy").fill("kosz, łubianka")
    page.get_by_role("button", name="Zapisz zmiany").click()
    _check(page, a11y)
    expect(page.get_by_role("cell", name="kosz, łubianka", exact=True)).to_be_visible()

    page.get_by_role("link", name="Usuń – kosz, łubianka").click()
    _check(page, a11y)
    page.get_by_role("button", name="Usuń grupę").click()
    _check(page, a11y)
    expect(page.get_by_text("Moderatorzy nie dodali jeszcze żadnej grupy.")).to_be_visible()

    page.goto("/moderacja/dziennik")
    _check(page, a11y)
