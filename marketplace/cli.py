"""Command line (CONTRACT section 2): demo, import, export, mail; other packages add their groups."""
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from marketplace import transfer
from marketplace.extensions import db

DEMO_DIR = Path(__file__).parent / "data" / "demo"


def _load_handlers() -> None:
    from catalog.transfer import OfferingHandler
    from marketplace.pes.transfer import PesHandler

    transfer.register_handler(PesHandler())
    transfer.register_handler(OfferingHandler())


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path: str) -> None:
    """Load a JSON Lines file of PES (and offering) records; nothing is written if any line is invalid."""
    from catalog import cpv

    if cpv.ensure_loaded():  # offerings' CPV codes are checked against the loaded list
        db.session.commit()
    with open(path, encoding="utf-8-sig") as fh:
        result = transfer.import_lines(fh.read().splitlines())
    if not result.ok:
        for err in result.errors:
            click.echo(str(err), err=True)
        click.echo(f"{len(result.errors)} error(s); nothing was imported.", err=True)
        sys.exit(1)
    for kind in sorted(set(result.created) | set(result.updated)):
        click.echo(f"{kind}: {result.created.get(kind, 0)} created, {result.updated.get(kind, 0)} updated")
    _refresh_statistics()
    _bring_index_up_to_date()


def _refresh_statistics() -> None:
    """After an import PostgreSQL's planner statistics describe the tables as they were; until autovacuum
    catches up it may plan walks over whole tables for lookups by key. ANALYZE brings them up to date."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(db.text("ANALYZE"))
            conn.commit()


def _bring_index_up_to_date() -> None:
    """CONTRACT section 2: the search index is up to date when `import` returns."""
    from search import service as search_service
    from search.index import IndexUnavailable

    try:
        search_service.sync()  # normally nothing is left: each commit applied its own changes
    except (IndexUnavailable, OSError) as exc:
        click.echo(f"The data was imported, but the search index is not up to date ({exc}); "
                   "run `flask search sync`.", err=True)
        sys.exit(1)


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(path: str) -> None:
    """Write every PES and offering in the import format, so that an import into an empty database round-trips."""
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for record in transfer.export_records():
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    click.echo(f"{count} record(s) written to {path}")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """On an empty database: migrate, load the demo data set and print the demo accounts' logins."""
    from flask_migrate import upgrade

    from marketplace import demo
    from marketplace.legal import services as legal

    upgrade()
    from marketplace.procurement import guidance, legal_data

    # Version 1 of the legal pages, the procurement guidance and the legal values the clause builder uses.
    seeded = [legal.seed_all(), guidance.seed(), legal_data.seed()]
    if any(seeded):
        db.session.commit()
    if demo.has_data():
        click.echo("The database already holds data: the demo set was not loaded again.")
    else:
        from catalog import cpv

        cpv.ensure_loaded()
        lines = [line for name in ("pes.jsonl", "offerings.jsonl")
                 for line in (DEMO_DIR / name).read_text(encoding="utf-8").splitlines()]
        from marketplace import clock

        result = transfer.import_lines(demo.shift_mark_dates(lines, clock.today()), commit=False)
        if not result.ok:
            for err in result.errors:
                click.echo(str(err), err=True)
            sys.exit(1)
        demo.create_accounts()  # commits the data set and the accounts together
        from marketplace.inquiries import demo as inquiry_demo

        inquiry_demo.seed()
        from marketplace.orders import demo as orders_demo

        orders_demo.seed()
        from search import service as search_service

        search_service.rebuild()
        click.echo(f"Loaded {result.created.get('pes', 0)} PES and {result.created.get('offering', 0)} offerings "
                   "of the demo data set.")
    click.echo(demo.logins_table())
    click.echo(f"Database: {current_app.config['SQLALCHEMY_DATABASE_URI']}")


def register(app) -> None:
    from accounts.cli import create_user_command
    from catalog.cli import cpv_cli
    from catalog.mark.cli import marks_cli
    from marketplace.inquiries.cli import inquiries_cli
    from marketplace.mail_cli import mail_cli, outbox_cli
    from marketplace.orders.cli import orders_cli
    from marketplace.pes.cli import pes_cli
    from search.cli import search_cli

    _load_handlers()
    for command in (import_command, export_command, demo_command, mail_cli, outbox_cli, create_user_command,
                    pes_cli, cpv_cli, marks_cli, search_cli, inquiries_cli, orders_cli):
        app.cli.add_command(command)
