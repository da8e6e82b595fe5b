"""`flask mail ...`: the outgoing mail's outbox from cron and for the administrator.

`flask outbox send` and `flask outbox purge` are the earlier names, kept for existing cron lines.
"""
import sys

import click
from flask.cli import AppGroup

from marketplace import outbox

mail_cli = AppGroup("mail", help="Outgoing mail: delivery of what waits in the outbox, its state, clean-up.")
outbox_cli = AppGroup("outbox", help="Outgoing mail (earlier names of `flask mail` commands).")


def _send_pending(limit: int, line: str) -> None:
    sent, failed = outbox.deliver_pending(limit=limit)
    click.echo(line.format(sent=sent, failed=failed))
    if failed:
        sys.exit(1)


@mail_cli.command("send-pending")
@click.option("--limit", default=10_000, show_default=True, help="the most messages to try in this run")
def send_pending(limit: int) -> None:
    """Deliver every queued message that is due (run it from cron every few minutes); exit 1 if any failed.

    A message that failed waits before its next try (1 minute, doubling each time), and one whose sending
    was interrupted by a crash waits the same way, so that it is not sent twice by two runs at once."""
    _send_pending(limit, "sent {sent}, failed {failed}")


@mail_cli.command("status")
def status() -> None:
    """Count the mail waiting, given up and sent; exit 1 when some was given up (for monitoring)."""
    counts = outbox.status()
    click.echo(f"pending: {counts['pending']}")
    click.echo(f"failed for good (after {outbox.MAX_ATTEMPTS} attempts): {counts['failed']}")
    click.echo(f"sent: {counts['sent']}")
    age = counts["oldest_pending_age"]
    click.echo(f"oldest pending: {_age(age) if age is not None else '-'}")
    for row in outbox.given_up():
        click.echo(f"  #{row.id} queued {row.created_at:%Y-%m-%d %H:%M}: {row.last_error}")
    if counts["failed"]:
        click.echo("Fix the cause, then run `flask mail retry-failed`.")
        sys.exit(1)


def _age(age) -> str:
    seconds = max(0, int(age.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60:02d}min" if hours else f"{rest // 60}min {rest % 60:02d}s"


@mail_cli.command("retry-failed")
def retry_failed() -> None:
    """Give the mail that failed for good a new series of tries (at the next send-pending)."""
    click.echo(f"{outbox.retry_failed()} message(s) will be tried again")


@mail_cli.command("purge")
@click.option("--days", default=90, show_default=True, help="keep delivered mail this many days")
def purge(days: int) -> None:
    """Delete delivered mail older than --days (its bodies hold personal data)."""
    click.echo(f"{outbox.purge_sent(days)} deleted")


outbox_cli.add_command(purge)


@outbox_cli.command("send")
def outbox_send() -> None:
    """Deliver queued mail that is due (the earlier name of `flask mail send-pending`)."""
    _send_pending(10_000, "{sent} sent, {failed} failed")
