"""Moderating offerings: the reports queue, blocked offerings, search, and the actions on one offering."""
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from catalog.models import Offering, OfferingReport
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.pes.models import PesMembership
from tests.conftest import csrf_token
from tests.factories import login, make_pes, make_user

_seq = itertools.count(1)
BASE = "/moderacja/oferty"
REASON = "Oferta nie pochodzi od podmiotu ekonomii społecznej, tylko od firmy zewnętrznej."


def make_offering(pes, title: str = "Catering dla szkół", **fields) -> Offering:
    fields = {"kind": "service", "category": "catering", "status": "published", "vat_rate": "8", **fields}
    offering = Offering(ref=f"off-t{next(_seq)}", pes=pes, title=title, **fields)
    db.session.add(offering)
    db.session.flush()
    return offering


def make_report(offering, reason: str = "misleading", message: str = "Cena jest inna niż w opisie.",
                minutes_ago: int = 0, **fields) -> OfferingReport:
    created = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    report = OfferingReport(offering_id=offering.id, reason=reason, message=message, created_at=created, **fields)
    db.session.add(report)
    db.session.flush()
    return report


def sign_in(client, user):
    assert login(client, user.email).status_code == 302, "login failed"


@pytest.fixture
def setup(app):
    """A moderator; a verified PES with an owner and an editor; its published offering with two open reports."""
    moderator = make_user("moderator@example.org", role="moderator")
    owner = make_user("wlasciciel@example.org")
    editor = make_user("redaktor@example.org")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Przystań")
    db.session.add(PesMembership(pes=pes, user=editor, role="editor"))
    offering = make_offering(pes, "Obiady dla przedszkoli", description="Zdrowe **obiady** z dowozem.\n\n"
                                                                      "<script>alert(1)</script>")
    first = make_report(offering, "not_pes", "To firma, nie spółdzielnia.", minutes_ago=30,
                        reporter_email="czujny@example.org")
    second = make_report(offering, "offensive", "Obraźliwe słowa w opisie.", minutes_ago=5)
    db.session.commit()
    return {"moderator": moderator, "owner": owner, "editor": editor, "pes": pes, "offering": offering,
            "reports": [first, second]}


def _fresh(model, pk):
    db.session.expire_all()
    return db.session.get(model, pk)


def _entries(action: str | None = None):
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return db.session.scalars(query).all()


def _post(client, url: str, offering_id: int, **data):
    token = csrf_token(client, f"{BASE}/{offering_id}")
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=True)


def _post_report(client, report, decision: str, note: str = ""):
    token = csrf_token(client, f"{BASE}/{report.offering_id}")
    p = f"r{report.id}-"
    return client.post(f"{BASE}/zgloszenia/{report.id}/{decision}",
                       data={p + "csrf_token": token, p + "note": note}, follow_redirects=True)


def _get_urls(s):
    return [BASE, f"{BASE}?tab=zablokowane", f"{BASE}?q=obiady", f"{BASE}/{s['offering'].id}"]


def _post_urls(s):
    o, r = s["offering"].id, s["reports"][0].id
    return [f"{BASE}/{o}/ukryj", f"{BASE}/{o}/przywroc", f"{BASE}/zgloszenia/{r}/rozpatrz",
            f"{BASE}/zgloszenia/{r}/odrzuc"]


def _unchanged(s, mailbox):
    offering = _fresh(Offering, s["offering"].id)
    assert offering.blocked_at is None and offering.blocked_reason is None and offering.is_public
    assert [_fresh(OfferingReport, r.id).status for r in s["reports"]] == ["open", "open"]
    assert _entries() == [] and mailbox.messages() == []


def test_anonymous_visitors_are_sent_to_login(client, setup, mailbox):
    token = csrf_token(client, "/konto/logowanie")
    for url in _get_urls(setup):
        resp = client.get(url)
        assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"], url
    for url in _post_urls(setup):
        resp = client.post(url, data={"csrf_token": token, "reason": "x"})
        assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"], url
    _unchanged(setup, mailbox)


@pytest.mark.parametrize("role", ["buyer", "committee"])
def test_non_staff_get_403_everywhere_and_nothing_changes(client, setup, mailbox, role):
    user = make_user(f"{role}@example.org", role=role)
    db.session.commit()
    sign_in(client, user)
    for url in _get_urls(setup):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/")
    for url in _post_urls(setup):
        assert client.post(url, data={"csrf_token": token, "reason": "x"}).status_code == 403, url
    _unchanged(setup, mailbox)


def test_queue_lists_open_reports_newest_first_with_labels(client, setup):
    closed = make_report(setup["offering"], "illegal", "Stare, już zamknięte zgłoszenie.", status="dismissed")
    db.session.commit()
    sign_in(client, setup["moderator"])
    html = client.get(BASE).get_data(as_text=True)
    assert html.index("Obraźliwe słowa w opisie.") < html.index("To firma, nie spółdzielnia.")
    for text in ("treści obraźliwe", "oferta nie pochodzi od PES", "czujny@example.org", "nie podano",
                 "Obiady dla przedszkoli", "Spółdzielnia Socjalna Przystań", "Otwarte zgłoszenia ofert (2)",
                 "Oferty ukryte przez moderatorów (0)", f'href="{BASE}/{setup["offering"].id}"'):
        assert text in html, text
    assert closed.message not in html


def test_queue_is_paginated_and_survives_odd_page_numbers(client, setup):
    offering = setup["offering"]
    for n in range(25):
        make_report(offering, "other", f"Zgłoszenie numer {n:02d}.", minutes_ago=60 + n)
    db.session.commit()
    sign_in(client, setup["moderator"])
    first = client.get(BASE).get_data(as_text=True)
    second = client.get(f"{BASE}?page=2").get_data(as_text=True)
    assert "Zgłoszenie numer 17." in first and "Zgłoszenie numer 18." not in first
    assert "Zgłoszenie numer 18." in second and "Zgłoszenie numer 24." in second
    for url in (f"{BASE}?page=999999999999", f"{BASE}?page=-3", f"{BASE}?page=abc",
                f"{BASE}?tab=zablokowane&page=99999999999999999999", f"{BASE}?q=obiady&page=999999999999",
                f"{BASE}?tab=nieznana"):
        assert client.get(url).status_code == 200, url
    assert client.get(f"{BASE}/999999").status_code == 404
    assert client.get(f"{BASE}/99999999999999").status_code == 404


def test_blocked_tab_lists_offerings_hidden_by_moderators(client, setup):
    make_offering(setup["pes"], "Szycie firan", blocked_at=datetime.now(UTC),
                  blocked_reason="Zdjęcia cudzych produktów.")
    db.session.commit()
    sign_in(client, setup["moderator"])
    html = client.get(f"{BASE}?tab=zablokowane").get_data(as_text=True)
    assert "Szycie firan" in html and "Zdjęcia cudzych produktów." in html
    assert "Obiady dla przedszkoli" not in html and "Oferty ukryte przez moderatorów (1)" in html


def test_search_finds_any_offering_by_title_whatever_the_case(client, setup):
    make_offering(setup["pes"], "ŁÓDKI z wikliny", status="draft")
    make_offering(setup["pes"], "Koszyki wiklinowe", status="archived")
    make_offering(setup["pes"], "Sto procent wełny")
    db.session.commit()
    sign_in(client, setup["moderator"])
    html = client.get(f"{BASE}?q=łódki").get_data(as_text=True)
    assert "ŁÓDKI z wikliny" in html and "szkic" in html and "Koszyki" not in html
    html = client.get(f"{BASE}?q=WIKLIN").get_data(as_text=True)
    assert "ŁÓDKI z wikliny" in html and "Koszyki wiklinowe" in html and "w archiwum" in html
    html = client.get(f"{BASE}?q=%25").get_data(as_text=True)
    assert "Nie znaleziono ofert" in html and "Sto procent" not in html


def test_detail_shows_offering_its_reports_and_safe_description(client, setup):
    sign_in(client, setup["moderator"])
    html = client.get(f"{BASE}/{setup['offering'].id}").get_data(as_text=True)
    for text in ("<h1>Obiady dla przedszkoli</h1>", "Spółdzielnia Socjalna Przystań", "opublikowana",
                 "<strong>obiady</strong>", "Zgłoszenia (2)", "To firma, nie spółdzielnia.", "czujny@example.org",
                 "Ukryj ofertę", "Oznacz jako rozpatrzone", "Odrzuć jako niezasadne"):
        assert text in html, text
    assert "<script>alert(1)" not in html and "Przywróć ofertę" not in html


def test_block_hides_offering_tells_pes_why_and_closes_reports(app, client, setup, mailbox):
    offering, moderator = setup["offering"], setup["moderator"]
    public = url_for("catalog.offering", offering_id=offering.id)
    anonymous = app.test_client()
    assert anonymous.get(public, follow_redirects=True).status_code == 200
    sign_in(client, moderator)
    resp = _post(client, f"{BASE}/{offering.id}/ukryj", offering.id, reason=REASON)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Oferta jest ukryta." in html and "Przywróć ofertę" in html
    offering = _fresh(Offering, offering.id)
    assert offering.blocked_at is not None and offering.blocked_reason == REASON and not offering.is_public
    assert offering.status == "published"
    assert anonymous.get(public, follow_redirects=True).status_code == 404
    for address in ("wlasciciel@example.org", "redaktor@example.org"):
        mail = mailbox.last(address)
        body = mailbox.body(mail)
        assert "Obiady dla przedszkoli" in mail["Subject"] and REASON in body
        assert "http://localhost/panel/oferty" in body  # the PES's "my offerings" page
    assert mailbox.to("moderator@example.org") == []
    [entry] = _entries("offering.block")
    assert entry.actor_id == moderator.id and entry.object_type == "offering" and entry.object_id == offering.id
    assert entry.reason == REASON and entry.before["blocked_at"] is None and entry.after["blocked_at"]
    assert entry.after["blocked_reason"] == REASON
    for report in setup["reports"]:
        report = _fresh(OfferingReport, report.id)
        assert report.status == "resolved" and report.handled_by_id == moderator.id and report.handled_at
    assert len(_entries("report.resolve")) == 2


def test_block_without_reason_is_refused_and_changes_nothing(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    resp = _post(client, f"{BASE}/{setup['offering'].id}/ukryj", setup["offering"].id, reason="   ")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Podaj powód ukrycia oferty" in html
    assert 'aria-invalid="true"' in html and "Popraw błędy w formularzu" in html
    _unchanged(setup, mailbox)


def test_block_twice_says_so_and_changes_nothing_more(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    offering_id = setup["offering"].id
    _post(client, f"{BASE}/{offering_id}/ukryj", offering_id, reason=REASON)
    mails, entries = len(mailbox.messages()), len(_entries())
    resp = _post(client, f"{BASE}/{offering_id}/ukryj", offering_id, reason="Inny powód.")
    assert "ta oferta jest już ukryta" in resp.get_data(as_text=True)
    assert _fresh(Offering, offering_id).blocked_reason == REASON
    assert len(mailbox.messages()) == mails and len(_entries()) == entries


def test_restore_lifts_the_block_and_tells_pes(client, setup, mailbox):
    offering = make_offering(setup["pes"], "Szycie firan", blocked_at=datetime.now(UTC),
                             blocked_reason="Zdjęcia cudzych produktów.")
    db.session.commit()
    sign_in(client, setup["moderator"])
    resp = _post(client, f"{BASE}/{offering.id}/przywroc", offering.id, note="Podmiot przesłał własne zdjęcia.")
    assert "Blokada zniesiona" in resp.get_data(as_text=True)
    offering = _fresh(Offering, offering.id)
    assert offering.blocked_at is None and offering.blocked_reason is None and offering.is_public
    body = mailbox.body(mailbox.last("wlasciciel@example.org"))
    assert "Szycie firan" in body and "Podmiot przesłał własne zdjęcia." in body
    assert mailbox.to("redaktor@example.org")
    [entry] = _entries("offering.unblock")
    assert entry.before["blocked_reason"] == "Zdjęcia cudzych produktów." and entry.after["blocked_at"] is None
    assert entry.reason == "Podmiot przesłał własne zdjęcia."
    resp = _post(client, f"{BASE}/{offering.id}/przywroc", offering.id)
    assert "ta oferta nie jest ukryta" in resp.get_data(as_text=True)
    assert len(_entries("offering.unblock")) == 1


def test_dismiss_and_resolve_a_report(client, setup, mailbox):
    first, second = setup["reports"]
    sign_in(client, setup["moderator"])
    resp = _post_report(client, first, "odrzuc", note="Sprawdzone w KRS: to spółdzielnia socjalna.")
    assert "Zgłoszenie odrzucono" in resp.get_data(as_text=True)
    report = _fresh(OfferingReport, first.id)
    assert report.status == "dismissed" and report.handled_by_id == setup["moderator"].id
    [entry] = _entries("report.dismiss")
    assert entry.object_type == "offeringreport" and entry.object_id == first.id
    assert entry.before["status"] == "open" and entry.after["status"] == "dismissed"
    assert entry.reason == "Sprawdzone w KRS: to spółdzielnia socjalna."
    resp = _post_report(client, second, "rozpatrz")
    assert "oznaczono jako rozpatrzone" in resp.get_data(as_text=True)
    assert _fresh(OfferingReport, second.id).status == "resolved" and len(_entries("report.resolve")) == 1
    assert _fresh(Offering, setup["offering"].id).is_public and mailbox.messages() == []
    resp = _post_report(client, first, "rozpatrz")
    assert "zgłoszenie zostało już zamknięte" in resp.get_data(as_text=True)
    assert _fresh(OfferingReport, first.id).status == "dismissed" and len(_entries()) == 2


def test_report_note_too_long_is_refused(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    resp = _post_report(client, setup["reports"][0], "odrzuc", note="x" * 2001)
    assert resp.status_code == 422 and "najwyżej 2000 znaków" in resp.get_data(as_text=True)
    _unchanged(setup, mailbox)


def test_posts_without_csrf_token_are_refused(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    for url in _post_urls(setup):
        assert client.post(url, data={"reason": REASON}).status_code == 400, url
    _unchanged(setup, mailbox)


def test_moderator_who_is_a_member_of_the_pes_cannot_act(client, setup, mailbox):
    insider = make_user("moderator-czlonek@example.org", role="moderator")
    db.session.add(PesMembership(pes_id=setup["pes"].id, user_id=insider.id, role="editor"))
    db.session.commit()
    sign_in(client, insider)
    html = client.get(f"{BASE}/{setup['offering'].id}").get_data(as_text=True)
    assert "Jesteś członkiem podmiotu" in html
    assert "Ukryj ofertę</button>" not in html and "Oznacz jako rozpatrzone" not in html
    offering_id = setup["offering"].id
    resp = _post(client, f"{BASE}/{offering_id}/ukryj", offering_id, reason=REASON)
    assert "Nie możesz moderować ofert podmiotu, którego jesteś członkiem" in resp.get_data(as_text=True)
    resp = _post_report(client, setup["reports"][0], "odrzuc")
    assert "Nie możesz moderować ofert podmiotu" in resp.get_data(as_text=True)
    _unchanged(setup, mailbox)
