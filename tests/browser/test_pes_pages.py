"""PES pages in a real browser: every page of the directory, profile and panel passes axe-core and fits 320 px."""
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.extensions import db
from marketplace.pes import team as pes_team
from marketplace.pes.models import PesInvitation, PesMembership
from tests.factories import PASSWORD, make_pes, make_user

pytestmark = pytest.mark.browser


def _log_in(page, a11y, email: str) -> None:
    page.goto("/konto/logowanie")
    a11y.check(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    a11y.check(page)


def _visit(page, a11y, path: str) -> None:
    page.goto(path)
    a11y.check(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], path


def test_pes_pages_are_accessible_and_fit_a_narrow_screen(app, page, a11y):
    owner, invitee = make_user("wlasciciel@example.org"), make_user("zaproszona@example.org")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Przystań", legal_form="cis", integration_mission=True,
                   disadvantaged_share=40, social_enterprise_status=True, mission="Praca dla ludzi.",
                   email="biuro.spoldzielni.socjalnej@example.org", phone="+48 56 000 00 00",
                   website="https://bardzo-dluga-domena-spoldzielni.example.org/o-nas", contact_person="Jan Nowak",
                   data_confirmed_at=datetime.now(UTC) - timedelta(days=500))
    rejected = make_pes(owner=owner, name="Odrzucony", status="rejected", status_reason="Błędny NIP.")
    for n in range(22):
        make_pes(name=f"Podmiot {n:02d}")
    editor = make_user("redaktor@example.org", name="Roman Redaktor")
    invitation = PesInvitation(pes=pes, email=invitee.email, role="editor", invited_by_id=owner.id)
    db.session.add_all([invitation, PesMembership(pes=pes, user=editor, role="editor")])
    db.session.commit()
    with app.test_request_context():
        token = pes_team.invitation_token(invitation)

    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/pes", "/pes?powiat=0463&legal_form=cis&reserved_eligible=y&q=Prz", "/pes?page=2",
                 f"/pes/{pes.id}"):
        _visit(page, a11y, path)

    _log_in(page, a11y, owner.email)
    for path in ("/panel/pes", "/panel/pes/nowy", f"/panel/pes/{pes.id}/edytuj", f"/panel/pes/{rejected.id}/edytuj",
                 f"/panel/pes/{pes.id}/zespol", f"/pes/{rejected.id}", f"/zaproszenie/{token}"):
        _visit(page, a11y, path)
    page.goto("/panel/pes/nowy")
    page.fill("#nip", "123")
    page.fill("#krs", "abc")
    page.locator("main form button[type=submit]").click()
    a11y.check(page)
    assert page.locator("#nip-error").is_visible()
    page.goto(f"/panel/pes/{pes.id}/edytuj")
    assert page.get_by_text("po zapisaniu profil wróci do weryfikacji").is_visible()
    page.goto(f"/panel/pes/{pes.id}/zespol")
    page.get_by_role("button", name="Nadaj rolę właściciela: Roman Redaktor").click()
    a11y.check(page)
    assert "Roman Redaktor ma teraz rolę: właściciel." in page.content()
    assert page.get_by_role("button", name="Zrezygnuj z roli właściciela").is_visible()
    page.fill("#email", "to-nie-adres")
    page.get_by_role("button", name="Wyślij zaproszenie").click()
    a11y.check(page)

    page.context.clear_cookies()
    _log_in(page, a11y, invitee.email)
    _visit(page, a11y, f"/zaproszenie/{token}")
    page.get_by_role("button", name="Przyjmuję zaproszenie").click()
    a11y.check(page)
    assert "Jesteś teraz w zespole" in page.content()
