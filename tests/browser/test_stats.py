"""The statistics page in a browser: reached from the footer, each chart an image named by its caption, its
table opened from the "Dane wykresu w tabeli" switch, a CSV downloaded; axe-core checks the page with every
table open, and the page fits a 320 px screen."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from marketplace import clock
from marketplace.extensions import db
from tests.browser.test_favourites import _fits
from tests.factories import make_institution, make_pes, make_user
from tests.test_mark_helpers import make_mark, make_offering
from tests.test_stats import sent_inquiry

pytestmark = pytest.mark.browser


def test_a_visitor_reads_the_statistics_as_charts_and_tables(app, page, a11y):
    seller = make_pes(powiat="0463")
    make_pes(powiat="0463", legal_form="fundacja")
    make_pes(powiat="0461", status="pending")
    lunch = make_offering(seller, title="Obiady dla szkół")
    today = clock.today()
    make_mark(lunch, "ZJ/2026/0001", today - timedelta(days=10), today + timedelta(days=300))
    officer = make_user("urzednik@example.org", role="purchaser", institution=make_institution(),
                        institution_status="verified")
    sent_inquiry(seller, clock.now() - timedelta(minutes=1), sender=officer, answered=True)
    db.session.commit()

    page.goto("/")
    a11y.check(page)
    page.get_by_role("contentinfo").get_by_role("link", name="Statystyki programu").click()
    page.wait_for_load_state("load")
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Statystyki programu")
    chart = page.get_by_role("img", name="Zweryfikowane PES według powiatu siedziby")
    expect(chart).to_be_visible()
    expect(page.locator("svg[role=img]")).to_have_count(6)

    page.get_by_text("Dane wykresu w tabeli: PES według powiatu").click()
    powiats = page.get_by_role("table", name="Zweryfikowane PES według powiatu siedziby")
    expect(powiats).to_be_visible()
    torun = powiats.get_by_role("row", name=re.compile("Miasto Toruń"))
    expect(torun.get_by_role("cell")).to_have_text(["2"])
    expect(powiats.get_by_role("columnheader")).to_have_text(["Powiat", "Zweryfikowane PES"])
    closed = page.locator("details.stats-data:not([open]) > summary")
    while closed.count():
        closed.first.click()
    expect(page.locator("details.stats-data[open]")).to_have_count(6)
    a11y.check(page)  # with every table shown
    _fits(page, a11y)

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Pobierz dane \(CSV\)\W+Zamawiający publiczni$")).click()
    assert download.value.suggested_filename == f"statystyki-zamawiajacy-publiczni-{today.isoformat()}.csv"
    lines = download.value.path().read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[12] == f"{lines[12].split(';')[0]};{today.strftime('%Y-%m')};1;0"
