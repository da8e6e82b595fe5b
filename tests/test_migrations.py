"""The Alembic migrations build the whole schema from empty, on SQLite and on PostgreSQL."""
from flask_migrate import upgrade
from sqlalchemy import inspect

from app import create_app
from marketplace.extensions import db
from tests.conftest import make_test_config


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
