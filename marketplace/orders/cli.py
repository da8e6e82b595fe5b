"""`flask orders ...`: jobs of orders for cron. `reconcile` asks Stripe about online payments whose webhook
never came and cancels orders whose stock reservation ran out (run it every few minutes)."""
import click
from flask.cli import with_appcontext

from marketplace import outbox
from marketplace.extensions import db
from marketplace.orders import webhooks
from marketplace.orders.ksef_cli import ksef_check, ksef_send


@click.group("orders", help="Zamówienia: uzgadnianie płatności ze Stripe i wygasanie rezerwacji.")
def orders_cli() -> None:
    pass


@orders_cli.command("reconcile")
@with_appcontext
def reconcile_command() -> None:
    """Bring pending online payments in line with Stripe, then release expired reservations."""
    counts = webhooks.reconcile()
    db.session.commit()
    sent, failed = outbox.deliver_pending()
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do"
    click.echo(f"{summary}; mail sent {sent}, failed {failed}")


orders_cli.add_command(ksef_send)
orders_cli.add_command(ksef_check)
