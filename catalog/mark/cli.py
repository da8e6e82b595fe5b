"""`flask marks ...`: quality mark housekeeping, run from cron."""
import click
from flask.cli import AppGroup

from catalog.mark import lifecycle
from marketplace import outbox

marks_cli = AppGroup("marks", help="Quality marks: reminders before expiry.")


@marks_cli.command("remind")
def remind() -> None:
    """Mail PES owners 60, 30 and 7 days before their mark expires; each reminder is sent once. Marks of an
    offering or PES that is not public now are skipped (and counted) until it is public again."""
    counts, mails, skipped = lifecycle.remind()
    outbox.commit()
    outbox.deliver([m.id for m in mails])  # outside a request, commit() leaves the delivery to us
    for days in sorted(counts, reverse=True):
        click.echo(f"{days} days before expiry: {counts[days]} mark(s) reminded")
    click.echo(f"skipped (offering or PES not public): {skipped} mark(s)")
    click.echo(f"total: {sum(counts.values())}, {len(mails)} mail(s)")
