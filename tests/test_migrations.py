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
        from marketplace import content_version

        with db.engine.connect() as conn:  # every table a page may show moves the content version
            assert content_version.installed_tables(conn) == set(db.metadata.tables) - content_version.UNTRACKED
            assert content_version.read(conn) == 0
        upgrade()  # running it again is harmless
        db.session.remove()
        db.engine.dispose()


def test_upgrade_from_the_previous_release_keeps_data_and_fills_new_columns(tmp_path, empty_db_url):
    """A database of the previous release (0002) with a PES member upgrades; the member hears of inquiries
    instantly (the column's server default), and the new tables are there and empty."""
    from sqlalchemy import text

    app = create_app(make_test_config(tmp_path, empty_db_url))
    with app.app_context():
        upgrade(revision="0002_search_synonyms")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, email, password_hash, name, role, session_version, created_at) "
                              "VALUES (1, 'a@example.org', 'x', 'A', 'buyer', 1, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO pes (id, ref, name, name_key, legal_form, powiat, description, mission, "
                              "social_enterprise_status, integration_mission, status, data_confirmed_at, created_at, "
                              "updated_at) VALUES (1, 'p-1', 'P', 'p', 'cis', '0463', '', '', false, false, 'verified', "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO pes_memberships (id, pes_id, user_id, role, created_at) "
                              "VALUES (1, 1, 1, 'owner', CURRENT_TIMESTAMP)"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT inquiry_mail FROM pes_memberships")).scalar() == "instant"
            assert conn.execute(text("SELECT count(*) FROM inquiries")).scalar() == 0
            assert conn.execute(text("SELECT terms_version FROM users")).scalar() is None
            from marketplace import content_version

            before = content_version.read(conn)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE pes SET name = 'Q' WHERE id = 1"))
        with db.engine.connect() as conn:
            assert content_version.read(conn) == before + 1  # the kept rows are watched too
        db.session.remove()
        db.engine.dispose()
