"""`flask inquiries ...`: the daily jobs of inquiries, for cron (see jobs.py and privacy.py). Each job's mail
is delivered at its end; what cannot go waits for `mail send-pending`."""
import click
from flask.cli import with_appcontext

from marketplace import outbox
from marketplace.inquiries import jobs, privacy


def _deliver() -> None:
    sent, failed = outbox.deliver_pending()
    click.echo(f"mail sent {sent}, failed {failed}")


@click.group("inquiries",
             help="Zapytania: wygasanie ofert, przypomnienia, zestawienia dzienne i anonimizacja (RODO).")
def inquiries_cli() -> None:
    pass


@inquiries_cli.command("expire")
@with_appcontext
def expire_command() -> None:
    """Quotes past their validity lapse."""
    click.echo(f"expired quotes: {jobs.expire()}")
    _deliver()


@inquiries_cli.command("remind")
@with_appcontext
def remind_command() -> None:
    """Remind PES of unanswered inquiries and buyers of quotes about to lapse."""
    click.echo(f"reminded PES threads: {jobs.remind_pes()}, buyers: {jobs.remind_buyers()}")
    _deliver()


@inquiries_cli.command("digest")
@with_appcontext
def digest_command() -> None:
    """Send the daily digest to the members who chose it."""
    click.echo(f"digests: {jobs.digests()}")
    _deliver()


@inquiries_cli.command("anonymise")
@with_appcontext
def anonymise_command() -> None:
    """RODO: anonymise guests' inquiries past INQUIRY_RETENTION_MONTHS and delete unconfirmed ones older than
    7 days. Run it from cron once a day, e.g. `30 3 * * * flask --app app inquiries anonymise`."""
    anonymised, deleted = privacy.apply_retention()
    click.echo(f"anonymised inquiries: {anonymised}, deleted unconfirmed: {deleted}")


@inquiries_cli.command("daily")
@with_appcontext
def daily_command() -> None:
    """Everything above, in order (one cron line a day)."""
    click.echo(f"expired quotes: {jobs.expire()}")
    click.echo(f"reminded PES threads: {jobs.remind_pes()}, buyers: {jobs.remind_buyers()}")
    click.echo(f"digests: {jobs.digests()}")
    anonymised, deleted = privacy.apply_retention()
    click.echo(f"anonymised inquiries: {anonymised}, deleted unconfirmed: {deleted}")
    _deliver()
