"""Inquiries end to end through the pages: one PES or many, guests confirming by mail, replies, quotes,
acceptance, and the bad input that must change nothing."""
import io
from datetime import timedelta

from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryMessage, InquiryThread, Quote
from marketplace.outbox import OutboxMail
from tests.conftest import csrf_token
from tests.factories import make_user
from tests.inquiry_helpers import inquiry_form, link_in, make_offering, pes_with_owner, signed_in


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _setup_one():
    pes, owner = pes_with_owner("Spółdzielnia Socjalna Smaczna", email="smaczna@example.org")
    offering = make_offering(pes, ref="of-obiady")
    buyer = make_user(email="kupujaca@example.org", name="Ewa Kupująca")
    db.session.commit()
    return pes, owner, offering, buyer


def test_signed_in_buyer_asks_about_an_offering_and_the_pes_is_mailed(client, mailbox):
    pes, _owner, offering, buyer = _setup_one()
    signed_in(client, buyer)
    page = client.get("/zapytania/nowe?oferta=of-obiady").get_data(as_text=True)
    assert "Zapytanie o ofertę: Obiady dla szkół" in page and pes.name in page
    response = client.post("/zapytania/nowe", data=inquiry_form(client, "oferta=of-obiady", oferta="of-obiady",
                                                                 pes=pes.ref))
    assert response.status_code == 302
    inquiry = db.session.scalar(select(Inquiry))
    assert inquiry.status == "sent" and inquiry.offering_id == offering.id and not inquiry.multi
    assert str(inquiry.budget) == "12000.00"
    mail = mailbox.last("smaczna@example.org")
    assert "Nowe zapytanie: Catering dla 120 uczniów" == mail["Subject"]
    body = mailbox.body(mail)
    assert "120 uczniów od marca" in body and "/panel/pes/" in body and "/zapytania/wypisz/" in body
    assert mail.get_body(preferencelist=("html",)) is not None
    # The buyer lands on the thread and sees it in "Moje zapytania".
    assert "Catering dla 120 uczniów" in client.get("/zapytania").get_data(as_text=True)


def test_a_guest_inquiry_waits_for_the_confirmation_link_and_goes_out_once(client, mailbox):
    pes, _owner, _offering, _buyer = _setup_one()
    data = inquiry_form(client, f"pes={pes.ref}", pes=pes.ref, name="Jan Gość", email="Gosc@Example.org")
    response = client.post("/zapytania/nowe", data=data)
    assert response.status_code == 200 and "Sprawdź pocztę" in response.get_data(as_text=True)
    inquiry = db.session.scalar(select(Inquiry))
    assert inquiry.status == "unconfirmed" and inquiry.sender_email == "gosc@example.org"
    assert mailbox.to("smaczna@example.org") == []  # nothing reaches the PES before confirmation
    confirmation = mailbox.last("gosc@example.org")
    assert "Catering" not in confirmation["Subject"] + mailbox.body(confirmation)  # nothing the form's author wrote
    link = link_in(mailbox.body(confirmation), "/zapytania/potwierdz/")
    assert "Potwierdzam i wysyłam" in client.get(link).get_data(as_text=True)
    db.session.refresh(inquiry)
    assert inquiry.status == "unconfirmed"  # opening the link (a mail scanner does) sends nothing
    client.post(link, data={"csrf_token": csrf_token(client, link)})
    client.post(link, data={"csrf_token": csrf_token(client, link)})  # a second click sends nothing more
    db.session.refresh(inquiry)
    assert inquiry.status == "sent"
    assert len(mailbox.to("smaczna@example.org")) == 1
    # The guest sees the inquiry in this browser, and nobody else does.
    assert "Catering dla 120 uczniów" in client.get(f"/zapytania/{inquiry.id}", follow_redirects=True).get_data(
        as_text=True)
    other = client.application.test_client()
    assert other.get(f"/zapytania/{inquiry.id}").status_code == 404


def test_a_forged_confirmation_link_sends_nothing(client, mailbox):
    response = client.get("/zapytania/potwierdz/not-a-token")
    assert response.status_code == 400 and "nie jest już ważny" in response.get_data(as_text=True)


def _multi(client, buyer, n=3):
    made = [pes_with_owner(f"PES numer {i}", email=f"pes{i}@example.org") for i in range(n)]
    db.session.commit()
    signed_in(client, buyer)
    refs = [p.ref for p, _o in made]
    query = "&".join(f"pes={r}" for r in refs)
    response = client.post("/zapytania/nowe", data=inquiry_form(client, query, pes=refs))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return made, db.session.scalar(select(Inquiry))


def test_one_inquiry_to_many_gives_each_pes_its_own_thread_and_no_other_recipient(client, mailbox):
    buyer = make_user(email="gmina@example.org")
    made, inquiry = _multi(client, buyer)
    assert inquiry.multi and len(inquiry.threads) == 3
    for (pes, _owner), i in zip(made, range(3)):
        body = mailbox.body(mailbox.last(f"pes{i}@example.org"))
        others = [p.name for p, _o in made if p.id != pes.id]
        assert not any(name in body for name in others)
    # A member of the first PES opens its thread; the second PES's thread is not theirs to see.
    first, second = inquiry.threads[0], inquiry.threads[1]
    _log_out(client)
    signed_in(client, made[0][1])
    page = client.get(f"/panel/pes/{first.pes_id}/zapytania/{first.id}").get_data(as_text=True)
    assert "Catering dla 120 uczniów" in page and made[1][0].name not in page
    assert client.get(f"/panel/pes/{first.pes_id}/zapytania/{second.id}").status_code == 404
    assert client.get(f"/panel/pes/{second.pes_id}/zapytania/{second.id}").status_code == 403
    db.session.refresh(first)
    assert first.status == "read" and not first.pes_unread


def _quote(client, thread, owner, net="1000,00", valid_days=14):
    signed_in(client, owner)
    path = f"/panel/pes/{thread.pes_id}/zapytania/{thread.id}"
    data = {"csrf_token": csrf_token(client, path), "quote-net": net, "quote-vat_rate": "23",
            "quote-valid_until": (clock.today() + timedelta(days=valid_days)).isoformat(),
            "quote-delivery_terms": "Dowóz w cenie.", "quote-message": "Zapraszamy do współpracy."}
    response = client.post(path + "/oferta", data=data)
    _log_out(client)
    return response


def test_quotes_compare_side_by_side_and_accepting_one_thanks_the_others(client, mailbox):
    buyer = make_user(email="gmina@example.org")
    made, inquiry = _multi(client, buyer)
    _log_out(client)
    t0, t1, _t2 = inquiry.threads
    assert _quote(client, t0, made[0][1], "1000,00").status_code == 302
    assert _quote(client, t1, made[1][1], "900,00").status_code == 302
    quote = db.session.scalar(select(Quote).where(Quote.thread_id == t1.id))
    assert str(quote.gross) == "1107.00"
    assert "Oferta cenowa od PES numer 1" in mailbox.last("gmina@example.org")["Subject"]
    signed_in(client, buyer)
    page = client.get(f"/zapytania/{inquiry.id}").get_data(as_text=True)
    assert page.index("PES numer 1") < page.index("PES numer 0")  # cheaper gross first
    assert "1 107,00" in page.replace("\xa0", " ")
    token = csrf_token(client, f"/zapytania/{inquiry.id}")
    response = client.post(f"/zapytania/{inquiry.id}/przyjmij", data={"csrf_token": token, "quote_id": quote.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert [t.status for t in inquiry.threads] == ["declined", "accepted", "declined"]
    assert "Oferta przyjęta" in mailbox.last("pes1@example.org")["Subject"]
    assert "Dziękujemy za ofertę" in mailbox.last("pes0@example.org")["Subject"]
    # Accepting again (another quote, or the same) changes nothing and says why.
    other = db.session.scalar(select(Quote).where(Quote.thread_id == t0.id))
    for quote_id in (other.id, quote.id):
        response = client.post(f"/zapytania/{inquiry.id}/przyjmij", data={"csrf_token": token, "quote_id": quote_id},
                               follow_redirects=True)
        assert "już" in response.get_data(as_text=True)
    db.session.expire_all()
    assert inquiry.accepted_quote_id == quote.id
    assert [t.status for t in inquiry.threads] == ["declined", "accepted", "declined"]


def test_bad_input_gets_a_clear_message_and_stores_nothing(client, app, mailbox):
    pes, _owner, _offering, buyer = _setup_one()
    signed_in(client, buyer)
    query = f"pes={pes.ref}"
    cases = [
        ({"body": ""}, "Napisz treść zapytania."),
        ({"body": "x" * 5001}, "najwyżej 5000 znaków"),
        ({"subject": ""}, "Podaj temat zapytania."),
        ({"wanted_by": (clock.today() - timedelta(days=1)).isoformat()}, "nie może być w przeszłości"),
        ({"consent": ""}, "Bez tej zgody"),
        ({"budget": "dużo"}, "Budżet musi być liczbą"),
        ({"attachments": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "oferta.exe")}, "nie jest dokumentem PDF ani obrazem"),
    ]
    for override, message in cases:
        response = client.post("/zapytania/nowe", data=inquiry_form(client, query, pes=pes.ref, **override),
                               content_type="multipart/form-data")
        assert response.status_code == 422, override
        assert message in response.get_data(as_text=True), (override, message)
    assert _count(Inquiry) == 0 and _count(OutboxMail) == 0
    assert not list((app.config["UPLOAD_DIR"] and __import__("pathlib").Path(app.config["UPLOAD_DIR"])).glob(
        "inquiries/*"))


def test_more_recipients_than_allowed_is_refused(client, app):
    app.config["INQUIRY_MAX_RECIPIENTS"] = 2
    buyer = make_user()
    made = [pes_with_owner(f"PES limit {i}") for i in range(3)]
    db.session.commit()
    signed_in(client, buyer)
    refs = [p.ref for p, _o in made]
    response = client.post("/zapytania/nowe", data=inquiry_form(client, "&".join(f"pes={r}" for r in refs),
                                                                 pes=refs))
    assert response.status_code == 422
    assert "najwyżej do 2 podmiotów" in response.get_data(as_text=True)
    assert _count(Inquiry) == 0


def test_the_honeypot_field_keeps_nothing(client, mailbox):
    pes, _owner, _offering, _buyer = _setup_one()
    data = inquiry_form(client, f"pes={pes.ref}", pes=pes.ref, name="Bot", email="bot@example.org",
                        website="http://spam.example")
    assert client.post("/zapytania/nowe", data=data).status_code == 200
    assert _count(Inquiry) == 0 and mailbox.messages() == []


def test_a_pes_cannot_reply_in_another_pes_thread(client):
    buyer = make_user()
    made, inquiry = _multi(client, buyer, n=2)
    _log_out(client)
    t0, t1 = inquiry.threads
    signed_in(client, made[0][1])
    token = csrf_token(client, f"/panel/pes/{t0.pes_id}/zapytania/{t0.id}")
    for path in (f"/panel/pes/{t0.pes_id}/zapytania/{t1.id}/odpowiedz",
                 f"/panel/pes/{t1.pes_id}/zapytania/{t1.id}/odpowiedz"):
        response = client.post(path, data={"csrf_token": token, "reply-body": "Wtrącam się."})
        assert response.status_code in (403, 404)
    assert _count(InquiryMessage) == 0


def _log_out(client):
    client.post("/konto/wyloguj", data={"csrf_token": csrf_token(client, "/")})


def _asked_and_opened_by_the_pes(client):
    """A buyer asks the PES; its owner is signed in: (pes, owner, buyer, thread, the thread's PES path)."""
    pes, owner, _offering, buyer = _setup_one()
    signed_in(client, buyer)
    client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}", pes=pes.ref))
    _log_out(client)
    thread = db.session.scalar(select(InquiryThread))
    signed_in(client, owner)
    return pes, owner, buyer, thread, f"/panel/pes/{pes.id}/zapytania/{thread.id}"


def test_the_pes_replies_and_the_buyer_answers_back(client, mailbox):
    _pes, _owner, buyer, thread, path = _asked_and_opened_by_the_pes(client)
    empty = client.post(path + "/odpowiedz", data={"csrf_token": csrf_token(client, path), "reply-body": " "})
    assert empty.status_code == 422 and "Napisz treść" in empty.get_data(as_text=True)
    client.post(path + "/odpowiedz", data={"csrf_token": csrf_token(client, path), "reply-body": "Tak, możemy."})
    db.session.refresh(thread)
    assert thread.status == "answered" and thread.buyer_unread
    assert "Tak, możemy." in mailbox.body(mailbox.last("kupujaca@example.org"))
    _log_out(client)
    signed_in(client, buyer)
    buyer_path = f"/zapytania/{thread.inquiry_id}/rozmowa/{thread.id}"
    assert "Tak, możemy." in client.get(buyer_path).get_data(as_text=True)
    client.post(buyer_path, data={"csrf_token": csrf_token(client, buyer_path), "body": "Świetnie, proszę o cenę."})
    db.session.refresh(thread)
    assert thread.pes_unread and "proszę o cenę" in mailbox.body(mailbox.last("smaczna@example.org"))


def test_a_blocked_sender_cannot_ask_that_pes_again(client):
    pes, _owner, buyer, _thread, path = _asked_and_opened_by_the_pes(client)
    client.post(path + "/zablokuj", data={"csrf_token": csrf_token(client, path)})
    _log_out(client)
    signed_in(client, buyer)
    response = client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}", pes=pes.ref))
    assert response.status_code == 422 and "nie przyjmuje zapytań" in response.get_data(as_text=True)
    assert _count(Inquiry) == 1


def test_a_reported_thread_reaches_the_moderators(client, mailbox):
    make_user(email="moderator@example.org", role="moderator")
    _pes, owner, _buyer, thread, path = _asked_and_opened_by_the_pes(client)
    empty = client.post(path + "/zglos", data={"csrf_token": csrf_token(client, path), "report-reason": ""})
    assert empty.status_code == 422
    client.post(path + "/zglos", data={"csrf_token": csrf_token(client, path), "report-reason": "Reklama."})
    assert "Zgłoszona rozmowa" in mailbox.last("moderator@example.org")["Subject"]
    _log_out(client)
    signed_in(client, db.session.scalar(select(type(owner)).where(type(owner).email == "moderator@example.org")))
    assert "Reklama." in client.get(f"/moderacja/zapytania/{thread.id}").get_data(as_text=True)


def test_an_account_with_an_unconfirmed_address_confirms_the_inquiry_first(client, mailbox):
    pes, _owner, _offering, _buyer = _setup_one()
    newcomer = make_user(email="nowy@example.org", confirmed=False)
    db.session.commit()
    signed_in(client, newcomer)
    response = client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}", pes=pes.ref))
    assert "Sprawdź pocztę" in response.get_data(as_text=True)
    assert db.session.scalar(select(Inquiry)).status == "unconfirmed"
    assert mailbox.to("smaczna@example.org") == []


def test_a_closed_or_blocked_thread_cannot_be_accepted_and_forged_ids_are_refused(client, mailbox):
    buyer = make_user(email="gmina@example.org")
    made, inquiry = _multi(client, buyer, n=2)
    _log_out(client)
    t0, t1 = inquiry.threads
    _quote(client, t0, made[0][1])
    _quote(client, t1, made[1][1])
    signed_in(client, made[0][1])
    path = f"/panel/pes/{t0.pes_id}/zapytania/{t0.id}"
    client.post(path + "/zablokuj", data={"csrf_token": csrf_token(client, path)})
    _log_out(client)
    signed_in(client, buyer)
    token = csrf_token(client, f"/zapytania/{inquiry.id}")
    blocked_quote = db.session.scalar(select(Quote).where(Quote.thread_id == t0.id))
    assert blocked_quote.status == "withdrawn"
    response = client.post(f"/zapytania/{inquiry.id}/przyjmij", data={"csrf_token": token,
                                                                     "quote_id": blocked_quote.id},
                           follow_redirects=True)
    assert "Ta rozmowa jest zamknięta" in response.get_data(as_text=True)
    for forged in ("²", "2147483648", "99999999999999999999999", "-1", "abc"):
        assert client.post(f"/zapytania/{inquiry.id}/przyjmij",
                           data={"csrf_token": token, "quote_id": forged}).status_code == 400
    client.post(f"/zapytania/{inquiry.id}/zamknij", data={"csrf_token": token})
    open_quote = db.session.scalar(select(Quote).where(Quote.thread_id == t1.id))
    response = client.post(f"/zapytania/{inquiry.id}/przyjmij", data={"csrf_token": token,
                                                                     "quote_id": open_quote.id},
                           follow_redirects=True)
    assert "zamknięte" in response.get_data(as_text=True)
    db.session.expire_all()
    assert inquiry.accepted_quote_id is None and inquiry.status == "closed"
    assert {t.status for t in inquiry.threads} == {"closed"}


def test_a_lapsed_quote_leaves_the_thread_open_for_a_new_quote(client, runner):
    buyer = make_user(email="gmina@example.org")
    made, inquiry = _multi(client, buyer, n=2)
    _log_out(client)
    thread = inquiry.threads[0]
    _quote(client, thread, made[0][1])
    quote = db.session.scalar(select(Quote).where(Quote.thread_id == thread.id))
    quote.valid_until = clock.today() - timedelta(days=1)
    db.session.commit()
    runner.invoke(args=["inquiries", "expire"])
    db.session.expire_all()
    assert thread.status == "expired" and thread.buyer_unread
    assert _quote(client, thread, made[0][1], "950,00").status_code == 302
    db.session.expire_all()
    assert thread.status == "quoted"


def test_text_with_a_nul_byte_gets_a_400_not_an_error(client):
    pes, _owner, _offering, buyer = _setup_one()
    signed_in(client, buyer)
    response = client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={pes.ref}", pes=pes.ref,
                                                                 body="a\x00b"))
    assert response.status_code == 400
    assert _count(Inquiry) == 0


def test_a_moderator_resolves_a_report_and_the_audit_log_records_it(client):
    from marketplace.audit import AuditEntry

    moderator = make_user(email="moderator@example.org", role="moderator")
    buyer = make_user(email="gmina@example.org")
    _made, inquiry = _multi(client, buyer, n=1)
    thread = inquiry.threads[0]
    thread.reported_at, thread.report_reason = clock.now(), "Spam."
    db.session.commit()
    _log_out(client)
    assert client.get("/moderacja/zapytania").status_code in (302, 401)  # not for visitors
    signed_in(client, buyer)
    assert client.get("/moderacja/zapytania").status_code == 403  # nor for buyers
    _log_out(client)
    signed_in(client, moderator)
    path = f"/moderacja/zapytania/{thread.id}"
    assert "Spam." in client.get(path).get_data(as_text=True)
    client.post(path + "/rozpatrzone", data={"csrf_token": csrf_token(client, path)})
    db.session.expire_all()
    assert thread.report_resolved_at is not None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "thread_report.resolve")) is not None


def test_a_suspended_pes_cannot_act_in_its_threads(client):
    buyer = make_user(email="gmina@example.org")
    made, inquiry = _multi(client, buyer, n=1)
    _log_out(client)
    thread = inquiry.threads[0]
    pes, owner = made[0]
    pes.status = "suspended"
    db.session.commit()
    signed_in(client, owner)
    path = f"/panel/pes/{pes.id}/zapytania/{thread.id}"
    response = client.post(path + "/odpowiedz", data={"csrf_token": csrf_token(client, path),
                                                      "reply-body": "Odpowiadamy mimo zawieszenia."})
    assert response.status_code == 422 and "niedostępny" in response.get_data(as_text=True)
    assert _count(InquiryMessage) == 0
