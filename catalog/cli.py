"""`flask cpv ...`: loading the CPV list, e.g. the EU's full official export over the shipped selection."""
import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from catalog import cpv
from marketplace.extensions import db

cpv_cli = AppGroup("cpv", help="The CPV (Common Procurement Vocabulary) list.")


@cpv_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def load(path: str) -> None:
    """Load CPV codes from a CSV (code,name_pl,name_en) or the EU's CSV/XLSX export: new codes are added,
    names of known codes are updated, a row is skipped only when its check digit is a typo."""
    try:
        result = cpv.load_file(path)
    except cpv.CpvFileError as exc:
        db.session.rollback()
        click.echo(_("Nie wczytano pliku: %(reason)s", reason=exc), err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(_("Kody CPV: %(created)d dodano, %(updated)d zaktualizowano, %(unchanged)d bez zmian, "
                 "%(skipped)d pominięto (błędny kod lub brak nazwy polskiej).", created=result.created,
                 updated=result.updated, unchanged=result.unchanged, skipped=result.skipped))
    click.echo(_("Razem w słowniku: %(total)d.", total=cpv.count()))
