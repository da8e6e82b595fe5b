"""`flask search ...`: rebuild the index, apply the outbox, and compare the index with the database."""
import os
import sys
import time

import click
from flask.cli import AppGroup

from search import service
from search.index import IndexUnavailable

search_cli = AppGroup("search", help="The catalogue's search index.")


@search_cli.command("reindex")
@click.option("--procs", type=click.IntRange(1, 16), default=min(4, os.cpu_count() or 1), show_default=True,
              help="processes writing the index")  # the default is search.sync.build_procs()'s
def reindex_command(procs: int) -> None:
    """Rebuild the whole index from the database beside the live one, then swap it in atomically."""
    start = time.perf_counter()
    try:
        count = service.rebuild(procs)
    except (IndexUnavailable, OSError) as e:
        click.echo(f"The index was not rebuilt ({e}); the live one is unchanged. Try again.", err=True)
        sys.exit(1)
    click.echo(f"{count} offering(s) indexed in {time.perf_counter() - start:.1f} s.")


@search_cli.command("sync")
def sync_command() -> None:
    """Apply the changes waiting in the search outbox (after the index was locked or unavailable)."""
    try:
        applied = service.sync()
    except (IndexUnavailable, OSError) as e:
        click.echo(f"The index was not updated ({e}); the changes stay in the outbox. Try again.", err=True)
        sys.exit(1)
    click.echo(f"{applied} change(s) applied.")


@search_cli.command("check")
@click.option("--limit", default=20, show_default=True, help="ids listed for each kind of difference")
def check_command(limit: int) -> None:
    """Report offerings missing, stale or extra in the index compared with the database (exit 1 if any)."""
    report = service.check()
    for kind in ("missing", "stale", "extra"):
        ids = report[kind]
        shown = ", ".join(str(i) for i in ids[:limit]) + (" …" if len(ids) > limit else "")
        click.echo(f"{kind}: {len(ids)}" + (f" ({shown})" if ids else ""))
    waiting = service.pending()
    if waiting:
        click.echo(f"outbox: {waiting} change(s) waiting (`flask search sync` applies them)")
    if any(report.values()):
        click.echo("The index differs from the database: run `flask search sync`, or `flask search reindex`.",
                   err=True)
        sys.exit(1)
