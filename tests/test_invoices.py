"""Invoices: the FA(3) XML against the official schema, numbering without gaps, the rules for issuing, KSeF
sending behind its interface, the PDF, and who may download what."""
import io
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.orders import fa3, invoice_pdf, invoices, ksef, ksef_cli
from marketplace.orders.models import Invoice, Order
from tests.conftest import IN_CI, csrf_token
from tests.factories import login, make_user
from tests.order_factories import make_order, selling_pes

DAY = date(2026, 3, 2)
BUYER_NIP = "8790176802"
MIXED = (("Catering na spotkanie", 2, "100.00", "23"), ("Obiad dwudaniowy", 3, "12.50", "8"),
         ("Miód wielokwiatowy 1 kg", 4, "40.00", "5"))


def checked(invoice) -> ET.Element:
    """The invoice's XML, valid against the FA(3) schema, parsed for reading its values."""
    xml = fa3.build_xml(invoice)
    try:
        errors = fa3.validate(xml)
    except ImportError as exc:
        if IN_CI:
            pytest.fail(f"the FA(3) schema (ksef-client[fa3]) must be installed in CI: {exc}")
        pytest.skip(f"the FA(3) schema comes with the test dependency ksef-client: {exc}")
    assert errors == [], errors
    return ET.fromstring(xml)


def val(root: ET.Element, path: str) -> str | None:
    found = root.find("/".join(f"f:{step}" for step in path.split("/")), {"f": fa3.NS})
    return None if found is None else found.text


def test_company_buyer_with_three_vat_rates(app):
    pes, owner = selling_pes()
    order = make_order(pes, items=MIXED, nip=BUYER_NIP, company="Gmina Lubicz")
    root = checked(invoices.issue(order, owner, on=DAY))
    assert val(root, "Podmiot1/DaneIdentyfikacyjne/NIP") == "5260250274"
    assert val(root, "Podmiot2/DaneIdentyfikacyjne/NIP") == BUYER_NIP
    assert val(root, "Podmiot2/DaneIdentyfikacyjne/Nazwa") == "Gmina Lubicz"
    assert (val(root, "Fa/P_13_1"), val(root, "Fa/P_14_1")) == ("200.00", "46.00")
    assert (val(root, "Fa/P_13_2"), val(root, "Fa/P_14_2")) == ("37.50", "3.00")
    assert (val(root, "Fa/P_13_3"), val(root, "Fa/P_14_3")) == ("160.00", "8.00")
    assert val(root, "Fa/P_15") == "454.50" == str(order.gross_total)
    assert (val(root, "Fa/P_1"), val(root, "Fa/P_2")) == ("2026-03-02", "FV/1/2026")
    assert [r.text for r in root.iterfind("f:Fa/f:FaWiersz/f:P_12", {"f": fa3.NS})] == ["23", "8", "5"]
    assert val(root, "Fa/Adnotacje/Zwolnienie/P_19N") == "1"


def test_consumer_has_no_tax_id(app):
    pes, owner = selling_pes()
    order = make_order(pes, items=(("Kartka świąteczna", 5, "6.00", "23"), ("Usługa szkoleniowa", 1, "50.00", "0")))
    root = checked(invoices.issue(order, owner, on=DAY))
    assert val(root, "Podmiot2/DaneIdentyfikacyjne/BrakID") == "1"
    assert val(root, "Podmiot2/DaneIdentyfikacyjne/NIP") is None
    assert val(root, "Podmiot2/DaneIdentyfikacyjne/Nazwa") == "Anna Kowalska"
    assert (val(root, "Fa/P_13_1"), val(root, "Fa/P_14_1"), val(root, "Fa/P_13_6_1")) == ("30.00", "6.90", "50.00")
    assert val(root, "Fa/P_15") == "86.90"
    assert [r.text for r in root.iterfind("f:Fa/f:FaWiersz/f:P_12", {"f": fa3.NS})] == ["23", "0 KR"]


def test_vat_exempt_pes_invoices_only_on_request(app):
    pes, owner = selling_pes(vat_exempt=True)
    items = (("Warsztaty ceramiczne", 2, "150.00", "zw"),)
    unasked = make_order(pes, items=items)
    with pytest.raises(invoices.InvoiceError, match="na życzenie"):
        invoices.issue(unasked, owner, on=DAY)
    invoice = invoices.issue(make_order(pes, items=items, wants_invoice=True), owner, on=DAY)
    root = checked(invoice)
    assert val(root, "Fa/P_13_7") == "300.00" == val(root, "Fa/P_15")
    assert root.find("f:Fa/f:P_14_1", {"f": fa3.NS}) is None
    assert val(root, "Fa/Adnotacje/Zwolnienie/P_19") == "1"
    assert "art. 113 ust. 1" in val(root, "Fa/Adnotacje/Zwolnienie/P_19A")
    assert val(root, "Fa/FaWiersz/P_12") == "zw"
    assert "art. 113 ust. 1" in pdf_text(invoice_pdf.render(invoice))


def test_paid_online_order_says_paid(app):
    pes, owner = selling_pes()
    paid_at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    order = make_order(pes, items=MIXED, payment_method="stripe", status="paid", paid_at=paid_at,
                       nip=BUYER_NIP, company="Gmina Lubicz")
    root = checked(invoices.issue(order, owner, on=DAY))
    assert (val(root, "Fa/Platnosc/Zaplacono"), val(root, "Fa/Platnosc/DataZaplaty")) == ("1", "2026-03-01")
    assert val(root, "Fa/P_6") == "2026-03-01"  # sold on the day of payment, invoiced the next day
    assert val(root, "Fa/Platnosc/TerminPlatnosci/Termin") is None
    assert val(root, "Fa/Platnosc/RachunekBankowy/NrRB") is None
    assert val(root, "Fa/P_15") == "454.50"


def test_unpaid_transfer_order_has_a_term_and_an_account(app):
    pes, owner = selling_pes()
    order = make_order(pes, items=MIXED, nip=BUYER_NIP, company="Gmina Lubicz")
    order.payment_due = date(2026, 3, 16)
    root = checked(invoices.issue(order, owner, on=DAY))
    assert val(root, "Fa/Platnosc/Zaplacono") is None
    assert val(root, "Fa/Platnosc/TerminPlatnosci/Termin") == "2026-03-16"
    assert val(root, "Fa/Platnosc/FormaPlatnosci") == "6"
    assert val(root, "Fa/Platnosc/RachunekBankowy/NrRB") == "PL61109010140000071219812874"
    assert val(root, "Fa/P_6") is None  # sale date = issue date


def test_what_cannot_be_invoiced_is_refused_without_using_a_number(app):
    pes, owner = selling_pes()
    exempt, exempt_owner = selling_pes(nip="7740001454", vat_exempt=True)
    no_nip, no_nip_owner = selling_pes(nip=None)
    cases = [(make_order(pes, payment_method="stripe", status="awaiting_payment"), owner, "po jego opłaceniu"),
             (make_order(pes, status="cancelled"), owner, "anulowanego"),
             (make_order(exempt, wants_invoice=True), exempt_owner, "zwolniony z VAT"),  # a line at 5% VAT
             (make_order(no_nip), no_nip_owner, "NIP")]
    for order, actor, message in cases:
        with pytest.raises(invoices.InvoiceError, match=message):
            invoices.issue(order, actor, on=DAY)
    assert invoices.issue(make_order(pes), owner, on=DAY).number == "FV/1/2026"


def test_second_invoice_of_an_order_is_refused(app):
    pes, owner = selling_pes()
    order = make_order(pes)
    invoices.issue(order, owner, on=DAY)
    with pytest.raises(invoices.InvoiceError, match="FV/1/2026"):
        invoices.issue(order, owner, on=DAY)


def test_invoice_keeps_what_was_issued(app):
    pes, owner = selling_pes()
    order = make_order(pes, nip=BUYER_NIP, company="Gmina Lubicz")
    invoice = invoices.issue(order, owner, on=DAY)
    pes.name, pes.nip, order.company_name = "Nowa nazwa", "1234563218", "Inna firma"
    order.lines[0].title = "Zmieniony tytuł"
    db.session.commit()
    root = checked(db.session.get(Invoice, invoice.id))
    assert (val(root, "Podmiot1/DaneIdentyfikacyjne/NIP"), val(root, "Podmiot2/DaneIdentyfikacyjne/Nazwa")) == \
        ("5260250274", "Gmina Lubicz")
    assert val(root, "Fa/FaWiersz/P_7") == "Miód wielokwiatowy 1 kg"


def test_numbers_run_per_pes_and_year(app):
    pes, owner = selling_pes()
    other, other_owner = selling_pes(nip="7740001454")
    first, second = (invoices.issue(make_order(pes), owner, on=DAY) for _ in range(2))
    assert (first.number, second.number) == ("FV/1/2026", "FV/2/2026")
    assert invoices.issue(make_order(other), other_owner, on=DAY).number == "FV/1/2026"
    assert invoices.issue(make_order(pes), owner, on=date(2027, 1, 4)).number == "FV/1/2027"
    logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "invoice.issue")).all()
    assert len(logged) == 4 and logged[0].actor_id == owner.id


def test_rolled_back_invoice_gives_its_number_back(app):
    pes, owner = selling_pes()
    first, second = make_order(pes), make_order(pes)
    invoices.issue(make_order(pes), owner, on=DAY)
    db.session.commit()
    assert invoices.issue(first, owner, on=DAY).number == "FV/2/2026"
    db.session.rollback()
    assert invoices.issue(second, owner, on=DAY).number == "FV/2/2026"
    assert invoices.issue(first, owner, on=DAY).number == "FV/3/2026"
    db.session.commit()
    assert [i.seq for i in db.session.scalars(select(Invoice).order_by(Invoice.seq))] == [1, 2, 3]


def test_concurrent_invoices_get_consecutive_numbers(app, pg_url):
    if not pg_url:
        pytest.skip("row locks need PostgreSQL (set TEST_DATABASE_URL); SQLite lets one writer in at a time")
    pes, _owner = selling_pes()
    order_ids = [make_order(pes).id for _ in range(4)]
    db.session.commit()
    barrier, numbers, failures = threading.Barrier(len(order_ids)), [], []

    def issue(order_id: int) -> None:
        with app.app_context():
            try:
                order = db.session.get(Order, order_id)
                barrier.wait(10)  # all of them reach the missing counter row together
                numbers.append(invoices.issue(order, None, on=DAY).number)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 (reported by the test)
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(order_id,)) for order_id in order_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    assert sorted(numbers) == [f"FV/{n}/2026" for n in range(1, 5)]


def test_ksef_is_off_by_default(app):
    pes, owner = selling_pes()
    invoice = invoices.issue(make_order(pes), owner, on=DAY)
    assert ksef.sender() is None and invoice.ksef_state == "off"
    with pytest.raises(invoices.InvoiceError):
        ksef.submit(invoice)


def test_files_sender_writes_the_xml_and_stores_the_reference(app, tmp_path):
    app.config.update(KSEF_SENDER="files", KSEF_DIR=str(tmp_path / "ksef"))
    pes, owner = selling_pes(ksef_enabled=True)
    invoice = invoices.issue(make_order(pes, nip=BUYER_NIP, company="Gmina Lubicz"), owner, on=DAY)
    assert invoice.ksef_state == "pending"
    ksef.submit(invoice)
    db.session.commit()
    written = tmp_path / "ksef" / "5260250274" / "FV_1_2026.xml"
    assert written.read_bytes() == fa3.build_xml(invoice)
    stored = db.session.get(Invoice, invoice.id)
    assert stored.ksef_state == "sent" and stored.ksef_reference.startswith("local-")
    assert stored.ksef_number is None and stored.ksef_sent_at is not None
    checked(stored)


def test_ksef_send_command_sends_what_waits(app, runner, tmp_path):
    app.config.update(KSEF_SENDER="files", KSEF_DIR=str(tmp_path))
    pes, owner = selling_pes(ksef_enabled=True)
    invoice = invoices.issue(make_order(pes), owner, on=DAY)
    db.session.commit()
    result = runner.invoke(ksef_cli.ksef_send)
    assert (result.exit_code, result.output.strip()) == (0, "sent 1")
    assert db.session.get(Invoice, invoice.id).ksef_state == "sent"
    assert runner.invoke(ksef_cli.ksef_send).output.strip() == "nothing to send"


class Unreachable:
    """KSeF that does not answer."""

    def send(self, xml, invoice):
        raise ConnectionError("KSeF nie odpowiada")


class Accepting:
    """KSeF that takes the invoice for processing."""

    def send(self, xml, invoice):
        assert b"<P_2>" + invoice.number.encode() + b"</P_2>" in xml
        return ksef.KsefReceipt(reference="20260302-SE-1A2B3C4D5E-6F7A8B9C0D-EF", number=None, state="sent")


def test_a_failing_sender_stores_the_error_and_is_retried(app):
    pes, owner = selling_pes(ksef_enabled=True)
    invoice = invoices.issue(make_order(pes), owner, on=DAY)
    ksef.submit(invoice, via=Unreachable())
    assert invoice.ksef_state == "error" and "KSeF nie odpowiada" in invoice.ksef_error
    ksef.submit(invoice, via=Accepting())
    assert (invoice.ksef_state, invoice.ksef_error) == ("sent", None)
    assert invoice.ksef_reference.startswith("20260302-SE-")


def test_a_later_answer_with_the_ksef_number_is_stored_and_printed(app):
    pes, owner = selling_pes(ksef_enabled=True)
    invoice = invoices.issue(make_order(pes), owner, on=DAY)
    ksef.submit(invoice, via=Accepting())
    number = "5260250274-20260302-0A1B2C3D4E5F-7A"
    ksef.record_result(invoice, ksef.KsefReceipt(invoice.ksef_reference, number, "accepted"))
    ksef.record_result(invoice, ksef.KsefReceipt(invoice.ksef_reference, None, "error", "za późno"))
    db.session.commit()
    stored = db.session.get(Invoice, invoice.id)
    assert (stored.ksef_state, stored.ksef_number) == ("accepted", number)
    assert number in pdf_text(invoice_pdf.render(stored))


def pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_pdf_shows_number_parties_rates_and_totals(app):
    pes, owner = selling_pes(name="Spółdzielnia Socjalna Łąka")
    text = pdf_text(invoice_pdf.render(invoices.issue(
        make_order(pes, items=MIXED, nip=BUYER_NIP, company="Gmina Lubicz"), owner, on=DAY)))
    for expected in ("FV/1/2026", "Spółdzielnia Socjalna Łąka", "Gmina Lubicz", BUYER_NIP, "02.03.2026",
                     "200,00", "46,00", "37,50", "160,00", "454,50", "PL61 1090 1014 0000 0712 1981 2874"):
        assert expected in text, expected


def _client(app, user):
    client = app.test_client()
    login(client, user.email)
    return client


def test_members_issue_and_download_others_cannot(app):
    pes, owner = selling_pes()
    other, stranger = selling_pes(nip="7740001454")
    order, foreign = make_order(pes, nip=BUYER_NIP, company="Gmina Lubicz"), make_order(other)
    db.session.commit()
    member, outsider = _client(app, owner), _client(app, stranger)
    url = f"/panel/pes/{pes.id}/zamowienia/{order.id}/faktura"
    assert member.post(url).status_code == 400  # no CSRF token
    assert outsider.post(url, data={"csrf_token": csrf_token(outsider, "/panel/pes")}).status_code == 403
    token = {"csrf_token": csrf_token(member, "/panel/pes")}
    for unknown in (f"/panel/pes/999999/zamowienia/{order.id}", f"/panel/pes/{pes.id}/zamowienia/{foreign.id}",
                    f"/panel/pes/{pes.id}/zamowienia/999999"):
        assert member.post(f"{unknown}/faktura", data=token).status_code == 404, unknown
    response = member.post(url, data=token)
    assert response.status_code == 302 and "/panel/pes" in response.headers["Location"]
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert invoice.number.startswith("FV/1/")
    pdf = member.get(f"/panel/pes/{pes.id}/faktury/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and invoice.number in pdf_text(pdf.data)
    xml = member.get(f"/panel/pes/{pes.id}/faktury/{invoice.id}.xml")
    assert xml.status_code == 200 and xml.data == fa3.build_xml(invoice)
    assert outsider.get(f"/panel/pes/{pes.id}/faktury/{invoice.id}.pdf").status_code == 403
    assert outsider.get(f"/panel/pes/{other.id}/faktury/{invoice.id}.xml").status_code == 404


def test_a_refused_invoice_is_told_and_not_written(app):
    pes, owner = selling_pes()
    order = make_order(pes, payment_method="stripe", status="awaiting_payment")
    db.session.commit()
    member = _client(app, owner)
    response = member.post(f"/panel/pes/{pes.id}/zamowienia/{order.id}/faktura",
                           data={"csrf_token": csrf_token(member, "/panel/pes")})
    assert response.status_code == 302
    with member.session_transaction() as session:
        assert any("po jego opłaceniu" in message for _category, message in session["_flashes"])
    assert db.session.scalar(select(Invoice).where(Invoice.order_id == order.id)) is None


def test_the_buyer_downloads_the_invoice_and_nobody_else(app):
    pes, owner = selling_pes()
    buyer = make_user(email="kupujacy@example.org")
    invoice = invoices.issue(make_order(pes, buyer=buyer), owner, on=DAY)
    db.session.commit()
    url = f"/zamowienia/faktura/{invoice.id}.pdf"
    response = _client(app, buyer).get(url)
    assert response.status_code == 200 and "FV/1/2026" in pdf_text(response.data)
    assert _client(app, make_user()).get(url).status_code == 404
    assert _client(app, owner).get(url).status_code == 404  # the PES uses its panel's address
    assert app.test_client().get(url).status_code == 302  # to the login page
