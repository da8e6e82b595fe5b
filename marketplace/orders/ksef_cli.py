"""`flask orders ksef-send` and `flask orders ksef-check`: invoices to KSeF from cron, and a check of one
invoice's FA(3) XML against the schema (which needs the test dependency ksef-client)."""
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.orders import fa3, ksef
from marketplace.orders.models import Invoice, PesSales


def _waiting_ids(limit: int) -> list[int]:
    return list(db.session.scalars(
        select(Invoice.id).join(PesSales, PesSales.pes_id == Invoice.pes_id)
        .where(Invoice.ksef_state.in_(ksef.SUBMITTABLE), PesSales.ksef_enabled.is_(True))
        .order_by(Invoice.id).limit(limit)))


def _claim(invoice_id: int) -> Invoice | None:
    """The invoice locked for this run; one that another run is sending now is passed over."""
    return db.session.scalar(select(Invoice).where(Invoice.id == invoice_id, Invoice.ksef_state.in_(
        ksef.SUBMITTABLE)).with_for_update(skip_locked=True).execution_options(populate_existing=True))


@click.command("ksef-send")
@click.option("--limit", default=500, show_default=True, help="the most invoices to send in this run")
@with_appcontext
def ksef_send(limit: int) -> None:
    """Send the invoices waiting for KSeF (or failed before); each answer is committed at once. Exit 1 if
    any failed."""
    if ksef.sender() is None:
        click.echo("KSEF_SENDER is off: nothing is sent.")
        return
    states: dict[str, int] = {}
    for invoice_id in _waiting_ids(limit):
        invoice = _claim(invoice_id)
        if invoice is not None:
            ksef.submit(invoice)
            states[invoice.ksef_state] = states.get(invoice.ksef_state, 0) + 1
        db.session.commit()
    click.echo(", ".join(f"{state} {count}" for state, count in sorted(states.items())) or "nothing to send")
    if states.get("error"):
        sys.exit(1)


@click.command("ksef-check")
@click.argument("invoice_id", type=int)
@with_appcontext
def ksef_check(invoice_id: int) -> None:
    """Validate one invoice's FA(3) XML against the schema; exit 1 with the errors if it is not valid."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        click.echo(f"no invoice {invoice_id}", err=True)
        sys.exit(2)
    try:
        errors = fa3.validate(fa3.build_xml(invoice))
    except ImportError as exc:
        click.echo(f"the FA(3) schema is not installed ({exc}): pip install 'ksef-client[fa3]'", err=True)
        sys.exit(2)
    for error in errors:
        click.echo(error, err=True)
    verdict = f"{len(errors)} error(s)" if errors else "valid"
    click.echo(f"{invoice.number}: {verdict}")
    sys.exit(1 if errors else 0)
