"""Sending invoices to KSeF behind one interface.

The portal talks to KSeF only through a `KsefSender`; which one is used comes from KSEF_SENDER: "off" (the
default: nothing is sent, invoices wait in "pending") or "files" (the XML is written under the instance
folder, to try the flow without KSeF; it never invents a KSeF number). A sender's answer, or its failure,
is stored on the invoice; an invoice in "error" is sent again on the next run.
"""
import os
import uuid
from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _

from marketplace import clock
from marketplace.extensions import db
from marketplace.orders import fa3
from marketplace.orders.invoices import InvoiceError
from marketplace.orders.models import KSEF_STATES, Invoice, PesSales

SUBMITTABLE = ("pending", "error")
ANSWERS = ("sent", "accepted", "rejected", "error")  # what a sender may say of an invoice
ERROR_LENGTH = 500  # Invoice.ksef_error
REFERENCE_LENGTH = 64  # Invoice.ksef_reference and ksef_number


@dataclass(frozen=True)
class KsefReceipt:
    """KSeF's answer: "sent" while it processes, "accepted" with the KSeF number, "rejected" or "error"
    with a message."""

    reference: str
    number: str | None
    state: str
    error: str | None = None


class KsefSender(Protocol):
    def send(self, xml: bytes, invoice: Invoice) -> KsefReceipt: ...


class FileSender:
    """Writes the XML to <folder>/<seller's NIP>/<number>.xml instead of sending it."""

    def __init__(self, folder: str):
        self.folder = folder

    def path(self, invoice: Invoice) -> str:
        nip = "".join(ch for ch in invoice.data["seller"]["nip"] if ch.isalnum())
        name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in invoice.number.replace("/", "_"))
        return os.path.join(self.folder, nip, f"{name}.xml")

    def send(self, xml: bytes, invoice: Invoice) -> KsefReceipt:
        path = self.path(invoice)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(xml)
        return KsefReceipt(reference=f"local-{uuid.uuid4().hex}", number=None, state="sent")


def sender() -> KsefSender | None:
    """The configured sender, or None when invoices are not sent (KSEF_SENDER "off", the default)."""
    kind = (current_app.config.get("KSEF_SENDER") or "off").strip().lower()
    if kind == "off":
        return None
    if kind == "files":
        folder = current_app.config.get("KSEF_DIR") or os.path.join(current_app.instance_path, "ksef")
        return FileSender(folder)
    raise ValueError(f"KSEF_SENDER must be 'off' or 'files', got {kind!r}")


def ksef_enabled(invoice: Invoice) -> bool:
    sales = db.session.get(PesSales, invoice.pes_id)
    return bool(sales and sales.ksef_enabled)


def submit(invoice: Invoice, via: KsefSender | None = None) -> Invoice:
    """Send a pending (or failed) invoice through `via` or the configured sender and store the answer; a
    sender that raises leaves the invoice in "error" with the message, to be tried again. With no sender
    configured nothing happens. Raises InvoiceError for an invoice that is not waiting for KSeF."""
    if invoice.ksef_state not in SUBMITTABLE or not ksef_enabled(invoice):
        raise InvoiceError(_("Faktura %(number)s nie czeka na wysłanie do KSeF.", number=invoice.number))
    via = via or sender()
    if via is None:
        return invoice
    xml = fa3.build_xml(invoice)
    invoice.ksef_sent_at = clock.now()
    try:
        receipt = via.send(xml, invoice)
    except Exception as exc:  # noqa: BLE001 - any failure of the external service is stored and retried
        receipt = KsefReceipt(reference=invoice.ksef_reference or "", number=None, state="error",
                              error=f"{type(exc).__name__}: {exc}")
    return record_result(invoice, receipt)


def record_result(invoice: Invoice, receipt: KsefReceipt) -> Invoice:
    """Store KSeF's answer (from sending or from asking for the status later). An accepted invoice stays
    accepted: a late or repeated answer does not undo it."""
    if receipt.state not in ANSWERS or receipt.state not in KSEF_STATES:
        raise ValueError(f"not a KSeF answer: {receipt.state!r}")
    if receipt.state == "accepted" and not receipt.number:
        raise ValueError("an accepted invoice needs its KSeF number")
    if invoice.ksef_state == "accepted":
        return invoice
    invoice.ksef_state = receipt.state
    invoice.ksef_reference = (receipt.reference or invoice.ksef_reference or "")[:REFERENCE_LENGTH] or None
    invoice.ksef_number = (receipt.number or invoice.ksef_number or "")[:REFERENCE_LENGTH] or None
    invoice.ksef_error = (receipt.error or "")[:ERROR_LENGTH] or None
    db.session.flush()
    return invoice
