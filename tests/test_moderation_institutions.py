"""The moderation panel: institutions of public purchasers and each person's tie to an institution."""
import re

import pytest

from accounts.models import Institution, User
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_institution, make_user
from tests.test_moderation import _entries, setup, sign_in  # noqa: F401


def _page(client, inst) -> str:
    return client.get(f"/moderacja/instytucje/{inst.id}").get_data(as_text=True)


def _inst_act(client, inst, slug, **data):
    """Post an institution's form the way a browser does, with the hidden fields of the page as shown."""
    html = _page(client, inst)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    people = re.search(r'name="people" type="hidden" value="([^"]*)"', html)
    fields = {"csrf_token": token, "people": people.group(1) if people else ""}
    return client.post(f"/moderacja/instytucje/{inst.id}/{slug}", data={**fields, **data}, follow_redirects=True)


def _person_act(client, inst, user, slug, reason=None):
    token = csrf_token(client, f"/moderacja/instytucje/{inst.id}")
    data = {"csrf_token": token} if reason is None else {f"p{user.id}-csrf_token": token, f"p{user.id}-reason": reason}
    return client.post(f"/moderacja/instytucje/{inst.id}/osoby/{user.id}/{slug}", data=data, follow_redirects=True)


def _fresh(model, obj_id):
    db.session.expire_all()
    return db.session.get(model, obj_id)


@pytest.fixture
def county(app):
    """A verified institution with one confirmed person and one who has just joined."""
    inst = make_institution(name="Powiat Toruński", nip="8792624426", kind="powiat", status="verified")
    known = make_user("zamowienia@powiat.example.org", role="purchaser", institution_id=inst.id,
                      institution_status="verified")
    newcomer = make_user("nowa@powiat.example.org", role="purchaser", institution_id=inst.id,
                         institution_status="pending", name="Nowa Osoba")
    db.session.commit()
    return {"inst": inst, "known": known, "newcomer": newcomer}


def test_institution_page_shows_its_people_and_their_checks(client, setup, county):
    sign_in(client, setup["moderator"])
    html = _page(client, setup["inst"])
    for text in ("Gmina Obrowo", setup["inst"].nip, "urzednik@obrowo.example.org", "Zweryfikuj instytucję",
                 "Razem z instytucją zostanie potwierdzone powiązanie tych osób: urzednik@obrowo.example.org",
                 'Potwierdź powiązanie<span class="visually-hidden"> – urzednik@obrowo.example.org</span>'):
        assert text in html
    html = _page(client, county["inst"])
    assert "Cofnij weryfikację" in html and "Zweryfikuj instytucję" not in html
    assert 'Cofnij potwierdzenie<span class="visually-hidden"> – zamowienia@powiat.example.org' in html
    assert 'Odrzuć powiązanie<span class="visually-hidden"> – nowa@powiat.example.org' in html
    assert client.get("/moderacja/instytucje/99999999999999").status_code == 404


def test_queue_lists_new_institutions_and_people_of_verified_ones(client, setup, county):
    make_user("kupujacy@powiat.example.org", institution_id=county["inst"].id)  # not a purchaser: not listed
    db.session.commit()
    sign_in(client, setup["moderator"])
    html = client.get("/moderacja/?tab=institutions").get_data(as_text=True)
    assert "Instytucje i osoby czekające na weryfikację (2)" in html
    new, people = html.split("<h3>Osoby ze zweryfikowanych instytucji")
    assert "Gmina Obrowo" in new and "urzednik@obrowo.example.org" in new and "Powiat Toruński" not in new
    assert f'/moderacja/instytucje/{county["inst"].id}#person-{county["newcomer"].id}' in people
    assert "nowa@powiat.example.org" in people and "Powiat Toruński (NIP 8792624426)" in people
    assert "zamowienia@powiat.example.org" not in people and "kupujacy@" not in people


def test_verify_institution_confirms_the_people_shown_mails_them_and_writes_audit(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    resp = _inst_act(client, setup["inst"], "weryfikuj")
    assert "Instytucja zweryfikowana" in resp.get_data(as_text=True)
    inst = _fresh(Institution, setup["inst"].id)
    assert inst.status == "verified" and inst.verified_at is not None
    clerk = _fresh(User, setup["clerk"].id)
    assert clerk.institution_status == "verified" and clerk.institution_checked_at is not None
    assert clerk.is_verified_purchaser
    mail = mailbox.last("urzednik@obrowo.example.org")
    assert "Gmina Obrowo" in mail["Subject"] and "http://localhost/konto/ustawienia" in mailbox.body(mail)
    [entry] = _entries("institution.verify")
    assert entry.object_type == "institution" and entry.before["status"] == "pending"
    assert entry.after["status"] == "verified"
    [person] = _entries("purchaser.verify")
    assert person.object_type == "user" and person.object_id == clerk.id
    assert person.before["institution_status"] == "pending" and person.after["institution_status"] == "verified"
    assert "Gmina Obrowo" not in client.get("/moderacja/?tab=institutions").get_data(as_text=True)


def test_someone_who_joined_after_the_page_was_shown_still_waits(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    html = _page(client, setup["inst"])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    shown = re.search(r'name="people" type="hidden" value="([^"]*)"', html).group(1)
    late = make_user("podszywacz@example.org", role="purchaser", institution_id=setup["inst"].id,
                     institution_status="pending")
    db.session.commit()
    client.post(f"/moderacja/instytucje/{setup['inst'].id}/weryfikuj", data={"csrf_token": token, "people": shown})
    assert _fresh(User, setup["clerk"].id).is_verified_purchaser
    late = _fresh(User, late.id)
    assert late.institution_status == "pending" and not late.is_verified_purchaser
    assert mailbox.to("podszywacz@example.org") == []
    html = client.get("/moderacja/?tab=institutions").get_data(as_text=True)
    assert "podszywacz@example.org" in html.split("<h3>Osoby ze zweryfikowanych instytucji")[1]


def test_reject_institution_needs_a_reason_which_its_people_receive(client, setup, mailbox):
    sign_in(client, setup["moderator"])
    resp = _inst_act(client, setup["inst"], "odrzuc")
    assert resp.status_code == 422 and "Podaj uzasadnienie." in resp.get_data(as_text=True)
    assert "<h4>Popraw błędy w formularzu</h4>" in resp.get_data(as_text=True)
    assert _fresh(Institution, setup["inst"].id).status == "pending"
    assert _entries() == [] and mailbox.messages() == []
    reason = "NIP nie należy do jednostki samorządu."
    _inst_act(client, setup["inst"], "odrzuc", reason=reason)
    inst = _fresh(Institution, setup["inst"].id)
    assert inst.status == "rejected" and inst.status_reason == reason
    assert reason in mailbox.body(mailbox.last("urzednik@obrowo.example.org"))
    [entry] = _entries("institution.reject")
    assert entry.reason == reason and entry.after["status"] == "rejected"


def test_a_person_of_a_verified_institution_is_confirmed_on_their_own(client, setup, county, mailbox):
    newcomer = county["newcomer"]
    assert not newcomer.is_verified_purchaser
    sign_in(client, setup["moderator"])
    resp = _person_act(client, county["inst"], newcomer, "potwierdz")
    assert "Potwierdzono powiązanie osoby nowa@powiat.example.org" in resp.get_data(as_text=True)
    newcomer = _fresh(User, newcomer.id)
    assert newcomer.institution_status == "verified" and newcomer.is_verified_purchaser
    body = mailbox.body(mailbox.last("nowa@powiat.example.org"))
    assert "Możesz już korzystać" in body and "http://localhost/konto/ustawienia" in body
    assert mailbox.to("zamowienia@powiat.example.org") == []
    [entry] = _entries("purchaser.verify")
    assert entry.object_type == "user" and entry.object_id == newcomer.id and entry.reason is None
    assert entry.before["institution_status"] == "pending" and entry.after["institution_status"] == "verified"
    assert "nowa@powiat.example.org" not in client.get("/moderacja/?tab=institutions").get_data(as_text=True)


def test_rejecting_a_person_needs_a_reason_which_they_receive(client, setup, county, mailbox):
    newcomer = county["newcomer"]
    sign_in(client, setup["moderator"])
    resp = _person_act(client, county["inst"], newcomer, "odrzuc", reason="  ")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Podaj uzasadnienie." in html
    assert f'href="#p{newcomer.id}-reason"' in html and "<h4>Popraw błędy w formularzu</h4>" in html
    assert _fresh(User, newcomer.id).institution_status == "pending"
    assert _entries() == [] and mailbox.messages() == []
    reason = "Urząd nie zna tej osoby."
    _person_act(client, county["inst"], newcomer, "odrzuc", reason=reason)
    newcomer = _fresh(User, newcomer.id)
    assert newcomer.institution_status == "rejected" and not newcomer.is_verified_purchaser
    assert reason in mailbox.body(mailbox.last("nowa@powiat.example.org"))
    [entry] = _entries("purchaser.reject")
    assert entry.reason == reason and entry.after["institution_status"] == "rejected"


def test_a_confirmed_person_can_lose_the_tools(client, setup, county, mailbox):
    known = county["known"]
    assert known.is_verified_purchaser
    sign_in(client, setup["moderator"])
    _person_act(client, county["inst"], known, "odrzuc", reason="Osoba nie pracuje już w starostwie.")
    known = _fresh(User, known.id)
    assert known.institution_status == "rejected" and not known.is_verified_purchaser
    assert _fresh(Institution, county["inst"].id).status == "verified"
    assert "nie pracuje już" in mailbox.body(mailbox.last("zamowienia@powiat.example.org"))
    [entry] = _entries("purchaser.reject")
    assert entry.before["institution_status"] == "verified"


def test_revoking_an_institution_closes_the_tools_to_all_its_people(client, setup, county, mailbox):
    inst, known = county["inst"], county["known"]
    sign_in(client, setup["moderator"])
    resp = _inst_act(client, inst, "cofnij", reason="")
    assert resp.status_code == 422 and "Podaj uzasadnienie." in resp.get_data(as_text=True)
    assert _fresh(Institution, inst.id).status == "verified" and mailbox.messages() == []
    reason = "Starostwo zgłosiło, że nie zakładało tego konta."
    resp = _inst_act(client, inst, "cofnij", reason=reason)
    assert "Weryfikacja instytucji cofnięta" in resp.get_data(as_text=True)
    inst = _fresh(Institution, inst.id)
    assert inst.status == "rejected" and inst.status_reason == reason and inst.verified_at is None
    assert not _fresh(User, known.id).is_verified_purchaser
    for email in ("zamowienia@powiat.example.org", "nowa@powiat.example.org"):
        mail = mailbox.last(email)
        assert "Powiat Toruński" in mail["Subject"] and reason in mailbox.body(mail)
    [entry] = _entries("institution.revoke")
    assert entry.reason == reason and entry.before["status"] == "verified" and entry.after["status"] == "rejected"
    html = _page(client, inst)
    assert "Zweryfikuj instytucję" in html and "Potwierdź powiązanie" not in html


def test_verifying_again_after_a_revocation_reopens_the_tools(client, setup, county, mailbox):
    inst = county["inst"]
    sign_in(client, setup["moderator"])
    _inst_act(client, inst, "cofnij", reason="Do wyjaśnienia.")
    _inst_act(client, inst, "weryfikuj")
    assert _fresh(User, county["known"].id).is_verified_purchaser
    assert _fresh(User, county["newcomer"].id).is_verified_purchaser  # shown as waiting, so confirmed with it
    assert "Możesz już korzystać" in mailbox.body(mailbox.last("zamowienia@powiat.example.org"))
    assert [e.action for e in _entries()] == ["institution.revoke", "institution.verify", "purchaser.verify"]


@pytest.mark.parametrize("slug, status", [("weryfikuj", "verified"), ("odrzuc", "verified"), ("cofnij", "pending")])
def test_wrong_institution_transition_is_refused(client, setup, mailbox, slug, status):
    inst = make_institution(name="Gmina Lubicz", status=status)
    db.session.commit()
    sign_in(client, setup["moderator"])
    resp = _inst_act(client, inst, slug, reason="Powód")
    assert "Nie zmieniono statusu" in resp.get_data(as_text=True)
    assert _fresh(Institution, inst.id).status == status
    assert _entries() == [] and mailbox.messages() == []


def test_wrong_person_transition_and_stranger_are_refused(client, setup, county, mailbox):
    sign_in(client, setup["moderator"])
    resp = _person_act(client, county["inst"], county["known"], "potwierdz")
    assert "Nie zmieniono statusu osoby zamowienia@powiat.example.org" in resp.get_data(as_text=True)
    token = csrf_token(client, f"/moderacja/instytucje/{county['inst'].id}")
    url = f"/moderacja/instytucje/{county['inst'].id}/osoby/{setup['clerk'].id}/potwierdz"
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    url = f"/moderacja/instytucje/{county['inst'].id}/osoby/99999999999999/potwierdz"
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert _fresh(User, setup["clerk"].id).institution_status == "pending"
    assert _entries() == [] and mailbox.messages() == []


def test_staff_cannot_verify_their_own_institution_or_its_people(client, setup, mailbox):
    moderator = setup["moderator"]
    moderator.institution_id = setup["inst"].id
    db.session.commit()
    sign_in(client, moderator)
    html = _page(client, setup["inst"])
    assert "Twoje konto należy do tej instytucji" in html
    assert "Zweryfikuj instytucję" not in html and "Potwierdź powiązanie" not in html
    resp = _inst_act(client, setup["inst"], "weryfikuj")
    assert "Nie możesz weryfikować instytucji, do której należy Twoje konto." in resp.get_data(as_text=True)
    resp = _person_act(client, setup["inst"], setup["clerk"], "potwierdz")
    assert "Nie możesz weryfikować instytucji" in resp.get_data(as_text=True)
    assert _fresh(Institution, setup["inst"].id).status == "pending"
    assert _fresh(User, setup["clerk"].id).institution_status == "pending"
    assert _entries() == [] and mailbox.messages() == []


def test_audit_log_describes_checks_of_people_in_words(client, setup, county):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    sign_in(client, admin)
    _person_act(client, county["inst"], county["newcomer"], "potwierdz")
    html = client.get(f"/moderacja/dziennik?object_type=user&object_id={county['newcomer'].id}").get_data(as_text=True)
    for text in ("potwierdzenie osoby z instytucji", "powiązanie z instytucją: czeka na weryfikację → zweryfikowany",
                 "nowa@powiat.example.org"):
        assert text in html
    html = _page(client, county["inst"])
    assert f"/moderacja/dziennik?object_type=institution&amp;object_id={county['inst'].id}" in html


def test_services_refuse_a_person_of_a_rejected_institution(app, setup):
    from marketplace.moderation import institutions, services

    inst = make_institution(name="Gmina Odrzucona", status="rejected")
    person = make_user("ktos@odrzucona.example.org", role="purchaser", institution_id=inst.id,
                       institution_status="pending")
    db.session.commit()
    with app.test_request_context():
        with pytest.raises(services.ModerationError, match="status"):
            institutions.verify_person(setup["moderator"], person)
        with pytest.raises(services.NotPermitted):
            institutions.verify_person(setup["owner"], setup["clerk"])
        with pytest.raises(services.ModerationError, match="uzasadnienie"):
            institutions.revoke_institution(setup["moderator"], make_institution(status="verified"), "")
    assert _fresh(User, person.id).institution_status == "pending" and _entries() == []
