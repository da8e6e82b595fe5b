"""The daily jobs of inquiries (expiry, reminders, digests) and each member's choice of mail."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries import services, threads
from marketplace.inquiries.models import InquiryThread, Quote
from marketplace.pes.models import PesMembership
from tests.conftest import csrf_token
from tests.factories import make_user
from tests.inquiry_helpers import link_in, pes_with_owner, signed_in


def _inquiry(pes_list, buyer, subject="Sprzątanie biura 800 m²"):
    inquiry = services.create(services.Sender(name=buyer.name, email=buyer.email, user=buyer),
                              services.Draft(subject=subject, body="Prosimy o wycenę."), [p.id for p in pes_list])
    db.session.commit()
    return inquiry


def _age(thread, days):
    thread.created_at = thread.updated_at = clock.now() - timedelta(days=days)
    db.session.commit()


def test_an_unanswered_inquiry_is_reminded_once_after_three_days(app, runner, mailbox):
    pes, _owner = pes_with_owner("Spółdzielnia Czysto", email="czysto@example.org")
    buyer = make_user(email="firma@example.org")
    young_pes, _o = pes_with_owner("Spółdzielnia Młoda", email="mloda@example.org")
    inquiry = _inquiry([pes, young_pes], buyer)
    _age(inquiry.threads[0], 4)
    result = runner.invoke(args=["inquiries", "remind"])
    assert "reminded PES threads: 1" in result.output
    assert "Przypomnienie" in mailbox.last("czysto@example.org")["Subject"]
    assert not any("Przypomnienie" in m["Subject"] for m in mailbox.to("mloda@example.org"))
    assert "reminded PES threads: 0" in runner.invoke(args=["inquiries", "remind"]).output


def test_a_lapsed_quote_expires_and_a_quote_about_to_lapse_reminds_the_buyer(app, runner, mailbox):
    pes, owner = pes_with_owner("Spółdzielnia Ogród", email="ogrod@example.org")
    buyer = make_user(email="firma@example.org")
    inquiry = _inquiry([pes], buyer)
    thread = inquiry.threads[0]
    quote = threads.pes_quote(thread, owner, threads.QuoteDraft(
        net=Decimal("100.00"), vat_rate="23", valid_until=clock.today() + timedelta(days=1)))
    db.session.commit()
    assert "buyers: 1" in runner.invoke(args=["inquiries", "remind"]).output
    assert "wkrótce wygaśnie" in mailbox.last("firma@example.org")["Subject"]
    quote.valid_until = clock.today() - timedelta(days=1)
    db.session.commit()
    assert "expired quotes: 1" in runner.invoke(args=["inquiries", "expire"]).output
    db.session.expire_all()
    assert db.session.get(Quote, quote.id).status == "expired"
    assert db.session.get(InquiryThread, thread.id).status == "expired"


def test_a_member_on_the_digest_gets_one_mail_a_day_and_can_unsubscribe(app, client, runner, mailbox):
    pes, owner = pes_with_owner("Spółdzielnia Zestawienie", email="wlasciciel@example.org")
    member = db.session.scalar(select(PesMembership).where(PesMembership.user_id == owner.id))
    member.inquiry_mail = "digest"
    db.session.commit()
    buyer = make_user(email="firma@example.org")
    _inquiry([pes], buyer, "Pierwsze zapytanie")
    _inquiry([pes], buyer, "Drugie zapytanie")
    assert mailbox.to("wlasciciel@example.org") == []  # no instant mail on the digest
    assert "digests: 1" in runner.invoke(args=["inquiries", "digest"]).output
    digest = mailbox.last("wlasciciel@example.org")
    body = mailbox.body(digest)
    assert "Pierwsze zapytanie" in body and "Drugie zapytanie" in body
    assert digest["List-Unsubscribe"] and "List-Unsubscribe=One-Click" in digest["List-Unsubscribe-Post"]
    assert "digests: 0" in runner.invoke(args=["inquiries", "digest"]).output  # nothing new since
    link = link_in(body, "/zapytania/wypisz/")
    assert "Tak, wypisz mnie" in client.get(link).get_data(as_text=True)
    assert client.get(link).status_code == 200
    db.session.refresh(member)
    assert member.inquiry_mail == "digest"  # a GET (a link scanner) changes nothing
    assert client.post(link).status_code == 200  # one-click: no CSRF token, the link is the secret
    db.session.refresh(member)
    assert member.inquiry_mail == "none"
    _inquiry([pes], buyer, "Trzecie zapytanie")
    assert "digests: 0" in runner.invoke(args=["inquiries", "digest"]).output
    assert client.post("/zapytania/wypisz/forged").status_code == 400


def test_a_member_chooses_how_to_hear_of_inquiries(client, mailbox):
    pes, owner = pes_with_owner("Spółdzielnia Wybór", email="wybor@example.org")
    db.session.commit()
    signed_in(client, owner)
    path = f"/panel/pes/{pes.id}/zapytania/powiadomienia"
    bad = client.post(path, data={"csrf_token": csrf_token(client, path), "inquiry_mail": "co-godzine"})
    assert bad.status_code == 422
    client.post(path, data={"csrf_token": csrf_token(client, path), "inquiry_mail": "none"})
    member = db.session.scalar(select(PesMembership).where(PesMembership.user_id == owner.id))
    assert member.inquiry_mail == "none"
    _inquiry([pes], make_user())
    assert mailbox.to("wybor@example.org") == []
    other, _o = pes_with_owner("Spółdzielnia Obca")
    db.session.commit()
    assert client.get(f"/panel/pes/{other.id}/zapytania/powiadomienia").status_code == 403
