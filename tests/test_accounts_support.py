"""Helpers for the accounts tests (this module holds no tests).

The `app` fixture keeps an application context open for the whole test, and Flask reuses an open context
for requests, so `g` (where Flask-Login caches the signed-in user) would be shared by every request and
every client of a test. A real server gives each request its own context; FreshContextClient does the
same, so that each request loads its user from its own session cookie.
"""
import re
from contextlib import contextmanager

from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session


class FreshContextClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def fresh_client(app) -> FlaskClient:
    app.test_client_class = FreshContextClient
    return app.test_client()


def link_in(body: str, path: str) -> str:
    """The site-relative link that starts with `path` in a mail body."""
    m = re.search(r"https?://localhost(" + re.escape(path) + r"[^\s]+)", body)
    assert m, body
    return m.group(1)


@contextmanager
def address_taken_meanwhile(email: str):
    """Another request takes `email` at the last moment: just before this session writes a user with that
    address, a second connection inserts one and commits, as a simultaneous sign-up would."""
    from accounts.models import User, utcnow
    from marketplace.extensions import db

    def take_it(session, flush_context, instances):
        pending = [o for o in list(session.new) + list(session.dirty) if isinstance(o, User)]
        if taken or not any(o.email == email for o in pending):
            return
        taken.append(email)
        with db.engine.begin() as conn:
            conn.execute(User.__table__.insert().values(
                email=email, password_hash="x", name="Inna Osoba", role="buyer", session_version=1,
                created_at=utcnow()))

    taken: list[str] = []
    event.listen(Session, "before_flush", take_it)
    try:
        yield taken
    finally:
        event.remove(Session, "before_flush", take_it)
