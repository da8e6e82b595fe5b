"""Fixtures: a fresh database per test, on SQLite by default or on PostgreSQL with TEST_DATABASE_URL.

With TEST_DATABASE_URL (a server URL such as postgresql://postgres@127.0.0.1:5432/postgres) a database
is created for this run, emptied after every test and dropped at the end.
"""
import atexit
import os
import shutil
import tempfile
import threading
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

os.environ.setdefault("SECRET_KEY", "test-secret-key")
for _var in ("DATABASE_URL", "MAIL_SERVER", "REDIS_URL", "STRIPE_SECRET_KEY", "APP_ENV", "FLASK_ENV"):
    os.environ.pop(_var, None)
# The stemmer's compact table (search.stemtable), built once for the whole run rather than in every test app's
# index folder; child processes inherit the setting. Set STEMMER_TABLE_DIR to keep one between runs.
if not os.environ.get("STEMMER_TABLE_DIR"):
    os.environ["STEMMER_TABLE_DIR"] = tempfile.mkdtemp(prefix="portal-stemmer-")
    atexit.register(shutil.rmtree, os.environ["STEMMER_TABLE_DIR"], ignore_errors=True)

from app import create_app  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from tests.stripe_server import localstripe, stripe_recorder  # noqa: F401 (fixtures)

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL database of this run's own, or None to use SQLite."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield None
        return
    from marketplace.config import normalise_db_url

    admin_url = make_url(normalise_db_url(server))
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        from sqlalchemy.orm import close_all_sessions

        close_all_sessions()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_test_config(tmp_path: Path, pg_url: str | None, **overrides) -> dict:
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": pg_url or f"sqlite:///{tmp_path / 'test.db'}",
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "SEARCH_SYNC_BACKGROUND": False,  # applied in the request: tests see the index at once
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "MAIL_SERVER": None,
        "MAIL_SEND_BACKGROUND": False,  # delivered in the request: tests see the mail at once
        "RATELIMIT_STORAGE_URI": "memory://",
        "ARGON2_FAST": True,
        "SERVER_NAME": "localhost",
        "PORTAL_URL": "http://localhost",
    }
    cfg.update(overrides)
    return cfg


@pytest.fixture
def empty_db_url(tmp_path, pg_url):
    """An empty database of its own (for migrations and `flask demo`), not the per-test schema."""
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



_schema_ready: set[str] = set()


def _empty_database(url: str) -> None:
    from marketplace import content_version

    # One TRUNCATE (order does not matter); the content version's row stays and moves on, since TRUNCATE
    # fires no triggers.
    tables = ", ".join(f'"{name}"' for name in db.metadata.tables if name != content_version.TABLE)
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        content_version.install(conn, [])  # the row, should a test have removed it
        content_version.bump(conn)


@pytest.fixture
def app_config():
    """Overrides for one test's app: use `@pytest.mark.parametrize` or override this fixture."""
    return {}


@pytest.fixture
def app(tmp_path, pg_url, app_config):
    application = create_app(make_test_config(tmp_path, pg_url, **app_config))
    # The test keeps one app context open and requests reuse it: empty `g` (signed-in user, CSRF token)
    # after each request, last of the teardowns, as a server's fresh context per request would.
    application.teardown_request_funcs.setdefault(None, []).insert(0, lambda exc: g.__dict__.clear())
    with application.app_context():
        if pg_url:
            if pg_url not in _schema_ready:
                db.create_all()
                _schema_ready.add(pg_url)
        else:
            db.create_all()
        try:
            yield application
        finally:
            db.session.remove()
            if pg_url:
                _empty_database(pg_url)
            db.engine.dispose()


@pytest.fixture
def live_server(app):
    """The app served on 127.0.0.1 by a thread, for browsers and for servers that call back (Stripe's
    webhooks); give the app `SERVER_NAME: None` through app_config."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PORTAL_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in mail lead here
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Mailbox:
    """The mail the app wrote to files, newest last, parsed."""

    def __init__(self, folder: Path):
        self.folder = folder

    def messages(self):
        if not self.folder.exists():
            return []
        return [message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted(self.folder.glob("*.eml"))]

    def to(self, address: str):
        return [m for m in self.messages() if m["To"] == address]

    def last(self, address: str | None = None):
        msgs = self.to(address) if address else self.messages()
        assert msgs, f"no mail{' to ' + address if address else ''}"
        return msgs[-1]

    @staticmethod
    def body(msg) -> str:
        return msg.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def mailbox(app):
    return Mailbox(Path(app.config["MAIL_DIR"]))


def csrf_token(client, path: str) -> str:
    """Fetch a page and return the CSRF token of its first form."""
    import re

    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)
