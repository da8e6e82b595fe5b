"""The comparison of replies to a multi-PES inquiry: its rows, the CSV for Polish Excel and the PDF."""
import codecs
import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import event

from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries import comparison
from marketplace.inquiries.models import THREAD_STATUSES, Inquiry, InquiryThread, Quote
from tests.factories import make_pes, make_user
from tests.test_mark_helpers import make_mark, make_offering

SUBJECT = "Catering dla 120 uczniów – żłobek"
DAY = date(2026, 3, 20)


def _inquiry(subject: str = SUBJECT) -> Inquiry:
    buyer = make_user(name="Anna Kowalska")
    inquiry = Inquiry(sender_id=buyer.id, sender_name="Anna Kowalska", sender_email=buyer.email,
                      sender_organisation="Szkoła Podstawowa nr 5 w Toruniu", subject=subject,
                      body="Prosimy o ofertę.", quantity="120 porcji dziennie", wanted_by=date(2026, 4, 1),
                      delivery_powiat="0415", multi=True, sent_at=datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    db.session.add(inquiry)
    db.session.flush()
    return inquiry


def _thread(inquiry, pes, status="new", first_answer_at=None) -> InquiryThread:
    thread = InquiryThread(inquiry=inquiry, pes=pes, status=status, first_answer_at=first_answer_at)
    db.session.add(thread)
    db.session.flush()
    return thread


def _quote(thread, net: str, rate: str, gross: str, status="offered", terms="Dowóz własny.") -> Quote:
    quote = Quote(thread=thread, net=Decimal(net), vat_rate=rate, gross=Decimal(gross), status=status,
                  valid_until=date(2026, 3, 31), delivery_date=date(2026, 4, 1), delivery_terms=terms,
                  created_at=datetime(2026, 3, 12, 10, 0, tzinfo=UTC))
    db.session.add(quote)
    db.session.flush()
    return quote


def _accept(inquiry, quote) -> None:
    quote.status, quote.decided_at = "accepted", datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    quote.thread.status = "accepted"
    inquiry.accepted_quote_id = quote.id
    db.session.flush()


@pytest.fixture
def survey(app):
    """Four asked PES: two priced (one accepted), one answered without a price, one silent."""
    inquiry = _inquiry()
    zurawina = make_pes(name="Spółdzielnia Socjalna „Żurawina”", nip="9562314567", city="Toruń",
                        integration_mission=True, disadvantaged_share=40)
    bez = make_pes(name="Fundacja Bez Barier", legal_form="fundacja", nip="8792345678", city="Chełmża",
                   powiat="0415")
    cis = make_pes(name="CIS Łysomice", legal_form="cis", city="Łysomice", powiat="0415")
    ciche = make_pes(name="Atelier Ciche", legal_form="stowarzyszenie")
    answered = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # 11 March in Warsaw
    _quote(_thread(inquiry, zurawina, "quoted", answered), "1000.00", "23", "1230.00",
           terms="Dowóz termosami, 3 razy w tygodniu – gęś nie wchodzi w skład")
    accepted = _quote(_thread(inquiry, bez, "quoted", answered), "911.11", "8", "984.00")
    _accept(inquiry, accepted)
    _thread(inquiry, cis, "answered", answered)
    _thread(inquiry, ciche, "read")
    db.session.commit()
    return inquiry


def test_rows_priced_first_by_gross_then_by_name(survey):
    result = comparison.rows(survey, DAY)

    assert [r.pes_name for r in result] == ["Fundacja Bez Barier", "Spółdzielnia Socjalna „Żurawina”",
                                            "Atelier Ciche", "CIS Łysomice"]
    first, second, third, fourth = result
    assert first.accepted and first.accepted_on == date(2026, 3, 15)
    assert (first.net, first.gross, first.vat_label) == (Decimal("911.11"), Decimal("984.00"), "8%")
    assert first.status_label == "Przyjęte" and first.legal_form == "fundacja"
    assert second.gross == Decimal("1230.00") and not second.accepted and second.accepted_on is None
    assert second.reserved_eligible and not first.reserved_eligible
    assert (second.nip, second.city) == ("9562314567", "Toruń")
    assert second.powiat == "Miasto Toruń (powiat grodzki)"
    assert second.first_answer_on == date(2026, 3, 11) and second.quoted_on == date(2026, 3, 12)
    assert (second.valid_until, second.delivery_date) == (date(2026, 3, 31), date(2026, 4, 1))
    assert second.status_label == "Z ofertą cenową"
    assert third.gross is None and third.quote_id is None and third.status_label == "Przeczytane"
    assert fourth.legal_form == "Centrum Integracji Społecznej (CIS)" and fourth.powiat == "powiat toruński"
    assert fourth.status_label == "Z odpowiedzią" and fourth.marks == ()


def test_withdrawn_quote_is_not_shown_but_a_declined_one_is(app):
    inquiry = _inquiry()
    withdrawn = _thread(inquiry, make_pes(name="Alfa"), "answered")
    _quote(withdrawn, "10.00", "zw", "10.00", status="withdrawn")
    declined = _thread(inquiry, make_pes(name="Beta"), "declined")
    _quote(declined, "50.00", "0", "50.00", status="declined")
    db.session.commit()

    alfa, beta = sorted(comparison.rows(inquiry, DAY), key=lambda r: r.pes_name)
    assert alfa.gross is None and beta.gross == Decimal("50.00") and beta.status_label == "Odrzucone"


def test_every_thread_status_has_a_polish_label(app):
    labels = {status: comparison.status_label(status) for status in THREAD_STATUSES}
    assert labels == {"new": "Nowe", "read": "Przeczytane", "answered": "Z odpowiedzią",
                      "quoted": "Z ofertą cenową", "accepted": "Przyjęte", "declined": "Odrzucone",
                      "closed": "Zamknięte", "expired": "Wygasłe"}


def test_a_mark_valid_today_shows_and_an_expired_or_suspended_one_does_not(app):
    today = clock.today()
    inquiry = _inquiry()
    marked, lapsed = make_pes(name="Ze znakiem"), make_pes(name="Po terminie")
    make_mark(make_offering(marked), "ZJ/2026/007", today - timedelta(days=10), today + timedelta(days=100))
    make_mark(make_offering(marked), "ZJ/2025/002", today - timedelta(days=400), today - timedelta(days=1))
    make_mark(make_offering(lapsed), "ZJ/2025/003", today - timedelta(days=400), today - timedelta(days=1))
    make_mark(make_offering(lapsed), "ZJ/2026/009", today - timedelta(days=5), today + timedelta(days=5),
              status="suspended")
    _thread(inquiry, marked)
    _thread(inquiry, lapsed)
    db.session.commit()

    by_name = {r.pes_name: r for r in comparison.rows(inquiry)}
    assert by_name["Ze znakiem"].marks == (comparison.MarkInfo("ZJ/2026/007", today + timedelta(days=100)),)
    assert by_name["Po terminie"].marks == ()
    csv_text = comparison.to_csv(inquiry).decode("utf-8-sig")
    assert "ZJ/2026/007" in csv_text and "ZJ/2025/00" not in csv_text and "ZJ/2026/009" not in csv_text


def _count_queries(func):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        func()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_rows_take_a_bounded_number_of_queries(app):
    inquiry = _inquiry()
    for n in range(12):
        pes = make_pes(name=f"Podmiot {n:02d}")
        make_mark(make_offering(pes), f"ZJ/2026/1{n:02d}", DAY - timedelta(days=1), DAY + timedelta(days=1))
        _quote(_thread(inquiry, pes, "quoted"), "100.00", "23", "123.00")
    db.session.commit()
    db.session.expire_all()

    count = _count_queries(lambda: comparison.rows(inquiry, DAY))
    assert count <= 5
    assert all(len(r.marks) == 1 for r in comparison.rows(inquiry, DAY))


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_csv_has_header_block_decimal_comma_and_polish_letters(survey):
    table = _csv(comparison.to_csv(survey, DAY))

    assert table[:6] == [["Porównanie ofert"], ["Zapytanie", SUBJECT],
                         ["Zamawiający", "Szkoła Podstawowa nr 5 w Toruniu – Anna Kowalska"],
                         ["Data wysłania zapytania", "09.03.2026"], ["Stan na", "20.03.2026"], []]
    header, first, second = table[6], table[7], table[8]
    assert header[:2] == ["Lp.", "Podmiot"] and "Brutto (zł)" in header and len(table) == 11
    cell = dict(zip(header, second, strict=True))
    assert cell["Podmiot"] == "Spółdzielnia Socjalna „Żurawina”"
    assert (cell["Netto (zł)"], cell["Brutto (zł)"], cell["Stawka VAT"]) == ("1000,00", "1230,00", "23%")
    assert cell["Zamówienia zastrzeżone (art. 94 Pzp)"] == "tak" and cell["Oferta przyjęta"] == "nie"
    assert cell["Pierwsza odpowiedź"] == "11.03.2026" and cell["Oferta ważna do"] == "31.03.2026"
    assert cell["Warunki dostawy"] == "Dowóz termosami, 3 razy w tygodniu – gęś nie wchodzi w skład"
    accepted = dict(zip(header, first, strict=True))
    assert (accepted["Oferta przyjęta"], accepted["Brutto (zł)"]) == ("tak", "984,00")


def test_csv_neutralises_formulas_in_user_content(app):
    inquiry = _inquiry(subject="=cmd|' /C calc'!A0")
    quoted = _thread(inquiry, make_pes(name='=HYPERLINK("http://example.org","Kliknij")'), "quoted")
    _quote(quoted, "10.00", "23", "12.30", terms="+48 600 100 200, dzwonić")
    summed = _thread(inquiry, make_pes(name="@SUMA(A1:A9)"), "quoted")
    _quote(summed, "20.00", "23", "24.60", terms="-5% rabatu")
    _quote(_thread(inquiry, make_pes(name="\tTab"), "quoted"), "30.00", "23", "36.90", terms="\rCR")
    db.session.commit()

    table = _csv(comparison.to_csv(inquiry, DAY))
    assert table[1] == ["Zapytanie", "'=cmd|' /C calc'!A0"]
    header = table[6]
    cells = [dict(zip(header, row, strict=True)) for row in table[7:]]
    assert [c["Podmiot"] for c in cells] == [
        "'=HYPERLINK(\"http://example.org\",\"Kliknij\")", "'@SUMA(A1:A9)", "'\tTab"]
    assert [c["Warunki dostawy"] for c in cells] == ["'+48 600 100 200, dzwonić", "'-5% rabatu", "'\rCR"]
    assert all(c["Brutto (zł)"][0].isdigit() for c in cells)


def _pdf_text(data: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(data))
    texts = [(page.extract_text() or "").replace("\xa0", " ") for page in reader.pages]
    return reader, [" ".join(text.split()) for text in texts]


def test_pdf_shows_the_inquiry_the_replies_and_the_day(survey):
    reader, pages = _pdf_text(comparison.to_pdf(survey, DAY))
    text = " ".join(pages)

    assert len(reader.pages) >= 1
    assert reader.metadata.title == f"Porównanie ofert: {SUBJECT}"
    assert reader.trailer["/Root"]["/Lang"] == "pl"
    assert SUBJECT in text and "Porównanie ofert" in text and "120 porcji dziennie" in text
    for name in ("Spółdzielnia Socjalna „Żurawina”", "Fundacja Bez Barier", "CIS Łysomice", "Atelier Ciche"):
        assert name in text
    assert "1 230,00 zł" in text and "984,00 zł" in text and "911,11 zł" in text
    assert "Stan na 20.03.2026" in text and "powiat toruński" in text and "01.04.2026" in text
    assert "Przyjęto ofertę: Fundacja Bez Barier, 984,00 zł brutto, dnia 15.03.2026." in text
    assert "Wygenerowano w portalu" in text and f"strona 1 z {len(pages)}" in text


def test_pdf_without_an_accepted_quote_says_so(app):
    inquiry = _inquiry()
    _thread(inquiry, make_pes(name="Jedyny"), "new")
    db.session.commit()

    _reader, pages = _pdf_text(comparison.to_pdf(inquiry, DAY))
    assert "Żadna oferta nie została przyjęta." in pages[-1] and "Jedyny" in pages[0]


def test_a_long_comparison_spans_pages_with_the_header_repeated(app):
    inquiry = _inquiry()
    for n in range(60):
        thread = _thread(inquiry, make_pes(name=f"Spółdzielnia Socjalna nr {n:02d}"), "quoted")
        gross = (Decimal(100 + n) * Decimal("1.23")).quantize(Decimal("0.01"))
        _quote(thread, f"{100 + n}.00", "23", str(gross),
               terms="Dostawa własnym transportem do siedziby zamawiającego, w dni robocze od 7 do 9.")
    db.session.commit()

    reader, pages = _pdf_text(comparison.to_pdf(inquiry, DAY))
    assert len(reader.pages) > 1
    for number, text in enumerate(pages, start=1):
        assert f"strona {number} z {len(pages)}" in text
        if "Spółdzielnia Socjalna nr" in text:
            assert "Podmiot" in text and "Brutto" in text and "Oferta ważna do" in text
    assert sum(f"Spółdzielnia Socjalna nr {n:02d}" in " ".join(pages) for n in range(60)) == 60
