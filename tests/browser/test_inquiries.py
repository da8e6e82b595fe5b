"""One inquiry to many PES in a browser: a verified public purchaser picks three cleaning PES on the criteria
page and writes to them once; two of them, each signed in in a browser of its own, see the inquiry marked as
new and send a quote; the purchaser compares the quotes (net and gross, the third PES still without one),
accepts the cheaper one and downloads the comparison as a PDF for the purchase file. A guest writes an
inquiry with JavaScript switched off, typing and sending from the keyboard, up to "Sprawdź pocztę".
axe-core checks every page.
"""
import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryThread
from tests.factories import PASSWORD, make_institution, make_user
from tests.inquiry_helpers import make_offering, pes_with_owner

pytestmark = pytest.mark.browser

SUBJECT = "Sprzątanie budynku urzędu gminy w 2026 roku"
CLEANING = "Sprzątanie i utrzymanie czystości"
TORUN = "Miasto Toruń (powiat grodzki)"
INSTITUTION = "Gmina Lubicz"
# Three cleaning PES serving Toruń (the criteria's answer), one serving Bydgoszcz and one cooking in Toruń.
PES_A = "Czysty Dom sp. soc."
PES_B = "Błysk Toruń sp. soc."
PES_C = "Porządek na Medal sp. soc."


@pytest.fixture
def cast(app):
    inst = make_institution(name=INSTITUTION)
    purchaser = make_user("zamowienia@example.org", role="purchaser", name="Katarzyna Zamawiająca")
    purchaser.institution = inst
    purchaser.institution_status = "verified"
    people = {"purchaser": purchaser}
    for key, name, email in (("a", PES_A, "czysty@example.org"), ("b", PES_B, "blysk@example.org"),
                             ("c", PES_C, "porzadek@example.org")):
        pes, owner = pes_with_owner(name, email=email, powiat="0463")
        make_offering(pes, title=f"Sprzątanie biur – {name}", ref=f"of-{key}", category="sprzatanie",
                      description="Codzienne sprzątanie biur i urzędów.", unit="m²", tags=["sprzątanie"])
        people[key], people[f"{key}_owner"] = pes, owner
    far, _owner = pes_with_owner("Bydgoski Mop sp. soc.", powiat="0461")
    make_offering(far, title="Sprzątanie hal", ref="of-far", category="sprzatanie")
    cook, _owner = pes_with_owner("Smaczna Kuchnia sp. soc.", powiat="0463")
    make_offering(cook, title="Obiady dla urzędów", ref="of-cook", category="catering")
    db.session.commit()  # the search outbox applies the new offerings to the index on commit
    assert purchaser.is_verified_purchaser
    return people


@pytest.fixture
def new_page(browser, live_server, a11y):
    """Another browser (its own cookies) for someone else; its pages count for the axe-core check too."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=live_server, locale="pl-PL", **options)
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(10_000)

        def visited(frame):
            if frame == pg.main_frame and frame.url.startswith("http"):
                a11y.visited.append(frame.url.split("#")[0])

        pg.on("framenavigated", visited)
        return pg

    yield make
    for context in contexts:
        context.close()


def _visit(page, a11y, url):
    page.goto(url)
    a11y.check(page)


def _sign_in(page, a11y, email):
    _visit(page, a11y, "/konto/logowanie")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    _submit(page, page.locator("main form button[type=submit]"))
    a11y.check(page)
    expect(page.get_by_role("button", name="Wyloguj")).to_be_visible()


def _submit(page, button, keyboard: bool = False):
    """Press a form's button (by mouse, or focus and Enter) and wait for the page that answers."""
    with page.expect_navigation():
        if keyboard:
            button.focus()
            page.keyboard.press("Enter")
        else:
            button.click()
    page.wait_for_load_state("load")


def _in_future(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def _choose_by_criteria(page, a11y):
    _visit(page, a11y, "/zapytania/odbiorcy")
    page.get_by_label("Kategoria", exact=True).select_option(label=CLEANING)
    page.get_by_label("Obsługiwany powiat").select_option(label=TORUN)
    page.get_by_role("button", name="Pokaż podmioty").click()
    page.wait_for_url(re.compile(r"category=sprzatanie.*powiat=0463"))
    a11y.check(page)
    expect(page.get_by_role("heading", name="Znalezione podmioty: 3")).to_be_visible()
    chosen = page.get_by_role("group", name="Wyślij zapytanie do")
    for name in (PES_A, PES_B, PES_C):
        expect(chosen.get_by_label(name)).to_be_checked()
    expect(page.get_by_text("Bydgoski Mop")).to_have_count(0)  # serves another powiat
    expect(page.get_by_text("Smaczna Kuchnia")).to_have_count(0)  # another category
    page.get_by_role("button", name="Dalej: napisz zapytanie").click()
    page.wait_for_url(re.compile(r"/zapytania/nowe\?"))
    a11y.check(page)


def _send_inquiry(page, a11y) -> int:
    expect(page.get_by_role("heading", level=1)).to_have_text("Zapytanie ofertowe do 3 podmiotów")
    recipients = page.get_by_role("group", name="Odbiorcy zapytania")
    for name in (PES_A, PES_B, PES_C):
        expect(recipients.get_by_label(name)).to_be_checked()
    # A verified purchaser writes on behalf of the institution: there is no organisation field to fill in.
    expect(page.get_by_label("Firma, instytucja lub organizacja (opcjonalnie)")).to_have_count(0)
    page.get_by_label("Temat").fill(SUBJECT)
    page.get_by_label("Treść zapytania").fill("Prosimy o ofertę na codzienne sprzątanie budynku urzędu "
                                              "(1200 m², pięć dni w tygodniu) od 1 marca.")
    page.get_by_label("Ilość lub zakres (opcjonalnie)").fill("1200 m²")
    page.get_by_label("Termin realizacji (opcjonalnie)").fill(_in_future(30))
    page.get_by_label("Miejsce realizacji – powiat (opcjonalnie)").select_option(label=TORUN)
    page.get_by_label("Budżet netto w zł (opcjonalnie)").fill("20 000")
    page.get_by_label(re.compile("Zgadzam się na przetwarzanie")).check()
    page.get_by_role("button", name="Wyślij zapytanie").click()
    page.wait_for_url(re.compile(r"/zapytania/\d+$"))
    a11y.check(page)  # the comparison page, no replies yet
    expect(page.locator(".flashes")).to_contain_text("Zapytanie wysłano do 3 podmiotów.")
    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    return int(page.url.rsplit("/", 1)[1])


def _quote(page, a11y, pes, net: str, vat: str, terms: str):
    """A PES member finds the new inquiry in the inbox, opens it and sends a quote through the form."""
    inbox = f"/panel/pes/{pes.id}/zapytania"
    _visit(page, a11y, inbox)
    expect(page.locator("main")).to_contain_text("Nieprzeczytane: 1.")
    row = page.locator("tbody tr").filter(has_text=SUBJECT)
    expect(row).to_have_class(re.compile(r"\bunread\b"))
    expect(row.locator(".badge")).to_have_text("nowe")
    expect(row).to_contain_text(INSTITUTION)
    row.get_by_role("link", name=SUBJECT).click()
    page.wait_for_url(re.compile(rf"/panel/pes/{pes.id}/zapytania/\d+$"))
    a11y.check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(page.locator("main .facts").first).to_contain_text("zamawiający publiczny")
    # Another PES asked in the same inquiry is not named to this one.
    for other in (PES_A, PES_B, PES_C):
        if other != pes.name:
            expect(page.locator("main")).not_to_contain_text(other)
    form = page.get_by_role("region", name="Wyślij ofertę cenową")
    form.get_by_label("Cena netto w zł").fill(net)
    form.get_by_label("Stawka VAT").select_option(vat)
    form.get_by_label("Oferta ważna do").fill(_in_future(21))
    form.get_by_label("Termin realizacji (opcjonalnie)").fill(_in_future(30))
    form.get_by_label("Warunki realizacji (dostawa, płatność, zakres)").fill(terms)
    form.get_by_label("Wiadomość do pytającego (opcjonalnie)").fill("Zapraszamy do współpracy.")
    _submit(page, form.get_by_role("button", name="Wyślij ofertę cenową"))
    a11y.check(page)
    expect(page.locator(".flashes")).to_contain_text("Ofertę cenową wysłano.")
    expect(page.locator(".quote")).to_contain_text(net)
    # Read now: the inbox no longer marks it.
    _visit(page, a11y, inbox)
    expect(page.locator("main")).to_contain_text("Wszystkie przeczytane.")
    expect(page.locator("tbody tr").filter(has_text=SUBJECT).locator(".badge")).to_have_count(0)


def _row(page, name):
    return page.locator("table.comparison tbody tr").filter(has=page.get_by_role("rowheader", name=name))


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    return re.sub(r"\s+", " ", text)


def test_purchaser_asks_three_pes_compares_two_quotes_accepts_one_and_files_the_pdf(
        app, page, a11y, cast, new_page, tmp_path):
    _sign_in(page, a11y, cast["purchaser"].email)
    _choose_by_criteria(page, a11y)
    inquiry_id = _send_inquiry(page, a11y)
    comparison_url = f"/zapytania/{inquiry_id}"
    inquiry = db.session.get(Inquiry, inquiry_id)
    assert inquiry.multi and inquiry.institution_id is not None
    assert sorted(t.pes.name for t in inquiry.threads) == sorted((PES_A, PES_B, PES_C))

    first = new_page()
    _sign_in(first, a11y, cast["a_owner"].email)
    _quote(first, a11y, cast["a"], "1 250,00", "23", "Środki czystości w cenie, płatność przelewem 14 dni.")
    second = new_page()
    _sign_in(second, a11y, cast["b_owner"].email)
    _quote(second, a11y, cast["b"], "980,00", "8", "Sprzątanie po godzinach pracy urzędu.")

    _visit(page, a11y, comparison_url)
    rows = page.locator("table.comparison tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).get_by_role("rowheader")).to_have_text(PES_B)  # the cheaper gross comes first
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text(PES_A)
    expect(rows.nth(2).get_by_role("rowheader")).to_have_text(PES_C)
    cheaper, dearer, silent = _row(page, PES_B), _row(page, PES_A), _row(page, PES_C)
    for row, net, gross in ((cheaper, "980,00 zł", "1 058,40 zł"), (dearer, "1 250,00 zł", "1 537,50 zł")):
        expect(row).to_contain_text("Z ofertą cenową")
        expect(row).to_contain_text(net)
        expect(row).to_contain_text(gross)
    expect(cheaper).to_contain_text("Sprzątanie po godzinach pracy urzędu.")
    expect(silent).not_to_contain_text("zł")
    expect(silent).to_contain_text("Nowe")
    expect(silent.get_by_role("button")).to_have_count(0)
    expect(silent.get_by_role("link", name=f"Rozmowa z: {PES_C}")).to_be_visible()

    # The purchaser's own page of one thread, with the quote in the conversation.
    page.get_by_role("rowheader", name=PES_B).get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/zapytania/{inquiry_id}/rozmowa/\d+$"))
    a11y.check(page)
    quote = page.locator(".quote")
    expect(quote).to_contain_text("980,00 zł")
    expect(quote).to_contain_text("1 058,40 zł")
    expect(page.locator("main")).to_contain_text("Zapraszamy do współpracy.")
    page.get_by_role("link", name="← Porównanie odpowiedzi").click()
    page.wait_for_url(re.compile(rf"/zapytania/{inquiry_id}$"))
    a11y.check(page)

    expect(page.get_by_role("button", name=f"Przyjmij ofertę: {PES_A}")).to_be_visible()
    _submit(page, page.get_by_role("button", name=f"Przyjmij ofertę: {PES_B}"))
    a11y.check(page)  # the comparison after accepting
    expect(page.locator(".flashes")).to_contain_text(f"Przyjęto ofertę podmiotu „{PES_B}”")
    expect(page.locator("main")).to_contain_text("Przyjęto ofertę.")
    expect(_row(page, PES_B)).to_contain_text("przyjęta")
    expect(_row(page, PES_B)).to_have_class(re.compile(r"\baccepted\b"))
    expect(page.get_by_role("button", name=re.compile("Przyjmij ofertę"))).to_have_count(0)
    db.session.expire_all()
    statuses = {t.pes.name: t.status for t in db.session.scalars(
        select(InquiryThread).where(InquiryThread.inquiry_id == inquiry_id))}
    assert statuses == {PES_A: "declined", PES_B: "accepted", PES_C: "declined"}

    with page.expect_download() as info:
        page.get_by_role("link", name="PDF", exact=True).click()
    download = info.value
    assert re.fullmatch(rf"porownanie-ofert-{inquiry_id}-\d{{4}}-\d{{2}}-\d{{2}}\.pdf", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    text = _pdf_text(saved)
    for expected in (SUBJECT, PES_A, PES_B, PES_C):
        assert expected in text, (expected, text[:2000])
    expect(page).to_have_url(re.compile(rf"/zapytania/{inquiry_id}$"))  # the download left the page where it was


def _guest_fills_in(page, email: str):
    """A guest writes the inquiry from the keyboard: type into each field, Space ticks, Enter sends."""
    for label, value in (("Temat", SUBJECT), ("Treść zapytania", "Prosimy o ofertę na sprzątanie świetlicy."),
                         ("Imię i nazwisko", "Jan Gość"), ("Adres e-mail", email)):
        page.get_by_label(label, exact=True).focus()
        page.keyboard.type(value)
    page.get_by_label(re.compile("Zgadzam się na przetwarzanie")).focus()
    page.keyboard.press("Space")
    expect(page.get_by_label(re.compile("Zgadzam się na przetwarzanie"))).to_be_checked()
    _submit(page, page.get_by_role("button", name="Dalej: potwierdź adres e-mail"), keyboard=True)


def _axe(page, a11y):
    if a11y is not None:
        a11y.check(page)


def _guest_until_check_your_mail(page, a11y, email: str):
    """From the criteria page to "Sprawdź pocztę", first with the e-mail address missing; `a11y` is None
    where axe-core cannot run (without JavaScript)."""
    page.goto("/zapytania/odbiorcy")
    _axe(page, a11y)
    page.get_by_label("Kategoria", exact=True).select_option(label=CLEANING)
    page.get_by_label("Obsługiwany powiat").select_option(label=TORUN)
    _submit(page, page.get_by_role("button", name="Pokaż podmioty"), keyboard=True)
    expect(page).to_have_url(re.compile(r"category=sprzatanie"))
    _axe(page, a11y)
    chosen = page.get_by_role("group", name="Wyślij zapytanie do")
    chosen.get_by_label(PES_C).focus()
    page.keyboard.press("Space")  # leave one out
    expect(chosen.get_by_label(PES_C)).not_to_be_checked()
    _submit(page, page.get_by_role("button", name="Dalej: napisz zapytanie"), keyboard=True)
    expect(page).to_have_url(re.compile(r"/zapytania/nowe\?"))
    _axe(page, a11y)
    expect(page.get_by_role("heading", level=1)).to_have_text("Zapytanie ofertowe do 2 podmiotów")
    _guest_fills_in(page, "")
    _axe(page, a11y)  # the form again, with its errors
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Podaj adres e-mail")
    expect(page.get_by_label("Adres e-mail", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Temat")).to_have_value(SUBJECT)  # what was typed is kept
    page.get_by_label("Adres e-mail", exact=True).focus()
    page.keyboard.type(email)
    expect(page.get_by_label(re.compile("Zgadzam się na przetwarzanie"))).to_be_checked()  # kept as well
    _submit(page, page.get_by_role("button", name="Dalej: potwierdź adres e-mail"), keyboard=True)
    _axe(page, a11y)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sprawdź pocztę, aby wysłać zapytanie")


def test_a_guest_writes_an_inquiry_from_the_keyboard_without_javascript(app, page, a11y, cast, new_page, mailbox):
    # axe-core needs JavaScript, so it checks the same path in an ordinary browser first...
    _guest_until_check_your_mail(page, a11y, "gosc1@example.org")
    # ...and then the path is walked with JavaScript switched off.
    plain = new_page(java_script_enabled=False)
    _guest_until_check_your_mail(plain, None, "gosc2@example.org")  # the same URLs, checked above

    sent = db.session.scalars(select(Inquiry).order_by(Inquiry.id)).all()
    assert [(i.sender_email, i.status, len(i.threads)) for i in sent] == [
        ("gosc1@example.org", "unconfirmed", 2), ("gosc2@example.org", "unconfirmed", 2)]
    assert {t.pes.name for t in sent[1].threads} == {PES_A, PES_B}
    assert "/zapytania/potwierdz/" in mailbox.body(mailbox.last("gosc2@example.org"))
    assert mailbox.to(cast["a_owner"].email) == []  # nothing reaches a PES before the guest confirms
