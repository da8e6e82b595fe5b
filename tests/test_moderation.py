"""The moderation panel: who may enter, and the PES actions (verify, reject, suspend, reinstate)."""
import pytest
from sqlalchemy import select

from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.pes.models import Pes
from tests.conftest import csrf_token
from tests.factories import login, make_institution, make_pes, make_user

GET_URLS = ["/moderacja/", "/moderacja/?tab=institutions", "/moderacja/pes/{pes}",
            "/moderacja/instytucje/{inst}", "/moderacja/uzytkownicy", "/moderacja/dziennik"]
POST_URLS = ["/moderacja/pes/{pes}/weryfikuj", "/moderacja/pes/{pes}/odrzuc", "/moderacja/pes/{pes}/zawies",
             "/moderacja/pes/{pes}/przywroc", "/moderacja/instytucje/{inst}/weryfikuj",
             "/moderacja/instytucje/{inst}/odrzuc", "/moderacja/instytucje/{inst}/cofnij",
             "/moderacja/instytucje/{inst}/osoby/{user}/potwierdz",
             "/moderacja/instytucje/{inst}/osoby/{user}/odrzuc", "/moderacja/uzytkownicy/{user}/rola"]


def sign_in(client, user):
    resp = login(client, user.email)
    assert resp.status_code == 302, "login failed"


@pytest.fixture
def setup(app):
    """A moderator, an owner with a pending PES, and a pending institution with a person waiting for a check."""
    moderator = make_user("moderator@example.org", role="moderator")
    owner = make_user("wlasciciel@example.org")
    pes = make_pes(owner=owner, status="pending", name="Spółdzielnia Socjalna Przystań", nip="5260250274",
                   krs="0000123456", regon="123456785")
    inst = make_institution(name="Gmina Obrowo", status="pending")
    clerk = make_user("urzednik@obrowo.example.org", role="purchaser", institution_id=inst.id,
                      institution_status="pending")
    db.session.commit()
    return {"moderator": moderator, "owner": owner, "pes": pes, "inst": inst, "clerk": clerk}


def _urls(urls, s):
    return [u.format(pes=s["pes"].id, inst=s["inst"].id, user=s["clerk"].id) for u in urls]


def _fresh(pes_id: int) -> Pes:
    db.session.expire_all()
    return db.session.get(Pes, pes_id)


def _entries(action: str | None = None):
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return db.session.scalars(query).all()


def _act(client, pes, slug, **data):
    token = csrf_token(client, f"/moderacja/pes/{pes.id}")
    return client.post(f"/moderacja/pes/{pes.id}/{slug}", data={"csrf_token": token, **data},
                       follow_redirects=True)


def test_anonymous_visitors_are_sent_to_login(client, setup):
    for url in _urls(GET_URLS, setup):
        resp = client.get(url)
        assert resp.status_code == 302, url
        assert "/konto/logowanie" in resp.headers["Location"], url


def test_non_staff_get_403_everywhere_and_nothing_changes(client, setup, mailbox):
    sign_in(client, setup["owner"])
    for url in _urls(GET_URLS, setup):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/")
    clerk = setup["clerk"]
    for url in _urls(POST_URLS, setup):
        data = {"csrf_token": token, "reason": "x", f"u{clerk.id}-role": "admin", f"p{clerk.id}-reason": "x",
                "people": str(clerk.id)}
        resp = client.post(url, data=data)
        assert resp.status_code == 403, url
    assert _fresh(setup["pes"].id).status == "pending"
    db.session.expire_all()
    assert setup["inst"].status == "pending" and clerk.institution_status == "pending"
    assert _entries() == [] and mailbox.messages() == []


def test_moderator_cannot_reach_admin_pages(client, setup):
    sign_in(client, setup["moderator"])
    assert client.get("/moderacja/dziennik").status_code == 403
    assert client.get("/moderacja/uzytkownicy").status_code == 403
    assert client.get("/moderacja/").status_code == 200


def test_queue_lists_pending_pes_oldest_first_with_key_data(client, setup):
    later = make_pes(status="pending", name="Fundacja Późniejsza", legal_form="fundacja")
    make_pes(status="verified", name="Już Zweryfikowana")
    db.session.commit()
    sign_in(client, setup["moderator"])
    html = client.get("/moderacja/").get_data(as_text=True)
    assert html.index("Spółdzielnia Socjalna Przystań") < html.index(later.name)
    assert "Już Zweryfikowana" not in html
    for text in ("5260250274", "0000123456", "123456785", "wlasciciel@example.org (właściciel)", "Toruń",
                 "spółdzielnia socjalna", "PES czekające na weryfikację (2)"):
        assert text in html


def test_queue_lists_institutions_suspended_and_rejected(client, setup):
    make_pes(status="suspended", name="Zawieszone Koło", status_reason="Nieaktualne dane kontaktowe")
    make_pes(status="rejected", name="Odrzucony Podmiot", status_reason="To nie jest PES")
    db.session.commit()
    sign_in(client, setup["moderator"])
    html = client.get("/moderacja/?tab=institutions").get_data(as_text=True)
    assert "Gmina Obrowo" in html and "urzednik@obrowo.example.org" in html
    html = client.get("/moderacja/?tab=suspended").get_data(as_text=True)
    assert "Zawieszone Koło" in html and "Nieaktualne dane kontaktowe" in html
    assert "Odrzucony Podmiot" not in html
    html = client.get("/moderacja/?tab=rejected").get_data(as_text=True)
    assert "Odrzucony Podmiot" in html and "To nie jest PES" in html


def test_queue_is_paginated(client, setup):
    for n in range(25):
        make_pes(status="pending", name=f"Kolejny podmiot {n:02d}")
    db.session.commit()
    sign_in(client, setup["moderator"])
    first = client.get("/moderacja/").get_data(as_text=True)
    second = client.get("/moderacja/?page=2").get_data(as_text=True)
    assert "Kolejny podmiot 18" in first and "Kolejny podmiot 19" not in first
    assert "Kolejny podmiot 19" in second and "Kolejny podmiot 24" in second
    for url in ("/moderacja/?page=999999999999", "/moderacja/?page=-3", "/moderacja/?page=abc",
                "/moderacja/?tab=institutions&page=999999999999"):
        resp = client.get(url)
        assert resp.status_code == 200, url
    assert "Kolejny podmiot 00" in client.get("/moderacja/?page=abc").get_data(as_text=True)


def test_detail_page_shows_all_data_and_only_allowed_actions(client, setup):
    sign_in(client, setup["moderator"])
    html = client.get(f"/moderacja/pes/{setup['pes'].id}").get_data(as_text=True)
    for text in ("Spółdzielnia Socjalna Przystań", "5260250274", "wlasciciel@example.org – Anna Testowa (właściciel)",
                 "Zweryfikuj podmiot",
                 "Odrzuć zgłoszenie", "czeka na weryfikację"):
        assert text in html
    assert "Zawieś profil" not in html
    assert client.get("/moderacja/pes/99999").status_code == 404
    assert client.get("/moderacja/pes/99999999999999").status_code == 404


def test_verify_makes_pes_public_mails_owner_and_writes_audit(client, setup, mailbox):
    pes = setup["pes"]
    anonymous = client.application.test_client()
    assert anonymous.get(f"/pes/{pes.id}").status_code == 404
    sign_in(client, setup["moderator"])
    resp = _act(client, pes, "weryfikuj")
    assert "zweryfikowany i widoczny publicznie" in resp.get_data(as_text=True)
    pes = _fresh(pes.id)
    assert pes.status == "verified" and pes.verified_at is not None and pes.status_reason is None
    assert pes.data_confirmed_at is not None
    assert anonymous.get(f"/pes/{pes.id}").status_code == 200
    mail = mailbox.last("wlasciciel@example.org")
    assert "Spółdzielnia Socjalna Przystań" in mail["Subject"]
    assert f"http://localhost/pes/{pes.id}" in mailbox.body(mail)
    [entry] = _entries("pes.verify")
    assert entry.actor_id == setup["moderator"].id
    assert entry.object_type == "pes" and entry.object_id == pes.id
    assert entry.before["status"] == "pending" and entry.after["status"] == "verified"
    assert entry.before["verified_at"] is None and entry.after["verified_at"]


def test_reject_without_reason_shows_message_and_changes_nothing(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    resp = _act(client, setup["pes"], "odrzuc", reason="   ")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Podaj uzasadnienie." in html
    assert 'aria-invalid="true"' in html and "<h4>Popraw błędy w formularzu</h4>" in html
    assert _fresh(setup["pes"].id).status == "pending"
    assert _entries() == [] and mailbox.messages() == []


def test_reject_with_reason_tells_owner_why(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    reason = "Podany NIP należy do innego podmiotu."
    resp = _act(client, setup["pes"], "odrzuc", reason=reason)
    assert "Zgłoszenie odrzucone" in resp.get_data(as_text=True)
    pes = _fresh(setup["pes"].id)
    assert pes.status == "rejected" and pes.status_reason == reason
    body = mailbox.body(mailbox.last("wlasciciel@example.org"))
    assert reason in body and "http://localhost/panel/pes" in body
    [entry] = _entries("pes.reject")
    assert entry.reason == reason and entry.after["status_reason"] == reason


def test_suspend_hides_pes_and_reinstate_brings_it_back(client, setup, mailbox):
    pes = make_pes(owner=setup["owner"], status="verified", name="Koło Gospodyń Wiejskich w Lubiczu")
    db.session.commit()
    anonymous = client.application.test_client()
    sign_in(client, setup["moderator"])
    resp = _act(client, pes, "zawies", reason="")
    assert resp.status_code == 422 and "Podaj uzasadnienie." in resp.get_data(as_text=True)
    assert _fresh(pes.id).status == "verified"
    _act(client, pes, "zawies", reason="Skargi klientów na jakość usług.")
    assert _fresh(pes.id).status == "suspended"
    assert anonymous.get(f"/pes/{pes.id}").status_code == 404
    assert "Koło Gospodyń Wiejskich w Lubiczu" not in anonymous.get("/pes").get_data(as_text=True)
    assert "Skargi klientów" in mailbox.body(mailbox.last("wlasciciel@example.org"))
    resp = _act(client, pes, "przywroc", reason="")
    assert "Profil przywrócony" in resp.get_data(as_text=True)
    pes = _fresh(pes.id)
    assert pes.status == "verified" and pes.status_reason is None
    assert anonymous.get(f"/pes/{pes.id}").status_code == 200
    assert "znów widoczne" in mailbox.body(mailbox.last("wlasciciel@example.org"))
    actions = [e.action for e in _entries()]
    assert actions == ["pes.suspend", "pes.reinstate"]


@pytest.mark.parametrize("status, slug", [("verified", "weryfikuj"), ("verified", "odrzuc"),
                                          ("pending", "zawies"), ("verified", "przywroc")])
def test_wrong_transition_is_refused(client, setup, mailbox, status, slug):
    pes = make_pes(owner=setup["owner"], status=status)
    db.session.commit()
    sign_in(client, setup["moderator"])
    resp = _act(client, pes, slug, reason="Powód")
    assert "Nie zmieniono statusu" in resp.get_data(as_text=True)
    assert _fresh(pes.id).status == status
    assert _entries() == [] and mailbox.messages() == []


def test_post_without_csrf_token_is_refused(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    resp = client.post(f"/moderacja/pes/{setup['pes'].id}/weryfikuj")
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    assert _fresh(setup["pes"].id).status == "pending"
    assert _entries() == [] and mailbox.messages() == []


def test_moderator_cannot_moderate_a_pes_they_belong_to(client, setup, mailbox):
    from marketplace.pes.models import PesMembership

    db.session.add(PesMembership(pes=setup["pes"], user=setup["moderator"], role="editor"))
    db.session.commit()
    sign_in(client, setup["moderator"])
    html = client.get(f"/moderacja/pes/{setup['pes'].id}").get_data(as_text=True)
    assert "nie możesz go moderować" in html and "Zweryfikuj podmiot" not in html
    token = csrf_token(client, f"/moderacja/pes/{setup['pes'].id}")
    resp = client.post(f"/moderacja/pes/{setup['pes'].id}/weryfikuj", data={"csrf_token": token},
                       follow_redirects=True)
    assert "Nie możesz moderować podmiotu" in resp.get_data(as_text=True)
    assert _fresh(setup["pes"].id).status == "pending"
    assert _entries() == [] and mailbox.messages() == []


def test_a_rejected_pes_can_be_verified_after_all(client, setup):
    sign_in(client, setup["moderator"])
    _act(client, setup["pes"], "odrzuc", reason="Brak dokumentów.")
    _act(client, setup["pes"], "weryfikuj")
    pes = _fresh(setup["pes"].id)
    assert pes.status == "verified" and pes.status_reason is None
    assert [e.action for e in _entries()] == ["pes.reject", "pes.verify"]


def test_services_refuse_wrong_actors_transitions_and_reasons(app, setup):
    from marketplace.moderation import services

    pes, moderator = setup["pes"], setup["moderator"]
    with app.test_request_context():
        with pytest.raises(services.NotPermitted):
            services.verify_pes(setup["owner"], pes)
        with pytest.raises(services.ModerationError, match="uzasadnienie"):
            services.reject_pes(moderator, pes, "  ")
        with pytest.raises(services.ModerationError, match="najwyżej"):
            services.reject_pes(moderator, pes, "x" * (services.REASON_MAX + 1))
        with pytest.raises(services.ModerationError, match="status"):
            services.suspend_pes(moderator, pes, "Powód")
        with pytest.raises(services.NotPermitted):
            services.change_role(moderator, setup["owner"], "admin")
    assert _fresh(pes.id).status == "pending" and _entries() == []
