"""`flask pes ...`: housekeeping of PES profiles, run from cron."""
import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from marketplace import outbox
from marketplace.pes import services

pes_cli = AppGroup("pes", help="PES profiles: reminders about data to confirm.")


@pes_cli.command("remind-stale")
def remind_stale() -> None:
    """Mail the owners of verified PES whose data has not been confirmed for too long (once in 30 days)."""
    reminded, mails = services.remind_stale()
    outbox.commit()
    outbox.deliver([m.id for m in mails])  # outside a request, commit() leaves the delivery to us
    click.echo(_("Przypomnienia wysłano do %(pes)d PES (%(mails)d wiadomości).", pes=reminded, mails=len(mails)))
