"""The Alembic migrations build the whole schema from empty, on SQLite and on PostgreSQL."""
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from marketplace.extensions import db
from tests.conftest import make_test_config


@pytest.fixture
def empty_db_url(tmp_path, pg_url):
    if not pg_url:
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    url = make_url(pg_url)
    name = f"portal_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_from_empty_matches_the_models(tmp_path, empty_db_url):
    app = create_app(make_test_config(tmp_path, empty_db_url))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models differ from the migrations: {diff}"
        upgrade()  # running it again is harmless
        db.session.remove()
        db.engine.dispose()
