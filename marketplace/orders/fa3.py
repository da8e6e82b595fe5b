"""The FA(3) structured invoice (the KSeF format) built from an invoice's frozen data.

Element order follows the sequences of schemat_FA(3)_v1-0E.xsd. The XML is built with the standard library;
`validate` checks it against the schema shipped in the `ksef-client` package (a test dependency), imported
only when called, so the portal runs without it.
"""
import xml.etree.ElementTree as ET
from functools import lru_cache

from flask_babel import force_locale

from marketplace.core.reports import portal_name

NS = "http://crd.gov.pl/wzor/2025/06/25/13775/"
SCHEMA_FILE = "schemat_FA(3)_v1-0E.xsd"
SCHEMA_PACKAGE = ("ksef_client", "documents/fa3/schemas")
# The portal's VAT rate codes as P_12 writes them, and the Fa fields that sum each rate (net, VAT).
RATE_CODES = {"23": "23", "8": "8", "5": "5", "0": "0 KR", "zw": "zw"}
RATE_FIELDS = (("23", "P_13_1", "P_14_1"), ("8", "P_13_2", "P_14_2"), ("5", "P_13_3", "P_14_3"),
               ("0", "P_13_6_1", None), ("zw", "P_13_7", None))
TRANSFER = "6"  # TFormaPlatnosci: przelew
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ONLINE_PAYMENT = "Płatność online przez operatora płatności"


def _add(parent: ET.Element, name: str, text=None) -> ET.Element:
    element = ET.SubElement(parent, name)
    if text is not None:
        element.text = str(text)
    return element


def _address(parent: ET.Element, party: dict) -> None:
    """AdresL1 is the street (or the place, for an address without one), AdresL2 the postcode and town."""
    town = " ".join(part for part in (party.get("postal_code"), party.get("city")) if part)
    street = (party.get("street") or "").strip()
    address = _add(parent, "Adres")
    _add(address, "KodKraju", "PL")
    _add(address, "AdresL1", street or town)
    if street and town:
        _add(address, "AdresL2", town)


def _header(root: ET.Element, data: dict) -> None:
    header = _add(root, "Naglowek")
    form = _add(header, "KodFormularza", "FA")
    form.set("kodSystemowy", "FA (3)")
    form.set("wersjaSchemy", "1-0E")
    _add(header, "WariantFormularza", 3)
    _add(header, "DataWytworzeniaFa", data["created_at"])
    with force_locale("pl"):
        _add(header, "SystemInfo", portal_name()[:256])


def _seller(root: ET.Element, seller: dict) -> None:
    subject = _add(root, "Podmiot1")
    ids = _add(subject, "DaneIdentyfikacyjne")
    _add(ids, "NIP", seller["nip"])
    _add(ids, "Nazwa", seller["name"])
    _address(subject, seller)


def _buyer(root: ET.Element, buyer: dict) -> None:
    """A consumer has no tax id (BrakID); JST and GV say the buyer is neither a local government's
    subordinate unit nor a VAT group member, which the portal does not record."""
    subject = _add(root, "Podmiot2")
    ids = _add(subject, "DaneIdentyfikacyjne")
    if buyer.get("nip"):
        _add(ids, "NIP", buyer["nip"])
    else:
        _add(ids, "BrakID", 1)
    _add(ids, "Nazwa", buyer["name"])
    if buyer.get("city") or buyer.get("street"):
        _address(subject, buyer)
    _add(subject, "JST", 2)
    _add(subject, "GV", 2)


def _sums(fa: ET.Element, totals: dict) -> None:
    per_rate = totals["by_rate"]
    for rate, net_field, vat_field in RATE_FIELDS:
        if rate in per_rate:
            _add(fa, net_field, per_rate[rate]["net"])
            if vat_field:
                _add(fa, vat_field, per_rate[rate]["vat"])
    _add(fa, "P_15", totals["gross"])


def _annotations(fa: ET.Element, data: dict) -> None:
    """Every flag FA(3) requires: "2" (no) for cash accounting, self-billing, reverse charge and split
    payment; the exemption with its basis, or none; no new means of transport; no margin scheme."""
    notes = _add(fa, "Adnotacje")
    for flag in ("P_16", "P_17", "P_18", "P_18A"):
        _add(notes, flag, 2)
    exemption = _add(notes, "Zwolnienie")
    if data.get("exemption_basis"):
        _add(exemption, "P_19", 1)
        _add(exemption, "P_19A", data["exemption_basis"])
    else:
        _add(exemption, "P_19N", 1)
    _add(_add(notes, "NoweSrodkiTransportu"), "P_22N", 1)
    _add(notes, "P_23", 2)
    _add(_add(notes, "PMarzy"), "P_PMarzyN", 1)


def _rows(fa: ET.Element, lines: list[dict]) -> None:
    for number, line in enumerate(lines, start=1):
        row = _add(fa, "FaWiersz")
        _add(row, "NrWierszaFa", number)
        _add(row, "P_7", line["title"])
        if line.get("unit"):
            _add(row, "P_8A", line["unit"])
        _add(row, "P_8B", line["quantity"])
        _add(row, "P_9A", line["unit_net"])
        _add(row, "P_11", line["net"])
        _add(row, "P_12", RATE_CODES[line["vat_rate"]])


def _payment(fa: ET.Element, payment: dict) -> None:
    block = _add(fa, "Platnosc")
    if payment.get("paid_on"):
        _add(block, "Zaplacono", 1)
        _add(block, "DataZaplaty", payment["paid_on"])
    elif payment.get("due"):
        _add(_add(block, "TerminPlatnosci"), "Termin", payment["due"])
    if payment["method"] == "transfer":
        _add(block, "FormaPlatnosci", TRANSFER)
    else:
        _add(block, "PlatnoscInna", 1)
        _add(block, "OpisPlatnosci", ONLINE_PAYMENT)
    if payment.get("bank_account"):
        _add(_add(block, "RachunekBankowy"), "NrRB", payment["bank_account"])


def _invoice(root: ET.Element, data: dict) -> None:
    fa = _add(root, "Fa")
    _add(fa, "KodWaluty", data.get("currency", "PLN"))
    _add(fa, "P_1", data["issue_date"])
    _add(fa, "P_2", data["number"])
    if data["sale_date"] != data["issue_date"]:  # P_6 is given only when the sale date differs
        _add(fa, "P_6", data["sale_date"])
    _sums(fa, data["totals"])
    _annotations(fa, data)
    _add(fa, "RodzajFaktury", "VAT")
    _rows(fa, data["lines"])
    _payment(fa, data["payment"])


def build_xml(invoice) -> bytes:
    """The invoice as FA(3) XML (UTF-8), from its data as issued."""
    data = invoice.data
    root = ET.Element("Faktura", xmlns=NS)  # the default namespace, declared once on the root
    _header(root, data)
    _seller(root, data["seller"])
    _buyer(root, data["buyer"])
    _invoice(root, data)
    ET.indent(root)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8")


@lru_cache(maxsize=1)
def _schema():
    """The FA(3) schema compiled once; its imports name crd.gov.pl addresses, which are answered from the
    packaged copies by file name, so nothing is fetched from the network."""
    from importlib.resources import files

    from lxml import etree

    package, folder = SCHEMA_PACKAGE
    schemas = files(package).joinpath(folder)

    class PackagedSchemas(etree.Resolver):
        def resolve(self, url, _pubid, context):
            packaged = schemas.joinpath(url.rsplit("/", 1)[-1])
            if not packaged.is_file():
                return None
            return self.resolve_string(packaged.read_bytes(), context, base_url=url)

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(PackagedSchemas())
    main = schemas.joinpath(SCHEMA_FILE)
    return etree.XMLSchema(etree.fromstring(main.read_bytes(), parser, base_url=SCHEMA_FILE))


def validate(xml_bytes: bytes) -> list[str]:
    """The schema's complaints about the XML (empty when it is valid). Needs lxml and ksef-client's schema
    files: raises ImportError without them."""
    from lxml import etree

    schema = _schema()
    document = etree.fromstring(xml_bytes, etree.XMLParser(no_network=True, resolve_entities=False))
    if schema.validate(document):
        return []
    return [f"{error.line}: {error.message}" for error in schema.error_log]
