"""RODO in inquiries: guests' inquiries anonymised after the retention period, unconfirmed ones dropped,
accounts' inquiries anonymised with the account (the PES keeps the thread), and the account's export."""
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries import access, privacy
from marketplace.inquiries.models import (
    Inquiry,
    InquiryAttachment,
    InquiryMessage,
    InquiryThread,
    Quote,
    SenderBlock,
)
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_institution, make_user
from tests.inquiry_helpers import pes_with_owner, signed_in


def _stored(app, name: str) -> Path:
    return Path(app.config["UPLOAD_DIR"]) / "inquiries" / name


def _attach(app, inquiry: Inquiry, name: str, message: InquiryMessage | None = None) -> Path:
    """A file on disk and its row, as the views store them."""
    path = _stored(app, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 test")
    db.session.add(InquiryAttachment(inquiry_id=inquiry.id, message_id=message.id if message else None,
                                     path=f"inquiries/{name}", name=name, content_type="application/pdf",
                                     size=13))
    db.session.flush()
    return path


def _inquiry(pes, when: datetime, sender=None, status: str = "sent",
             email: str = "gosc@example.org") -> Inquiry:
    inquiry = Inquiry(sender=sender, sender_name="Jan Gość", sender_email=email, sender_phone="600 100 200",
                      sender_organisation="Pracownia Jana", subject="Catering na piknik",
                      body="Prosimy o ofertę na 80 osób.", status=status, created_at=when, consent_at=when,
                      sent_at=None if status == "unconfirmed" else when)
    inquiry.threads = [InquiryThread(pes=pes, created_at=when, updated_at=when)]
    db.session.add(inquiry)
    db.session.flush()
    return inquiry


def _message(thread: InquiryThread, author: str, when: datetime, body: str, user=None) -> InquiryMessage:
    msg = InquiryMessage(thread=thread, author=author, author_id=getattr(user, "id", None), body=body,
                         created_at=when)
    db.session.add(msg)
    thread.updated_at = max(thread.updated_at, when)
    db.session.flush()
    return msg


def _months_ago(months: int, days: int = 0) -> datetime:
    return privacy.months_before(clock.now(), months) - timedelta(days=days)


def _run(app) -> str:
    result = app.test_cli_runner().invoke(args=["inquiries", "anonymise"])
    assert result.exit_code == 0, result.output
    return result.output


def test_months_are_calendar_months():
    leap = datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert privacy.months_before(datetime(2024, 3, 31, 12, tzinfo=UTC), 1) == leap
    assert privacy.months_before(datetime(2025, 1, 15, tzinfo=UTC), 24) == datetime(2023, 1, 15, tzinfo=UTC)
    assert privacy.months_before(datetime(2025, 1, 15, tzinfo=UTC), 13) == datetime(2023, 12, 15, tzinfo=UTC)


def test_an_old_guest_inquiry_is_anonymised_and_the_pes_keeps_its_side(app, client):
    pes, owner = pes_with_owner("Spółdzielnia Socjalna Smaczna")
    old = _months_ago(24, days=2)
    inquiry = _inquiry(pes, old)
    thread = inquiry.threads[0]
    buyer_msg = _message(thread, "buyer", old, "Czy da się taniej?")
    pes_msg = _message(thread, "pes", old, "Tak, przy 100 osobach.", user=owner)
    first_file = _attach(app, inquiry, "zalacznik-zapytania.pdf")
    buyer_file = _attach(app, inquiry, "od-pytajacego.pdf", buyer_msg)
    pes_file = _attach(app, inquiry, "cennik-pes.pdf", pes_msg)
    db.session.add(SenderBlock(pes_id=pes.id, email="gosc@example.org"))
    db.session.commit()
    token = access.guest_token(inquiry)
    assert client.get(f"/zapytania/dostep/{token}").status_code == 302  # the link works until then

    assert "anonymised inquiries: 1, deleted unconfirmed: 0" in _run(app)
    db.session.expire_all()
    inquiry = db.session.get(Inquiry, inquiry.id)
    assert inquiry.sender_name == "Osoba anonimowa"
    assert inquiry.sender_email == f"anonim-{inquiry.id}@invalid"
    assert (inquiry.sender_phone, inquiry.sender_organisation, inquiry.sender_id) == (None, None, None)
    assert inquiry.anonymised_at is not None
    assert [m.body for m in inquiry.threads[0].messages] == ["Czy da się taniej?", "Tak, przy 100 osobach."]
    assert db.session.scalars(select(InquiryAttachment.name)).all() == ["cennik-pes.pdf"]
    assert not first_file.exists() and not buyer_file.exists() and pes_file.exists()
    assert db.session.scalar(select(SenderBlock.email)) == "gosc@example.org"  # the PES's defence stays
    fresh = app.test_client()
    assert fresh.get(f"/zapytania/dostep/{token}").status_code == 400
    assert "anonymised inquiries: 0, deleted unconfirmed: 0" in _run(app)  # once is enough


def test_young_or_recently_active_guest_inquiries_and_accounts_inquiries_are_kept(app):
    pes, owner = pes_with_owner("Spółdzielnia Socjalna Smaczna")
    young = _inquiry(pes, clock.now() - timedelta(days=725))  # 24 months of 30 days would be 720 days
    talking = _inquiry(pes, _months_ago(30), email="drugi@example.org")
    _message(talking.threads[0], "pes", clock.now() - timedelta(days=30), "Czy pytanie aktualne?", user=owner)
    account = make_user("konto@example.org")
    owned = _inquiry(pes, _months_ago(40), sender=account, email="konto@example.org")
    db.session.commit()
    assert "anonymised inquiries: 0" in _run(app)
    db.session.expire_all()
    for item in (young, talking, owned):
        kept = db.session.get(Inquiry, item.id)
        assert kept.anonymised_at is None and kept.sender_name == "Jan Gość", item.sender_email
    assert db.session.get(Inquiry, owned.id).sender_id == account.id


def test_retention_follows_the_configured_months(app):
    app.config["INQUIRY_RETENTION_MONTHS"] = 6
    pes, _owner = pes_with_owner("Spółdzielnia Socjalna Smaczna")
    older = _inquiry(pes, _months_ago(6, days=1))
    newer = _inquiry(pes, _months_ago(6) + timedelta(days=1), email="drugi@example.org")
    db.session.commit()
    assert privacy.anonymise_expired() == 1
    db.session.expire_all()
    assert db.session.get(Inquiry, older.id).anonymised_at is not None
    assert db.session.get(Inquiry, newer.id).anonymised_at is None


def test_unconfirmed_guest_inquiries_older_than_a_week_are_deleted_with_their_files(app):
    pes, _owner = pes_with_owner("Spółdzielnia Socjalna Smaczna")
    stale = _inquiry(pes, clock.now() - timedelta(days=8), status="unconfirmed")
    stale_file = _attach(app, stale, "niepotwierdzone.pdf")
    recent = _inquiry(pes, clock.now() - timedelta(days=6), status="unconfirmed", email="drugi@example.org")
    recent_file = _attach(app, recent, "swieze.pdf")
    db.session.commit()
    stale_id = stale.id
    assert "anonymised inquiries: 0, deleted unconfirmed: 1" in _run(app)
    db.session.expire_all()
    assert db.session.get(Inquiry, stale_id) is None and db.session.get(Inquiry, recent.id) is not None
    assert db.session.scalar(select(func.count()).select_from(InquiryThread)) == 1
    assert not stale_file.exists() and recent_file.exists()
    assert db.session.scalars(select(InquiryAttachment.name)).all() == ["swieze.pdf"]


def test_a_public_purchasers_institution_is_kept_and_files_stay_if_nothing_is_committed(app):
    pes, _owner = pes_with_owner("Spółdzielnia Socjalna Smaczna")
    inquiry = _inquiry(pes, clock.now())
    inquiry.institution_id = make_institution().id
    inquiry.sender_organisation = "Gmina Lubicz"
    path = _attach(app, inquiry, "opis-zamowienia.pdf")
    db.session.commit()
    privacy.anonymise(inquiry, "retention")
    assert inquiry.sender_organisation == "Gmina Lubicz" and inquiry.sender_phone is None
    db.session.rollback()
    inquiry = db.session.get(Inquiry, inquiry.id)
    db.session.commit()  # a later commit of something else
    assert path.exists() and inquiry.anonymised_at is None  # the rows came back, so the file stays with them
    privacy.anonymise(inquiry, "retention")
    db.session.commit()
    assert not path.exists()


def _account_with_a_conversation(app):
    """Jan asked a PES, which answered with a quote and a file; Jan answered back with a file."""
    pes, owner = pes_with_owner("Spółdzielnia Socjalna Smaczna", email="smaczna@example.org")
    jan = make_user("jan@example.org", name="Jan Kowalski")
    now = clock.now()
    inquiry = _inquiry(pes, now - timedelta(days=3), sender=jan, email="jan@example.org")
    inquiry.sender_name = "Jan Kowalski"
    thread = inquiry.threads[0]
    answer = _message(thread, "pes", now - timedelta(days=2), "Przesyłamy ofertę.", user=owner)
    db.session.add(Quote(thread=thread, message=answer, net=Decimal("1000.00"), vat_rate="23",
                         gross=Decimal("1230.00"), valid_until=clock.today() + timedelta(days=14),
                         author_id=owner.id, created_at=answer.created_at))
    reply = _message(thread, "buyer", now - timedelta(days=1), "Dziękuję, przesyłam plan sali.", user=jan)
    files = {"inquiry": _attach(app, inquiry, "opis.pdf"),
             "buyer": _attach(app, inquiry, "plan-sali.pdf", reply),
             "pes": _attach(app, inquiry, "oferta.pdf", answer)}
    db.session.commit()
    return pes, owner, jan, inquiry, files


def test_deleting_an_account_leaves_the_thread_to_the_pes_without_the_person(app, client):
    pes, owner, jan, inquiry, files = _account_with_a_conversation(app)
    signed_in(client, jan)
    response = client.post("/konto/usun", data={"csrf_token": csrf_token(client, "/konto/ustawienia"),
                                                 "del-password": PASSWORD, "del-confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(Inquiry, inquiry.id)
    assert kept is not None and kept.sender_id is None and kept.anonymised_at is not None
    buyer_authors = select(InquiryMessage.author_id).where(InquiryMessage.author == "buyer")
    assert db.session.scalars(buyer_authors).all() == [None]
    assert not files["inquiry"].exists() and not files["buyer"].exists() and files["pes"].exists()

    signed_in(client, owner)
    page = client.get(f"/panel/pes/{pes.id}/zapytania/{inquiry.threads[0].id}").get_data(as_text=True)
    assert "Osoba anonimowa" in page and "Dziękuję, przesyłam plan sali." in page and "oferta.pdf" in page
    assert "Jan Kowalski" not in page and "jan@example.org" not in page and "mailto:" not in page
    assert "plan-sali.pdf" not in page and "600 100 200" not in page


def test_the_export_holds_the_accounts_inquiries_and_mail_preference(app, client):
    _pes, _owner, jan, _inquiry_row, _files = _account_with_a_conversation(app)
    own_pes, _other = pes_with_owner("Fundacja Jana")
    membership = own_pes.members[0]
    membership.user = jan
    membership.inquiry_mail = "digest"
    db.session.commit()
    signed_in(client, jan)
    data = json.loads(client.get("/konto/moje-dane.json").get_data(as_text=True))
    [item] = data["inquiries"]
    assert (item["subject"], item["body"]) == ("Catering na piknik", "Prosimy o ofertę na 80 osób.")
    assert item["status"] == "sent"
    assert item["recipients"] == ["Spółdzielnia Socjalna Smaczna"] and item["attachments"] == ["opis.pdf"]
    assert datetime.fromisoformat(item["sent_at"]).utcoffset() == timedelta(0)
    [thread] = item["threads"]
    assert [(m["from"], m["body"]) for m in thread["messages"]] == [
        ("Spółdzielnia Socjalna Smaczna", "Przesyłamy ofertę."), ("buyer", "Dziękuję, przesyłam plan sali.")]
    assert all(datetime.fromisoformat(m["date"]) for m in thread["messages"])
    assert thread["quotes"][0]["net"] == "1000.00" and thread["quotes"][0]["gross"] == "1230.00"
    assert data["inquiry_mail_preferences"] == [{"pes_id": own_pes.id, "pes_name": "Fundacja Jana",
                                                 "inquiry_mail": "digest"}]
    assert data["pes_memberships"][0]["pes_name"] == "Fundacja Jana"  # the earlier sections are unchanged
