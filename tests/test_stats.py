"""The programme's public statistics (/statystyki): what a visitor reads in the charts' tables and downloads as
CSV, for seeded PES, offerings, quality marks and inquiries, with the portal's clock set to a known day."""
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryThread, Quote
from tests.conftest import csrf_token
from tests.factories import make_institution, make_pes, make_user
from tests.inquiry_helpers import inquiry_form, pes_with_owner, signed_in
from tests.test_inquiries import _log_out, _quote
from tests.test_mark_helpers import make_mark, make_offering

TODAY = date(2026, 3, 15)


@pytest.fixture
def on_today(app):
    """The portal's clock moved so that today, in Warsaw, is TODAY."""
    app.config["CLOCK_OFFSET_DAYS"] = 0
    app.config["CLOCK_OFFSET_DAYS"] = (TODAY - clock.today()).days
    assert clock.today() == TODAY
    return TODAY


def table(html: str, name: str) -> dict[str, list[str]]:
    """The rows of a dataset's table as {row heading: [cells]}, the "Razem" row included."""
    found = re.search(rf'<section[^>]*aria-labelledby="{name}-heading">(.*?)</section>', html, re.DOTALL)
    assert found, f"no section {name}"
    rows = re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', found.group(1), re.DOTALL)
    return {label: re.findall(r'<td class="num">(.*?)</td>', cells) for label, cells in rows}


def page(client) -> str:
    response = client.get("/statystyki")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sent_inquiry(pes, sent_at: datetime, sender=None, answered: bool = False, status: str = "sent") -> Inquiry:
    """An inquiry as the flows leave it, sent at a given moment (UTC), answered by its PES or not."""
    inquiry = Inquiry(sender_id=sender.id if sender else None, sender_name="Anna Kowalska",
                      sender_email=sender.email if sender else "gosc@example.org", subject="Obiady",
                      body="Prosimy o ofertę.", status=status, created_at=sent_at,
                      institution_id=sender.institution_id if sender and sender.is_verified_purchaser else None,
                      sent_at=sent_at if status != "unconfirmed" else None)
    thread = InquiryThread(inquiry=inquiry, pes=pes, status="answered" if answered else "new",
                           created_at=sent_at, updated_at=sent_at,
                           first_answer_at=sent_at + timedelta(days=3) if answered else None)
    db.session.add(thread)
    db.session.flush()
    return inquiry


def test_verified_pes_are_counted_by_powiat_and_legal_form_for_anonymous_visitors(client):
    make_pes(powiat="0463")
    make_pes(powiat="0463")
    make_pes(powiat="0461", legal_form="fundacja")
    make_pes(powiat="0463", status="pending")
    make_pes(powiat="0402", status="suspended")
    db.session.commit()
    html = page(client)
    by_powiat = table(html, "pes-powiaty")
    assert by_powiat["Miasto Toruń (powiat grodzki)"] == ["2"]
    assert by_powiat["Miasto Bydgoszcz (powiat grodzki)"] == ["1"]
    assert by_powiat["powiat brodnicki"] == ["0"]  # only a suspended PES there
    assert len(by_powiat) == 23 + 1 and by_powiat["Razem"] == ["3"]
    by_form = table(html, "pes-formy-prawne")
    assert by_form["spółdzielnia socjalna"] == ["2"] and by_form["fundacja"] == ["1"]
    assert by_form["koło gospodyń wiejskich"] == ["0"]
    assert re.search(r"<dt>Zweryfikowane PES</dt>\s*<dd>3</dd>", html)


def test_public_offerings_and_marks_valid_today_by_category(client, on_today):
    seller, hidden = make_pes(), make_pes(status="pending")
    lunch = make_offering(seller, category="catering")
    make_offering(seller, category="catering")
    make_offering(seller, category="zywnosc")
    make_offering(seller, category="catering", status="draft")
    make_offering(hidden, category="catering")
    blocked = make_offering(seller, category="catering")
    blocked.blocked_at = clock.now()
    make_mark(lunch, "ZJ/2026/0001", TODAY - timedelta(days=30), TODAY)  # its last day: still valid
    make_mark(lunch, "ZJ/2025/0001", TODAY - timedelta(days=400), TODAY - timedelta(days=1))
    make_mark(lunch, "ZJ/2026/0002", TODAY + timedelta(days=1), TODAY + timedelta(days=300))
    make_mark(make_offering(seller, category="zywnosc"), "ZJ/2026/0003", TODAY, TODAY + timedelta(days=90),
              status="suspended")
    db.session.commit()
    html = page(client)
    offerings = table(html, "oferty-kategorie")
    assert offerings["Catering i gastronomia"] == ["2"] and offerings["Żywność i przetwory"] == ["2"]
    assert offerings["Tereny zielone"] == ["0"]
    marks = table(html, "znaki-jakosci")
    assert marks["Catering i gastronomia"] == ["1"] and marks["Żywność i przetwory"] == ["0"]
    assert marks["Razem"] == ["1"]


def test_inquiries_sent_and_answered_per_month_with_empty_months_as_zero(client, on_today):
    pes = make_pes()
    sent_inquiry(pes, datetime(2026, 3, 2, 9, tzinfo=UTC), answered=True)
    sent_inquiry(pes, datetime(2026, 3, 10, 9, tzinfo=UTC))
    sent_inquiry(pes, datetime(2026, 3, 11, 9, tzinfo=UTC), status="unconfirmed")  # never confirmed: not sent
    sent_inquiry(pes, datetime(2026, 1, 31, 23, 30, tzinfo=UTC), answered=True)  # 00:30 on 1 February in Poland
    sent_inquiry(pes, datetime(2025, 3, 31, 22, 30, tzinfo=UTC))  # 00:30 on 1 April 2025 in Poland: the first month
    sent_inquiry(pes, datetime(2025, 3, 31, 21, 30, tzinfo=UTC))  # 23:30 on 31 March 2025: before the window
    db.session.commit()
    html = page(client)
    months = table(html, "zapytania")
    labels = list(months)[:-1]
    assert len(labels) == 12 and labels[0] == "kwiecień 2025" and labels[-1] == "marzec 2026"
    assert months["marzec 2026"] == ["2", "1"]
    assert months["luty 2026"] == ["1", "1"]
    assert months["styczeń 2026"] == ["0", "0"]
    assert months["kwiecień 2025"] == ["1", "0"]
    assert months["Razem"] == ["4", "2"]
    assert "Okres: kwiecień 2025 – marzec 2026" in html


def test_a_public_purchasers_inquiry_with_an_accepted_quote_counts_in_its_month(client, on_today):
    first, first_owner = pes_with_owner("Spółdzielnia Socjalna Smaczna", email="smaczna@example.org")
    second, second_owner = pes_with_owner("Fundacja Przystań", email="przystan@example.org")
    officer = make_user("urzednik@example.org", role="purchaser", institution=make_institution(),
                        institution_status="verified")
    buyer = make_user("kupujaca@example.org")
    # An account that chose the purchaser role but whose tie to an institution nobody checked yet.
    unchecked = make_user("niesprawdzony@example.org", role="purchaser", institution=make_institution(
        name="Gmina Nowa", nip="9562307980", status="pending"), institution_status="pending")
    db.session.commit()
    sent_inquiry(first, clock.now(), sender=unchecked)
    query = f"pes={first.ref}&pes={second.ref}"
    signed_in(client, officer)
    assert client.post("/zapytania/nowe", data=inquiry_form(client, query, pes=[first.ref, second.ref])
                       ).status_code == 302
    _log_out(client)
    signed_in(client, buyer)
    assert client.post("/zapytania/nowe", data=inquiry_form(client, f"pes={first.ref}", pes=first.ref)
                       ).status_code == 302
    _log_out(client)
    asked = db.session.scalar(select(Inquiry).where(Inquiry.sender_id == officer.id))
    assert _quote(client, asked.threads[0], first_owner, "900,00").status_code == 302
    assert _quote(client, asked.threads[1], second_owner, "1000,00").status_code == 302
    quote = db.session.scalar(select(Quote).where(Quote.thread_id == asked.threads[0].id))
    signed_in(client, officer)
    token = csrf_token(client, f"/zapytania/{asked.id}")
    assert client.post(f"/zapytania/{asked.id}/przyjmij", data={"csrf_token": token, "quote_id": quote.id}
                       ).status_code == 302
    html = page(client)
    assert table(html, "zamawiajacy-publiczni")["marzec 2026"] == ["1", "1"]
    assert table(html, "zamawiajacy-publiczni")["luty 2026"] == ["0", "0"]
    assert table(html, "zapytania")["marzec 2026"] == ["3", "1"]  # the others have no answer yet
    assert re.search(r"<dt>w tym od zamawiających publicznych</dt>\s*<dd>1</dd>", html)


def test_each_chart_is_an_image_named_by_its_caption_with_a_table_beside_it(client):
    make_pes(powiat="<i>")  # a code no region knows, listed as it is
    db.session.commit()
    html = page(client)
    for name in ("pes-powiaty", "pes-formy-prawne", "oferty-kategorie", "znaki-jakosci", "zapytania",
                 "zamawiajacy-publiczni"):
        section = re.search(rf'aria-labelledby="{name}-heading">(.*?)</section>', html, re.DOTALL).group(1)
        caption = re.search(rf'<figcaption id="{name}-caption"[^>]*>(.*?)</figcaption>', section).group(1)
        assert f'role="img" aria-labelledby="{name}-caption"' in section
        assert f"<title>{caption}</title>" in section
        assert f'<caption id="{name}-table-caption">{caption}</caption>' in section
        assert '<th scope="col">' in section and f'href="/statystyki/{name}.csv"' in section
    assert "&lt;i&gt;" in html and "<i>" not in html.split("<main", 1)[1]


def test_the_page_runs_the_same_queries_for_little_and_much_data(client, app):
    def statements() -> int:
        seen = []

        def listener(_conn, _cursor, statement, *_args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            page(client)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    pes = make_pes()
    db.session.commit()
    few = statements()
    for n in range(30):
        other = make_pes(powiat="0461" if n % 2 else "0463")
        make_offering(other)
        sent_inquiry(other, clock.now() - timedelta(days=n * 10), answered=n % 3 == 0)
    make_offering(pes)
    db.session.commit()
    assert statements() == few <= 8


def test_csv_downloads_for_a_spreadsheet(client, on_today):
    make_pes(powiat="0463")
    make_pes(powiat="0463")
    make_pes(powiat="=1+2")  # a formula where a code should be is written as text
    sent_inquiry(make_pes(), datetime(2026, 3, 2, 9, tzinfo=UTC), answered=True)
    db.session.commit()
    response = client.get("/statystyki/pes-powiaty.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="statystyki-pes-powiaty-2026-03-15.csv"'
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Powiat;Kod TERYT;Zweryfikowane PES"
    assert "Miasto Toruń (powiat grodzki);0463;3" in lines and "powiat brodnicki;0402;0" in lines
    assert "'=1+2;'=1+2;1" in lines
    monthly = client.get("/statystyki/zapytania.csv").get_data().decode("utf-8-sig").split("\r\n")
    assert monthly[0] == "Miesiąc;Miesiąc (RRRR-MM);Wysłane;Z odpowiedzią PES"
    assert monthly[1] == "kwiecień 2025;2025-04;0;0" and monthly[12] == "marzec 2026;2026-03;1;1"
    assert len([line for line in monthly if line]) == 13


def test_an_unknown_dataset_is_not_found(client):
    assert client.get("/statystyki/nie-ma-takich.csv").status_code == 404
    assert client.get("/statystyki/pes-powiaty.xlsx").status_code == 404


def test_the_page_in_english_names_months_and_categories_in_english(client, on_today):
    make_offering(make_pes(), category="catering")
    db.session.commit()
    client.get("/jezyk/en")
    html = page(client)
    assert '<html lang="en">' in html
    assert "March 2026" in html and "April 2025" in html and "marzec" not in html
    assert table(html, "oferty-kategorie")["Catering and food service"] == ["1"]
    assert client.get("/statystyki/zapytania.csv").get_data().decode("utf-8-sig").split("\r\n")[12].startswith(
        "March 2026;2026-03;")


def test_every_page_links_the_statistics_from_its_footer(client):
    footer = re.search(r'<footer class="site-footer">.*?</footer>', client.get("/").get_data(as_text=True),
                       re.DOTALL).group(0)
    assert '<a href="/statystyki">Statystyki programu</a>' in footer

