"""The content version: one number that changes in the same transaction as anything a public page may show.

Cached public pages and search answers (marketplace.core.page_cache) are kept under the version they were made
at, so a change makes every older copy unreachable at the moment it commits. The database bumps the number
itself, with triggers on every table except UNTRACKED, so no write can forget it: ORM flushes, Core UPDATEs
(stock), imports, command-line jobs and other processes alike.

- SQLite: a row trigger per table and operation; SQLite has one writer at a time, so the bumps never wait.
- PostgreSQL: a deferred constraint trigger per table calls `content_version_bump()` at COMMIT, which updates
  the row once per transaction. The row is locked last, just before the commit, so a transaction that holds
  it never waits for another lock and two writers cannot deadlock on it.

A migration that adds a table calls install() for it; one that rebuilds a table on SQLite (Alembic's batch
mode copies it and drops the old one, triggers included) calls install() for it again. tests/test_migrations.py
checks that every table but UNTRACKED has them after `db upgrade`.

TRUNCATE fires no row triggers: code that empties tables (the tests) bumps the version itself with bump().
Changes that live outside the database (a rebuilt search index) call bump() too.
"""
from sqlalchemy import BigInteger, Integer, event, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db

TABLE = "content_version"
# Tables no public page reads, written by sign-ins and deliveries: writes there keep the caches.
UNTRACKED = frozenset({TABLE, "alembic_version", "audit_log", "outbox_mail", "stripe_events"})
FUNCTION = "content_version_bump"
PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF coalesce(current_setting('portal.content_bumped', true), '') <> 'on' THEN
        UPDATE {TABLE} SET version = version + 1 WHERE id = 1;
        PERFORM set_config('portal.content_bumped', 'on', true);
    END IF;
    RETURN NULL;
END
$body$"""


class ContentVersion(db.Model):
    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def trigger_names(table: str) -> list[str]:
    return [f"cv_{table}_{op}" for op in ("ins", "upd", "del")]


def install(conn, tables) -> None:
    """Create the version row (when missing) and the triggers of `tables` on the connection's database."""
    conn.execute(text(f"INSERT INTO {TABLE} (id, version) SELECT 1, 0 WHERE NOT EXISTS "
                      f"(SELECT 1 FROM {TABLE} WHERE id = 1)"))
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(text(PG_FUNCTION_SQL))
    for table in sorted(set(tables) - UNTRACKED):
        if postgres:
            name = trigger_names(table)[0]
            conn.execute(text(f'DROP TRIGGER IF EXISTS {name} ON "{table}"'))
            conn.execute(text(f'CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                              f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"))
            continue
        for name, op in zip(trigger_names(table), ("INSERT", "UPDATE", "DELETE"), strict=True):
            conn.execute(text(f'CREATE TRIGGER IF NOT EXISTS {name} AFTER {op} ON "{table}" '
                              f"BEGIN UPDATE {TABLE} SET version = version + 1 WHERE id = 1; END"))


def uninstall(conn, tables) -> None:
    """Remove what install() made (a downgrade)."""
    postgres = conn.dialect.name == "postgresql"
    for table in sorted(set(tables) - UNTRACKED):
        for name in trigger_names(table)[:1] if postgres else trigger_names(table):
            conn.execute(text(f'DROP TRIGGER IF EXISTS {name} ON "{table}"' if postgres
                              else f"DROP TRIGGER IF EXISTS {name}"))
    if postgres:
        conn.execute(text(f"DROP FUNCTION IF EXISTS {FUNCTION}()"))


def installed_tables(conn) -> set[str]:
    """The tables that have the version's triggers (for checks and tests)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                 "WHERE t.tgname LIKE 'cv\\_%'"))
    else:
        rows = conn.execute(text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'cv\\_%' "
                                 "ESCAPE '\\'"))
    return {row[0] for row in rows}


@event.listens_for(db.metadata, "after_create")
def _after_create_all(metadata, conn, **_kw) -> None:
    """`db.create_all()` (tests, a first start without migrations) installs the row and the triggers too."""
    install(conn, metadata.tables)


READ_SQL = f"SELECT version FROM {TABLE} WHERE id = 1"


def read(conn) -> int | None:
    """The current version on a SQLAlchemy connection; None when the row is missing."""
    row = conn.execute(text(READ_SQL)).first()
    return row[0] if row else None


def bump(conn=None) -> None:
    """Change the version by hand: in the caller's transaction when given a connection, else in one of its own."""
    statement = text(f"UPDATE {TABLE} SET version = version + 1 WHERE id = 1")
    if conn is not None:
        conn.execute(statement)
        return
    with db.engine.begin() as own:
        own.execute(statement)
